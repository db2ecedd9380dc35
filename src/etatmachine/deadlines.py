"""From a state's deadline policy (catalogue data) to a due instant (calendar arithmetic).

This is the only place where the two meet: the catalogue says *which* policy a state
uses (``business_hours`` 24, ``business_days`` 5, ``calendar_days`` 15, ``given``,
``inherit``), the calendar knows how to count. A platform changes a policy by editing
its catalogue file, not this code.

Compiled in the opt-in compiled build. A start the calendar's checks would take unchanged
(`CalendarKernel.accepts`: the judge's checked instants, in the calendar's timezone) goes
straight to the calendar's kernel; any other goes through the public `BusinessCalendar`,
whose checks and errors stay the answer for it. Both give the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from etatmachine.business_calendar import PARIS, BusinessCalendar
from etatmachine.business_calendar.kernel import hours_us
from etatmachine.catalogue import Deadline, DeadlineKind
from etatmachine.rules import as_aware_datetime, as_week, week_problem, week_year

__all__ = [
    "DELIVERY_WEEK_TIME",
    "compute_due",
    "compute_due_batch",
    "compute_due_pairs",
    "week_due",
]

DELIVERY_WEEK_TIME: Final = time(9, 0)
"""A delivery announced as a week (« Semaine: 14 ») is due on that week's last business
day at 09:00 Paris time: the supplies are expected during the week, and the next step is
owed once the week is over."""


# The policies, read once (a module constant, not an attribute of the enum at each call).
_BUSINESS_HOURS: Final = DeadlineKind.BUSINESS_HOURS
_BUSINESS_DAYS: Final = DeadlineKind.BUSINESS_DAYS
_CALENDAR_DAYS: Final = DeadlineKind.CALENDAR_DAYS
_INHERIT: Final = DeadlineKind.INHERIT
_GIVEN: Final = DeadlineKind.GIVEN


def week_due(calendar: BusinessCalendar, at: datetime, year: int | None, week: int) -> datetime:
    """The due instant of a delivery expected in ISO ``week`` (of ``year``, else the next one).

    >>> from etatmachine.business_calendar import BusinessCalendar
    >>> cal = BusinessCalendar()
    >>> week_due(cal, datetime(2023, 3, 21, 13, 24, tzinfo=PARIS), None, 14).isoformat()
    '2023-04-07T09:00:00+02:00'
    """
    year = week_year(at.astimezone(PARIS), year, week)
    friday = date.fromisocalendar(year, week, 5)
    monday = friday - timedelta(days=4)
    day = friday
    while day > monday and not calendar.is_business_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, DELIVERY_WEEK_TIME, tzinfo=PARIS)


def compute_due(
    deadline: Deadline,
    at: datetime,
    calendar: BusinessCalendar,
    *,
    current_due: datetime | None = None,
    given: datetime | None = None,
    data: Mapping[str, Any] | None = None,
) -> datetime | None:
    """The due instant a state sets when entered at ``at``.

    ``given`` (the move's ``due=``) wins where the caller passes it; the engine checks
    first whether the state allows it. Returns None when a ``given`` deadline has no
    date: the ``data_required`` rule reports that.
    """
    kind = deadline.kind
    if given is not None:
        return given
    if kind is _BUSINESS_HOURS:
        hours = float(deadline.amount or 0)
        kernel = calendar.kernel
        if kernel.accepts(at):
            return kernel.add_us(at, hours_us(hours))
        return calendar.add_business_hours(at, hours)
    if kind is _BUSINESS_DAYS:
        kernel = calendar.kernel
        if kernel.accepts(at):
            return kernel.add_business_days(at, deadline.amount or 0)
        return calendar.add_business_days(at, deadline.amount or 0)
    if kind is _CALENDAR_DAYS:
        kernel = calendar.kernel
        if kernel.accepts(at):
            return kernel.add_calendar_days_rolled(at, deadline.amount or 0)
        return calendar.add_calendar_days_rolled(at, deadline.amount or 0)
    if kind is _INHERIT:
        return current_due
    if kind is _GIVEN:
        if data is None or deadline.data_key is None:
            return None
        value = data.get(deadline.data_key)
        if value is not None:
            when = as_aware_datetime(value)
            return None if isinstance(when, str) else when
        week = data.get("delivery_week") if deadline.data_key == "delivery_at" else None
        if week is not None:
            parsed = as_week(week)
            if isinstance(parsed, str) or week_problem(at.astimezone(PARIS), *parsed):
                return None  # data_required reports why
            return week_due(calendar, at, *parsed)
        return None
    return None  # NONE: terminal states


def compute_due_batch(
    deadline: Deadline, starts: Sequence[datetime], calendar: BusinessCalendar
) -> list[datetime | None]:
    """Due instants for many starts under one counted policy (the nightly job's call)."""
    if deadline.kind is _BUSINESS_DAYS:
        return list(calendar.add_business_days_batch(starts, deadline.amount or 0))
    if deadline.kind is _BUSINESS_HOURS:
        return list(calendar.add_business_hours_batch(starts, float(deadline.amount or 0)))
    return [compute_due(deadline, s, calendar) for s in starts]


def compute_due_pairs(
    pairs: Iterable[tuple[datetime, Deadline]], calendar: BusinessCalendar
) -> list[datetime | None]:
    """Due instants for many (start, deadline) pairs, in their order: what a nightly job over
    all open files calls. Pairs are grouped by deadline so each group runs as one batch."""
    items = list(pairs)
    groups: dict[Deadline, list[int]] = {}
    for index, (_, deadline) in enumerate(items):
        groups.setdefault(deadline, []).append(index)
    out: list[datetime | None] = [None] * len(items)
    for deadline, indexes in groups.items():
        dues = compute_due_batch(deadline, [items[i][0] for i in indexes], calendar)
        for i, due in zip(indexes, dues, strict=True):
            out[i] = due
    return out
