"""One shared Workflow used from many threads: nothing lost, nothing duplicated."""

from __future__ import annotations

import sys
import threading
from datetime import datetime, timedelta

import pytest

from etatmachine import Actor, Dossier, MoveRefused, Role, VersionConflict, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.store import DossierStore

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="1002730")
START = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)
CYCLE = ("devis_demande_info", "devis_reponse_metreur", "devis_demande_info", "etude_devis")
THREADS = 8
DOSSIERS_PER_THREAD = 25
MOVES_PER_DOSSIER = 40


def _open(dossier_id: str) -> Dossier:
    return WF.open(dossier_id, "etude_devis", actor=HANDLER, at=START, mid_flow=True).dossier


def _run_threads(target: object, n: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def wrapped(i: int) -> None:
        try:
            barrier.wait()
            target(i)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


def test_eight_threads_moving_their_own_dossiers_lose_and_duplicate_nothing() -> None:
    """8 threads share one Workflow, each moving its own dossiers 40 times: every history
    has exactly 1 + 40 entries, in order, versions 0..40, and no thread raised."""
    results: dict[int, list[Dossier]] = {}

    def work(i: int) -> None:
        mine = [_open(f"T{i}-{k}") for k in range(DOSSIERS_PER_THREAD)]
        for step in range(MOVES_PER_DOSSIER):
            at = START + timedelta(minutes=17 * (step + 1))
            for k, d in enumerate(mine):
                mine[k] = WF.move(d, CYCLE[step % len(CYCLE)], actor=HANDLER, at=at).dossier
                WF.allowed_moves(mine[k], actor=HANDLER, at=at)
        results[i] = mine

    assert _run_threads(work, THREADS) == []
    assert sorted(results) == list(range(THREADS))
    for i, mine in results.items():
        for k, d in enumerate(mine):
            assert d.id == f"T{i}-{k}"
            assert d.version == MOVES_PER_DOSSIER
            assert len(d.history) == MOVES_PER_DOSSIER + 1
            assert [e.target for e in d.history[1:]] == [
                CYCLE[s % len(CYCLE)] for s in range(MOVES_PER_DOSSIER)
            ]
            ats = [e.at for e in d.history]
            assert ats == sorted(ats) and len(set(ats)) == len(ats)


def test_two_threads_moving_one_dossier_through_the_store_never_lose_a_move() -> None:
    """Two threads race on one stored dossier (read, move, compare-and-set): each loser
    gets a VersionConflict naming both versions and retries; accepted moves == entries."""
    store = DossierStore()
    store.add(_open("SHARED"))
    accepted = [0, 0]
    conflicts: list[VersionConflict] = []
    lock = threading.Lock()
    tries = 200

    def work(i: int) -> None:
        for _ in range(tries):
            read = store.get("SHARED")
            target = CYCLE[read.version % len(CYCLE)]
            at = START + timedelta(minutes=read.version + 1)
            try:
                moved = WF.move(read, target, actor=HANDLER, at=at).dossier
                store.put(moved, expected_version=read.version)
            except VersionConflict as exc:
                with lock:
                    conflicts.append(exc)
                continue
            except MoveRefused:  # the other thread moved it under our feet: reload
                continue
            with lock:
                accepted[i] += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: make the races happen
    try:
        assert _run_threads(work, 2) == []
    finally:
        sys.setswitchinterval(interval)
    final = store.get("SHARED")
    assert sum(accepted) == final.version == len(final.history) - 1
    assert [e.target for e in final.history[1:]] == [
        CYCLE[v % len(CYCLE)] for v in range(final.version)
    ]
    for exc in conflicts:
        assert exc.dossier_id == "SHARED" and exc.actual > exc.expected
        assert str(exc) == (
            f"dossier SHARED: expected version {exc.expected}, store has {exc.actual}; "
            "reload it and replay the move"
        )


def test_a_stale_write_is_refused_with_a_clear_version_conflict() -> None:
    """A dossier moved from a stale read: VersionConflict(id, expected, actual), and the
    stored dossier keeps the winner's move."""
    store = DossierStore()
    store.add(_open("D-1"))
    read = store.get("D-1")
    first = WF.move(read, "devis_demande_info", actor=HANDLER, at=START).dossier
    second = WF.move(
        read, "attente_cie", actor=HANDLER, at=START, comment="c", due=START + timedelta(days=1)
    ).dossier
    store.put(first, expected_version=0)
    with pytest.raises(VersionConflict) as info:
        store.put(second, expected_version=0)
    assert (info.value.dossier_id, info.value.expected, info.value.actual) == ("D-1", 0, 1)
    assert store.get("D-1") is first
