"""Bring in a live dossier mid-flow: its current state, its recorded due date, its trail.

A file that already runs elsewhere (a legacy system, a replayed history) enters
etatmachine as it is: `Workflow.open` would judge and compute its due date anew, but the
due date the people at the time were given is the one its lateness is measured against.
`adopt` checks the state against the workflow's catalogue, the instants for a timezone,
and a given trail for consistency (it starts with an opening, each move leaves the state
the previous entry reached, time goes forward, it ends in ``state`` with ``due_at``), and
derives what the workflow tracks from the trail (the step a wait interrupted, the contact
attempts of the current step). It never judges the rules: what happened, happened.

>>> from datetime import datetime
>>> from etatmachine import Actor, Role, Workflow
>>> from etatmachine.business_calendar import PARIS
>>> d = adopt(Workflow.default(), "D-7", "Etude de devis",
...           due_at=datetime(2024, 3, 1, 9, tzinfo=PARIS),
...           at=datetime(2024, 2, 28, 9, tzinfo=PARIS),
...           actor=Actor(role=Role.SYSTEM, id="import"), insurer="maif")
>>> d.state, d.due_at.isoformat(), d.insurer, d.version
('etude_devis', '2024-03-01T09:00:00+01:00', 'MAIF', 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from etatmachine.catalogue import StateKind
from etatmachine.dossier import Actor, Dossier, HistoryEntry
from etatmachine.errors import EtatmachineError, NaiveDatetimeError, UnknownStateError
from etatmachine.workflow import Workflow

__all__ = ["IntakeError", "adopt"]


class IntakeError(EtatmachineError, ValueError):
    """A dossier cannot be adopted as given: names the dossier, the field and the value."""

    def __init__(
        self, dossier_id: str, field: str, value: Any, reason: str, index: int | None = None
    ) -> None:
        self.dossier_id = dossier_id
        self.field = field
        self.value = value
        self.index = index
        self.reason = reason
        where = f"history[{index}].{field}" if index is not None else field
        super().__init__(f"dossier {dossier_id}: cannot adopt: {where}={value!r}: {reason}")


def _aware(dossier_id: str, value: datetime | None, field: str, index: int | None = None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise IntakeError(
            dossier_id, field, value, str(NaiveDatetimeError(value, field)), index
        ) from None


def _check_history(
    workflow: Workflow, dossier_id: str, history: Sequence[HistoryEntry]
) -> tuple[str | None, int]:
    """Check a trail; return the step a wait interrupted and the current contact attempts."""
    catalogue = workflow.catalogue
    interrupted: str | None = None
    attempts = 0
    previous: HistoryEntry | None = None
    for i, entry in enumerate(history):
        if entry.target not in catalogue:
            raise IntakeError(dossier_id, "target", entry.target, "not a state code here", i)
        if i == 0 and entry.kind != "open":
            raise IntakeError(dossier_id, "kind", entry.kind, "a trail starts with 'open'", i)
        if i > 0 and entry.kind == "open":
            raise IntakeError(dossier_id, "kind", entry.kind, "only the first entry opens", i)
        if previous is not None:
            if entry.source != previous.target:
                raise IntakeError(
                    dossier_id,
                    "source",
                    entry.source,
                    f"the previous entry left the file in {previous.target!r}",
                    i,
                )
            if entry.at < previous.at:
                raise IntakeError(
                    dossier_id, "at", entry.at, f"earlier than history[{i - 1}].at", i
                )
            if entry.kind != "move" and entry.target != entry.source:
                raise IntakeError(
                    dossier_id, "target", entry.target, f"a {entry.kind} keeps the state", i
                )
        if entry.kind == "move":
            target = catalogue.state(entry.target)
            assert entry.source is not None
            if target.kind is StateKind.WAIT:
                source = catalogue.state(entry.source)
                if source.kind is StateKind.OPERATIONAL:
                    interrupted = entry.source
            else:
                interrupted, attempts = None, 0
        elif entry.kind == "contact_attempt":  # a contact made starts the count again
            attempts = 0 if entry.data.get("outcome") == "reached" else attempts + 1
        previous = entry
    return interrupted, attempts


def adopt(
    workflow: Workflow,
    dossier_id: str,
    state: str,
    *,
    due_at: datetime | None,
    at: datetime | None = None,
    actor: Actor | None = None,
    history: Sequence[HistoryEntry] = (),
    comment: str | None = None,
    **file_attributes: Any,
) -> Dossier:
    """A dossier in ``state`` (a code or a label) with the due date it was given.

    Without ``history``, its trail is one ``open`` entry at ``at`` by ``actor`` (both
    needed). With one, the trail is kept as given (``at`` only checked: not before its
    last entry) and must end in ``state`` with ``due_at``; the version is one per entry
    after the opening, as the workflow counts. ``file_attributes`` are the dossier's
    other fields (insurer, channel, subdivision, contractor, flags…).
    """
    try:
        spec = workflow.state(state)
    except UnknownStateError as exc:
        raise IntakeError(dossier_id, "state", state, str(exc)) from None
    _aware(dossier_id, due_at, "due_at")
    _aware(dossier_id, at, "at")
    if due_at is None and not spec.terminal:
        raise IntakeError(dossier_id, "due_at", due_at, f"{spec.code!r} runs with a due date")
    if due_at is not None and spec.terminal:
        raise IntakeError(dossier_id, "due_at", due_at, f"{spec.code!r} is a closing state")
    for i, entry in enumerate(history):
        if not isinstance(entry, HistoryEntry):
            raise IntakeError(dossier_id, "entry", entry, "not a HistoryEntry", i)
    if not history:
        if at is None or actor is None:
            raise IntakeError(dossier_id, "history", (), "without a trail, give at and actor")
        history = (
            HistoryEntry(
                kind="open",
                source=None,
                target=spec.code,
                at=at,
                actor=actor,
                comment=comment,
                due_at=due_at,
            ),
        )
    interrupted, attempts = _check_history(workflow, dossier_id, history)
    for name, spell in (("insurer", workflow.insurer_code), ("channel", workflow.channel_code)):
        value = file_attributes.get(name)
        if isinstance(value, str):  # as the catalogue spells it: AZ is ALLIANZ
            file_attributes[name] = spell(value)
    last = history[-1]
    if last.target != spec.code:
        raise IntakeError(
            dossier_id,
            "target",
            last.target,
            f"the trail must end in {spec.code!r}",
            len(history) - 1,
        )
    if last.due_at != due_at:
        raise IntakeError(
            dossier_id,
            "due_at",
            last.due_at,
            f"the trail's last entry must set the due date {due_at!r}",
            len(history) - 1,
        )
    if at is not None and at < last.at:
        raise IntakeError(dossier_id, "at", at, "earlier than the trail's last entry")
    try:
        return Dossier(
            id=dossier_id,
            state=spec.code,
            due_at=due_at,
            version=len(history) - 1,
            contact_attempts=attempts,
            interrupted=interrupted,
            history=tuple(history),
            **file_attributes,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "dossier"
        raise IntakeError(dossier_id, field, err.get("input"), err["msg"]) from None
    except TypeError as exc:  # a keyword Dossier does not take twice (id, state, history…)
        raise IntakeError(dossier_id, "file_attributes", file_attributes, str(exc)) from None
