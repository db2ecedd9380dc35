"""How late each step of a dossier was, in business time, and who owed it.

The procedure keeps opening and works due dates unchanged « on veut suivre le retard du
prestataire »: lateness is always measured against the due date a step was first set
with, so no reschedule can erase it; where the step was rescheduled, the lateness against
the last agreed due date is given beside it. It runs in business time of the dossier's
calendar, up to when the step was left (or ``at`` for the current step), or up to the
first contact with the insured on a step that such a contact meets (``met_by_contact``).
An appointment (``Deadline.appointment``: a visit, a works date) is an event, not a step
owed by then: the time after a kept appointment is no lateness; moving it later is, from
the original date. A step counts against the contractor only where the catalogue says the
contractor's clock runs (``clock = "contractor"``); waits that are not of the
contractor's doing stop it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from etatmachine.business_calendar import BusinessCalendar, require_aware
from etatmachine.catalogue import Catalogue, StateSpec
from etatmachine.dossier import Dossier
from etatmachine.roles import Role
from etatmachine.trusted import trusted

__all__ = [
    "DossierLateness",
    "GroupStats",
    "LatenessReport",
    "Step",
    "StepFigures",
    "dossier_lateness",
    "group_stats",
    "lateness_report",
    "lateness_report_of",
    "measure_step",
    "step_lateness",
]


class Step(BaseModel):
    """One stay of a dossier in a state: set with a due date, left (or not yet)."""

    model_config = ConfigDict(frozen=True)

    state: str
    owner: Role | None
    contractor_clock: bool
    """Whether this step's lateness is the contractor's (the catalogue's ``clock``)."""
    entered_at: AwareDatetime
    due_at: AwareDatetime | None
    """The due date the step was first set with: the reference no reschedule changes."""
    left_at: AwareDatetime | None
    late: bool
    lateness: timedelta
    """Business time past the original due date (zero when on time)."""
    contractor: str | None = None
    last_due_at: AwareDatetime | None = None
    """The last agreed due date, where the step was rescheduled (else None)."""
    lateness_last_agreed: timedelta = timedelta()
    """Business time past the last agreed due date (equal to ``lateness`` when none)."""
    met_at: AwareDatetime | None = None
    """When a contact with the insured met the step (``met_by_contact`` states)."""

    @property
    def lateness_seconds(self) -> float:
        return self.lateness.total_seconds()


class DossierLateness(BaseModel):
    """Every step of one dossier, measured at ``at``."""

    model_config = ConfigDict(frozen=True)

    dossier_id: str
    at: AwareDatetime
    steps: tuple[Step, ...]

    @property
    def contractor_lateness(self) -> timedelta:
        """Total business time the contractor was late, over the steps they owed."""
        return sum((s.lateness for s in self.steps if s.contractor_clock), timedelta())


def step_lateness(
    calendar: BusinessCalendar, due_at: datetime | None, ended_at: datetime
) -> timedelta:
    """Business time from ``due_at`` to ``ended_at`` when positive, else zero."""
    if due_at is None or ended_at <= due_at:
        return timedelta()
    return max(calendar.business_time_between(due_at, ended_at), timedelta())


def measure_step(
    calendar: BusinessCalendar,
    spec: StateSpec,
    due_at: datetime | None,
    last_due_at: datetime | None,
    ended_at: datetime,
) -> tuple[timedelta, timedelta]:
    """A step's lateness against its original due date and against the last agreed one.

    For an appointment, only moving it later counts, from the original date.
    """
    last = last_due_at if last_due_at is not None else due_at
    if spec.deadline.appointment:
        if due_at is None or last is None or last <= due_at:
            return timedelta(), timedelta()
        return step_lateness(calendar, due_at, last), timedelta()
    original = step_lateness(calendar, due_at, ended_at)
    if last == due_at:
        return original, original
    return original, step_lateness(calendar, last, ended_at)


def dossier_lateness(
    dossier: Dossier, *, catalogue: Catalogue, calendar: BusinessCalendar, at: datetime
) -> DossierLateness:
    """The steps of ``dossier`` with their lateness, the current one measured at ``at``."""
    require_aware(at, "at")
    steps: list[Step] = []
    # the step in progress: state, entered, original due, last agreed due, contact met at
    current: list[Any] | None = None

    def close(left_at: datetime | None) -> None:
        assert current is not None
        state, entered, due, last_due, met_at = current
        spec = catalogue.state(state)
        if spec.terminal:
            return
        end = met_at or (left_at if left_at is not None else at)
        lateness, last_lateness = measure_step(calendar, spec, due, last_due, end)
        steps.append(
            Step(
                state=state,
                owner=spec.owner,
                contractor_clock=spec.clock == "contractor",
                entered_at=entered,
                due_at=due,
                left_at=left_at,
                late=lateness > timedelta(),
                lateness=lateness,
                contractor=dossier.contractor,
                last_due_at=last_due if last_due != due else None,
                lateness_last_agreed=last_lateness,
                met_at=met_at,
            )
        )

    for entry in dossier.history:
        if entry.kind in ("open", "move"):
            if current is not None:
                close(entry.at)
            current = [entry.target, entry.at, entry.due_at, entry.due_at, None]
        elif current is None:
            continue
        elif entry.kind == "reschedule":
            current[3] = entry.due_at
        elif (
            entry.kind == "contact_attempt"
            and entry.data.get("outcome") == "reached"
            and current[4] is None
            and catalogue.state(current[0]).met_by_contact
        ):
            current[4] = entry.at
    if current is not None:
        close(None)
    return DossierLateness(dossier_id=dossier.id, at=at, steps=tuple(steps))


class GroupStats(BaseModel):
    """Lateness of one group of steps (an owner, a contractor)."""

    model_config = ConfigDict(frozen=True)

    steps: int
    late: int
    median_seconds: float
    """Median lateness over the late steps, in business seconds (0 when none was late)."""
    p90_seconds: float
    """90th percentile of lateness over the late steps, in business seconds."""


class LatenessReport(BaseModel):
    """Lateness over many dossiers, by who owed the step and by contractor."""

    model_config = ConfigDict(frozen=True)

    by_owner: dict[str, GroupStats]
    by_contractor: dict[str, GroupStats]
    """Only the steps on the contractor's clock."""


_GROUP_FIELDS = set(GroupStats.model_fields)  # shared: frozen models never change it
_REPORT_FIELDS = set(LatenessReport.model_fields)


def _median(late: list[float]) -> float:
    """The median of sorted values, as ``statistics.median`` computes it."""
    n = len(late)
    half = n // 2
    return late[half] if n % 2 else (late[half - 1] + late[half]) / 2


def _p90(late: list[float]) -> float:
    """The 90th percentile of sorted values, as ``statistics.quantiles(late, n=10,
    method="inclusive")[-1]`` computes it (linear interpolation), without its overhead."""
    if len(late) == 1:
        return late[0]
    j, delta = divmod(9 * (len(late) - 1), 10)
    return (late[j] * (10 - delta) + late[j + 1] * delta) / 10


_OWNER_KEYS: dict[Role | None, str] = {None: "none", **{r: r.value for r in Role}}
"""The statistics' key of each owner (``Role.value`` is a property: read once)."""


def group_stats(steps: int, late: list[float]) -> GroupStats:
    """The figures of a group of ``steps`` steps whose late ones were ``late`` business
    seconds late (sorted, each > 0): the median and 90th percentile of those."""
    if not late:
        return trusted(
            GroupStats,
            {"steps": steps, "late": 0, "median_seconds": 0.0, "p90_seconds": 0.0},
            _GROUP_FIELDS,
        )
    return trusted(
        GroupStats,
        {
            "steps": steps,
            "late": len(late),
            "median_seconds": float(_median(late)),
            "p90_seconds": float(_p90(late)),
        },
        _GROUP_FIELDS,
    )


def _stats(values: list[float]) -> GroupStats:
    return group_stats(len(values), sorted([v for v in values if v > 0]))


def lateness_report(steps: Iterable[Step]) -> LatenessReport:
    """Group steps by owner and (for the contractor's clock) by contractor."""
    return lateness_report_of(
        (s.owner, s.contractor_clock, s.contractor, s.lateness_seconds) for s in steps
    )


StepFigures = tuple[Role | None, bool, str | None, float]
"""What the statistics read of a step: owner, on the contractor's clock, contractor,
lateness in business seconds."""


def lateness_report_of(steps: Iterable[StepFigures]) -> LatenessReport:
    """`lateness_report` from the figures of each step, for callers that hold no `Step`."""
    by_owner: dict[str, list[float]] = {}
    by_contractor: dict[str, list[float]] = {}
    for owner, contractor_clock, contractor, seconds in steps:
        key = _OWNER_KEYS[owner]
        if key in by_owner:
            by_owner[key].append(seconds)
        else:
            by_owner[key] = [seconds]
        if contractor_clock:
            by_contractor.setdefault(contractor or "unknown", []).append(seconds)
    return trusted(  # every value computed here: counts, floats, models just built
        LatenessReport,
        {
            "by_owner": {k: _stats(v) for k, v in sorted(by_owner.items())},
            "by_contractor": {k: _stats(v) for k, v in sorted(by_contractor.items())},
        },
        _REPORT_FIELDS,
    )
