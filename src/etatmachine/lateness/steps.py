"""Each step's lateness: the steps of a dossier, measured in business time.

See `etatmachine.lateness` for what counts. Compiled in the opt-in compiled build, so the
models it builds live in ``models.py``. Instants the calendar's checks would take unchanged
(`CalendarKernel.accepts`) are measured by the calendar's kernel directly; any other goes
through the public `BusinessCalendar` (same result, its checks and errors).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from etatmachine.business_calendar import BusinessCalendar, require_aware
from etatmachine.catalogue import Catalogue, StateSpec
from etatmachine.dossier import Dossier
from etatmachine.lateness.models import DossierLateness, Step

__all__ = ["dossier_lateness", "measure_step", "step_lateness"]

_ZERO: Final = timedelta()


def step_lateness(
    calendar: BusinessCalendar, due_at: datetime | None, ended_at: datetime
) -> timedelta:
    """Business time from ``due_at`` to ``ended_at`` when positive, else zero."""
    if due_at is None or ended_at <= due_at:
        return _ZERO
    kernel = calendar.kernel
    if kernel.accepts(due_at) and kernel.accepts(ended_at):
        late = kernel.business_time_between(due_at, ended_at)
    else:
        late = calendar.business_time_between(due_at, ended_at)
    return late if late > _ZERO else _ZERO


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
            return _ZERO, _ZERO
        return step_lateness(calendar, due_at, last), _ZERO
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
                late=lateness > _ZERO,
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
