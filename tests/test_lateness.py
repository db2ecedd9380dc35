"""Due dates set by moves, and lateness in business time, at weekends, holidays and DST."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etatmachine import Actor, Role, Workflow
from etatmachine.business_calendar import PARIS, BusinessCalendar, CalendarConfig
from etatmachine.catalogue import Deadline, DeadlineKind, default_catalogue
from etatmachine.deadlines import compute_due, compute_due_batch, compute_due_pairs, week_due
from etatmachine.lateness import Step, lateness_report
from etatmachine.lateness.stats import _median, _p90

WF = Workflow.default()
CONTRACTOR = Actor(role=Role.CONTRACTOR, id="995")
SURVEYOR = Actor(role=Role.SURVEYOR, id="pt")
HANDLER = Actor(role=Role.CASE_HANDLER, id="gr")
CAL = BusinessCalendar()


def paris(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("opened", "due"),
    [
        (paris(2023, 1, 20, 15, 4), paris(2023, 1, 23, 15, 4)),  # Friday -> Monday
        (paris(2023, 1, 21, 10, 0), paris(2023, 1, 24, 0, 0)),  # Saturday: counts from Monday
        (paris(2023, 5, 17, 11, 0), paris(2023, 5, 19, 11, 0)),  # eve of Ascension skips it
        (paris(2023, 7, 13, 9, 0), paris(2023, 7, 17, 9, 0)),  # 14 July, then the weekend
        (paris(2023, 10, 27, 20, 0), paris(2023, 10, 30, 20, 0)),  # across the October change
        (paris(2024, 3, 29, 18, 0), paris(2024, 4, 2, 18, 0)),  # Good Friday is worked; Easter
    ],
)
def test_24h_opening_deadline_in_business_hours(opened: datetime, due: datetime) -> None:
    d = WF.open("D", actor=CONTRACTOR, at=opened).dossier
    assert d.due_at == due


def test_alsace_moselle_dossier_skips_good_friday_and_st_stephen() -> None:
    thursday = paris(2023, 4, 6, 10)
    national = WF.open("D", actor=CONTRACTOR, at=thursday).dossier
    moselle = WF.open("D", actor=CONTRACTOR, at=thursday, subdivision="57").dossier
    assert national.due_at == paris(2023, 4, 7, 10)
    assert moselle.due_at == paris(2023, 4, 11, 10)  # Good Friday, weekend, Easter Monday
    christmas_eve = paris(2024, 12, 24, 12)
    assert WF.open("D", actor=CONTRACTOR, at=christmas_eve).dossier.due_at == paris(
        2024, 12, 26, 12
    )
    assert WF.open(
        "D", actor=CONTRACTOR, at=christmas_eve, subdivision="alsace-moselle"
    ).dossier.due_at == paris(2024, 12, 27, 12)


def test_five_business_days_and_fifteen_calendar_days_rolled() -> None:
    d = WF.open(
        "D", "rapport_attente_traitement", actor=HANDLER, at=paris(2023, 5, 5, 14), mid_flow=True
    ).dossier
    assert d.due_at == paris(2023, 5, 15, 14)  # 8 May is a holiday
    d = WF.open(
        "D", "contact_client_travaux_15j", actor=HANDLER, at=paris(2023, 4, 16, 10), mid_flow=True
    ).dossier
    assert d.due_at == paris(2023, 5, 2, 10)  # 1 May (15 days later) is a holiday: rolled


def test_due_dates_are_aware_and_exact_across_the_march_gap() -> None:
    # 24 business hours set on Friday 29 March 2024 02:30 land on Tuesday (Easter Monday off)
    due = compute_due(
        Deadline(kind=DeadlineKind.BUSINESS_HOURS, amount=24), paris(2024, 3, 29, 2, 30), CAL
    )
    assert due == paris(2024, 4, 2, 2, 30)
    assert due is not None and due.utcoffset() == timedelta(hours=2)


def test_week_due_is_the_last_business_day_of_the_week() -> None:
    assert week_due(CAL, paris(2023, 3, 21), None, 14) == paris(2023, 4, 7)
    # week 19 of 2023: Monday 8 May is a holiday, Friday 12 May is not
    assert week_due(CAL, paris(2023, 3, 21), None, 19) == paris(2023, 5, 12)
    # week 52 of 2025: 25 and 26 Dec off in Moselle only on the 26th; Friday 26 Dec skipped
    moselle = BusinessCalendar(CalendarConfig(subdivision="57"))
    assert week_due(moselle, paris(2025, 12, 1), None, 52) == paris(2025, 12, 24)
    # a week already past means next year's
    assert week_due(CAL, paris(2023, 12, 1), None, 2) == paris(2024, 1, 12)


def test_batch_matches_one_by_one() -> None:
    starts = [paris(2023, 1, 1) + timedelta(hours=7 * i) for i in range(500)]
    for deadline in (
        Deadline(kind=DeadlineKind.BUSINESS_DAYS, amount=5),
        Deadline(kind=DeadlineKind.BUSINESS_HOURS, amount=48),
        Deadline(kind=DeadlineKind.CALENDAR_DAYS, amount=15),
    ):
        assert compute_due_batch(deadline, starts, CAL) == [
            compute_due(deadline, s, CAL) for s in starts
        ]


def test_pairs_keep_their_order_across_deadlines() -> None:
    kinds = [
        default_catalogue().state(c).deadline
        for c in (
            "contact_client_devis",
            "rapport_attente_traitement",
            "contact_client_travaux_15j",
            "attente_cie",
        )
    ]
    pairs = [(paris(2023, 1, 2) + timedelta(hours=13 * i), kinds[i % 4]) for i in range(200)]
    assert compute_due_pairs(pairs, CAL) == [compute_due(d, s, CAL) for s, d in pairs]
    assert compute_due_pairs([], CAL) == []


# --- lateness -----------------------------------------------------------------------------


def test_lateness_of_each_step_in_business_time() -> None:
    d = WF.open("D", actor=CONTRACTOR, at=paris(2023, 3, 3, 15, 4), contractor="NYCO").dossier
    assert d.due_at == paris(2023, 3, 6, 15, 4)
    # the contractor books the visit on Tuesday 11:04: 20 business hours late
    d = WF.move(
        d,
        "premiere_visite",
        actor=CONTRACTOR,
        at=paris(2023, 3, 7, 11, 4),
        data={"appointment_at": paris(2023, 3, 9, 9)},
    ).dossier
    report = WF.lateness(d, at=paris(2023, 3, 8))
    first, current = report.steps
    assert (first.state, first.late, first.lateness) == (
        "contact_client_devis",
        True,
        timedelta(hours=20),
    )
    assert first.contractor_clock and first.owner is Role.CONTRACTOR
    assert (current.state, current.late, current.left_at) == ("premiere_visite", False, None)
    assert report.contractor_lateness == timedelta(hours=20)


def test_lateness_skips_weekends_and_holidays_and_dst() -> None:
    d = WF.open("D", actor=CONTRACTOR, at=paris(2023, 10, 26, 20)).dossier
    assert d.due_at == paris(2023, 10, 27, 20)
    # left on Monday 30 Oct 20:00, after the clocks went back on Sunday: 24 business hours
    report = WF.lateness(d, at=paris(2023, 10, 30, 20))
    assert report.steps[0].lateness == timedelta(hours=24)
    # over 1 November (a holiday): Thursday 2 Nov 20:00 is 4 + 24 + 24 + 20 business hours late
    assert WF.lateness(d, at=paris(2023, 11, 2, 20)).steps[0].lateness == timedelta(hours=72)


def test_waits_not_of_the_contractors_doing_stop_the_clock() -> None:
    d = WF.open("D", actor=CONTRACTOR, at=paris(2023, 3, 1, 9), contractor="X").dossier
    d = WF.move(
        d,
        "attente_sechage",
        actor=CONTRACTOR,
        at=paris(2023, 3, 1, 10),
        comment="TH 80",
        data={"humidity": 80},
        due=paris(2023, 3, 2, 10),
    ).dossier
    report = WF.lateness(d, at=paris(2023, 3, 10, 10))
    drying = report.steps[-1]
    assert drying.late and not drying.contractor_clock
    assert report.contractor_lateness == timedelta()


def test_a_reschedule_never_erases_lateness_against_the_original_due_date() -> None:
    """Lateness is measured against the due date first set for the step; the last agreed
    one is given beside it."""
    d = WF.open(
        "D",
        "attente_cie",
        actor=HANDLER,
        at=paris(2023, 3, 1),
        comment="cie",
        due=paris(2023, 3, 2),
        mid_flow=True,
    ).dossier
    d = WF.reschedule(d, paris(2023, 3, 10), actor=HANDLER, at=paris(2023, 3, 6)).dossier
    (step,) = WF.lateness(d, at=paris(2023, 3, 9)).steps
    assert step.late and step.due_at == paris(2023, 3, 2)
    assert step.lateness == timedelta(days=5)  # Thu 2 -> Thu 9: five business days
    assert step.last_due_at == paris(2023, 3, 10)
    assert step.lateness_last_agreed == timedelta()


def test_closed_files_have_no_current_step() -> None:
    d = WF.open(
        "D",
        "travaux_en_cours",
        actor=CONTRACTOR,
        at=paris(2023, 3, 1),
        due=paris(2023, 3, 3),
        mid_flow=True,
    ).dossier
    d = WF.move(d, "travaux_termines", actor=CONTRACTOR, at=paris(2023, 3, 6, 9)).dossier
    steps = WF.lateness(d, at=paris(2024, 1, 1)).steps
    assert [s.state for s in steps] == ["travaux_en_cours"]
    assert steps[0].lateness == timedelta(hours=24)  # Friday 09:00 -> Monday 09:00


def test_report_groups_by_owner_and_contractor_with_median_and_p90() -> None:
    def step(owner: Role, hours: float, contractor: str | None = "A") -> Step:
        when = paris(2023, 3, 1)
        return Step(
            state="s",
            owner=owner,
            contractor_clock=owner is Role.CONTRACTOR,
            entered_at=when,
            due_at=when,
            left_at=when,
            late=hours > 0,
            lateness=timedelta(hours=hours),
            contractor=contractor,
        )

    steps = [step(Role.CONTRACTOR, h) for h in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)]
    steps += [step(Role.SURVEYOR, 0), step(Role.CONTRACTOR, 30, "B")]
    report = lateness_report(steps)
    a = report.by_contractor["A"]
    assert (a.steps, a.late, a.median_seconds) == (11, 10, 5.5 * 3600)
    assert a.p90_seconds == pytest.approx(9.1 * 3600)
    assert report.by_contractor["B"].p90_seconds == 30 * 3600
    assert report.by_owner["surveyor"].late == 0
    assert report.by_owner["contractor"].steps == 12


@given(st.lists(st.floats(1, 1e7, allow_nan=False), min_size=1, max_size=50))
def test_p90_is_the_inclusive_decile_of_the_statistics_module(values: list[float]) -> None:
    late = sorted(values)
    expected = (
        late[0] if len(late) == 1 else statistics.quantiles(late, n=10, method="inclusive")[-1]
    )
    assert _p90(late) == pytest.approx(expected, rel=1e-12)


def test_every_clock_choice_is_documented() -> None:
    for s in default_catalogue():
        if s.clock == "stopped" or (s.kind.value == "wait" and s.clock == "contractor"):
            assert s.clock_why, s.code


def test_naive_instant_is_refused() -> None:
    d = WF.open("D", actor=CONTRACTOR, at=paris(2023, 3, 1)).dossier
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        WF.lateness(d, at=datetime(2023, 3, 2))
    assert not WF.lateness(d, at=datetime(2023, 3, 2, 8, tzinfo=UTC)).steps[0].late  # 09:00
    assert WF.lateness(d, at=datetime(2023, 3, 2, 8, 1, tzinfo=UTC)).steps[0].late


@given(st.lists(st.floats(1, 1e7, allow_nan=False), min_size=1, max_size=50))
def test_median_is_the_statistics_modules(values: list[float]) -> None:
    late = sorted(values)
    assert _median(late) == statistics.median(late)
