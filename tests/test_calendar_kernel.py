"""The calendar's kernel (`BusinessCalendar.kernel`) and the callers that ask it directly.

The kernel takes checked values only; `CalendarKernel.accepts` tells which datetimes those
are. Its answers must be the facade's, to the tzinfo and fold, and `compute_due` /
`step_lateness` must answer (and fail) the same whether a start goes to the kernel or
through the facade. These tests run in the pure and the compiled build alike.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta

import pytest
from checks import same_datetime
from hypothesis import given, settings
from hypothesis import strategies as st

from etatmachine.business_calendar import (
    PARIS,
    BusinessCalendar,
    CalendarConfig,
    CalendarKernel,
)
from etatmachine.business_calendar.kernel import Table, hours_us
from etatmachine.catalogue import Deadline, DeadlineKind
from etatmachine.deadlines import compute_due
from etatmachine.errors import DateRangeError, NaiveDatetimeError
from etatmachine.lateness import step_lateness

NATIONAL = BusinessCalendar()
OFFICE = BusinessCalendar(CalendarConfig(work_start=time(9), work_end=time(18)))
ALSACE_OUVRABLES = BusinessCalendar(
    CalendarConfig(subdivision="alsace-moselle", working_days="ouvrables")
)
CALENDARS = [NATIONAL, OFFICE, ALSACE_OUVRABLES]


class _Stamp(datetime):
    """A datetime subclass: the facade converts it, so the kernel does not take it as is."""


def test_each_calendar_has_its_own_kernel_for_its_config() -> None:
    cal = BusinessCalendar(CalendarConfig(timezone="Asia/Jerusalem"))
    assert isinstance(cal.kernel, CalendarKernel)
    assert cal.kernel.config is cal.config
    assert str(cal.kernel.tz) == "Asia/Jerusalem"
    assert NATIONAL.kernel.tz is PARIS
    assert cal.kernel is not NATIONAL.kernel
    assert repr(NATIONAL.kernel) == f"CalendarKernel({NATIONAL.config!r})"


def test_the_kernel_builds_its_table_on_the_first_question() -> None:
    cal = BusinessCalendar()
    assert cal.kernel.table is None
    assert cal.is_business_day(date(2024, 5, 2))
    table = cal.kernel.table
    assert isinstance(table, Table)
    assert table.first <= 2024 <= table.last


def test_the_kept_table_grows_by_its_span_so_walking_the_years_rebuilds_it_rarely() -> None:
    """Dates that walk through the years (one long history: 10,000 entries span 18 years,
    100,000 span 177) extend the kept table by at least its own span each time: a
    logarithmic number of rebuilds, not one a year over an ever longer span. Each answer is
    the one a calendar asked that year alone gives."""
    cal = BusinessCalendar()
    kernel = cal.kernel
    spans = []
    for year in range(2023, 2023 + 100):
        start = datetime(year, 3, 1, 10, tzinfo=PARIS)
        assert cal.add_business_days(start, 5) == BusinessCalendar().add_business_days(start, 5)
        table = kernel.table
        assert table is not None and table.first <= year <= table.last
        if (table.first, table.last) not in spans:
            spans.append((table.first, table.last))
    assert len(spans) <= 8, spans  # 1, 2, 4, 8... years, not 100 tables
    assert [last - first + 1 for first, last in spans[:4]] == [1, 2, 4, 8]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (datetime(2024, 6, 3, 10, tzinfo=PARIS), True),
        (datetime(1900, 1, 1, tzinfo=PARIS), True),
        (datetime(2999, 12, 31, 23, 59, tzinfo=PARIS), True),
        (datetime(1899, 12, 31, 23, tzinfo=PARIS), False),
        (datetime(3000, 1, 1, tzinfo=PARIS), False),
        (datetime(2024, 6, 3, 8, tzinfo=UTC), False),
        (datetime(2024, 6, 3, 10), False),
        (_Stamp(2024, 6, 3, 10, tzinfo=PARIS), False),
    ],
    ids=["paris", "first-year", "last-year", "1899", "3000", "utc", "naive", "subclass"],
)
def test_accepts_exactly_what_the_checks_pass_unchanged(value: datetime, accepted: bool) -> None:
    """Accepted: a plain datetime in the calendar's tzinfo within the supported years, which
    the facade hands to the kernel as it is; anything else goes through the facade."""
    assert NATIONAL.kernel.accepts(value) is accepted


naive_instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31))


@settings(deadline=None)
@given(
    st.sampled_from(CALENDARS),
    naive_instants,
    naive_instants,
    st.booleans(),
    st.sampled_from([24.0, 48.0, -24.0, 1.5, 0.0, 72.0]),
    st.integers(-20, 20),
)
def test_the_kernel_answers_what_the_facade_answers(
    cal: BusinessCalendar,
    naive: datetime,
    other: datetime,
    fold: bool,
    hours: float,
    n: int,
) -> None:
    kernel = cal.kernel
    start = naive.replace(tzinfo=kernel.tz, fold=int(fold))
    end = other.replace(tzinfo=kernel.tz)
    assert kernel.accepts(start)
    same_datetime(kernel.add_us(start, hours_us(hours)), cal.add_business_hours(start, hours))
    same_datetime(kernel.add_business_days(start, n), cal.add_business_days(start, n))
    same_datetime(kernel.add_calendar_days_rolled(start, n), cal.add_calendar_days_rolled(start, n))
    assert kernel.business_time_between(start, end) == cal.business_time_between(start, end)
    day, other_day = start.date(), end.date()
    assert kernel.is_business_ordinal(day.toordinal()) is cal.is_business_day(day)
    assert kernel.business_days_between(
        day.toordinal(), other_day.toordinal()
    ) == cal.business_days_between(day, other_day)
    assert date.fromordinal(kernel.offset_index(day.toordinal(), n)) == cal.add_business_days(
        day, n
    )


def test_kernel_holidays_are_the_calendars() -> None:
    assert ALSACE_OUVRABLES.kernel.holidays(2024) == ALSACE_OUVRABLES.holidays(2024)
    copy = NATIONAL.kernel.holidays(2024)
    copy.clear()  # a copy: the kept year is untouched
    assert NATIONAL.holidays(2024)[date(2024, 7, 14)] == "Fête nationale"


def test_hours_us_is_exact_and_refuses_what_is_not_finite() -> None:
    assert hours_us(24.0) == 86_400_000_000
    assert hours_us(1.5) == 5_400_000_000
    assert hours_us(-0.5) == -1_800_000_000
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError, match="hours must be finite"):
            hours_us(bad)


# --- the compiled callers: kernel for accepted starts, facade for the others -------------

COUNTED = [
    Deadline(kind=DeadlineKind.BUSINESS_HOURS, amount=24),
    Deadline(kind=DeadlineKind.BUSINESS_HOURS, amount=48),
    Deadline(kind=DeadlineKind.BUSINESS_DAYS, amount=5),
    Deadline(kind=DeadlineKind.CALENDAR_DAYS, amount=15),
]


def _facade_due(deadline: Deadline, at: datetime, cal: BusinessCalendar) -> datetime:
    amount = deadline.amount or 0
    if deadline.kind is DeadlineKind.BUSINESS_HOURS:
        return cal.add_business_hours(at, float(amount))
    if deadline.kind is DeadlineKind.BUSINESS_DAYS:
        return cal.add_business_days(at, amount)
    return cal.add_calendar_days_rolled(at, amount)


@settings(deadline=None)
@given(st.sampled_from(CALENDARS), st.sampled_from(COUNTED), naive_instants, st.booleans())
def test_compute_due_is_the_same_through_the_kernel_and_through_the_facade(
    cal: BusinessCalendar, deadline: Deadline, naive: datetime, fold: bool
) -> None:
    local = naive.replace(tzinfo=cal.kernel.tz, fold=int(fold))
    utc = local.astimezone(UTC)  # the same instant, not accepted: through the facade
    assert cal.kernel.accepts(local) and not cal.kernel.accepts(utc)
    via_kernel = compute_due(deadline, local, cal)
    assert via_kernel is not None
    same_datetime(via_kernel, _facade_due(deadline, local, cal))
    via_facade = compute_due(deadline, utc, cal)
    assert via_facade is not None
    same_datetime(via_facade, _facade_due(deadline, utc, cal))


def test_compute_due_still_refuses_what_the_calendar_refuses() -> None:
    """A naive start is not accepted, so the facade names it; a due date past 2999 is
    refused the same way whichever path computed it."""
    for deadline in COUNTED:
        with pytest.raises(NaiveDatetimeError) as naive:
            compute_due(deadline, datetime(2024, 6, 3, 10), NATIONAL)
        assert naive.value.what == "start"
        last = datetime(2999, 12, 31, 12, tzinfo=PARIS)
        with pytest.raises(DateRangeError) as kernel_error:
            compute_due(deadline, last, NATIONAL)
        with pytest.raises(DateRangeError) as facade_error:
            _facade_due(deadline, last, NATIONAL)
        assert kernel_error.value.year == facade_error.value.year == 3000
        assert str(kernel_error.value) == str(facade_error.value)
        with pytest.raises(DateRangeError) as utc_error:
            compute_due(deadline, last.astimezone(UTC), NATIONAL)
        assert str(utc_error.value) == str(facade_error.value)


@settings(deadline=None)
@given(st.sampled_from(CALENDARS), naive_instants, st.timedeltas(timedelta(0), timedelta(60)))
def test_step_lateness_is_the_same_through_the_kernel_and_through_the_facade(
    cal: BusinessCalendar, naive: datetime, late: timedelta
) -> None:
    due = naive.replace(tzinfo=cal.kernel.tz)
    ended = (due.astimezone(UTC) + late).astimezone(cal.kernel.tz)
    got = step_lateness(cal, due, ended)
    want = cal.business_time_between(due, ended) if ended > due else timedelta(0)
    assert got == max(want, timedelta(0))
    assert step_lateness(cal, due.astimezone(UTC), ended.astimezone(UTC)) == got
    assert step_lateness(cal, due, ended.astimezone(UTC)) == got


def test_holidays_are_imported_on_the_first_question_not_with_the_calendar() -> None:
    """``holidays`` costs start-up time: importing the calendar and building one (its
    kernel included) does not import it; the first question about a year does."""
    script = (
        "import sys\n"
        "from datetime import date\n"
        "from etatmachine.business_calendar import BusinessCalendar\n"
        "cal = BusinessCalendar()\n"
        "print('holidays' in sys.modules)\n"
        "cal.is_business_day(date(2024, 5, 1))\n"
        "print('holidays' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True"]
