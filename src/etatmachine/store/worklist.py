"""What each desk must do now: overdue files, files due soon, steps past 50 % / 75 %.

The store prefilters in SQL on indexed UTC instants: the due date, and the instant 50 %
of the step's business time has run (``attention_at``, computed on the dossier's business
calendar when it was written). The business-time arithmetic then runs on the candidates
only, on the calendar of each dossier's subdivision:

- ``overdue``: the due date has passed (100 % of the step's deadline);
- ``due_soon``: due within ``within`` business hours;
- ``75%`` / ``50%``: that share of the step's business time (from the step's start to its
  due date) has run.

Items come sorted by business lateness: the latest first, then the least time left. With
a ``limit``, candidates are read by pages in due-date order and the reading stops once the
page is full and the next due dates are `PAGE_EXTRA_HOLIDAYS` business days past the last
item's: within one calendar due-date order is lateness order, so a desk's first page costs
the page, not the desk's whole backlog.
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

__all__ = ["HORIZON_SLACK", "PAGE_EXTRA_HOLIDAYS", "Urgency", "WorkItem", "state_of", "worklist"]

HORIZON_SLACK = timedelta(days=4)
"""Added to the national calendar's horizon in the SQL prefilter: a subdivision's extra
holidays (Alsace-Moselle, overseas) push its horizon later, never by more than this."""

_ALERT = 0.75
_ZERO = timedelta()
PAGE_EXTRA_HOLIDAYS = 2
"""With a ``limit``, the reading goes on this many business days (24 business hours each)
past the last item's due date: an item of a subdivision with at most this many extra
holidays in between cannot rank before it."""
PAGE_MIN = 256
"""The fewest candidates a page of a limited worklist reads at once."""
_PAGE_MARGIN = timedelta(hours=24 * PAGE_EXTRA_HOLIDAYS)


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
    national = wf.calendar(None)
    horizon = national.add_business_hours(at, within) + HORIZON_SLACK
    at = at.astimezone(UTC)
    page = None if limit is None else max(2 * limit, PAGE_MIN)
    after: tuple[datetime, str] | None = None
    cutoff: datetime | None = None
    items: list[WorkItem] = []
    local: set[str] = set()  # items on a subdivision's calendar
    plain = wf.calendar_config.subdivision is None  # None: the national calendar
    while True:
        found = store.candidates(
            due_before=horizon,
            attention_before=at,
            role=role,
            assignee=assignee,
            contractor=contractor,
            after=after,
            limit=page,
        )
        for c in found:
            if cutoff is not None and c.due_at > cutoff:
                break
            item = _judge(c, wf, at, within)
            if item is None:
                continue
            items.append(item)
            if c.subdivision is not None:
                local.add(c.dossier_id)
            if limit is not None and cutoff is None and len(items) >= limit:
                # candidates come by due date: within one calendar, that is business
                # lateness order; across calendars a later due date ranks before only
                # by a subdivision's extra holidays. Overdue files on the national
                # calendar (the fewest holidays) rank before every later due date.
                items.sort(key=_rank)
                top = items[:limit]
                last = top[-1]
                exact = plain and last.lateness > _ZERO
                if exact and not any(i.dossier_id in local for i in top):
                    cutoff = last.due_at
                else:
                    cutoff = national.add_business_hours(last.due_at, _PAGE_MARGIN)
        else:
            if page is not None and len(found) == page:
                after = (found[-1].due_at, found[-1].dossier_id)
                continue
        break
    items.sort(key=_rank)
    return items if limit is None else items[:limit]


def _rank(item: WorkItem) -> tuple[timedelta, datetime, str]:
    return (-item.lateness, item.due_at, item.dossier_id)


def _judge(c: Candidate, wf: Workflow, at: datetime, within: timedelta) -> WorkItem | None:
    """The candidate's urgency at ``at`` on its calendar, or None if it needs nothing yet."""
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
        span = cal.business_time_between(start, due) if start is not None else _ZERO
        elapsed = 1.0 if span <= _ZERO else 1.0 - left / span
        if left <= within:
            urgency = Urgency.DUE_SOON
        elif elapsed >= _ALERT:
            urgency = Urgency.ALERT
        elif elapsed >= ATTENTION_FRACTION:
            urgency = Urgency.ATTENTION
        else:
            return None
    code = state_of(c, wf)
    return WorkItem(
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
