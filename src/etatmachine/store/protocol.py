"""The `Store` protocol: what a system of record for dossiers offers, whatever holds them.

Two implementations follow it: `MemoryStore` (one process, tests, small tools) and
`SqlStore` (SQLite embedded or PostgreSQL). The contract, which the shared test suite
checks on every implementation:

- ``get`` returns the stored dossier (`UnknownDossier`, a `KeyError`, for an unknown id);
- every write is a compare-and-set on the version, and the new dossier must *descend*
  from the stored one (its history starts with exactly the stored history): a stale
  write raises `VersionConflict` naming both versions, a diverged one `NotDescendant`;
- ``apply`` writes the dossier, its new trail entries and the effects it owes to the
  outbox in one transaction, all or nothing;
- an idempotency key applies a change once: sent again, the first result comes back
  (``Applied.replayed``) and nothing is written;
- the outbox delivers each effect at least once: ``claim`` leases messages to a relay,
  ``ack`` marks them done; a lease that runs out makes them claimable again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import TypeAdapter

from etatmachine.dossier import Dossier, HistoryEntry
from etatmachine.effects import Effect
from etatmachine.errors import EtatmachineError, VersionConflict
from etatmachine.workflow import Workflow

if TYPE_CHECKING:
    from etatmachine.store.sweep import SweepReport
    from etatmachine.store.worklist import WorkItem

__all__ = [
    "Applied",
    "Candidate",
    "CatalogueMismatch",
    "NotDescendant",
    "OutboxMessage",
    "SchemaVersionError",
    "Store",
    "UnknownDossier",
    "effect_from_payload",
]

_EFFECT: TypeAdapter[Effect] = TypeAdapter(Effect)


def effect_from_payload(payload: Mapping[str, Any]) -> Effect:
    """The effect an outbox message carries, validated back to its model."""
    return _EFFECT.validate_python(payload)


class UnknownDossier(EtatmachineError, KeyError):
    """No dossier with this id in the store."""

    def __init__(self, dossier_id: str) -> None:
        self.dossier_id = dossier_id
        super().__init__(f"dossier {dossier_id}: not in the store")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class NotDescendant(VersionConflict):
    """A write whose history does not extend the stored history exactly.

    It was computed from another (stale or forged) read: storing it would erase what the
    stored trail holds after the point where they diverge. Reload and replay the change.
    """

    def __init__(self, dossier_id: str, expected: int, actual: int, stored_entries: int) -> None:
        super().__init__(dossier_id, expected, actual)
        self.stored_entries = stored_entries
        self.args = (
            f"dossier {dossier_id}: version {expected} written over version {actual} does not "
            f"descend from it (its history does not start with the {stored_entries} stored "
            "entries); reload it and replay the move",
        )

    def __str__(self) -> str:
        return str(self.args[0])


class CatalogueMismatch(EtatmachineError, ValueError):
    """A stored dossier lives under another catalogue version than the workflow's, and the
    workflow's catalogue does not say how that version's states map (or not this one)."""

    def __init__(
        self,
        dossier_id: str,
        stored: tuple[str, str],
        current: tuple[str, str],
        state: str | None = None,
    ) -> None:
        self.dossier_id = dossier_id
        self.stored = stored
        self.current = current
        self.state = state
        what = (
            f"its state {state!r} has no mapping in the catalogue's migrations"
            if state is not None
            else f"catalogue {current[0]} {current[1]} declares no migration from it"
        )
        super().__init__(
            f"dossier {dossier_id}: stored under catalogue {stored[0]} {stored[1]}, loaded "
            f"under {current[0]} {current[1]}: {what}"
        )


class SchemaVersionError(EtatmachineError, RuntimeError):
    """The database holds another version of the store's schema than this library's."""

    def __init__(self, found: str, expected: str, url: str) -> None:
        self.found = found
        self.expected = expected
        self.url = url
        super().__init__(
            f"{url}: store schema version {found}, this etatmachine uses {expected}: "
            "upgrade etatmachine or migrate the database"
        )


@dataclass(frozen=True, slots=True)
class Applied:
    """What a store write returns: the stored dossier and the effects it recorded."""

    dossier: Dossier
    effects: tuple[Effect, ...]
    replayed: bool = False
    """True when the idempotency key had been applied before: this is the first result,
    and nothing was written this time."""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An effect waiting in the outbox (or delivered, with ``done_at``)."""

    id: int
    dedup_key: str
    dossier_id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    """How many times it was claimed (1 on its first delivery)."""
    done_at: datetime | None = None

    @property
    def effect(self) -> Effect:
        return effect_from_payload(self.payload)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open dossier a worklist prefilter selected: its indexed columns, no body."""

    dossier_id: str
    state: str
    owner_role: str | None
    assignee: str | None
    contractor: str | None
    subdivision: str | None
    step_started_at: datetime | None
    due_at: datetime
    step_seq: int
    catalogue_version: str


@runtime_checkable
class Store(Protocol):
    """A system of record for dossiers: current state, append-only trail, outbox."""

    workflow: Workflow

    def get(self, dossier_id: str) -> Dossier:
        """The stored dossier (mapped to the workflow's catalogue version if it declares how)."""
        ...

    def add(
        self,
        dossier: Dossier,
        effects: Iterable[Effect] = (),
        *,
        idempotency_key: str | None = None,
    ) -> Applied:
        """Store a new dossier, its trail and its effects; `VersionConflict` if the id exists."""
        ...

    def add_many(self, dossiers: Iterable[Dossier], *, batch: int = 1000) -> int:
        """Store many new dossiers without effects (an import); returns how many."""
        ...

    def put(self, dossier: Dossier, expected_version: int) -> None:
        """Compare-and-set ``dossier`` over the stored ``expected_version`` (no effects)."""
        ...

    def apply(
        self,
        dossier: Dossier,
        expected_version: int,
        effects: Iterable[Effect] = (),
        *,
        idempotency_key: str | None = None,
    ) -> Applied:
        """Compare-and-set ``dossier`` and record its new trail entries and ``effects`` in
        one transaction; with a key already applied, return the first result instead."""
        ...

    def applied(self, idempotency_key: str) -> Applied | None:
        """The result an idempotency key produced, or None if it was never applied."""
        ...

    def record_effects(self, effects: Iterable[Effect]) -> int:
        """Queue effects that came without a write (a refused late chase's complaint);
        returns how many were new (the others were already queued: same dedup key)."""
        ...

    def trail(self, dossier_id: str) -> tuple[HistoryEntry, ...]:
        """The stored trail of a dossier, in seq order."""
        ...

    def claim(
        self, relay: str, *, limit: int = 100, lease: timedelta = timedelta(minutes=1)
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` undelivered messages to ``relay``, oldest first."""
        ...

    def ack(self, message_ids: Iterable[int]) -> None:
        """Mark delivered messages done: they are never claimed again."""
        ...

    def outbox(self, *, include_done: bool = True) -> list[OutboxMessage]:
        """Every outbox message (for audits and tests), oldest first."""
        ...

    def candidates(
        self,
        *,
        due_before: datetime,
        attention_before: datetime,
        role: str | None = None,
        assignee: str | None = None,
        contractor: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> Sequence[Candidate]:
        """Open dossiers due by ``due_before`` or past their first threshold by
        ``attention_before`` (the worklist's prefilter on indexed instants), ordered by
        ``(due_at, dossier_id)``, from after ``after`` (keyset paging), at most ``limit``."""
        ...

    def due_between(self, after: datetime | None, until: datetime) -> Sequence[Candidate]:
        """Open dossiers whose due date is in ``(after, until]`` (the sweep's window)."""
        ...

    def last_sweep(self) -> datetime | None:
        """The ``at`` of the last recorded sweep."""
        ...

    def record_sweep(self, at: datetime, effects: Sequence[Effect]) -> int:
        """Queue a sweep's effects and move the sweep mark to ``at``, in one transaction;
        returns how many effects were new."""
        ...

    def worklist(
        self,
        *,
        at: datetime,
        role: str | None = None,
        assignee: str | None = None,
        contractor: str | None = None,
        within: timedelta = timedelta(hours=24),
        limit: int | None = None,
    ) -> list[WorkItem]:
        """What a desk must do now, sorted by business lateness."""
        ...

    def sweep(self, at: datetime) -> SweepReport:
        """The breaches since the last sweep; queues the complaints they owe."""
        ...

    def __iter__(self) -> Iterator[Dossier]: ...

    def __len__(self) -> int: ...
