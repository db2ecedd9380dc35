"""Every day 2000-2100 checked against independent oracles.

* holiday sets against workalendar (another implementation of the French rules);
* business days, offsets and counts against numpy's ``busday_*`` arithmetic fed
  with *workalendar's* holidays, so no answer is checked against itself.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from workalendar.core import Calendar  # type: ignore[import-untyped]
from workalendar.europe import (  # type: ignore[import-untyped]
    France,
    FranceAlsaceMoselle,
)

from etatmachine.business_calendar import BusinessCalendar, CalendarConfig

YEARS = range(2000, 2101)
FIRST, END = date(2000, 1, 1), date(2101, 1, 1)

# holidays (0.109) and workalendar disagree only on Pentecost Monday 2005-2007.
# The law: Code du travail L3133-1 (ex-L222-1) lists "le lundi de Pentecôte" among
# the fêtes légales in every year. Loi 2004-626 (30 June 2004) created the
# journée de solidarité and made Pentecost Monday its default date, so it was
# *worked* by default in 2005-2007 without ceasing to be a legal holiday; loi
# 2008-351 (16 April 2008) let each employer choose the date. holidays drops the
# day in those years, workalendar keeps it. Our calendar follows the law (lists
# it; pentecost_worked=True makes it a business day), hence agrees with workalendar.
HOLIDAYS_LIB_MISSING = {date(2005, 5, 16), date(2006, 6, 5), date(2007, 5, 28)}

CASES = {
    "national": (CalendarConfig(), France),
    "alsace-moselle": (CalendarConfig(subdivision="alsace-moselle"), FranceAlsaceMoselle),
}


def _workalendar_days(cls: type[Calendar]) -> set[date]:
    cal = cls()
    return {d for y in YEARS for d, _ in cal.holidays(y)}


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, BusinessCalendar, set[date]]:
    config, oracle = CASES[request.param]
    return request.param, BusinessCalendar(config), _workalendar_days(oracle)


ALL_DAYS = np.arange(np.datetime64(FIRST), np.datetime64(END), dtype="datetime64[D]")
ALL_DATES: list[date] = ALL_DAYS.tolist()


def test_holidays_library_differs_from_workalendar_only_as_documented() -> None:
    from holidays.countries.france import France as HolidaysFrance

    for subdiv, oracle in ((None, France), ("6AE", FranceAlsaceMoselle), ("57", None)):
        lib = set(HolidaysFrance(subdiv=subdiv, years=YEARS))  # type: ignore[no-untyped-call]
        if oracle is None:  # Moselle: same rules as Alsace
            oracle = FranceAlsaceMoselle
        wa = _workalendar_days(oracle)
        assert wa - lib == HOLIDAYS_LIB_MISSING, subdiv
        assert lib - wa == set(), subdiv


def test_holiday_sets_match_workalendar(case: tuple[str, BusinessCalendar, set[date]]) -> None:
    _, cal, oracle = case
    ours = {d for y in YEARS for d in cal.holidays(y)}
    assert ours == oracle


def test_is_business_day_every_day(case: tuple[str, BusinessCalendar, set[date]]) -> None:
    _, cal, oracle = case
    expected = np.is_busday(ALL_DAYS, holidays=sorted(oracle)).tolist()
    assert [cal.is_business_day(d) for d in ALL_DATES] == expected


@pytest.mark.parametrize("n", [-23, -5, -1, 0, 1, 2, 5, 10, 30])
def test_add_business_days_every_day(case: tuple[str, BusinessCalendar, set[date]], n: int) -> None:
    _, cal, oracle = case
    expected = np.busday_offset(ALL_DAYS, n, roll="forward", holidays=sorted(oracle)).tolist()
    assert cal.add_business_days_batch(ALL_DATES, n) == expected
    sample = ALL_DATES[::97]  # the scalar path too, on a spread of days
    assert [cal.add_business_days(d, n) for d in sample] == expected[::97]


def test_business_days_between_every_day(
    case: tuple[str, BusinessCalendar, set[date]],
) -> None:
    _, cal, oracle = case
    hol = sorted(oracle)
    rng = np.random.default_rng(20240531)
    spans = rng.integers(-400, 401, size=ALL_DAYS.size)
    ends = np.clip(ALL_DAYS + spans, np.datetime64(FIRST), np.datetime64("2100-12-31"))
    # For b < a numpy counts (b, a]; this calendar counts -[b, a) so that the count
    # is antisymmetric, additive and inverts add_business_days for negative n too.
    lo, hi = np.minimum(ALL_DAYS, ends), np.maximum(ALL_DAYS, ends)
    expected = (np.sign(spans) * np.busday_count(lo, hi, holidays=hol)).tolist()
    assert (ends < ALL_DAYS).any()
    ends_list: list[date] = ends.tolist()
    got = [cal.business_days_between(a, b) for a, b in zip(ALL_DATES, ends_list, strict=True)]
    assert got == expected
    total = int(np.busday_count(FIRST, END, holidays=hol))
    assert cal.business_days_between(FIRST, END) == total
    assert cal.business_days_between(END, FIRST) == -total


def test_ouvrables_every_day() -> None:
    cal = BusinessCalendar(CalendarConfig(working_days="ouvrables"))
    hol = sorted(_workalendar_days(France))
    mon_sat = np.busdaycalendar(weekmask="1111110", holidays=hol)
    expected_days = np.is_busday(ALL_DAYS, busdaycal=mon_sat).tolist()
    assert [cal.is_business_day(d) for d in ALL_DATES] == expected_days
    expected = np.busday_offset(ALL_DAYS, 5, roll="forward", busdaycal=mon_sat).tolist()
    assert cal.add_business_days_batch(ALL_DATES, 5) == expected


def test_pentecost_worked_every_year() -> None:
    cal = BusinessCalendar(CalendarConfig(pentecost_worked=True))
    fr = France()
    pentecost = {fr.get_whit_monday(y) for y in YEARS}
    hol = sorted(_workalendar_days(France) - pentecost)
    assert [cal.is_business_day(d) for d in ALL_DATES] == np.is_busday(
        ALL_DAYS, holidays=hol
    ).tolist()
