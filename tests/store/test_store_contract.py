"""The `Store` contract, one suite run on every backend: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etatmachine import Actor, Dossier, MoveRefused, Role, VersionConflict, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.catalogue import default_catalogue, parse_catalogue
from etatmachine.intake import adopt
from etatmachine.store import (
    CatalogueMismatch,
    MemoryStore,
    NotDescendant,
    SqlStore,
    Store,
    UnknownDossier,
    retry,
)
from etatmachine.store.worklist import Urgency

BACKENDS = ["memory", "sqlite-memory", "sqlite-file", "postgresql"]
SQL = ["sqlite-memory", "sqlite-file", "postgresql"]
backends = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
sql_backends = pytest.mark.parametrize("store_url", SQL, indirect=True)

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
SURVEYOR = Actor(role=Role.SURVEYOR, id="S-1")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)  # a Monday


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def opened(dossier_id: str = "D-1", **attributes: Any) -> Dossier:
    return WF.open(
        dossier_id, "etude_devis", actor=HANDLER, at=T0, mid_flow=True, **attributes
    ).dossier


@backends
def test_unknown_dossier_is_a_key_error_naming_it(store: Store) -> None:
    with pytest.raises(UnknownDossier, match="D-404") as caught:
        store.get("D-404")
    assert isinstance(caught.value, KeyError) and caught.value.dossier_id == "D-404"


@backends
def test_add_then_get_gives_back_an_equal_dossier_and_refuses_the_id_twice(store: Store) -> None:
    d = opened(insurer="maif", channel="sinapps", flags={"ren_expert"}, contractor="ACME")
    result = store.add(d)
    assert result.dossier == d and not result.replayed
    assert store.get("D-1") == d
    assert len(store) == 1 and [x.id for x in store] == ["D-1"]
    with pytest.raises(VersionConflict) as caught:
        store.add(d)
    assert (caught.value.expected, caught.value.actual) == (-1, 0)


@backends
def test_apply_writes_dossier_trail_and_effects_together(store: Store) -> None:
    store.add(opened())
    moved, effects = WF.move(store.get("D-1"), "demande_traitement_devis", actor=HANDLER, at=at(5))
    result = store.apply(moved, 0, effects)
    assert result.dossier == moved and store.get("D-1") == moved
    assert store.trail("D-1") == moved.history
    [message] = store.outbox()
    assert message.kind == "relaunch_surveyor" and message.dossier_id == "D-1"
    assert message.dedup_key == "D-1/1/relaunch_surveyor/0"
    assert message.effect == effects[0]


@backends
def test_a_stale_write_is_a_version_conflict_naming_both_versions(store: Store) -> None:
    store.add(opened())
    read = store.get("D-1")
    store.put(WF.move(read, "devis_demande_info", actor=HANDLER, at=at(1)).dossier, 0)
    stale = WF.move(read, "dossier_annule", actor=HANDLER, at=at(2)).dossier
    with pytest.raises(VersionConflict, match="expected version 0, store has 1") as caught:
        store.put(stale, 0)
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert store.get("D-1").state == "devis_demande_info"


@backends
def test_a_stale_read_moved_twice_cannot_erase_a_cancellation(store: Store) -> None:
    """The bug: the stale dossier reaches the stored version number, passes the stored
    version, and used to overwrite the cancellation. It does not descend from it."""
    store.add(opened())
    read = store.get("D-1")
    store.put(WF.move(read, "dossier_annule", actor=HANDLER, at=at(1)).dossier, 0)
    once = WF.move(read, "devis_demande_info", actor=HANDLER, at=at(2)).dossier
    twice = WF.move(once, "devis_reponse_metreur", actor=HANDLER, at=at(3)).dossier
    with pytest.raises(NotDescendant, match="does not descend") as caught:
        store.put(twice, 1)
    assert isinstance(caught.value, VersionConflict)
    assert (caught.value.expected, caught.value.actual) == (1, 1)
    assert store.get("D-1").state == "dossier_annule"
    assert len(store.trail("D-1")) == 2


@backends
def test_a_write_that_is_not_newer_is_refused(store: Store) -> None:
    d = opened()
    store.add(d)
    with pytest.raises(VersionConflict):
        store.put(d, 0)
    with pytest.raises(VersionConflict):
        store.put(WF.move(d, "devis_demande_info", actor=HANDLER, at=at(1)).dossier, 5)


@backends
def test_a_descendant_with_several_new_entries_is_accepted(store: Store) -> None:
    store.add(opened())
    d = store.get("D-1")
    for minute, to in ((1, "devis_demande_info"), (2, "devis_reponse_metreur")):
        d = WF.move(d, to, actor=HANDLER, at=at(minute)).dossier
    store.put(d, 0)
    assert store.get("D-1") == d and len(store.trail("D-1")) == 3


@backends
def test_an_idempotency_key_applies_once_and_returns_the_first_result(store: Store) -> None:
    store.add(opened())
    first = retry.contact_attempt(store, "D-1", actor=HANDLER, at=at(1), idempotency_key="req-1")
    again = retry.contact_attempt(store, "D-1", actor=HANDLER, at=at(2), idempotency_key="req-1")
    assert not first.replayed and again.replayed
    assert again.dossier == first.dossier
    assert store.get("D-1").contact_attempts == 1 and store.get("D-1").version == 1
    assert store.applied("req-1") is not None and store.applied("other") is None
    # the key is checked by apply itself too (a racing duplicate), not only by the helper
    read = store.get("D-1")
    moved = WF.record_contact_attempt(read, actor=HANDLER, at=at(3)).dossier
    assert store.apply(moved, read.version, idempotency_key="req-1").replayed
    assert store.get("D-1").version == 1


@backends
def test_outbox_claim_lease_ack(store: Store) -> None:
    for i in range(3):
        store.add(opened(f"D-{i}"))
        moved, effects = WF.move(
            store.get(f"D-{i}"), "demande_traitement_devis", actor=HANDLER, at=at(5)
        )
        store.apply(moved, 0, effects)
    first = store.claim("relay-a", limit=2)
    assert [m.dossier_id for m in first] == ["D-0", "D-1"] and all(m.attempts == 1 for m in first)
    second = store.claim("relay-b")  # leased messages are not handed out twice
    assert [m.dossier_id for m in second] == ["D-2"]
    assert store.claim("relay-c") == []
    store.ack([m.id for m in first])
    store.ack([first[0].id])  # acking twice changes nothing
    assert [m.dossier_id for m in store.outbox(include_done=False)] == ["D-2"]
    expired = store.claim("relay-d", lease=timedelta(0))
    assert expired == []  # D-2's lease from relay-b still runs
    store.ack([m.id for m in second])
    assert store.outbox(include_done=False) == []
    assert all(m.done_at is not None for m in store.outbox())


@backends
def test_an_expired_lease_is_claimed_again(store: Store) -> None:
    store.add(opened())
    moved, effects = WF.move(store.get("D-1"), "demande_traitement_devis", actor=HANDLER, at=at(5))
    store.apply(moved, 0, effects)
    [m] = store.claim("relay-a", lease=timedelta(0))
    [again] = store.claim("relay-b")
    assert again.id == m.id and again.attempts == 2  # delivered at least once: maybe twice


@backends
def test_a_refused_late_chase_queues_its_complaint_once(store: Store) -> None:
    store.add(opened())
    late = T0 + timedelta(days=5)  # etude_devis's 48 business hours are long gone
    for _ in range(2):
        with pytest.raises(MoveRefused) as caught:
            retry.move(store, "D-1", "demande_traitement_devis", actor=HANDLER, at=late)
        assert "deadline_passed" in caught.value.rules
    [m] = store.outbox()
    assert m.kind == "complaint_to_open" and m.effect.overdue_since == store.get("D-1").due_at
    assert store.get("D-1").version == 0  # a refused move changes nothing


# -- worklists and sweeps -------------------------------------------------------------

NOW = datetime(2024, 3, 11, 12, 0, tzinfo=PARIS)  # Monday noon; business time: Mon-Fri 24h


def _adopt(
    store: Store, dossier_id: str, state: str, start: datetime, due: datetime | None, **kw: Any
) -> None:
    actor = kw.pop("actor", SURVEYOR)
    store.add(adopt(WF, dossier_id, state, due_at=due, at=start, actor=actor, **kw))


def _desk(store: Store) -> None:
    d = datetime
    _adopt(
        store,
        "late-27h",
        "etude_devis",
        d(2024, 3, 6, 9, tzinfo=PARIS),
        d(2024, 3, 8, 9, tzinfo=PARIS),
    )
    _adopt(
        store,
        "late-3h",
        "etude_devis",
        d(2024, 3, 7, 9, tzinfo=PARIS),
        d(2024, 3, 11, 9, tzinfo=PARIS),
    )
    _adopt(
        store,
        "soon",
        "etude_devis",
        d(2024, 3, 11, 9, tzinfo=PARIS),
        d(2024, 3, 12, 10, tzinfo=PARIS),
    )
    _adopt(
        store,
        "at-78",
        "etude_devis",
        d(2024, 2, 20, 12, tzinfo=PARIS),
        d(2024, 3, 15, 12, tzinfo=PARIS),
    )
    _adopt(
        store,
        "at-51",
        "etude_devis",
        d(2024, 3, 4, 9, tzinfo=PARIS),
        d(2024, 3, 18, 12, tzinfo=PARIS),
    )
    _adopt(
        store,
        "quiet",
        "etude_devis",
        d(2024, 3, 11, 9, tzinfo=PARIS),
        d(2024, 3, 25, 9, tzinfo=PARIS),
    )
    _adopt(store, "closed", "dossier_annule", d(2024, 3, 1, 9, tzinfo=PARIS), None)
    _adopt(
        store, "contractor", "devis_demande_info", d(2024, 3, 6, 9, tzinfo=PARIS),
        d(2024, 3, 8, 9, tzinfo=PARIS), actor=Actor(role=Role.CONTRACTOR, id="C-9"),
        contractor="ACME",
    )  # fmt: skip


@backends
def test_worklist_thresholds_in_business_time_sorted_by_lateness(store: Store) -> None:
    _desk(store)
    items = store.worklist(at=NOW, role="surveyor")
    got = [(i.dossier_id, i.urgency) for i in items]
    assert got == [
        ("late-27h", Urgency.OVERDUE),
        ("late-3h", Urgency.OVERDUE),
        ("soon", Urgency.DUE_SOON),
        ("at-78", Urgency.ALERT),
        ("at-51", Urgency.ATTENTION),
    ]
    assert items[0].lateness == timedelta(hours=27)  # Fri 9:00 -> Mon 12:00, weekend skipped
    assert items[2].lateness == -timedelta(hours=22)
    assert items[3].elapsed == pytest.approx(14 / 18)
    assert items[0].label == "Etude de devis" and items[0].assignee == "S-1"


@backends
def test_worklist_filters_by_role_assignee_contractor_and_within(store: Store) -> None:
    _desk(store)
    assert [i.dossier_id for i in store.worklist(at=NOW, role="contractor")] == ["contractor"]
    assert [i.dossier_id for i in store.worklist(at=NOW, contractor="ACME")] == ["contractor"]
    # the contractor's company holds the file for the contractor role, not who signed
    assert [i.dossier_id for i in store.worklist(at=NOW, assignee="ACME")] == ["contractor"]
    assert len(store.worklist(at=NOW, assignee="S-1")) == 5
    assert store.worklist(at=NOW, assignee="nobody") == []
    wide = store.worklist(at=NOW, role="surveyor", within=timedelta(hours=100))
    assert {i.dossier_id: i.urgency for i in wide}["at-78"] == Urgency.DUE_SOON
    assert [i.dossier_id for i in store.worklist(at=NOW, limit=2)] == [
        "contractor",
        "late-27h",
    ]  # tie: by id


@backends
def test_worklist_is_computed_on_the_dossiers_subdivision_calendar(store: Store) -> None:
    """26 December is a holiday in Moselle only: at noon that day, a step due on the 27th
    at noon has 24 business hours left elsewhere, 12 there."""
    start = datetime(2024, 12, 24, 0, 0, tzinfo=PARIS)
    due = datetime(2024, 12, 27, 12, 0, tzinfo=PARIS)
    _adopt(store, "national", "etude_devis", start, due)
    _adopt(store, "moselle", "etude_devis", start, due, subdivision="57")
    now = datetime(2024, 12, 26, 12, 0, tzinfo=PARIS)
    items = {i.dossier_id: i for i in store.worklist(at=now, within=timedelta(hours=1))}
    assert items["national"].lateness == -timedelta(hours=24)
    assert items["moselle"].lateness == -timedelta(hours=12)  # the 26th does not count
    assert items["national"].elapsed == pytest.approx(36 / 60)
    assert items["moselle"].elapsed == pytest.approx(24 / 36)


@backends
def test_sweep_finds_breaches_once_and_queues_their_complaints_once(store: Store) -> None:
    _desk(store)
    first = store.sweep(NOW)
    assert first.since is None
    assert sorted(b.dossier_id for b in first.breaches) == ["contractor", "late-27h", "late-3h"]
    owed = {b.dossier_id: b.complaint for b in first.breaches}
    assert owed == {"late-27h": True, "late-3h": True, "contractor": False}
    assert first.recorded == 2 and len(first.effects) == 2
    again = store.sweep(NOW)
    assert again.breaches == () and again.recorded == 0
    later = store.sweep(datetime(2024, 3, 12, 12, 0, tzinfo=PARIS))
    assert [b.dossier_id for b in later.breaches] == ["soon"] and later.recorded == 1
    assert later.since is not None and later.since == NOW
    complaints = [m for m in store.outbox() if m.kind == "complaint_to_open"]
    assert sorted(m.dossier_id for m in complaints) == ["late-27h", "late-3h", "soon"]


@backends
def test_a_sweep_complaint_and_a_late_chase_share_one_dedup_key(store: Store) -> None:
    _desk(store)
    store.sweep(NOW)
    with pytest.raises(MoveRefused):
        retry.move(store, "late-3h", "demande_traitement_devis", actor=HANDLER, at=NOW)
    complaints = [m for m in store.outbox() if m.dossier_id == "late-3h"]
    assert len(complaints) == 1


# -- retries and the policy for `at` ----------------------------------------------------


@backends
def test_retry_rejudges_on_the_winners_dossier_and_clamps_at(store: Store) -> None:
    store.add(opened())
    read = store.get("D-1")
    # the winner lands at minute 10 while our request, made at minute 9, is in flight
    store.put(WF.move(read, "devis_demande_info", actor=HANDLER, at=at(10)).dossier, 0)
    result = retry.move(store, "D-1", "devis_reponse_metreur", actor=HANDLER, at=at(9))
    assert result.dossier.version == 2 and result.dossier.history[-1].at == at(10)
    with pytest.raises(MoveRefused) as strict:
        retry.move(store, "D-1", "devis_demande_info", actor=HANDLER, at=at(9), at_policy="strict")
    assert strict.value.rules == ("out_of_order",)
    with pytest.raises(MoveRefused) as stale:  # an hour behind the winner: a stale request
        retry.move(
            store, "D-1", "devis_demande_info", actor=HANDLER, at=at(10) - timedelta(hours=1)
        )
    assert stale.value.rules == ("out_of_order",)


@backends
def test_retry_refuses_a_move_the_winner_made_impossible(store: Store) -> None:
    store.add(opened())
    store.put(WF.move(store.get("D-1"), "dossier_annule", actor=HANDLER, at=at(1)).dossier, 0)
    with pytest.raises(MoveRefused) as caught:
        retry.move(store, "D-1", "devis_demande_info", actor=HANDLER, at=at(1))
    assert "move_not_allowed" in caught.value.rules


@backends
def test_retry_after_a_lost_race_applies_on_the_fresh_read(store: Store) -> None:
    store.add(opened())
    calls: list[int] = []

    def change(d: Dossier, when: datetime) -> Any:
        calls.append(d.version)
        if len(calls) == 1:  # another writer lands between our read and our write
            store.put(WF.record_contact_attempt(d, actor=HANDLER, at=when).dossier, d.version)
        return WF.move(d, "devis_demande_info", actor=HANDLER, at=when)

    result = retry.apply_with_retry(store, "D-1", change, at=at(1))
    assert calls == [0, 1] and result.dossier.version == 2
    assert [e.kind for e in store.trail("D-1")] == ["open", "contact_attempt", "move"]


# -- catalogue pinning ----------------------------------------------------------------


def _catalogue_v2(migrations: dict[str, dict[str, str]] | None) -> Workflow:
    data = default_catalogue().to_dict()
    data["version"] = "2099.1"
    if migrations is not None:
        data["migrations"] = migrations
    return Workflow(parse_catalogue(data))


@backends
def test_a_dossier_is_pinned_to_its_catalogue_version(store: Store, make_store: Any) -> None:
    store.add(opened())
    assert store.get("D-1").state == "etude_devis"
    v2 = _catalogue_v2(None)
    other = make_store(workflow=v2) if not isinstance(store, MemoryStore) else store
    if isinstance(store, MemoryStore):
        store.workflow = v2
    with pytest.raises(CatalogueMismatch, match=r"ma-deroulement-dossier 2023\.1") as caught:
        other.get("D-1")
    assert isinstance(caught.value, ValueError)
    assert caught.value.stored == ("ma-deroulement-dossier", "2023.1")


@backends
def test_a_declared_migration_maps_old_states(store: Store, make_store: Any) -> None:
    store.add(opened())
    v2 = _catalogue_v2({"2023.1": {"etude_devis": "devis_demande_info"}})
    if isinstance(store, MemoryStore):
        store.workflow = v2
        other: Store = store
    else:
        other = make_store(workflow=v2)
    d = other.get("D-1")
    assert d.state == "devis_demande_info"
    assert d.history[0].target == "devis_demande_info"  # read in the new catalogue's codes
    assert [i.state for i in other.worklist(at=T0 + timedelta(days=30))] == ["devis_demande_info"]
    # the stored trail keeps the old codes: a move made in the new ones cannot extend it, so
    # writing it back is refused and nothing is written (re-import the file under v2 first)
    moved = v2.move(d, "devis_reponse_metreur", actor=HANDLER, at=at(1)).dossier
    with pytest.raises(NotDescendant):
        other.put(moved, 0)
    assert other.get("D-1") == d


def test_a_migration_to_an_unknown_state_is_a_catalogue_error() -> None:
    v2 = _catalogue_v2({"2023.1": {"etude_devis": "nowhere"}})
    with pytest.raises(ValueError, match="unknown state 'nowhere'"):
        v2.catalogue.migration("2023.1")


# -- SQL only: crash safety, schema version ---------------------------------------------


def _crash_on_insert(store: SqlStore, table: str) -> Callable[[], None]:
    """Make the database fail any insert into ``table`` (a trigger): the failure comes
    after the dossier's update in the same transaction, whatever code path wrote it."""
    from sqlalchemy import text

    if store.dialect == "sqlite":  # a missing table fails when the trigger runs
        create = [
            f"CREATE TRIGGER etm_test_crash BEFORE INSERT ON {table} "
            "BEGIN INSERT INTO etm_injected_crash VALUES (1); END"
        ]
        drop = ["DROP TRIGGER etm_test_crash"]
    else:
        create = [
            "CREATE FUNCTION etm_test_crash() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'etm_injected_crash'; END $$",
            f"CREATE TRIGGER etm_test_crash BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION etm_test_crash()",
        ]
        drop = [f"DROP TRIGGER etm_test_crash ON {table}", "DROP FUNCTION etm_test_crash()"]
    with store.engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))

    def undo() -> None:
        with store.engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))

    return undo


@sql_backends
@pytest.mark.parametrize("table", ["etm_trail", "etm_outbox", "etm_idempotency"])
def test_a_crash_between_the_update_and_the_inserts_leaves_nothing_half_written(
    store: SqlStore, table: str
) -> None:
    store.add(opened())
    before = (store.get("D-1"), store.trail("D-1"), store.outbox())
    moved, effects = WF.move(store.get("D-1"), "demande_traitement_devis", actor=HANDLER, at=at(5))
    undo = _crash_on_insert(store, table)
    try:
        with pytest.raises(Exception, match="etm_injected_crash") as caught:
            store.apply(moved, 0, effects, idempotency_key="k-1")
        assert not isinstance(caught.value, VersionConflict)
    finally:
        undo()
    assert (store.get("D-1"), store.trail("D-1"), store.outbox()) == before
    assert store.applied("k-1") is None
    assert store.apply(moved, 0, effects).dossier == moved  # and the write can be made again


@sql_backends
def test_a_database_of_another_schema_version_is_refused(store: SqlStore) -> None:
    from sqlalchemy import update

    from etatmachine.store import SchemaVersionError, schema

    with store.engine.begin() as conn:
        conn.execute(
            update(schema.meta).where(schema.meta.c.key == "schema_version").values(value="0")
        )
    with pytest.raises(SchemaVersionError, match="schema version 0"):
        store.check_schema()


@sql_backends
def test_the_trail_has_one_row_per_entry_from_seq_zero(store: SqlStore) -> None:
    store.add(opened())
    for minute in range(1, 4):
        retry.contact_attempt(store, "D-1", actor=HANDLER, at=at(minute))
    assert store.trail_seqs("D-1") == [0, 1, 2, 3]


# -- a model check: whatever the interleaving, a write is accepted iff its read is fresh --


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=12))
def test_writes_from_any_reads_keep_the_trail_a_prefix_chain(
    kind: str, plan: list[tuple[int, bool]]
) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqlStore("sqlite://")
    store.add(opened())
    reads: list[Dossier] = [store.get("D-1")] * 3
    for minute, (reader, reread) in enumerate(plan, start=1):
        if reread:
            reads[reader] = store.get("D-1")
        base = reads[reader]
        moved = WF.record_contact_attempt(
            base, actor=HANDLER, at=max(at(minute), base.last_at or T0)
        )
        fresh = store.get("D-1")
        try:
            store.put(moved.dossier, base.version)
        except VersionConflict:
            assert base != fresh
        else:
            assert base == fresh
            reads[reader] = moved.dossier
        stored = store.get("D-1")
        assert stored.history[: len(fresh.history)] == fresh.history
        assert stored.version == len(stored.history) - 1


@backends
def test_add_many_stores_a_batch_and_refuses_a_taken_id(store: Store) -> None:
    assert store.add_many([opened(f"B-{i}") for i in range(5)], batch=2) == 5
    assert len(store) == 5 and store.get("B-3") == opened("B-3")
    with pytest.raises(VersionConflict) as caught:
        store.add_many([opened("B-9"), opened("B-1")])
    assert caught.value.dossier_id == "B-1" and caught.value.expected == -1


@backends
@pytest.mark.parametrize("calendars", ["national", "mixed"])
def test_a_limited_worklist_is_the_first_page_of_the_whole_one(
    store: Store, monkeypatch: pytest.MonkeyPatch, calendars: str
) -> None:
    """Read by small pages in due-date order, across subdivisions: the same items, in
    the same order, as the whole list cut at the limit."""
    from etatmachine.store import worklist as worklist_module

    monkeypatch.setattr(worklist_module, "PAGE_MIN", 3)
    rng = __import__("random").Random(7)
    subdivisions = [None] if calendars == "national" else [None, "57", "971"]
    batch = []
    for i in range(60):
        start = NOW - timedelta(hours=rng.uniform(0, 24 * 20))
        due = start + timedelta(hours=rng.uniform(1, 24 * 25))
        batch.append(
            adopt(WF, f"P-{i:02}", "etude_devis", due_at=due, at=start, actor=SURVEYOR,
                  subdivision=subdivisions[i % len(subdivisions)])
        )  # fmt: skip
    store.add_many(batch)
    whole = store.worklist(at=NOW)
    assert len(whole) > 20
    for limit in (1, 2, 5, 13, 40, 100):
        assert store.worklist(at=NOW, limit=limit) == whole[:limit]


@sql_backends
@pytest.mark.parametrize(
    "statement", ["UPDATE etm_trail SET kind = 'move'", "DELETE FROM etm_trail"]
)
def test_the_database_refuses_to_change_the_trail(store: SqlStore, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    store.add(opened())
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert store.trail("D-1") == opened().history
    store.init()  # creating the triggers again is harmless
