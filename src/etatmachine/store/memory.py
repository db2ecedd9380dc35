"""The in-memory store: the `Store` contract in one process, under one lock.

Dossiers are values: a move returns a new dossier with ``version + 1``. A service reads a
dossier, moves it, and stores the result only if nobody stored another version meanwhile
and if it *descends* from the stored one (its history starts with exactly the stored
history). The loser of a race gets `VersionConflict` (never a silently lost move): it
reloads the dossier and replays its move on the fresh value (`etatmachine.store.retry`).

>>> from datetime import datetime
>>> from etatmachine import Actor, Role, VersionConflict, Workflow
>>> from etatmachine.business_calendar import PARIS
>>> wf, store = Workflow.default(), MemoryStore()
>>> handler = Actor(role=Role.CASE_HANDLER, id="7")
>>> opened = wf.open("D-9", "etude_devis", actor=handler, mid_flow=True,
...                  at=datetime(2024, 3, 4, 9, tzinfo=PARIS)).dossier
>>> _ = store.add(opened)
>>> read = store.get("D-9")
>>> cancelled = wf.move(read, "dossier_annule", actor=handler,
...                     at=datetime(2024, 3, 4, 10, tzinfo=PARIS)).dossier
>>> store.put(cancelled, expected_version=read.version)
>>> stale = wf.move(read, "devis_demande_info", actor=handler,
...                 at=datetime(2024, 3, 4, 11, tzinfo=PARIS)).dossier
>>> store.put(stale, expected_version=read.version)  # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
etatmachine.errors.VersionConflict: dossier D-9: expected version 0, store has 1; reload it...

The stale read changed twice reaches the stored version number, but not its history:

>>> twice = wf.record_contact_attempt(stale, actor=handler,
...                                   at=datetime(2024, 3, 4, 12, tzinfo=PARIS)).dossier
>>> store.put(twice, expected_version=1)  # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
etatmachine.store.protocol.NotDescendant: dossier D-9: version 1 written over version 1 does not...
>>> store.get("D-9").state
'dossier_annule'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from etatmachine.dossier import Dossier, HistoryEntry
from etatmachine.effects import Effect
from etatmachine.errors import VersionConflict
from etatmachine.store.derive import Extract, effect_key, extract, pinned, utc
from etatmachine.store.protocol import (
    Applied,
    Candidate,
    NotDescendant,
    OutboxMessage,
    UnknownDossier,
)
from etatmachine.store.queries import DeskQueries
from etatmachine.workflow import Workflow

__all__ = ["DossierStore", "MemoryStore"]


@dataclass(slots=True)
class _Lease:
    message: OutboxMessage
    relay: str | None = None
    until: datetime | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryStore(DeskQueries):
    """Dossiers, trail, outbox and idempotency keys in memory; every write under one lock."""

    def __init__(self, workflow: Workflow | None = None) -> None:
        self.workflow = workflow or Workflow.default()
        self._lock = threading.Lock()
        self._dossiers: dict[str, Dossier] = {}
        self._pins: dict[str, tuple[str, str]] = {}
        self._extracts: dict[str, Extract] = {}
        self._keys: dict[str, Applied] = {}
        self._outbox: list[_Lease] = []
        self._dedup: set[str] = set()
        self._sweep: datetime | None = None

    # -- reads ------------------------------------------------------------------------

    def get(self, dossier_id: str) -> Dossier:
        """The stored dossier (`UnknownDossier`, a `KeyError`, for an unknown id)."""
        dossier = self._dossiers.get(dossier_id)
        if dossier is None:
            raise UnknownDossier(dossier_id)
        name, version = self._pins[dossier_id]
        return pinned(dossier, name, version, self.workflow)

    def trail(self, dossier_id: str) -> tuple[HistoryEntry, ...]:
        dossier = self._dossiers.get(dossier_id)
        if dossier is None:
            raise UnknownDossier(dossier_id)
        return dossier.history

    def applied(self, idempotency_key: str) -> Applied | None:
        hit = self._keys.get(idempotency_key)
        return None if hit is None else replace(hit, replayed=True)

    def __len__(self) -> int:
        return len(self._dossiers)

    def __iter__(self) -> Iterator[Dossier]:
        with self._lock:
            ids = list(self._dossiers)
        return (self.get(i) for i in ids)

    # -- writes -----------------------------------------------------------------------

    def add(
        self,
        dossier: Dossier,
        effects: Iterable[Effect] = (),
        *,
        idempotency_key: str | None = None,
    ) -> Applied:
        """Store a new dossier with its effects; `VersionConflict` if the id is taken."""
        effects = tuple(effects)
        columns = extract(dossier, self.workflow)
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._keys:
                return replace(self._keys[idempotency_key], replayed=True)
            current = self._dossiers.get(dossier.id)
            if current is not None:
                raise VersionConflict(dossier.id, -1, current.version)
            return self._write(dossier, columns, effects, idempotency_key)

    def add_many(self, dossiers: Iterable[Dossier], *, batch: int = 1000) -> int:
        """Store many new dossiers (an import); returns how many. `VersionConflict` if an
        id is already stored (the ones before it stay)."""
        count = 0
        for dossier in dossiers:
            self.add(dossier)
            count += 1
        return count

    def put(self, dossier: Dossier, expected_version: int) -> None:
        """Store ``dossier`` if the stored one still has ``expected_version`` and
        ``dossier`` descends from it; `VersionConflict` / `NotDescendant` otherwise."""
        self.apply(dossier, expected_version)

    def apply(
        self,
        dossier: Dossier,
        expected_version: int,
        effects: Iterable[Effect] = (),
        *,
        idempotency_key: str | None = None,
    ) -> Applied:
        effects = tuple(effects)
        columns = extract(dossier, self.workflow)
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._keys:
                return replace(self._keys[idempotency_key], replayed=True)
            current = self._dossiers.get(dossier.id)
            actual = -1 if current is None else current.version
            if current is None or actual != expected_version or dossier.version <= actual:
                raise VersionConflict(dossier.id, expected_version, actual)
            stored = current.history
            if dossier.history[: len(stored)] != stored or len(dossier.history) < len(stored):
                raise NotDescendant(dossier.id, expected_version, actual, len(stored))
            return self._write(dossier, columns, effects, idempotency_key)

    def _write(
        self,
        dossier: Dossier,
        columns: Extract,
        effects: tuple[Effect, ...],
        key: str | None,
    ) -> Applied:
        self._dossiers[dossier.id] = dossier
        self._pins[dossier.id] = (columns.catalogue_name, columns.catalogue_version)
        self._extracts[dossier.id] = columns
        seq = len(dossier.history) - 1
        for index, effect in enumerate(effects):
            self._queue(effect_key(dossier.id, seq, effect, index), effect)
        result = Applied(dossier, effects)
        if key is not None:
            self._keys[key] = result
        return result

    def _queue(self, dedup_key: str, effect: Effect) -> bool:
        if dedup_key in self._dedup:
            return False
        self._dedup.add(dedup_key)
        message = OutboxMessage(
            id=len(self._outbox) + 1,
            dedup_key=dedup_key,
            dossier_id=effect.dossier_id,
            kind=effect.kind,
            payload=effect.model_dump(mode="json"),
            created_at=_now(),
            attempts=0,
        )
        self._outbox.append(_Lease(message))
        return True

    def record_effects(self, effects: Iterable[Effect]) -> int:
        with self._lock:
            return sum(
                self._queue(effect_key(e.dossier_id, -1, e, i), e) for i, e in enumerate(effects)
            )

    # -- outbox -----------------------------------------------------------------------

    def claim(
        self, relay: str, *, limit: int = 100, lease: timedelta = timedelta(minutes=1)
    ) -> list[OutboxMessage]:
        now = _now()
        out: list[OutboxMessage] = []
        with self._lock:
            for item in self._outbox:
                if len(out) >= limit:
                    break
                m = item.message
                if m.done_at is not None or (item.until is not None and item.until > now):
                    continue
                item.message = replace(m, attempts=m.attempts + 1)
                item.relay, item.until = relay, now + lease
                out.append(item.message)
        return out

    def ack(self, message_ids: Iterable[int]) -> None:
        now = _now()
        with self._lock:
            for i in message_ids:
                item = self._outbox[i - 1]
                if item.message.done_at is None:
                    item.message = replace(item.message, done_at=now)

    def outbox(self, *, include_done: bool = True) -> list[OutboxMessage]:
        with self._lock:
            return [i.message for i in self._outbox if include_done or i.message.done_at is None]

    # -- worklists and sweeps ---------------------------------------------------------

    def _candidates(self, keep: Callable[[Extract], bool]) -> list[Candidate]:
        with self._lock:
            rows = [(d, self._extracts[i]) for i, d in self._dossiers.items()]
        out = []
        for dossier, c in rows:
            if c.due_at is None or not keep(c):
                continue
            out.append(
                Candidate(
                    dossier_id=dossier.id,
                    state=c.state,
                    owner_role=c.owner_role,
                    assignee=c.assignee,
                    contractor=c.contractor,
                    subdivision=dossier.subdivision,
                    step_started_at=c.step_started_at,
                    due_at=c.due_at,
                    step_seq=c.step_seq,
                    catalogue_version=c.catalogue_version,
                )
            )
        out.sort(key=lambda c: (c.due_at, c.dossier_id))
        return out

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
        due_before, attention_before = due_before.astimezone(UTC), attention_before.astimezone(UTC)

        def keep(c: Extract) -> bool:
            assert c.due_at is not None
            if role is not None and c.owner_role != role:
                return False
            if assignee is not None and c.assignee != assignee:
                return False
            if contractor is not None and c.contractor != contractor:
                return False
            return c.due_at <= due_before or (
                c.attention_at is not None and c.attention_at <= attention_before
            )

        found = self._candidates(keep)
        if after is not None:
            mark = (after[0].astimezone(UTC), after[1])
            found = [c for c in found if (c.due_at, c.dossier_id) > mark]
        return found if limit is None else found[:limit]

    def due_between(self, after: datetime | None, until: datetime) -> Sequence[Candidate]:
        lo, hi = utc(after), until.astimezone(UTC)

        def keep(c: Extract) -> bool:
            assert c.due_at is not None
            return (lo is None or c.due_at > lo) and c.due_at <= hi

        return self._candidates(keep)

    def last_sweep(self) -> datetime | None:
        return self._sweep

    def record_sweep(self, at: datetime, effects: Sequence[Effect]) -> int:
        with self._lock:
            new = sum(
                self._queue(effect_key(e.dossier_id, -1, e, i), e) for i, e in enumerate(effects)
            )
            mark = utc(at)
            if self._sweep is None or (mark is not None and mark > self._sweep):
                self._sweep = mark
            return new


DossierStore = MemoryStore
"""The name this store had before the `Store` protocol: kept, it is public."""
