"""The business calendar's public facade: `BusinessCalendar` checks every argument (errors
naming it), then asks its kernel (see `etatmachine.business_calendar` for the semantics).

The tables and the arithmetic are `etatmachine.business_calendar.kernel.CalendarKernel`,
which the opt-in compiled build compiles; this module stays interpreted, because compiled
code would refuse a wrong type before the checks, with a bare ``TypeError`` naming no
argument. Code that holds values already checked reaches the kernel as
`BusinessCalendar.kernel`. It holds no pydantic model (the configuration it answers for is
`etatmachine.business_calendar.config.CalendarConfig`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Final, overload
from zoneinfo import ZoneInfo

from etatmachine.business_calendar.config import CalendarConfig
from etatmachine.business_calendar.kernel import (
    FIRST_YEAR,
    LAST_YEAR,
    TABLE_YEARS,
    CalendarKernel,
    hours_us,
    timedelta_us,
)
from etatmachine.errors import ArgumentTypeError, DateRangeError, NaiveDatetimeError

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "PARIS",
    "TABLE_YEARS",
    "BusinessCalendar",
    "check_instant",
    "require_aware",
]

PARIS: Final = ZoneInfo("Europe/Paris")


def require_aware(value: object, what: str = "datetime") -> datetime:
    """Return ``value`` if it is timezone-aware; refuse naive ones, which are ambiguous.

    Takes any object: it is the check (`ArgumentTypeError` naming ``what`` for a non-datetime)."""
    if not isinstance(value, datetime):
        raise ArgumentTypeError(what, value, "a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(value, what)
    return value


def check_instant(value: object, what: str = "datetime") -> datetime:
    """`require_aware`, and within the supported years (`DateRangeError` naming ``what``)."""
    instant = require_aware(value, what)
    if not FIRST_YEAR <= instant.year <= LAST_YEAR:
        raise DateRangeError(what, instant, instant.year, FIRST_YEAR, LAST_YEAR)
    return instant


def _out_of_range(what: str, value: object, year: int) -> DateRangeError:
    return DateRangeError(what, value, year, FIRST_YEAR, LAST_YEAR)


class BusinessCalendar:
    """Answers date questions for one :class:`CalendarConfig`; thread-safe.

    Every public method checks its arguments as documented, then asks `kernel`, the
    calendar's `CalendarKernel` (tables built lazily, one year at a time, under a lock and
    published as immutable objects, so readers never lock).
    """

    def __init__(self, config: CalendarConfig | None = None) -> None:
        if config is not None and not isinstance(config, CalendarConfig):
            raise ArgumentTypeError("config", config, "a CalendarConfig or None")
        self._config = config if config is not None else CalendarConfig()
        self.kernel: Final = CalendarKernel(self._config)
        """The calendar's tables and arithmetic, for callers that hold values already
        checked (see `etatmachine.business_calendar.kernel`): it checks no argument."""
        self._tz = self.kernel.tz

    @classmethod
    def from_subdivision(cls, sub: str | None) -> BusinessCalendar:
        """A default calendar for a subdivision ("6AE", "67", "974", ...)."""
        return cls(CalendarConfig.model_validate({"subdivision": sub}))

    @property
    def config(self) -> CalendarConfig:
        """The (frozen) configuration."""
        return self._config

    def __repr__(self) -> str:
        return f"BusinessCalendar({self._config!r})"

    # ------------------------------------------------------------------ checks

    def _to_local(self, value: object, what: str) -> datetime:
        """``value`` (an aware datetime, else `ArgumentTypeError` naming ``what``) in the
        calendar timezone, within the supported years."""
        if type(value) is datetime and value.tzinfo is self._tz:
            local = value
        else:
            aware = require_aware(value, what)
            try:
                local = aware.astimezone(self._tz)
            except OverflowError:  # the ends of the datetime range: year 1 or 9999
                raise _out_of_range(what, aware, aware.year) from None
        if not FIRST_YEAR <= local.year <= LAST_YEAR:
            raise _out_of_range(what, value, local.year)
        return local

    def _ordinal(self, d: object, what: str = "date") -> int:
        if isinstance(d, datetime):
            return self._to_local(d, what).toordinal()
        if not isinstance(d, date):
            raise ArgumentTypeError(what, d, "a date or an aware datetime")
        if not FIRST_YEAR <= d.year <= LAST_YEAR:
            raise _out_of_range(what, d, d.year)
        return d.toordinal()

    # ---------------------------------------------------------------- days API

    def holidays(self, year: int) -> dict[date, str]:
        """Public holidays observed as days off in ``year``, by date, French names."""
        if isinstance(year, bool) or not isinstance(year, int):
            raise ArgumentTypeError("year", year, "an int")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise _out_of_range("year", year, year)
        return self.kernel.holidays(year)

    def is_business_day(self, d: date) -> bool:
        """True if ``d`` is a business day (an aware datetime: its local date)."""
        return self.kernel.is_business_ordinal(self._ordinal(d))

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a business day, else the next one."""
        return date.fromordinal(self.kernel.offset_index(self._ordinal(d), 0))

    def next_business_day(self, d: date) -> date:
        """The first business day strictly after ``d``."""
        return date.fromordinal(self.kernel.offset_index(self._ordinal(d) + 1, 0))

    def previous_business_day(self, d: date) -> date:
        """The last business day strictly before ``d``."""
        return date.fromordinal(self.kernel.offset_index(self._ordinal(d), -1))

    @overload
    def add_business_days(self, start: datetime, n: int) -> datetime: ...
    @overload
    def add_business_days(self, start: date, n: int) -> date: ...
    def add_business_days(self, start: object, n: object) -> date:
        """Move ``n`` business days from roll_forward(start) (numpy ``roll='forward'``).

        A datetime keeps its wall-clock time in the calendar timezone and is
        returned in that timezone; ``n == 0`` on a business day returns it unchanged.
        The wall clock is carried across the roll, so Saturday 23:00 and Sunday
        01:00 both land on Monday (23:00 and 01:00): monotonic in the start only
        for dates and for starts on business days.
        """
        count = _whole(n, "n")
        if isinstance(start, datetime):
            return self.kernel.add_business_days(self._to_local(start, "start"), count)
        return date.fromordinal(self.kernel.offset_index(self._ordinal(start, "start"), count))

    @overload
    def add_calendar_days_rolled(self, start: datetime, days: int) -> datetime: ...
    @overload
    def add_calendar_days_rolled(self, start: date, days: int) -> date: ...
    def add_calendar_days_rolled(self, start: object, days: object) -> date:
        """``days`` calendar days later ("15 jours"), rolled forward onto a business day.

        A datetime keeps its wall-clock time on the resulting day.
        """
        count = _whole(days, "days")
        if isinstance(start, datetime):
            return self.kernel.add_calendar_days_rolled(self._to_local(start, "start"), count)
        return date.fromordinal(self.kernel.offset_index(self._ordinal(start, "start") + count, 0))

    def business_days_between(self, a: date, b: date) -> int:
        """Business days in ``[a, b)``, or minus those in ``[b, a)`` if ``b < a``.

        Like numpy ``busday_count`` for ``a <= b``. For ``b < a`` numpy counts
        ``(b, a]`` instead; counting ``-[b, a)`` keeps the count antisymmetric and
        additive, and ``business_days_between(d, add_business_days(d, n)) == n``
        for every ``d`` and ``n``, negative included.
        """
        oa, ob = self._ordinal(a, "a"), self._ordinal(b, "b")
        return self.kernel.business_days_between(oa, ob)

    # --------------------------------------------------------------- time API

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Real elapsed time between two instants inside business windows (neg. if b < a)."""
        return self.kernel.business_time_between(self._to_local(a, "a"), self._to_local(b, "b"))

    def add_business_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        """The earliest instant after ``start`` with ``hours`` of business time elapsed.

        Negative ``hours`` count backwards (latest instant before ``start``); zero
        returns ``start``. The result is in the calendar timezone. ``hours`` is a number
        of hours (int or float) or a timedelta, else `ArgumentTypeError`.
        """
        delta = hours_us(hours) if type(hours) is float else _hours_us(hours)
        if type(start) is datetime and start.tzinfo is self._tz:
            return self.kernel.add_us(start, delta)  # the common case, without a call
        return self.kernel.add_us(self._to_local(start, "start"), delta)

    # ------------------------------------------------------------------ batch

    @overload
    def add_business_days_batch(self, starts: Sequence[datetime], n: int) -> list[datetime]: ...
    @overload
    def add_business_days_batch(
        self, starts: Sequence[date], n: int
    ) -> list[datetime] | list[date]: ...
    def add_business_days_batch(
        self, starts: Sequence[date], n: object
    ) -> list[datetime] | list[date]:
        """``add_business_days`` over many starts (the nightly job over open files).

        All elements must be of one kind: aware datetimes, or plain dates. The
        answer depends only on the start's local day, so it is computed once per
        distinct day and the per-element work is a dict lookup (+ an ordinal and
        one ``datetime + timedelta`` for datetimes).
        """
        count = _whole(n, "n")
        if not starts:
            return []
        if isinstance(starts[0], datetime):
            return self.kernel.add_business_days_batch(self._local_batch(starts, count), count)
        # Keyed on the date objects themselves: hashing a date is cached, and the
        # kind check then runs once per distinct day rather than per element.
        uniq = set(starts)
        for d in uniq:
            if type(d) is not date:
                raise TypeError(f"mixed batch: expected dates only, got {d!r}")
        offset = self.kernel.offset_index
        fromordinal = date.fromordinal
        memo = {d: fromordinal(offset(d.toordinal(), count)) for d in uniq}
        return list(map(memo.__getitem__, starts))

    def _local_batch(self, starts: Sequence[date], n: int) -> Sequence[datetime]:
        """``starts`` checked (all aware datetimes, in the supported years) and in the
        calendar timezone: the sequence itself when all are already in it."""
        tz = self._tz
        try:
            fast = n != 0 and set(map(attrgetter("tzinfo"), starts)) == {tz}
        except AttributeError:
            fast = False
        if fast:
            return starts  # type: ignore[return-value]
        return [self._to_local(_as_datetime(s), "start") for s in starts]

    def add_business_hours_batch(self, starts: Sequence[datetime], hours: object) -> list[datetime]:
        """``add_business_hours`` over many starts."""
        delta = _hours_us(hours)
        to_local = self._to_local
        add = self.kernel.add_us
        return [add(to_local(s, "start"), delta) for s in starts]


def _as_datetime(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"mixed batch: expected datetimes only, got {value!r}")
    return value


def _whole(value: object, what: str) -> int:
    """``value`` if it is an int (a count of days), else `ArgumentTypeError` naming ``what``."""
    if not isinstance(value, int):
        raise ArgumentTypeError(what, value, "an int")
    return value


def _hours_us(hours: object) -> int:
    """Microseconds in ``hours`` (a number of hours or a timedelta)."""
    if isinstance(hours, timedelta):
        return timedelta_us(hours)
    if not isinstance(hours, (int, float)):
        raise ArgumentTypeError("hours", hours, "a number of hours or a timedelta")
    if not math.isfinite(hours):
        raise ValueError(f"hours must be finite, got {hours!r}")
    return timedelta_us(timedelta(hours=hours))
