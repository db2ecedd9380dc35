"""The sweep: the deadlines breached since the last sweep, and the effects they owe.

A step whose due date passed in ``(last sweep, at]`` is a breach. Where the procedure
turns a late step into a complaint (« si le délai a été dépassé, nous activons une
réclamation »: the states with a chase move that a passed deadline refuses), the breach
owes a `ComplaintToOpen`. The sweep queues those in the outbox and moves its mark to
``at`` in one transaction. Idempotent: a complaint's dedup key is the dossier and the
breached due date, the same key a refused late chase uses, so a breach is complained
about once whoever finds it first, however often the sweep runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from etatmachine.business_calendar import require_aware
from etatmachine.effects import ComplaintToOpen
from etatmachine.store.worklist import state_of

if TYPE_CHECKING:
    from etatmachine.store.protocol import Store
    from etatmachine.workflow import Workflow

__all__ = ["Breach", "SweepReport", "owes_complaint", "sweep"]


@dataclass(frozen=True, slots=True)
class Breach:
    """A step whose due date passed while the file was in it."""

    dossier_id: str
    state: str
    owner_role: str | None
    assignee: str | None
    contractor: str | None
    due_at: datetime
    complaint: bool
    """Whether the breach owes a complaint (see `owes_complaint`)."""


@dataclass(frozen=True, slots=True)
class SweepReport:
    since: datetime | None
    """The previous sweep's mark (None: the first sweep looks at every past due date)."""
    at: datetime
    breaches: tuple[Breach, ...]
    effects: tuple[ComplaintToOpen, ...]
    recorded: int
    """How many of the effects were new in the outbox (0 when run again)."""


def owes_complaint(workflow: Workflow, state: str) -> bool:
    """Whether a breach in ``state`` owes a complaint: one of its explicit moves is a chase
    that a passed deadline refuses with a complaint (``deadline_passed``, complaint on)."""
    catalogue = workflow.catalogue
    for target in catalogue.moves_from(state):
        rule = catalogue.state(target).rule("deadline_passed")
        if rule is not None and rule.complaint:
            return True
    return False


def sweep(store: Store, at: datetime) -> SweepReport:
    """Find the breaches since the last sweep and queue the complaints they owe."""
    require_aware(at, "at")
    wf = store.workflow
    since = store.last_sweep()
    breaches: list[Breach] = []
    effects: list[ComplaintToOpen] = []
    if since is None or since < at:
        for c in store.due_between(since, at):
            code = state_of(c, wf)
            owes = owes_complaint(wf, code)
            breaches.append(
                Breach(c.dossier_id, code, c.owner_role, c.assignee, c.contractor, c.due_at, owes)
            )
            if owes:
                effects.append(
                    ComplaintToOpen(
                        dossier_id=c.dossier_id,
                        state=code,
                        at=at,
                        overdue_since=c.due_at,
                        reason=f"the due date of '{code}' passed ({c.due_at.isoformat()}): "
                        "open a complaint (réclamation)",
                    )
                )
    recorded = store.record_sweep(at, effects)
    return SweepReport(since, at, tuple(breaches), tuple(effects), recorded)
