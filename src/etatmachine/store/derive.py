"""What a store derives from a dossier: indexed columns, the step, dedup keys, the trail digest.

Both stores (in memory and SQL) compute the same values here, so a worklist, a sweep or
a descent check means the same thing whatever holds the dossiers. Everything is read
through the dossier and the workflow's catalogue: a field the dossier gains later lands
in the JSON body without a change here.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from etatmachine.dossier import Dossier, HistoryEntry, evolve
from etatmachine.effects import Effect
from etatmachine.roles import Role
from etatmachine.store.protocol import CatalogueMismatch
from etatmachine.workflow import Workflow

__all__ = [
    "ATTENTION_FRACTION",
    "Extract",
    "assignees",
    "chain",
    "complaint_key",
    "effect_key",
    "entry_json",
    "extract",
    "pinned",
    "remember",
    "step_start",
    "utc",
]

ATTENTION_FRACTION = 0.5
"""The first worklist threshold (50 % of the step's deadline): its instant is stored and
indexed, so a worklist prefilters on it in SQL like on the due date."""

_GENESIS = b"etatmachine-trail-v1"


def utc(value: datetime | None) -> datetime | None:
    """An aware instant in UTC (None stays None): what the indexed columns hold."""
    return None if value is None else value.astimezone(UTC)


def step_start(dossier: Dossier) -> tuple[datetime | None, datetime | None, int]:
    """The current step: when it began, the due date it was set with, and its trail seq.

    A step begins at the last history entry of kind ``open`` or ``move``; a reschedule or a
    contact attempt changes the due date or a counter, not the step.
    """
    history = dossier.history
    for seq in range(len(history) - 1, -1, -1):
        entry = history[seq]
        if entry.kind in ("open", "move"):
            return entry.at, entry.due_at, seq
    return None, None, -1


def assignees(dossier: Dossier) -> dict[str, str]:
    """Who holds the file for each role: the last actor of that role in its trail.

    The contractor is the dossier's ``contractor`` when it is set (a sub-assignment names
    the company, not the person who signed).
    """
    out: dict[str, str] = {}
    for entry in dossier.history:
        out[entry.actor.role.value] = entry.actor.id
    if dossier.contractor:
        out[Role.CONTRACTOR.value] = dossier.contractor
    return out


@dataclass(frozen=True, slots=True)
class Extract:
    """The columns a store keeps beside a dossier's JSON body, all instants in UTC."""

    catalogue_name: str
    catalogue_version: str
    state: str
    phase: str
    owner_role: str | None
    assignee: str | None
    """Who holds the file for the role that owes the next step (`assignees`)."""
    assignees: dict[str, str]
    contractor: str | None
    due_at: datetime | None
    step_started_at: datetime | None
    step_due_at: datetime | None
    """The due date the current step was set with (before any reschedule)."""
    step_seq: int
    attention_at: datetime | None
    """When `ATTENTION_FRACTION` of the step's business time has run."""
    terminal: bool
    trail_len: int
    body: str
    """The dossier as JSON, without its history (the trail holds that)."""


def extract(dossier: Dossier, workflow: Workflow) -> Extract:
    """The indexed columns of ``dossier`` under ``workflow``'s catalogue and calendar."""
    spec = workflow.catalogue.state(dossier.state)
    started, step_due, seq = step_start(dossier)
    due = dossier.due_at
    attention: datetime | None = None
    if due is not None and started is not None and not spec.terminal:
        if due <= started:
            attention = due
        else:
            calendar = workflow.calendar(dossier.subdivision)
            span = calendar.business_time_between(started, due)
            attention = calendar.add_business_hours(started, span * ATTENTION_FRACTION)
            attention = min(attention, due)
    holders = assignees(dossier)
    owner = spec.owner.value if spec.owner is not None else None
    return Extract(
        catalogue_name=workflow.catalogue.name,
        catalogue_version=workflow.catalogue.version,
        state=spec.code,
        phase=spec.phase,
        owner_role=owner,
        assignee=holders.get(owner) if owner is not None else None,
        assignees=holders,
        contractor=dossier.contractor,
        due_at=None if spec.terminal else utc(due),
        step_started_at=utc(started),
        step_due_at=utc(step_due),
        step_seq=seq,
        attention_at=utc(attention),
        terminal=spec.terminal,
        trail_len=len(dossier.history),
        body=dossier.model_dump_json(exclude={"history"}),
    )


def entry_json(entry: HistoryEntry) -> str:
    """A trail entry as stored: the JSON `HistoryEntry` validates back to an equal entry."""
    return entry.model_dump_json()


_DIGESTS: dict[int, tuple[HistoryEntry, bytes]] = {}
_DIGESTS_MAX = 200_000


def _entry_digest(entry: HistoryEntry, text: str | None = None) -> bytes:
    """The digest of one entry's JSON, remembered per entry object (entries are immutable;
    the memo holds the entry, so its id is not reused while remembered)."""
    key = id(entry)
    hit = _DIGESTS.get(key)
    if hit is not None and hit[0] is entry:
        return hit[1]
    digest = hashlib.blake2b(
        (text if text is not None else entry_json(entry)).encode(), digest_size=16
    ).digest()
    if len(_DIGESTS) >= _DIGESTS_MAX:
        _DIGESTS.clear()
    _DIGESTS[key] = (entry, digest)
    return digest


def remember(entry: HistoryEntry, text: str) -> None:
    """Record the stored JSON of an entry read back from a trail (saves a dump later)."""
    _entry_digest(entry, text)


_CHAINS: dict[int, tuple[tuple[HistoryEntry, ...], str]] = {}
_CHAINS_MAX = 4096
"""The digests of recent histories, by their last entry (held, so its id is not reused):
moving a dossier that was chained re-checks its entries by identity, not by hashing."""


def chain(history: Sequence[HistoryEntry], upto: int | None = None) -> str:
    """The digest of the first ``upto`` entries (all by default), chained entry by entry.

    Two histories have the same chain digest only if they hold the same entries in the
    same order: a store keeps the digest of its trail, and a write whose history does not
    start with exactly that trail does not descend from the stored dossier.
    """
    n = len(history) if upto is None else upto
    if n == 0:
        return _GENESIS.hex()
    hit = _CHAINS.get(id(history[n - 1]))
    if hit is not None and len(hit[0]) == n and all(map(operator.is_, hit[0], history)):
        return hit[1]  # the same entry objects as a history already chained: its digest
    digest = _GENESIS
    for entry in history[:n]:
        digest = hashlib.blake2b(digest + _entry_digest(entry), digest_size=16).digest()
    if len(_CHAINS) >= _CHAINS_MAX:
        _CHAINS.clear()
    _CHAINS[id(history[n - 1])] = (tuple(history[:n]), digest.hex())
    return digest.hex()


def effect_key(dossier_id: str, seq: int, effect: Effect, index: int) -> str:
    """The dedup key of an effect a move returned: the trail entry that caused it."""
    if effect.kind == "complaint_to_open":
        return complaint_key(dossier_id, effect.overdue_since)
    return f"{dossier_id}/{seq}/{effect.kind}/{index}"


def complaint_key(dossier_id: str, overdue_since: datetime) -> str:
    """One complaint per breached due date, whether a refused chase or a sweep found it."""
    stamp = overdue_since.astimezone(UTC).isoformat()
    return f"{dossier_id}/complaint/{stamp}"


def pinned(dossier: Dossier, name: str, version: str, workflow: Workflow) -> Dossier:
    """``dossier`` as stored under catalogue ``name`` ``version``, loaded under ``workflow``.

    The same catalogue: unchanged. Another version whose migration the workflow's catalogue
    declares: the current state, the step a wait interrupted and the trail's codes mapped
    (the stored trail rows stay as they were written). Otherwise `CatalogueMismatch`.
    """
    catalogue = workflow.catalogue
    if (name, version) == (catalogue.name, catalogue.version):
        return dossier
    current = (catalogue.name, catalogue.version)
    mapping = catalogue.migration(version) if name == catalogue.name else None
    if mapping is None:
        raise CatalogueMismatch(dossier.id, (name, version), current)
    updates: dict[str, Any] = {}
    for field in ("state", "interrupted"):
        code = getattr(dossier, field)
        if code is None:
            continue
        new = mapping.get(code, code)
        if new not in workflow.catalogue:
            raise CatalogueMismatch(dossier.id, (name, version), current, state=code)
        if new != code:
            updates[field] = new
    # the trail in the new catalogue's codes too, so the dossier reads as one of its files
    # (the stored trail rows stay as they were written)
    history = tuple(
        evolve(
            entry,
            {
                "source": None if entry.source is None else mapping.get(entry.source, entry.source),
                "target": mapping.get(entry.target, entry.target),
            },
        )
        if entry.target in mapping or entry.source in mapping
        else entry
        for entry in dossier.history
    )
    if history != dossier.history:
        updates["history"] = history
    return evolve(dossier, updates) if updates else dossier
