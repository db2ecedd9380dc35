"""A contended workload for the store's concurrency tests: threads or processes moving the
same few dossiers. Every change is signed by an actor id unique to the request, so the
final trails tell which requests were applied, and how often."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from etatmachine import Actor, Dossier, Role, VersionConflict
from etatmachine.store import Applied, Store, open_store, retry
from etatmachine.store.derive import effect_key
from etatmachine.workflow import Moved

NEXT = {
    "etude_devis": "demande_traitement_devis",  # relaunches the surveyor: an effect
    "demande_traitement_devis": "devis_demande_info",
    "devis_demande_info": "etude_devis",
}


@dataclass
class Tally:
    """What one worker saw: the requests applied, the effects they owe, the conflicts."""

    applied: list[tuple[str, str, int]] = field(default_factory=list)
    """(dossier id, actor id, version written) of every request applied (not replayed)."""
    effect_keys: list[str] = field(default_factory=list)
    stale: int = 0
    bad_conflicts: list[str] = field(default_factory=list)
    replays: int = 0
    bad_replays: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        self.applied += other.applied
        self.effect_keys += other.effect_keys
        self.stale += other.stale
        self.bad_conflicts += other.bad_conflicts
        self.replays += other.replays
        self.bad_replays += other.bad_replays


def _when(d: Dossier) -> datetime:
    now = datetime.now(UTC)
    last = d.last_at
    return max(now, last) if last is not None else now


def _step(store: Store, d: Dossier, actor: Actor, when: datetime) -> Moved:
    return store.workflow.move(d, NEXT[d.state], actor=actor, at=when)


def _send_attempt(store: Store, dossier_id: str, actor: Actor, key: str) -> Applied:
    return retry.contact_attempt(
        store, dossier_id, actor=actor, at=datetime.now(UTC), idempotency_key=key
    )


def _send_move(store: Store, dossier_id: str, actor: Actor, key: str) -> Applied:
    def change(d: Dossier, when: datetime) -> Moved:
        return _step(store, d, actor, max(when, _when(d)))

    return retry.apply_with_retry(
        store, dossier_id, change, at=datetime.now(UTC), idempotency_key=key
    )


def run(store: Store, worker: int, ops: int, ids: list[str], seed: int) -> Tally:
    """``ops`` requests by one worker: raw compare-and-set moves (a conflict is reported,
    not retried), and keyed contact attempts and moves through `retry`, each sent twice."""
    rng = random.Random(seed * 1000 + worker)
    tally = Tally()
    for op in range(ops):
        dossier_id = rng.choice(ids)
        roll = rng.random()
        tag = f"{seed}:{worker}:{op}"
        if roll < 0.5:
            actor = Actor(role=Role.CASE_HANDLER, id=f"raw:{tag}")
            read = store.get(dossier_id)
            moved = _step(store, read, actor, _when(read))
            time.sleep(0)  # let the other writers run between our read and our write
            try:
                result = store.apply(moved.dossier, read.version, moved.effects)
            except VersionConflict as conflict:
                tally.stale += 1
                named = f"expected version {read.version}, store has {conflict.actual}"
                wrong = conflict.expected != read.version or conflict.actual <= read.version
                if wrong or named not in str(conflict):
                    tally.bad_conflicts.append(str(conflict))
                continue
        else:
            key = f"key:{tag}"
            actor = Actor(role=Role.CASE_HANDLER, id=key)
            send = _send_attempt if roll < 0.75 else _send_move
            result = send(store, dossier_id, actor, key)
            again = send(store, dossier_id, actor, key)  # a client retry: applied once
            tally.replays += 1
            if not again.replayed or again.dossier != result.dossier:
                tally.bad_replays.append(key)
            if result.replayed:
                tally.bad_replays.append(f"{key}: first send replayed")
        d = result.dossier
        tally.applied.append((d.id, actor.id, d.version))
        seq = len(d.history) - 1
        tally.effect_keys += [effect_key(d.id, seq, e, i) for i, e in enumerate(result.effects)]
    return tally


def run_in_process(url: str, worker: int, ops: int, ids: list[str], seed: int) -> Tally:
    """`run` in a fresh process, on its own store (its own engine and connections)."""
    store = open_store(url)
    try:
        return run(store, worker, ops, ids, seed)
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()
