"""Unit and property tests of the French business-day calendar."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from checks import same_datetime
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from etatmachine.business_calendar import (
    PARIS,
    BusinessCalendar,
    CalendarConfig,
    require_aware,
)
from etatmachine.business_calendar.kernel import hours_us
from etatmachine.errors import ArgumentTypeError, NaiveDatetimeError

NATIONAL = BusinessCalendar()
ALSACE = BusinessCalendar.from_subdivision("alsace-moselle")
OUVRABLES = BusinessCalendar(CalendarConfig(working_days="ouvrables"))
OFFICE = BusinessCalendar(CalendarConfig(work_start=time(9), work_end=time(18)))
PENTECOST_WORKED = BusinessCalendar(CalendarConfig(pentecost_worked=True))
JERUSALEM = ZoneInfo("Asia/Jerusalem")  # spring-forward on a Friday (a jour ouvré)
CAIRO = ZoneInfo("Africa/Cairo")  # fall-back on a Thursday at 24:00
ISRAEL_CLOCK = BusinessCalendar(CalendarConfig(timezone="Asia/Jerusalem"))
CAIRO_CLOCK = BusinessCalendar(CalendarConfig(timezone="Africa/Cairo"))


def paris(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=PARIS)


H24 = timedelta(hours=24)

# ----------------------------------------------------------------- holidays

NATIONAL_2024 = {
    date(2024, 1, 1): "Jour de l'an",
    date(2024, 4, 1): "Lundi de Pâques",
    date(2024, 5, 1): "Fête du Travail",
    date(2024, 5, 8): "Fête de la Victoire",
    date(2024, 5, 9): "Ascension",
    date(2024, 5, 20): "Lundi de Pentecôte",
    date(2024, 7, 14): "Fête nationale",
    date(2024, 8, 15): "Assomption",
    date(2024, 11, 1): "Toussaint",
    date(2024, 11, 11): "Armistice",
    date(2024, 12, 25): "Noël",
}


def test_national_holidays_have_french_names() -> None:
    assert NATIONAL.holidays(2024) == NATIONAL_2024
    assert list(NATIONAL.holidays(2024)) == sorted(NATIONAL_2024)


def test_alsace_moselle_adds_good_friday_and_st_stephen() -> None:
    extra = {date(2024, 3, 29): "Vendredi saint", date(2024, 12, 26): "Saint-Étienne"}
    assert ALSACE.holidays(2024) == NATIONAL_2024 | extra
    assert not ALSACE.is_business_day(date(2024, 3, 29))
    assert NATIONAL.is_business_day(date(2024, 3, 29))
    assert not ALSACE.is_business_day(date(2024, 12, 26))
    assert NATIONAL.is_business_day(date(2024, 12, 26))


@pytest.mark.parametrize(
    ("spelling", "code"),
    [("67", "6AE"), ("68", "6AE"), ("alsace-moselle", "6AE"), ("Alsace-Moselle", "6AE"),
     ("57", "57"), ("6AE", "6AE"), ("Moselle", "57"), ("974", "974"), ("Guadeloupe", "971")],
)  # fmt: skip
def test_subdivision_spellings_are_normalised(spelling: str, code: str) -> None:
    assert CalendarConfig(subdivision=spelling).subdivision == code


def test_overseas_department_has_its_own_days() -> None:
    reunion = BusinessCalendar.from_subdivision("974")
    assert reunion.holidays(2024)[date(2024, 12, 20)] == "Abolition de l'esclavage"
    assert not reunion.is_business_day(date(2024, 12, 20))
    assert NATIONAL.is_business_day(date(2024, 12, 20))


def test_unknown_subdivision_names_itself_and_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown subdivision '99'; valid: 57, 6AE, 971") as exc:
        CalendarConfig(subdivision="99")
    assert "alsace-moselle" in str(exc.value)
    with pytest.raises(ValueError, match="unknown subdivision 'Zone A'"):
        BusinessCalendar.from_subdivision("Zone A")  # a school-holiday zone, not a subdivision


def test_config_validation() -> None:
    with pytest.raises(ValueError, match=r"work_end \(09:00:00\) must be after work_start"):
        CalendarConfig(work_start=time(9), work_end=time(9))
    with pytest.raises(ValueError, match="unknown timezone 'Europe/Pariss'"):
        CalendarConfig(timezone="Europe/Pariss")
    with pytest.raises(ValidationError):
        CalendarConfig(working_days="weekdays")
    assert CalendarConfig(working_days="ouvrés").working_days == "ouvres"
    config = CalendarConfig()
    with pytest.raises(ValidationError):
        config.subdivision = "57"  # type: ignore[misc]
    assert BusinessCalendar(config).config is config
    assert BusinessCalendar().config == CalendarConfig()


# ------------------------------------------------------------- business days

HOLIDAYS_ON_WEEKDAYS = [
    date(2024, 5, 1),  # Fête du Travail, Wednesday
    date(2025, 7, 14),  # Fête nationale, Monday
    date(2024, 8, 15),  # Assomption, Thursday
    date(2024, 11, 1),  # Toussaint, Friday
    date(2024, 11, 11),  # Armistice, Monday
    date(2024, 12, 25),  # Noël, Wednesday
    date(2024, 4, 1),  # Lundi de Pâques
    date(2024, 5, 9),  # Ascension, Thursday
    date(2024, 5, 20),  # Lundi de Pentecôte
]


@pytest.mark.parametrize("holiday", HOLIDAYS_ON_WEEKDAYS)
def test_holiday_is_not_a_business_day(holiday: date) -> None:
    assert holiday.weekday() < 5
    assert not NATIONAL.is_business_day(holiday)
    assert not OUVRABLES.is_business_day(holiday)
    assert NATIONAL.roll_forward(holiday) == NATIONAL.next_business_day(holiday)
    assert NATIONAL.roll_forward(holiday) > holiday
    assert NATIONAL.previous_business_day(holiday) < holiday
    assert NATIONAL.business_days_between(holiday, holiday + timedelta(days=1)) == 0


def test_weekends_ouvres_and_ouvrables() -> None:
    saturday, sunday, monday = date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)
    assert not NATIONAL.is_business_day(saturday)
    assert not NATIONAL.is_business_day(sunday)
    assert NATIONAL.is_business_day(monday)
    assert OUVRABLES.is_business_day(saturday)
    assert not OUVRABLES.is_business_day(sunday)
    assert NATIONAL.business_days_between(date(2024, 6, 3), date(2024, 6, 10)) == 5
    assert OUVRABLES.business_days_between(date(2024, 6, 3), date(2024, 6, 10)) == 6


def test_roll_next_previous() -> None:
    saturday = date(2024, 6, 1)
    assert NATIONAL.roll_forward(saturday) == date(2024, 6, 3)
    assert NATIONAL.roll_forward(date(2024, 6, 3)) == date(2024, 6, 3)
    assert NATIONAL.next_business_day(date(2024, 5, 31)) == date(2024, 6, 3)
    assert NATIONAL.next_business_day(date(2024, 5, 7)) == date(2024, 5, 10)  # 8 and 9 May
    assert NATIONAL.previous_business_day(date(2024, 5, 21)) == date(2024, 5, 17)
    assert NATIONAL.previous_business_day(saturday) == date(2024, 5, 31)
    assert OUVRABLES.next_business_day(date(2024, 5, 31)) == saturday
    assert NATIONAL.next_business_day(date(2024, 12, 24)) == date(2024, 12, 26)
    assert ALSACE.next_business_day(date(2024, 12, 24)) == date(2024, 12, 27)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2024, 5, 31), 1, date(2024, 6, 3)),  # Friday -> Monday
        (date(2024, 5, 31), 0, date(2024, 5, 31)),
        (date(2024, 6, 1), 0, date(2024, 6, 3)),  # Saturday rolls forward
        (date(2024, 6, 1), 1, date(2024, 6, 4)),  # roll to Monday, then +1
        (date(2024, 6, 1), -1, date(2024, 5, 31)),  # roll to Monday, then -1
        (date(2024, 5, 7), 1, date(2024, 5, 10)),  # skips 8 May and Ascension
        (date(2024, 5, 17), 1, date(2024, 5, 21)),  # skips Pentecost Monday
        (date(2024, 6, 10), -5, date(2024, 6, 3)),
        (date(2024, 12, 31), 1, date(2025, 1, 2)),  # across the year end and 1 January
        (date(2025, 1, 2), -1, date(2024, 12, 31)),
    ],
)
def test_add_business_days_dates(start: date, n: int, due: date) -> None:
    assert NATIONAL.add_business_days(start, n) == due
    assert type(NATIONAL.add_business_days(start, n)) is date


def test_add_business_days_far_away_extends_tables_both_ways() -> None:
    cal = BusinessCalendar()
    assert cal.add_business_days(date(2024, 1, 2), 0) == date(2024, 1, 2)
    far = cal.add_business_days(date(2024, 1, 2), 2500)  # ten years on
    assert cal.business_days_between(date(2024, 1, 2), far) == 2500
    back = cal.add_business_days(date(2024, 1, 2), -2500)
    assert cal.business_days_between(back, date(2024, 1, 2)) == 2500
    assert back.year == 2014
    assert cal.is_business_day(far)
    assert cal.is_business_day(back)


def test_add_business_days_datetime_keeps_wall_clock_and_instant() -> None:
    friday = paris(2024, 5, 31, 15, 4)
    assert NATIONAL.add_business_days(friday, 1) == paris(2024, 6, 3, 15, 4)
    assert NATIONAL.add_business_days(friday, 0) is friday
    # An instant in UTC is read on the Paris wall clock: Saturday 00:30 in Paris.
    utc = datetime(2024, 5, 31, 22, 30, tzinfo=UTC)
    due = NATIONAL.add_business_days(utc, 1)
    assert due == paris(2024, 6, 4, 0, 30)
    assert due.tzinfo is PARIS


def test_dst_october_keeps_wall_clock() -> None:
    friday = paris(2024, 10, 25, 10)  # clocks go back Sunday 27 October
    due = NATIONAL.add_business_days(friday, 1)
    assert (due, due.utcoffset()) == (paris(2024, 10, 28, 10), timedelta(hours=1))
    assert due.astimezone(UTC) - friday.astimezone(UTC) == timedelta(hours=73)  # real time
    due23 = NATIONAL.add_business_days(paris(2023, 10, 27, 10), 1)
    assert due23 == paris(2023, 10, 30, 10)
    assert due23.utcoffset() == timedelta(hours=1)


def test_dst_march_keeps_wall_clock() -> None:
    friday = paris(2024, 3, 29, 10)  # clocks go forward Sunday 31 March; 1 April is Easter Monday
    due = NATIONAL.add_business_days(friday, 1)
    assert (due, due.utcoffset()) == (paris(2024, 4, 2, 10), timedelta(hours=2))
    # 02:30 exists again on the Monday after the change: kept as is.
    saturday = paris(2023, 3, 25, 2, 30)
    assert OUVRABLES.add_business_days(saturday, 1) == paris(2023, 3, 27, 2, 30)


def test_spring_gap_moves_to_first_valid_instant() -> None:
    # In Israel the clocks jump 02:00 -> 03:00 on Friday 29 March 2024, a jour ouvré.
    thursday = datetime(2024, 3, 28, 2, 30, tzinfo=JERUSALEM)
    due = ISRAEL_CLOCK.add_business_days(thursday, 1)
    assert due == datetime(2024, 3, 29, 3, 0, tzinfo=JERUSALEM)
    assert due.utcoffset() == timedelta(hours=3)
    assert due.astimezone(UTC) == datetime(2024, 3, 29, 0, 0, tzinfo=UTC)
    assert ISRAEL_CLOCK.add_calendar_days_rolled(thursday, 1) == due
    assert ISRAEL_CLOCK.add_business_days_batch([thursday], 1) == [due]


def test_autumn_fold_takes_the_first_occurrence() -> None:
    # Cairo: 24:00 -> 23:00 at the end of Thursday 31 October 2024.
    wednesday = datetime(2024, 10, 30, 23, 30, tzinfo=CAIRO)
    due = CAIRO_CLOCK.add_business_days(wednesday, 1)
    assert due.replace(tzinfo=None) == datetime(2024, 10, 31, 23, 30)
    assert due.utcoffset() == timedelta(hours=3)  # fold=0: the first 23:30
    thursday = datetime(2024, 10, 31, tzinfo=CAIRO)
    friday = datetime(2024, 11, 1, tzinfo=CAIRO)
    assert CAIRO_CLOCK.business_time_between(thursday, friday) == timedelta(hours=25)


def test_add_calendar_days_rolled() -> None:
    start = paris(2024, 5, 1, 10)
    assert NATIONAL.add_calendar_days_rolled(start, 15) == paris(2024, 5, 16, 10)
    assert NATIONAL.add_calendar_days_rolled(paris(2024, 5, 5, 10), 15) == paris(2024, 5, 21, 10)
    assert NATIONAL.add_calendar_days_rolled(paris(2024, 5, 3, 9), 15) == paris(2024, 5, 21, 9)
    assert OUVRABLES.add_calendar_days_rolled(paris(2024, 5, 3, 9), 15) == paris(2024, 5, 18, 9)
    assert NATIONAL.add_calendar_days_rolled(date(2024, 6, 1), 0) == date(2024, 6, 3)


def test_business_days_between_is_busday_count() -> None:
    assert NATIONAL.business_days_between(date(2024, 5, 1), date(2024, 6, 1)) == 19
    assert NATIONAL.business_days_between(date(2024, 6, 1), date(2024, 5, 1)) == -19
    assert NATIONAL.business_days_between(date(2024, 6, 1), date(2024, 6, 1)) == 0
    # 2024: 262 weekdays, 10 holidays on weekdays (14 July is a Sunday), +2 in Alsace.
    assert NATIONAL.business_days_between(date(2024, 1, 1), date(2025, 1, 1)) == 252
    assert ALSACE.business_days_between(date(2024, 1, 1), date(2025, 1, 1)) == 250


# -------------------------------------------------------------- pentecost


def test_pentecost_worked() -> None:
    pentecost = date(2024, 5, 20)
    assert PENTECOST_WORKED.is_business_day(pentecost)
    assert pentecost not in PENTECOST_WORKED.holidays(2024)
    assert PENTECOST_WORKED.add_business_days(date(2024, 5, 17), 1) == pentecost
    assert NATIONAL.add_business_days(date(2024, 5, 17), 1) == date(2024, 5, 21)


def test_pentecost_2006_is_a_legal_holiday_unless_worked() -> None:
    # holidays omits it in 2005-2007; Code du travail L3133-1 still lists it.
    assert NATIONAL.holidays(2006)[date(2006, 6, 5)] == "Lundi de Pentecôte"
    assert not NATIONAL.is_business_day(date(2006, 6, 5))
    assert PENTECOST_WORKED.is_business_day(date(2006, 6, 5))


# ---------------------------------------------------------- business hours


def test_24h_from_friday_afternoon_is_monday_same_time() -> None:
    assert NATIONAL.add_business_hours(paris(2024, 5, 31, 15, 4), 24) == paris(2024, 6, 3, 15, 4)
    assert NATIONAL.add_business_hours(paris(2024, 5, 31, 15, 4), H24) == paris(2024, 6, 3, 15, 4)


def test_24h_on_the_eve_of_a_holiday_skips_it() -> None:
    assert NATIONAL.add_business_hours(paris(2024, 4, 30, 15), 24) == paris(2024, 5, 2, 15)
    assert NATIONAL.add_business_hours(paris(2024, 5, 7, 10), 24) == paris(2024, 5, 10, 10)


def test_hours_set_on_saturday_count_from_monday() -> None:
    assert NATIONAL.add_business_hours(paris(2024, 6, 1, 11), 10) == paris(2024, 6, 3, 10)
    assert NATIONAL.add_business_hours(paris(2024, 6, 1, 11), 24) == paris(2024, 6, 4, 0)
    assert OUVRABLES.add_business_hours(paris(2024, 5, 31, 15, 4), 24) == paris(2024, 6, 1, 15, 4)


def test_zero_and_negative_hours() -> None:
    saturday = paris(2024, 6, 1, 11)
    assert NATIONAL.add_business_hours(saturday, 0) is saturday
    assert NATIONAL.add_business_hours(paris(2024, 6, 3, 10), -24) == paris(2024, 5, 31, 10)
    assert NATIONAL.add_business_hours(paris(2024, 6, 3, 10), -10) == paris(2024, 6, 3, 0)


def test_office_hours() -> None:
    assert OFFICE.add_business_hours(paris(2024, 5, 31, 17), 2) == paris(2024, 6, 3, 10)
    # A deadline exhausting the day's window falls at its end, not at the next opening.
    assert OFFICE.add_business_hours(paris(2024, 6, 3, 9), 9) == paris(2024, 6, 3, 18)
    assert OFFICE.add_business_hours(paris(2024, 6, 3, 7), 1) == paris(2024, 6, 3, 10)
    assert OFFICE.add_business_hours(paris(2024, 6, 3, 19), 1) == paris(2024, 6, 4, 10)
    assert OFFICE.add_business_hours(paris(2024, 5, 7, 17), 2) == paris(2024, 5, 10, 10)
    between = OFFICE.business_time_between(paris(2024, 6, 3, 7), paris(2024, 6, 4, 12))
    assert between == timedelta(hours=12)
    assert OFFICE.add_business_hours(paris(2024, 6, 4, 12), -12) == paris(2024, 6, 3, 9)


def test_business_hours_across_october_change() -> None:
    saturday_evening = paris(2024, 10, 26, 20)  # clocks go back at 03:00 on Sunday
    due = OUVRABLES.add_business_hours(saturday_evening, 24)
    assert due == paris(2024, 10, 28, 20)
    assert due.astimezone(UTC) - saturday_evening.astimezone(UTC) == timedelta(hours=49)
    assert OUVRABLES.business_time_between(saturday_evening, due) == H24
    friday_evening = paris(2023, 10, 27, 20)
    assert NATIONAL.add_business_hours(friday_evening, 24) == paris(2023, 10, 30, 20)


def test_business_hours_across_march_change() -> None:
    saturday = paris(2023, 3, 25, 12)  # clocks go forward Sunday 26 March 2023
    monday = paris(2023, 3, 27, 12)
    assert OUVRABLES.business_time_between(saturday, monday) == H24
    assert OUVRABLES.add_business_hours(saturday, 24) == monday
    assert NATIONAL.add_business_hours(paris(2024, 3, 29, 12), 24) == paris(2024, 4, 2, 12)


def test_business_day_with_a_clock_change_lasts_23_hours() -> None:
    friday = datetime(2024, 3, 29, tzinfo=JERUSALEM)
    saturday = datetime(2024, 3, 30, tzinfo=JERUSALEM)
    assert ISRAEL_CLOCK.business_time_between(friday, saturday) == timedelta(hours=23)
    thursday_noon = datetime(2024, 3, 28, 12, tzinfo=JERUSALEM)
    due = ISRAEL_CLOCK.add_business_hours(thursday_noon, 24)
    assert due == datetime(2024, 3, 29, 13, tzinfo=JERUSALEM)  # 12 h Thursday + 12 h real Friday


def test_business_time_between_signs_and_utc() -> None:
    a, b = paris(2024, 5, 31, 15, 4), paris(2024, 6, 3, 15, 4)
    assert NATIONAL.business_time_between(a, b) == H24
    assert NATIONAL.business_time_between(b, a) == -H24
    assert NATIONAL.business_time_between(a, a) == timedelta(0)
    assert NATIONAL.business_time_between(a.astimezone(UTC), b) == H24


# --------------------------------------------------------- naive datetimes

NAIVE = datetime(2024, 5, 31, 15, 4)


def test_require_aware() -> None:
    aware = paris(2024, 5, 31)
    assert require_aware(aware) is aware
    with pytest.raises(NaiveDatetimeError) as exc:
        require_aware(NAIVE)
    assert str(exc.value) == (
        "datetime must be timezone-aware (e.g. Europe/Paris), "
        "got naive datetime.datetime(2024, 5, 31, 15, 4)"
    )
    assert exc.value.value is NAIVE


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda: NATIONAL.add_business_days(NAIVE, 1), "start"),
        (lambda: NATIONAL.add_business_hours(NAIVE, 1), "start"),
        (lambda: NATIONAL.add_calendar_days_rolled(NAIVE, 15), "start"),
        (lambda: NATIONAL.business_time_between(NAIVE, paris(2024, 6, 1)), "a"),
        (lambda: NATIONAL.business_time_between(paris(2024, 6, 1), NAIVE), "b"),
        (lambda: NATIONAL.add_business_days_batch([paris(2024, 6, 1), NAIVE], 1), "start"),
        (lambda: NATIONAL.add_business_hours_batch([NAIVE], 1), "start"),
        (lambda: NATIONAL.is_business_day(NAIVE), "date"),
    ],
)
def test_naive_datetime_refused(call: object, what: str) -> None:
    with pytest.raises(NaiveDatetimeError) as exc:
        call()  # type: ignore[operator]
    assert type(exc.value) is NaiveDatetimeError
    assert exc.value.what == what
    assert str(exc.value) == (
        f"{what} must be timezone-aware (e.g. Europe/Paris), "
        "got naive datetime.datetime(2024, 5, 31, 15, 4)"
    )


@pytest.mark.parametrize(
    ("call", "argument", "value"),
    [
        (lambda: NATIONAL.add_business_hours(None, 24.0), "start", None),
        (lambda: NATIONAL.add_business_hours(date(2024, 6, 3), 24.0), "start", date(2024, 6, 3)),
        (lambda: NATIONAL.add_business_hours(paris(2024, 6, 3), "24"), "hours", "24"),
        (lambda: NATIONAL.add_business_hours_batch([paris(2024, 6, 3)], None), "hours", None),
        (lambda: NATIONAL.business_time_between(None, paris(2024, 6, 3)), "a", None),
        (lambda: NATIONAL.business_time_between(paris(2024, 6, 3), "x"), "b", "x"),
        (lambda: NATIONAL.add_business_days(paris(2024, 6, 3), 2.0), "n", 2.0),
        (lambda: NATIONAL.add_business_days(None, 2), "start", None),
        (lambda: NATIONAL.add_business_days_batch([date(2024, 6, 3)], None), "n", None),
        (lambda: NATIONAL.add_calendar_days_rolled(date(2024, 6, 3), 1.5), "days", 1.5),
        (lambda: NATIONAL.business_days_between(date(2024, 6, 3), "x"), "b", "x"),
        (lambda: NATIONAL.is_business_day(20240603), "date", 20240603),
        (lambda: NATIONAL.is_business_day("2024-01-01"), "date", "2024-01-01"),
        (lambda: NATIONAL.roll_forward(None), "date", None),
        (lambda: NATIONAL.next_business_day(b"2024-01-01"), "date", b"2024-01-01"),
        (lambda: NATIONAL.previous_business_day(2024.5), "date", 2024.5),
        (lambda: NATIONAL.holidays("2024"), "year", "2024"),
        (lambda: BusinessCalendar({"subdivision": "57"}), "config", {"subdivision": "57"}),
    ],
)
def test_argument_of_the_wrong_type_is_named(call: object, argument: str, value: object) -> None:
    """Each entry point checks its arguments itself: `ArgumentTypeError` naming the one at
    fault, in the pure and the compiled build alike (never an unrelated exception)."""
    with pytest.raises(ArgumentTypeError) as exc:
        call()  # type: ignore[operator]
    assert exc.value.argument == argument
    assert exc.value.value == value


def test_whole_numbers_of_hours_and_timedeltas_are_hours_too() -> None:
    start = paris(2024, 6, 3, 10)
    assert NATIONAL.add_business_hours(start, 24) == NATIONAL.add_business_hours(start, 24.0)
    assert NATIONAL.add_business_hours(start, H24) == paris(2024, 6, 4, 10)


# ------------------------------------------------------------------- batch


def test_batches_match_scalar_calls() -> None:
    starts = [
        paris(2024, 5, 31, 15, 4),
        paris(2024, 6, 1, 23, 59),
        datetime(2024, 6, 2, 22, 30, tzinfo=UTC),
        paris(2024, 10, 26, 2, 30),
        paris(2024, 12, 24, 9),
    ]
    for n in (-3, -1, 0, 1, 5):
        assert NATIONAL.add_business_days_batch(starts, n) == [
            NATIONAL.add_business_days(s, n) for s in starts
        ]
        days = [s.date() for s in starts]
        assert NATIONAL.add_business_days_batch(days, n) == [
            NATIONAL.add_business_days(d, n) for d in days
        ]
    assert OFFICE.add_business_hours_batch(starts, 30) == [
        OFFICE.add_business_hours(s, 30) for s in starts
    ]
    assert NATIONAL.add_business_days_batch([], 5) == []


def test_batch_keeps_the_calendar_timezone_and_rejects_mixtures() -> None:
    out = NATIONAL.add_business_days_batch([datetime(2024, 6, 2, 22, 30, tzinfo=UTC)], 1)
    assert out[0].tzinfo is PARIS
    with pytest.raises(TypeError, match="mixed batch"):
        NATIONAL.add_business_days_batch([date(2024, 6, 3), paris(2024, 6, 3)], 1)
    with pytest.raises(TypeError, match="mixed batch"):
        NATIONAL.add_business_days_batch([paris(2024, 6, 3), date(2024, 6, 3)], 1)


def test_concurrent_first_use_builds_consistent_tables() -> None:
    cal = BusinessCalendar()
    expected = {y: NATIONAL.add_business_days(date(y, 5, 7), 3) for y in range(2000, 2040)}
    results: dict[int, date] = {}
    errors: list[BaseException] = []

    def work(year: int) -> None:
        try:
            results[year] = cal.add_business_days(date(year, 5, 7), 3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(y,)) for y in expected]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == expected


# ------------------------------------------------------------- properties

CALENDARS = [NATIONAL, ALSACE, OUVRABLES, OFFICE, PENTECOST_WORKED, ISRAEL_CLOCK]
calendars = st.sampled_from(CALENDARS)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-300, max_value=300)
durations = st.integers(min_value=0, max_value=2_000 * 3_600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)


@settings(deadline=None)
@given(calendars, days, offsets)
def test_due_date_is_a_business_day_and_round_trips(
    cal: BusinessCalendar, start: date, n: int
) -> None:
    due = cal.add_business_days(start, n)
    assert cal.is_business_day(due)
    assert cal.business_days_between(start, due) == n


@settings(deadline=None)
@given(calendars, instants, offsets)
def test_datetime_due_date_is_a_business_day_with_same_wall_clock(
    cal: BusinessCalendar, start: datetime, n: int
) -> None:
    due = cal.add_business_days(start, n)
    local = start.astimezone(ZoneInfo(cal.config.timezone))
    assert cal.is_business_day(due.date())
    assert due.tzinfo is local.tzinfo
    if cal is not ISRAEL_CLOCK:  # no gap on any business day in Paris
        assert due.time() == local.time()


@settings(deadline=None)
@given(calendars, days, days, offsets)
def test_add_business_days_is_monotonic(cal: BusinessCalendar, a: date, b: date, n: int) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.add_business_days(a, n) <= cal.add_business_days(b, n)


@settings(deadline=None)
@given(calendars, instants, instants, offsets)
def test_add_business_days_is_monotonic_from_business_instants(
    cal: BusinessCalendar, a: datetime, b: datetime, n: int
) -> None:
    # From a non-business day the wall clock is carried over the roll, so Saturday
    # 23:00 -> Monday 23:00 but Sunday 01:00 -> Monday 01:00: monotonic only here.
    a, b = min(a, b), max(a, b)
    if cal.is_business_day(a) and cal.is_business_day(b):
        assert cal.add_business_days(a, n) <= cal.add_business_days(b, n)


@settings(deadline=None)
@given(calendars, instants, instants, durations)
def test_add_business_hours_is_monotonic(
    cal: BusinessCalendar, a: datetime, b: datetime, h: timedelta
) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.add_business_hours(a, h) <= cal.add_business_hours(b, h)


@settings(deadline=None)
@given(calendars, instants, durations, st.booleans())
def test_business_time_between_inverts_add_business_hours(
    cal: BusinessCalendar, start: datetime, h: timedelta, backwards: bool
) -> None:
    step = -h if backwards else h
    due = cal.add_business_hours(start, step)
    assert cal.business_time_between(start, due) == step
    assert (due >= start) if not backwards else (due <= start)
    if h:  # a positive amount ends inside (or at the end of) a business window
        edge = due - timedelta(microseconds=1) if not backwards else due
        assert cal.is_business_day(edge)


@settings(deadline=None)
@given(calendars, instants, instants, instants)
def test_business_time_is_additive(
    cal: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    ab = cal.business_time_between(a, b)
    assert ab == -cal.business_time_between(b, a)
    assert ab + cal.business_time_between(b, c) == cal.business_time_between(a, c)
    assert abs(ab) <= abs(b - a)


# ------------------------------------------- fast path == general path (exact)

EQUIV_CALENDARS = [
    BusinessCalendar(
        CalendarConfig(
            subdivision=sub,
            working_days=wd,
            work_start=hours[0],
            work_end=hours[1],
            timezone=tz,
        )
    )
    for sub in (None, "57")
    for wd in ("ouvres", "ouvrables")
    for hours in ((time(0), None), (time(9), time(18)), (time(1), time(3)))
    for tz in ("Europe/Paris", "Asia/Jerusalem")
] + [CAIRO_CLOCK]
EQUIV_HOURS = [24.0, 48.0, 72.0, 1.5, 0.0, -24.0]
START_ZONES = [PARIS, JERUSALEM, CAIRO, UTC]


def _check_equivalent(cal: BusinessCalendar, start: datetime, hours: float) -> None:
    kernel = cal.kernel
    want = kernel.add_us_general(start.astimezone(kernel.tz), hours_us(hours))
    same_datetime(cal.add_business_hours(start, hours), want)
    same_datetime(cal.add_business_hours(start, timedelta(hours=hours)), want)
    same_datetime(cal.add_business_hours_batch([start], hours)[0], want)
    tab = kernel.cover_ord(want.toordinal() - 1, start.astimezone(kernel.tz).toordinal() + 1)
    for instant in (start, want):
        assert kernel.clock(tab, instant) == kernel.clock_general(tab, instant)


@settings(deadline=None)
@given(
    st.sampled_from(EQUIV_CALENDARS),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(START_ZONES),
    st.sampled_from(EQUIV_HOURS),
)
def test_add_business_hours_fast_path_equals_general_path(
    cal: BusinessCalendar, instant: datetime, zone: ZoneInfo, hours: float
) -> None:
    _check_equivalent(cal, instant.astimezone(zone), hours)


@settings(deadline=None)
@given(
    st.sampled_from(EQUIV_CALENDARS),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.booleans(),
    st.sampled_from(EQUIV_HOURS),
)
def test_add_business_hours_fast_path_equals_general_path_wall_clock(
    cal: BusinessCalendar, naive: datetime, fold: bool, hours: float
) -> None:
    """Starts given directly in the calendar's tzinfo, gap and fold times included."""
    _check_equivalent(cal, naive.replace(tzinfo=cal.kernel.tz, fold=int(fold)), hours)


@pytest.mark.parametrize("cal", EQUIV_CALENDARS, ids=repr)
def test_add_business_hours_fast_path_equals_general_path_near_clock_changes(
    cal: BusinessCalendar,
) -> None:
    """Every start near each clock change of 2023-2025, at edge wall-clock times."""
    cal.kernel.cover(2019, 2026)
    tab = cal.kernel.table
    assert tab is not None
    changes = sorted(o for o in tab.odd_days if 2023 <= date.fromordinal(o).year <= 2025)
    assert changes  # both zones change clocks twice a year
    for o in changes:
        _sweep_days(cal, range(o - 2, o + 3), folds=(0, 1))


# Interior wall-clock times first (they fill the memoised shifts), then the window
# edges of every EQUIV_CALENDARS config, which the memo must not answer.
SWEEP_CLOCK = [time(12), time(0, 30), time(1, 59, 59), time(2, 30), time(23, 59, 59, 999_999)]
SWEEP_CLOCK += [time(0), time(1), time(3), time(9), time(18), time(0, 0, 0, 1)]
SWEEP_HOURS = (*EQUIV_HOURS, -48.0, 2.0, -2.0, 9.0, -9.0, 18.0, 23.0, 25.0)


def _sweep_days(cal: BusinessCalendar, ordinals: range, folds: tuple[int, ...] = (0,)) -> None:
    for day in ordinals:
        for t in SWEEP_CLOCK:
            for fold in folds:
                naive = datetime.combine(date.fromordinal(day), t)
                start = naive.replace(tzinfo=cal.kernel.tz, fold=fold)
                for hours in SWEEP_HOURS:
                    _check_equivalent(cal, start, hours)


@pytest.mark.parametrize("cal", EQUIV_CALENDARS, ids=repr)
def test_add_business_hours_fast_path_equals_general_path_over_ordinary_days(
    cal: BusinessCalendar,
) -> None:
    """Weekends, bridges and holidays (Easter to Pentecost, Christmas), memo warm."""
    for first, last in (
        (date(2024, 4, 26), date(2024, 5, 21)),
        (date(2024, 12, 23), date(2025, 1, 2)),
    ):
        _sweep_days(cal, range(first.toordinal(), last.toordinal() + 1))


@pytest.mark.parametrize("cal", [NATIONAL, OUVRABLES, ALSACE], ids=repr)
def test_whole_day_multiples_of_24h_land_on_the_kth_business_day(cal: BusinessCalendar) -> None:
    """The common case: from a business day, k x 24 h is the k-th next business day, same clock."""
    start = paris(2024, 4, 30, 10, 17)  # Tuesday; 1 and 8 May are Wednesdays (holidays)
    for k in range(1, 6):
        due = cal.add_business_hours(start, 24.0 * k)
        assert due == cal.add_business_days(start, k)
        assert due.time() == time(10, 17)
        assert cal.add_business_hours(due, -24.0 * k) == start
    assert cal.kernel.shift_memo  # the memoised shifts were used and stored
    # A start at midnight exhausts the k-th day's window: 24:00 of that day.
    friday = paris(2024, 5, 3)
    assert NATIONAL.add_business_hours(friday, 24.0) == paris(2024, 5, 4)
    assert NATIONAL.add_business_hours(friday, 48.0) == paris(2024, 5, 7)
