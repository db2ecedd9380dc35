"""The SQL store and the in-memory store are the same machine: any sequence of writes,
stale or fresh, keyed or not, gives the same outcomes, dossiers, outbox and worklists."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etatmachine import Actor, Dossier, MoveRefused, Role, VersionConflict, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.store import MemoryStore, SqlStore, Store

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)
NEXT = {
    "etude_devis": "demande_traitement_devis",
    "demande_traitement_devis": "devis_demande_info",
    "devis_demande_info": "etude_devis",
}

op = st.tuples(
    st.sampled_from(["move", "attempt", "sweep"]),
    st.integers(0, 2),  # dossier
    st.integers(0, 1),  # reader: which earlier read the write starts from
    st.integers(1, 4000),  # minutes after the reader's last change (past 48h: refusals)
    st.one_of(st.none(), st.integers(0, 3)),  # idempotency key
)


def _outcome(store: Store, reads: dict[tuple[int, int], Dossier], step: tuple[Any, ...]) -> Any:
    kind, d, reader, minutes, key = step
    dossier_id = f"E-{d}"
    if kind == "sweep":
        report = store.sweep(T0 + timedelta(minutes=minutes * 10))
        return ("sweep", [b.dossier_id for b in report.breaches], report.recorded)
    base = reads.get((d, reader)) or store.get(dossier_id)
    when = (base.last_at or T0) + timedelta(minutes=minutes)
    try:
        if kind == "move":
            moved = WF.move(base, NEXT[base.state], actor=HANDLER, at=when)
        else:
            moved = WF.record_contact_attempt(base, actor=HANDLER, at=when)
    except MoveRefused as refused:
        return ("refused", refused.rules, store.record_effects(refused.effects))
    try:
        result = store.apply(
            moved.dossier,
            base.version,
            moved.effects,
            idempotency_key=None if key is None else f"k{key}",
        )
    except VersionConflict as conflict:
        reads[(d, reader)] = store.get(dossier_id)
        return ("conflict", type(conflict).__name__, conflict.expected, conflict.actual)
    reads[(d, reader)] = result.dossier
    return ("applied", result.replayed, result.dossier.version)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=25))
def test_sql_and_memory_stores_agree(steps: list[tuple[Any, ...]]) -> None:
    stores: list[Store] = [MemoryStore(), SqlStore("sqlite://")]
    for store in stores:
        store.add_many(
            WF.open(f"E-{i}", "etude_devis", actor=HANDLER, at=T0, mid_flow=True).dossier
            for i in range(3)
        )
    reads: list[dict[tuple[int, int], Dossier]] = [{}, {}]
    for step in steps:
        outcomes = [_outcome(s, r, step) for s, r in zip(stores, reads, strict=True)]
        assert outcomes[0] == outcomes[1], step
    memory, sql = stores
    assert list(memory) == list(sql)
    assert [m.dedup_key for m in memory.outbox()] == [m.dedup_key for m in sql.outbox()]
    at = T0 + timedelta(days=3)
    assert memory.worklist(at=at) == sql.worklist(at=at)
