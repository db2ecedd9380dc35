"""Many writers on the same dossiers: 8 threads on every backend, 4 processes on file SQLite
and PostgreSQL. Checked from the final trails and the outbox:

- zero lost updates: each dossier's version is the number of requests applied to it;
- zero duplicated or missing trail seq: seq runs 0..version without a gap;
- every stale write a `VersionConflict` naming both versions;
- every effect of an applied request exactly once in the outbox, nothing else there;
- every idempotent retry applied once: each request's actor signs exactly one entry.

The default counts keep the suite fast; ``--deep`` runs ~10,000 operations per run.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from etatmachine import Actor, Role
from etatmachine.intake import adopt
from etatmachine.store import Store
from store import workload

DEEP = bool(os.environ.get("ETATMACHINE_DEEP"))
THREADS, PROCESSES = 8, 4
DOSSIERS = 4
DEEP_DOSSIERS = 40
"""The deep profile spreads its 10,000 requests over more dossiers: a trail of ~150
entries each, as long as the longest real files, rather than thousands."""


def _ops(total_default: int, workers: int, request: pytest.FixtureRequest) -> int:
    deep = request.config.getoption("--deep") or DEEP
    return (10_000 if deep else total_default) // workers


def _seed(store: Store, request: pytest.FixtureRequest) -> list[str]:
    deep = request.config.getoption("--deep") or DEEP
    ids = [f"C-{i}" for i in range(DEEP_DOSSIERS if deep else DOSSIERS)]
    start = datetime.now(UTC) - timedelta(minutes=1)
    system = Actor(role=Role.SYSTEM, id="seed")
    cal = store.workflow.calendar(None)
    for dossier_id in ids:
        due = cal.add_business_hours(start, 48.0)
        store.add(
            adopt(store.workflow, dossier_id, "etude_devis", due_at=due, at=start, actor=system)
        )
    return ids


def _check(store: Store, ids: list[str], tally: workload.Tally) -> dict[str, int]:
    assert tally.bad_conflicts == []
    assert tally.bad_replays == []
    applied = Counter(d for d, _, _ in tally.applied)
    signers = Counter(a for _, a, _ in tally.applied)
    assert max(signers.values()) == 1  # each request applied at most once by its sender
    versions = Counter((d, v) for d, _, v in tally.applied)
    assert max(versions.values()) == 1  # no two requests wrote the same version
    trail_signers: Counter[str] = Counter()
    for dossier_id in ids:
        d = store.get(dossier_id)
        assert d.version == applied[dossier_id]  # zero lost updates
        trail = store.trail(dossier_id)
        assert trail == d.history and len(trail) == d.version + 1
        seqs = getattr(store, "trail_seqs", None)
        if seqs is not None:
            assert seqs(dossier_id) == list(range(d.version + 1))
        trail_signers.update(e.actor.id for e in trail[1:])
    assert trail_signers == signers  # every applied request in the trail, exactly once
    keys = [m.dedup_key for m in store.outbox()]
    assert Counter(keys) == Counter(tally.effect_keys)  # each effect exactly once
    return {
        "applied": len(tally.applied),
        "stale": tally.stale,
        "replays": tally.replays,
        "effects": len(keys),
    }


def _threads(store: Store, ids: list[str], ops: int) -> workload.Tally:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(workload.run, store, w, ops, ids, 1) for w in range(THREADS)]
        tallies = [f.result(timeout=600) for f in futures]
    total = workload.Tally()
    for t in tallies:
        total.merge(t)
    return total


@pytest.mark.parametrize(
    "store_url", ["memory", "sqlite-memory", "sqlite-file", "postgresql"], indirect=True
)
def test_eight_threads_on_the_same_dossiers(
    store: Store, request: pytest.FixtureRequest, capsys: Any
) -> None:
    ids = _seed(store, request)
    ops = _ops(240, THREADS, request)
    counts = _check(store, ids, _threads(store, ids, ops))
    assert counts["applied"] > 0 and counts["effects"] > 0
    assert counts["stale"] > 0 or THREADS * ops < 50  # the writers did race
    with capsys.disabled():
        print(f"\n  threads x{THREADS}, {THREADS * ops} requests: {counts}")


@pytest.mark.parametrize("store_url", ["sqlite-file", "postgresql"], indirect=True)
def test_four_processes_on_the_same_dossiers(
    store: Store, store_url: str, request: pytest.FixtureRequest, capsys: Any
) -> None:
    ids = _seed(store, request)
    ops = _ops(80, PROCESSES, request)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        tallies = pool.starmap(
            workload.run_in_process, [(store_url, w, ops, ids, 2) for w in range(PROCESSES)]
        )
    total = workload.Tally()
    for t in tallies:
        total.merge(t)
    counts = _check(store, ids, total)
    assert counts["applied"] > 0
    with capsys.disabled():
        print(f"\n  processes x{PROCESSES}, {PROCESSES * ops} requests: {counts}")


@pytest.mark.parametrize("store_url", ["sqlite-file", "postgresql"], indirect=True)
def test_relays_in_parallel_share_the_outbox_without_delivering_twice(
    store: Store, make_store: Any
) -> None:
    """4 relays, each with its own store (its own connections), claim in parallel: with
    leases longer than the run, every message is delivered by exactly one relay."""
    from concurrent.futures import ThreadPoolExecutor

    from etatmachine.effects import SinappsAnomaly

    now = datetime.now(UTC)
    effects = [
        SinappsAnomaly(dossier_id=f"R-{i}", state="attente_cie", at=now, comment=None)
        for i in range(120)
    ]
    assert store.record_effects(effects) == 120
    relays = [make_store() for _ in range(4)]

    def relay(i: int) -> list[int]:
        got: list[int] = []
        while batch := relays[i].claim(f"relay-{i}", limit=7, lease=timedelta(minutes=10)):
            got += [m.id for m in batch]
            relays[i].ack(m.id for m in batch)
        return got

    with ThreadPoolExecutor(4) as pool:
        delivered = [m for got in pool.map(relay, range(4)) for m in got]
    assert sorted(delivered) == sorted(m.id for m in store.outbox())
    assert len(set(delivered)) == len(delivered) == 120
    assert store.outbox(include_done=False) == []
