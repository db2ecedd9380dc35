"""What each desk must do now: overdue files, files due soon, steps past 50 % / 75 %.

The store prefilters in SQL on indexed UTC instants: the due date, and the instant 50 %
of the step's business time has run (``attention_at``, computed on the dossier's business
calendar when it was written). The business-time arithmetic then runs on the candidates
only, on the calendar of each dossier's subdivision:

- ``overdue``: the due date has passed (100 % of the step's deadline);
- ``due_soon``: due within ``within`` business hours;
- ``75%`` / ``50%``: that share of the step's business time (from the step's start to its
  due date) has run.

Items come sorted by business lateness: the latest first, then the least time left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from etatmachine.business_calendar import require_aware
from etatmachine.store.derive import ATTENTION_FRACTION
from etatmachine.store.protocol import Candidate, CatalogueMismatch

if TYPE_CHECKING:
    from etatmachine.store.protocol import Store
    from etatmachine.workflow import Workflow

__all__ = ["HORIZON_SLACK", "Urgency", "WorkItem", "state_of", "worklist"]

HORIZON_SLACK = timedelta(days=4)
"""Added to the national calendar's horizon in the SQL prefilter: a subdivision's extra
holidays (Alsace-Moselle, overseas) push its horizon later, never by more than this."""

_ALERT = 0.75


class Urgency(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    ALERT = "75%"
    ATTENTION = "50%"


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One file a desk must look at, and how urgent it is in business time."""

    dossier_id: str
    state: str
    label: str
    owner_role: str | None
    assignee: str | None
    contractor: str | None
    due_at: datetime
    urgency: Urgency
    elapsed: float
    """The share of the step's business time that has run (1.0 at the due date)."""
    lateness: timedelta
    """Business time past the due date; negative: business time left."""


def state_of(candidate: Candidate, workflow: Workflow) -> str:
    """The candidate's state under the workflow's catalogue (mapped if pinned elsewhere)."""
    catalogue = workflow.catalogue
    if candidate.catalogue_version == catalogue.version:
        return candidate.state
    mapping = catalogue.migration(candidate.catalogue_version)
    stored = (catalogue.name, candidate.catalogue_version)
    current = (catalogue.name, catalogue.version)
    if mapping is None:
        raise CatalogueMismatch(candidate.dossier_id, stored, current)
    code = mapping.get(candidate.state, candidate.state)
    if code not in catalogue:
        raise CatalogueMismatch(candidate.dossier_id, stored, current, state=candidate.state)
    return code


def worklist(
    store: Store,
    *,
    at: datetime,
    role: str | None = None,
    assignee: str | None = None,
    contractor: str | None = None,
    within: timedelta = timedelta(hours=24),
    limit: int | None = None,
) -> list[WorkItem]:
    """The open files of a desk (owner role, assignee, contractor) that need action at ``at``."""
    require_aware(at, "at")
    wf = store.workflow
    horizon = wf.calendar(None).add_business_hours(at, within) + HORIZON_SLACK
    found = store.candidates(
        due_before=horizon,
        attention_before=at,
        role=role,
        assignee=assignee,
        contractor=contractor,
    )
    at = at.astimezone(UTC)
    zero = timedelta()
    items: list[WorkItem] = []
    for c in found:
        cal = wf.calendar(c.subdivision)
        due = c.due_at
        if due <= at:
            lateness = cal.business_time_between(due, at)
            urgency = Urgency.OVERDUE
            elapsed = 1.0
        else:
            left = cal.business_time_between(at, due)
            lateness = -left
            start = c.step_started_at
            span = cal.business_time_between(start, due) if start is not None else zero
            elapsed = 1.0 if span <= zero else 1.0 - left / span
            if left <= within:
                urgency = Urgency.DUE_SOON
            elif elapsed >= _ALERT:
                urgency = Urgency.ALERT
            elif elapsed >= ATTENTION_FRACTION:
                urgency = Urgency.ATTENTION
            else:
                continue
        code = state_of(c, wf)
        items.append(
            WorkItem(
                dossier_id=c.dossier_id,
                state=code,
                label=wf.catalogue.state(code).label,
                owner_role=c.owner_role,
                assignee=c.assignee,
                contractor=c.contractor,
                due_at=due,
                urgency=urgency,
                elapsed=elapsed,
                lateness=lateness,
            )
        )
    items.sort(key=lambda i: (-i.lateness, i.due_at, i.dossier_id))
    return items if limit is None else items[:limit]
