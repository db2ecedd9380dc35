"""The business calendar's engine: lookup tables of business days and time, and the
arithmetic over them (see `etatmachine.business_calendar` for the semantics).

It holds no pydantic model (the configuration it answers for is
`etatmachine.business_calendar.config.CalendarConfig`). The opt-in compiled build leaves it
interpreted: its public methods check their own arguments (errors naming the argument),
and compiled code would refuse a wrong type before them, with a bare ``TypeError``.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Final, cast, overload
from zoneinfo import ZoneInfo

from dateutil.easter import easter

from etatmachine.business_calendar.config import CalendarConfig
from etatmachine.errors import ArgumentTypeError, DateRangeError, NaiveDatetimeError

if TYPE_CHECKING:
    from holidays import HolidayBase

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
_UTC: Final = UTC
_DAY_US: Final = 86_400_000_000
_MEMO_MAX: Final = 1 << 16  # bound on each calendar's (day, delta) -> shift memo
_PENTECOST_NAME: Final = "Lundi de Pentecôte"
_SOLIDARITY_YEARS: Final = range(2005, 2008)
FIRST_YEAR: Final = 1900
"""The first year a calendar answers for (see the module: supported years)."""
LAST_YEAR: Final = 2999
"""The last year a calendar answers for."""
TABLE_YEARS: Final = 120
"""The most years a calendar's kept lookup table spans (wider questions: a table per call)."""


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


@dataclass(frozen=True, slots=True)
class _Year:
    """One year's facts, computed once: holidays and business-day ordinals."""

    holidays: dict[date, str]
    ords: list[int]
    odd_lengths: dict[int, int]  # business-day ordinal -> window µs, only where != nominal
    odd_days: frozenset[int]  # ordinals near a UTC-offset change (handled exactly)


@dataclass(frozen=True, slots=True)
class _Table:
    """Immutable lookup tables over a contiguous range of years.

    ``cnt[o - base]`` is the number of business days before ordinal ``o`` (so the
    index of the first business day on or after ``o``); ``ords`` the business-day
    ordinals; ``cum[i]`` the business time (µs) of the business days before index i.
    """

    first: int
    last: int
    base: int
    end: int
    ords: list[int]
    cnt: list[int]
    cum: list[int]
    odd_days: frozenset[int]


class BusinessCalendar:
    """Answers date questions for one :class:`CalendarConfig`; thread-safe.

    Tables are built lazily, one year at a time, under a lock and published as
    immutable objects, so readers never lock.
    """

    def __init__(self, config: CalendarConfig | None = None) -> None:
        if config is not None and not isinstance(config, CalendarConfig):
            raise ArgumentTypeError("config", config, "a CalendarConfig or None")
        self._config = config if config is not None else CalendarConfig()
        self._tz = ZoneInfo(self._config.timezone)
        self._lock = threading.Lock()
        self._years: dict[int, _Year] = {}
        self._table: _Table | None = None
        self._maxwd = 5 if self._config.working_days == "ouvres" else 6
        start = self._config.work_start
        end = self._config.work_end
        start_us = _time_us(start)
        end_us = _DAY_US if end is None else _time_us(end)
        self._nominal_us = end_us - start_us
        self._start_us = start_us
        self._start_delta = timedelta(microseconds=start_us)
        # (start ordinal, delta µs) -> (lo, hi, shift): a start on that day whose
        # wall clock is strictly inside (lo, hi) lands at ``start + shift`` (see _add_us).
        self._shift_memo: dict[tuple[int, int], tuple[int, int, timedelta]] = {}

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

    # ------------------------------------------------------------------ tables

    def _holiday_source(self, year: int) -> HolidayBase:
        from holidays.countries.france import France

        factory = cast("Callable[..., HolidayBase]", France)
        return factory(subdiv=self._config.subdivision, years=year, language="fr")

    def _build_year(self, year: int) -> _Year:
        hol = {d: str(name) for d, name in self._holiday_source(year).items()}
        pentecost = easter(year) + timedelta(days=50)
        if year in _SOLIDARITY_YEARS:
            hol.setdefault(pentecost, _PENTECOST_NAME)  # still a legal holiday (L3133-1)
        if self._config.pentecost_worked:
            hol.pop(pentecost, None)
        hol = dict(sorted(hol.items()))
        start = date(year, 1, 1).toordinal()
        end = date(year + 1, 1, 1).toordinal()
        off = {d.toordinal() for d in hol}
        maxwd = self._maxwd
        ords = [o for o in range(start, end) if (o - 1) % 7 < maxwd and o not in off]
        odd = self._offset_change_days(start, end)
        lengths: dict[int, int] = {}
        for o in sorted(odd.intersection(ords)):
            ws, we = self._window_exact(o)
            length = _us(we - ws)
            if length != self._nominal_us:
                lengths[o] = length
        return _Year(hol, ords, lengths, frozenset(odd))

    def _offset_change_days(self, start: int, end: int) -> set[int]:
        """Ordinals whose local day holds a UTC-offset change (a gap, a fold, or both ends).

        Day ``d`` is marked when the offsets read at its local midnight and the
        next one (``fold=0``) differ; unmarked days have one offset throughout,
        so plain wall-clock arithmetic is exact on them.
        """
        tz = self._tz

        def offset(o: int) -> timedelta | None:
            return datetime.fromordinal(o).replace(tzinfo=tz).utcoffset()

        step = 4  # sampled every 4 days: tzdata has no change-and-back within 4 days
        found: set[int] = set()
        samples = [*range(start, end, step), end]
        prev_o, prev_off = samples[0], offset(samples[0])
        for o in samples[1:]:
            cur = offset(o)
            if cur != prev_off:
                last = prev_off
                for d in range(prev_o, o):
                    nxt = offset(d + 1)
                    if nxt != last:
                        found.add(d)
                    last = nxt
            prev_o, prev_off = o, cur
        return found

    def _year(self, year: int) -> _Year:
        """One year's facts (call under the lock); at most ``TABLE_YEARS + 16`` are kept."""
        y = self._years.get(year)
        if y is None:
            if len(self._years) >= TABLE_YEARS + 16:
                del self._years[next(iter(self._years))]  # the oldest built
            y = self._years[year] = self._build_year(year)
        return y

    def _cover(self, lo_year: int, hi_year: int) -> _Table:
        """Return a table covering [lo_year, hi_year], building what is missing.

        The kept table grows to span at most ``TABLE_YEARS`` years; past that it is
        replaced by one around the question, and a question wider than that gets a table
        of its own that is not kept.
        """
        tab = self._table
        if tab is not None and tab.first <= lo_year and hi_year <= tab.last:
            return tab
        if lo_year < FIRST_YEAR:
            raise _out_of_range("date", lo_year, lo_year)
        if hi_year > LAST_YEAR:
            raise _out_of_range("date", hi_year, hi_year)
        with self._lock:
            tab = self._table
            if tab is not None:
                if tab.first <= lo_year and hi_year <= tab.last:
                    return tab
                lo, hi = min(lo_year, tab.first), max(hi_year, tab.last)
                if hi - lo < TABLE_YEARS:
                    lo_year, hi_year = lo, hi
            tab = self._build_table(lo_year, hi_year)
            if hi_year - lo_year < TABLE_YEARS:
                self._table = tab
            return tab

    def _build_table(self, first: int, last: int) -> _Table:
        base = date(first, 1, 1).toordinal()
        end = date(last + 1, 1, 1).toordinal()
        ords: list[int] = []
        odd: set[int] = set()
        lengths: dict[int, int] = {}
        for year in range(first, last + 1):
            y = self._year(year)
            ords.extend(y.ords)
            odd.update(y.odd_days)
            lengths.update(y.odd_lengths)
        cnt = [0] * (end - base + 1)
        i = 0
        n = len(ords)
        for k in range(end - base + 1):
            while i < n and ords[i] < base + k:
                i += 1
            cnt[k] = i
        nominal = self._nominal_us
        if lengths:
            cum = [0] * (n + 1)
            acc = 0
            for j, o in enumerate(ords):
                acc += lengths.get(o, nominal)
                cum[j + 1] = acc
        else:
            cum = list(range(0, (n + 1) * nominal, nominal)) if nominal else [0] * (n + 1)
        return _Table(first, last, base, end, ords, cnt, cum, frozenset(odd))

    def _cover_ord(self, a: int, b: int) -> _Table:
        """A table covering the days of ordinals ``a`` and ``b`` (either order)."""
        tab = self._table
        lo, hi = (a, b) if a <= b else (b, a)
        if tab is not None and tab.base <= lo and hi < tab.end:
            return tab
        return self._cover(date.fromordinal(lo).year, date.fromordinal(hi).year)

    def _offset_index(self, o: int, n: int) -> int:
        """Ordinal of the business day ``n`` business days from roll_forward(o)."""
        tab = self._cover_ord(o, o)
        while True:
            i = tab.cnt[o - tab.base] + n
            if 0 <= i < len(tab.ords):
                return tab.ords[i]
            more = (abs(i - len(tab.ords)) if i >= 0 else -i) // 200 + 1
            if i >= 0:
                tab = self._cover(tab.first, tab.last + more)
            else:
                tab = self._cover(tab.first - more, tab.last)

    # ------------------------------------------------------------- wall clock

    def _localize(self, naive: datetime) -> datetime:
        """Wall-clock time -> aware: gap times move to the gap's end, folds take fold=0."""
        tz = self._tz
        aware = naive.replace(tzinfo=tz, fold=0)
        back = aware.astimezone(_UTC).astimezone(tz)
        if back.replace(tzinfo=None) == naive:
            return aware
        # In a gap: the transition instant lies between the two fold readings.
        a = aware.astimezone(_UTC)
        b = naive.replace(tzinfo=tz, fold=1).astimezone(_UTC)
        lo_ts, hi_ts = math.floor(min(a, b).timestamp()), math.ceil(max(a, b).timestamp())
        after = datetime.fromtimestamp(hi_ts, tz).utcoffset()
        while hi_ts - lo_ts > 1:  # offsets change on whole seconds in tzdata
            mid = (lo_ts + hi_ts) // 2
            if datetime.fromtimestamp(mid, tz).utcoffset() == after:
                hi_ts = mid
            else:
                lo_ts = mid
        return datetime.fromtimestamp(hi_ts, tz)

    def _window_exact(self, o: int) -> tuple[datetime, datetime]:
        """UTC bounds of business day ``o``'s window, gap/fold-aware."""
        day = datetime.fromordinal(o)
        ws = self._localize(day + self._start_delta)
        end = self._config.work_end
        we_naive = day + timedelta(days=1) if end is None else datetime.combine(day.date(), end)
        return ws.astimezone(_UTC), self._localize(we_naive).astimezone(_UTC)

    def _window_start(self, tab: _Table, o: int) -> datetime:
        """UTC start of business day ``o``'s window."""
        if o in tab.odd_days:
            return self._window_exact(o)[0]
        naive = datetime.fromordinal(o) + self._start_delta
        off = naive.replace(tzinfo=self._tz).utcoffset()
        assert off is not None
        return (naive - off).replace(tzinfo=_UTC)

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

    def _wall_on(self, local: datetime, o: int, tab: _Table | None = None) -> datetime:
        """``local``'s wall-clock time on day ``o`` (same instant if same day)."""
        k = o - local.toordinal()
        if k == 0:
            return local
        if tab is not None and tab.base <= o < tab.end and o not in tab.odd_days:
            return local + timedelta(k)  # same tzinfo: wall-clock arithmetic, fold=0
        return self._localize(local.replace(tzinfo=None, fold=0) + timedelta(k))

    # ---------------------------------------------------------------- days API

    def holidays(self, year: int) -> dict[date, str]:
        """Public holidays observed as days off in ``year``, by date, French names."""
        if isinstance(year, bool) or not isinstance(year, int):
            raise ArgumentTypeError("year", year, "an int")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise _out_of_range("year", year, year)
        with self._lock:
            return dict(self._year(year).holidays)

    def is_business_day(self, d: date) -> bool:
        """True if ``d`` is a business day (an aware datetime: its local date)."""
        o = self._ordinal(d)
        tab = self._cover_ord(o, o)
        i = tab.cnt[o - tab.base]
        return i < len(tab.ords) and tab.ords[i] == o

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a business day, else the next one."""
        return date.fromordinal(self._offset_index(self._ordinal(d), 0))

    def next_business_day(self, d: date) -> date:
        """The first business day strictly after ``d``."""
        return date.fromordinal(self._offset_index(self._ordinal(d) + 1, 0))

    def previous_business_day(self, d: date) -> date:
        """The last business day strictly before ``d``."""
        return date.fromordinal(self._offset_index(self._ordinal(d), -1))

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
            local = self._to_local(start, "start")
            o = local.toordinal()
            r = self._offset_index(o, count)
            return self._wall_on(local, r, self._table)
        return date.fromordinal(self._offset_index(self._ordinal(start, "start"), count))

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
            local = self._to_local(start, "start")
            r = self._offset_index(local.toordinal() + count, 0)
            return self._wall_on(local, r, self._table)
        return date.fromordinal(self._offset_index(self._ordinal(start, "start") + count, 0))

    def business_days_between(self, a: date, b: date) -> int:
        """Business days in ``[a, b)``, or minus those in ``[b, a)`` if ``b < a``.

        Like numpy ``busday_count`` for ``a <= b``. For ``b < a`` numpy counts
        ``(b, a]`` instead; counting ``-[b, a)`` keeps the count antisymmetric and
        additive, and ``business_days_between(d, add_business_days(d, n)) == n``
        for every ``d`` and ``n``, negative included.
        """
        oa, ob = self._ordinal(a, "a"), self._ordinal(b, "b")
        tab = self._cover_ord(oa, ob)
        return tab.cnt[ob - tab.base] - tab.cnt[oa - tab.base]

    # --------------------------------------------------------------- time API

    def _clock(self, tab: _Table, instant: datetime) -> int:
        """Business µs from the table's start to ``instant`` (aware, any tz).

        Equal to :meth:`_clock_general`: off the offset-change days the offset is
        constant over the whole local day, so the UTC difference to the window
        start is the wall-clock difference, read without any tz arithmetic.
        """
        local = instant if instant.tzinfo is self._tz else instant.astimezone(self._tz)
        o = local.toordinal()
        i = tab.cnt[o - tab.base]
        if i < len(tab.ords) and tab.ords[i] == o:
            if o in tab.odd_days:
                return self._clock_general(tab, instant)
            length = tab.cum[i + 1] - tab.cum[i]
            part = _wall_us(local) - self._start_us
            if part <= 0:
                return tab.cum[i]
            return tab.cum[i] + (part if part < length else length)
        return tab.cum[i]

    def _clock_general(self, tab: _Table, instant: datetime) -> int:
        """Reference :meth:`_clock`: exact UTC arithmetic on every day."""
        local = instant if instant.tzinfo is self._tz else instant.astimezone(self._tz)
        o = local.toordinal()
        i = tab.cnt[o - tab.base]
        if i < len(tab.ords) and tab.ords[i] == o:
            length = tab.cum[i + 1] - tab.cum[i]
            part = _us(instant.astimezone(_UTC) - self._window_start(tab, o))
            return tab.cum[i] + min(max(part, 0), length)
        return tab.cum[i]

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Real elapsed time between two instants inside business windows (neg. if b < a)."""
        la, lb = self._to_local(a, "a"), self._to_local(b, "b")
        tab = self._cover_ord(la.toordinal(), lb.toordinal())
        return timedelta(0, 0, self._clock(tab, lb) - self._clock(tab, la))

    def add_business_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        """The earliest instant after ``start`` with ``hours`` of business time elapsed.

        Negative ``hours`` count backwards (latest instant before ``start``); zero
        returns ``start``. The result is in the calendar timezone. ``hours`` is a number
        of hours (int or float) or a timedelta, else `ArgumentTypeError`.
        """
        delta = _hours_us_cached(hours) if type(hours) is float else _hours_us(hours)
        if type(start) is datetime and start.tzinfo is self._tz:
            return self._add_us(start, delta)  # the common case, without a call (pure build)
        return self._add_us(self._to_local(start, "start"), delta)

    def _add_business_hours_general(self, start: object, hours: object) -> datetime:
        """Reference :meth:`add_business_hours`: exact UTC arithmetic on every step."""
        return self._add_us_general(self._to_local(start, "start"), _hours_us(hours))

    def _add_us(self, local: datetime, delta: int) -> datetime:
        """:meth:`_add_us_general`, in wall-clock arithmetic when no clock change is involved.

        Off the offset-change days (``odd_days``) a local day has one UTC offset from
        its midnight to the next, so business time inside a window is wall-clock
        time: the start's clock and the result are read and built on the wall
        clock (``local + timedelta``, same tzinfo, ``fold=0``) with the very same
        table lookups and bisection as the general path. Anything else -- a start
        or result day with a clock change, a result exactly at 24:00 (the next
        midnight, which could open a gap), a result outside the built table --
        takes the general path.

        When a business day's window moves whole onto a business day ``r`` (both
        without clock change, ``r``'s window no shorter), every start strictly
        inside the window lands at the same wall clock on ``r``: that shift is
        memoised per (day, delta), so the common call (24 h from a working
        instant) is a dict lookup and one ``datetime + timedelta``.
        """
        if delta == 0:
            return local
        o = local.toordinal()
        hit = self._shift_memo.get((o, delta))
        if hit is not None and type(local) is datetime:
            w = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
            w += local.microsecond
            if hit[0] < w < hit[1]:
                return local + hit[2]
        tab = self._table
        if tab is None or not tab.base <= o < tab.end or type(local) is not datetime:
            return self._add_us_general(local, delta)
        cum = tab.cum
        ords = tab.ords
        odd = tab.odd_days
        i = tab.cnt[o - tab.base]
        wall = _wall_us(local)
        start_us = self._start_us
        business = i < len(ords) and ords[i] == o
        if business:
            if o in odd:
                return self._add_us_general(local, delta)
            part = wall - start_us
            if part <= 0:
                target = cum[i] + delta
            else:
                length = cum[i + 1] - cum[i]
                target = cum[i] + (part if part < length else length) + delta
        else:
            target = cum[i] + delta
        if not 0 <= target < cum[-1]:
            return self._add_us_general(local, delta)
        if delta > 0:
            j = bisect.bisect_left(cum, target) - 1
        else:
            j = bisect.bisect_right(cum, target) - 1
        r = ords[j]
        at = start_us + target - cum[j]  # wall-clock µs of the result on day r
        if r in odd:
            return self._add_us_general(local, delta)
        if at >= _DAY_US:
            if at == _DAY_US and r + 1 not in odd:
                # 24:00 on day r (windows that end at midnight): the next day's midnight,
                # which exists once on a day without a clock change
                return local + timedelta(r + 1 - o, 0, -wall)
            return self._add_us_general(local, delta)
        if business and at == wall and cum[j] - cum[i] == delta:
            # Business day o moves whole windows to day r, at least as long as o's:
            # every start strictly inside o's window keeps its wall clock on day r.
            length = cum[i + 1] - cum[i]
            if 0 < length <= cum[j + 1] - cum[j] and len(self._shift_memo) < _MEMO_MAX:
                self._shift_memo[o, delta] = (start_us, start_us + length, timedelta(r - o))
        return local + timedelta(r - o, 0, at - wall)  # datetime + timedelta: fold=0

    def _add_us_general(self, local: datetime, delta: int) -> datetime:
        if delta == 0:
            return local
        o = local.toordinal()
        tab = self._cover_ord(o, o)
        while True:
            target = self._clock_general(tab, local) + delta
            cum = tab.cum
            if delta > 0 and target > cum[-1]:
                more = (target - cum[-1]) // (200 * max(self._nominal_us, 1)) + 1
                tab = self._cover(tab.first, tab.last + more)
                continue
            if delta < 0 and target < 0:
                more = -target // (200 * max(self._nominal_us, 1)) + 1
                tab = self._cover(tab.first - more, tab.last)
                continue
            break
        if delta > 0:
            j = bisect.bisect_left(cum, target) - 1
        else:
            j = bisect.bisect_right(cum, target) - 1
        ws = self._window_start(tab, tab.ords[j])
        return (ws + timedelta(0, 0, target - cum[j])).astimezone(self._tz)

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
            return self._batch_datetimes(starts, count)
        # Keyed on the date objects themselves: hashing a date is cached, and the
        # kind check then runs once per distinct day rather than per element.
        uniq = set(starts)
        for d in uniq:
            if type(d) is not date:
                raise TypeError(f"mixed batch: expected dates only, got {d!r}")
        offset = self._offset_index
        fromordinal = date.fromordinal
        memo = {d: fromordinal(offset(d.toordinal(), count)) for d in uniq}
        return list(map(memo.__getitem__, starts))

    def _batch_datetimes(self, starts: Sequence[date], n: int) -> list[datetime]:
        tz = self._tz
        try:
            fast = n != 0 and set(map(attrgetter("tzinfo"), starts)) == {tz}
        except AttributeError:
            fast = False
        if fast:
            local: Sequence[datetime] = starts  # type: ignore[assignment]
        else:
            local = [self._to_local(_as_datetime(s), "start") for s in starts]
        ords = list(map(datetime.toordinal, local))
        offset = self._offset_index
        memo = {o: offset(o, n) for o in set(ords)}
        tab = self._table
        assert tab is not None
        if n != 0 and tab.odd_days.isdisjoint(memo.values()):
            # n != 0 never lands on the start's own day; no clock change on any
            # result day: wall-clock timedelta arithmetic is exact.
            shifts = {o: timedelta(r - o) for o, r in memo.items()}
            return list(map(datetime.__add__, local, map(shifts.__getitem__, ords)))
        wall_on = self._wall_on
        return [wall_on(s, memo[o], tab) for s, o in zip(local, ords, strict=True)]

    def add_business_hours_batch(self, starts: Sequence[datetime], hours: object) -> list[datetime]:
        """``add_business_hours`` over many starts."""
        delta = _hours_us(hours)
        to_local = self._to_local
        add = self._add_us
        return [add(to_local(s, "start"), delta) for s in starts]


def _as_datetime(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"mixed batch: expected datetimes only, got {value!r}")
    return value


def _wall_us(t: datetime) -> int:
    """Wall-clock µs since local midnight."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _us(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def _whole(value: object, what: str) -> int:
    """``value`` if it is an int (a count of days), else `ArgumentTypeError` naming ``what``."""
    if not isinstance(value, int):
        raise ArgumentTypeError(what, value, "an int")
    return value


def _hours_us(hours: object) -> int:
    """Microseconds in ``hours`` (a number of hours or a timedelta)."""
    if isinstance(hours, timedelta):
        return _us(hours)
    if not isinstance(hours, (int, float)):
        raise ArgumentTypeError("hours", hours, "a number of hours or a timedelta")
    if not math.isfinite(hours):
        raise ValueError(f"hours must be finite, got {hours!r}")
    return _us(timedelta(hours=hours))


# float hours -> µs for the few amounts deadlines use (``float(deadline.amount)``),
# filled on first use and bounded; NaN never hits (nan != nan) so it still raises.
_HOURS_US: Final[dict[float, int]] = {}
_HOURS_US_MAX: Final = 1024


def _hours_us_cached(hours: float) -> int:
    delta = _HOURS_US.get(hours)
    if delta is None:
        delta = _hours_us(hours)
        if len(_HOURS_US) < _HOURS_US_MAX:
            _HOURS_US[hours] = delta
    return delta
