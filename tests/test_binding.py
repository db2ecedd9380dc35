"""Binding a service's own objects: same verdicts as the value API, callbacks, async, threads."""

from __future__ import annotations

import asyncio
import copy
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from transitions.extensions import GraphMachine

from etatmachine import (
    Actor,
    Dossier,
    HistoryEntry,
    MoveRefused,
    Role,
    UnknownStateError,
    VersionConflict,
    Workflow,
)
from etatmachine.binding import (
    Binder,
    BindingError,
    BoundValueError,
    Change,
    Names,
    binder_of,
    dossier_of,
    machine_of,
    markup,
    transition_table,
)
from etatmachine.business_calendar import PARIS
from etatmachine.diagrams import model
from etatmachine.effects import ComplaintToOpen, SinappsAnomaly, SurveyorRelaunch
from etatmachine.testing import (
    MoveInputs,
    actors,
    allowed_targets,
    bound_copy,
    move_inputs,
    move_sequences,
)

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
CONTRACTOR = Actor(role=Role.CONTRACTOR, id="995")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)


def _value(state: str = "etude_devis", **attributes: Any) -> Dossier:
    return WF.open("D-1", state, actor=HANDLER, at=T0, mid_flow=True, **attributes).dossier


@dataclass
class Row:
    """A plain dataclass standing in for an ORM row, with the default attribute names."""

    id: str
    state: str
    channel: str | None = None
    entered: list[Change] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def on_enter_demande_traitement_devis(self, change: Change) -> None:
        self.entered.append(change)

    def on_exit_etude_devis(self, change: Change) -> None:
        self.left.append(change.target)


def _bound(state: str = "etude_devis", **attributes: Any) -> tuple[Dossier, Row]:
    d = _value(state, **attributes)
    return d, WF.bind(Binder.cached(WF).load(Row(d.id, d.state), d))


# -- accepted and refused -------------------------------------------------------------


def test_an_accepted_move_writes_what_the_value_api_returns() -> None:
    d, row = _bound()
    at = T0 + timedelta(hours=1)
    due = T0 + timedelta(days=3)
    expected = WF.move(d, "attente_cie", actor=HANDLER, at=at, comment="accord", due=due)
    change = row.to_attente_cie(actor=HANDLER, at=at, comment="accord", due=due)  # type: ignore[attr-defined]
    assert dossier_of(row) == expected.dossier
    assert (row.state, row.due_at, row.version) == ("attente_cie", due, 1)  # type: ignore[attr-defined]
    assert row.interrupted == "etude_devis"  # type: ignore[attr-defined]
    assert row.history == expected.dossier.history  # type: ignore[attr-defined]
    assert isinstance(row.history, tuple)  # type: ignore[attr-defined]
    assert isinstance(change, Change) and change.kind == "move"
    assert (change.source, change.target, change.effects) == ("etude_devis", "attente_cie", ())
    assert change.entry == expected.dossier.history[-1]


@pytest.mark.parametrize("how", ["method", "code", "to_code", "label"])
def test_every_way_of_naming_the_target_makes_the_same_move(how: str) -> None:
    d, row = _bound()
    at = T0 + timedelta(hours=1)
    if how == "method":
        row.to_devis_demande_info(actor=HANDLER, at=at)  # type: ignore[attr-defined]
    else:
        name = {
            "code": "devis_demande_info",
            "to_code": "to_devis_demande_info",
            "label": WF.catalogue.state("devis_demande_info").label,
        }[how]
        row.trigger(name, actor=HANDLER, at=at)  # type: ignore[attr-defined]
    assert dossier_of(row) == WF.move(d, "devis_demande_info", actor=HANDLER, at=at).dossier


def _refusal(call: Any) -> MoveRefused:
    with pytest.raises(MoveRefused) as info:
        call()
    return info.value


@pytest.mark.parametrize(
    ("state", "target", "at", "kwargs"),
    [
        # a wait without its comment nor its due date, before the last change
        ("etude_devis", "attente_cie", T0 - timedelta(hours=1), {}),
        # not a move of the catalogue
        ("etude_devis", "travaux_termines", T0 + timedelta(hours=1), {}),
        # a closed file
        ("dossier_annule", "etude_devis", T0 + timedelta(hours=1), {}),
        # a contractor on a handler's state, a given due date where none may be given
        ("etude_devis", "devis_demande_info", T0 + timedelta(hours=1), {"due": T0}),
    ],
)
def test_a_refusal_is_the_value_apis_and_leaves_the_object_untouched(
    state: str, target: str, at: datetime, kwargs: dict[str, Any]
) -> None:
    d, row = _bound(state)
    before = dict(vars(row))
    expected = _refusal(lambda: WF.move(d, target, actor=CONTRACTOR, at=at, **kwargs))
    got = _refusal(lambda: row.trigger(target, actor=CONTRACTOR, at=at, **kwargs))  # type: ignore[attr-defined]
    assert got.violations == expected.violations and got.violations
    assert (got.dossier_id, got.source, got.target) == (d.id, d.state, expected.target)
    assert got.effects == expected.effects
    assert vars(row) == before
    assert all(a is b for a, b in zip(vars(row).values(), before.values(), strict=True))


def test_bad_inputs_raise_the_value_apis_error_and_change_nothing() -> None:
    _, row = _bound()
    before = dict(vars(row))
    with pytest.raises(UnknownStateError):
        row.trigger("no such state", actor=HANDLER, at=T0)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="timezone-aware"):
        row.to_devis_demande_info(actor=HANDLER, at=datetime(2024, 3, 4, 10))  # type: ignore[attr-defined]
    assert vars(row) == before


def test_may_answers_like_allowed_moves() -> None:
    d, row = _bound(channel="sinapps")
    for actor in (HANDLER, CONTRACTOR):
        verdicts = WF.allowed_moves(d, actor=actor, at=T0 + timedelta(hours=1))
        assert row.allowed_moves(actor=actor, at=T0 + timedelta(hours=1)) == verdicts  # type: ignore[attr-defined]
        assert any(not v.allowed for v in verdicts) and any(v.allowed for v in verdicts)
        for v in verdicts:
            may = getattr(row, f"may_to_{v.target}")
            assert may(actor=actor, at=T0 + timedelta(hours=1)) is v.allowed
            assert row.may_trigger(v.target, actor=actor, at=T0 + timedelta(hours=1)) is v.allowed  # type: ignore[attr-defined]
    # a state that is no target of the current one: never allowed
    assert row.may_to_travaux_termines(actor=HANDLER, at=T0 + timedelta(hours=1)) is False  # type: ignore[attr-defined]
    assert row.is_etude_devis() and not row.is_attente_cie()  # type: ignore[attr-defined]


def test_reschedule_and_contact_attempts_on_a_bound_object() -> None:
    d, row = _bound("attente_cie", comment="accord", due=T0 + timedelta(days=2))
    due = T0 + timedelta(days=9)
    at = T0 + timedelta(hours=2)
    change = row.reschedule(due, actor=HANDLER, at=at, comment="relance")  # type: ignore[attr-defined]
    d = WF.reschedule(d, due, actor=HANDLER, at=at, comment="relance").dossier
    assert change.kind == "reschedule" and dossier_of(row) == d and row.due_at == due  # type: ignore[attr-defined]
    change = row.record_contact_attempt(actor=HANDLER, at=at)  # type: ignore[attr-defined]
    d = WF.record_contact_attempt(d, actor=HANDLER, at=at).dossier
    assert change.kind == "contact_attempt" and dossier_of(row) == d
    assert row.contact_attempts == 1  # type: ignore[attr-defined]
    # refused: before the last change
    before = dict(vars(row))
    expected = _refusal(lambda: WF.reschedule(d, due, actor=HANDLER, at=T0))
    got = _refusal(lambda: row.reschedule(due, actor=HANDLER, at=T0))  # type: ignore[attr-defined]
    assert got.violations == expected.violations
    expected = _refusal(lambda: WF.record_contact_attempt(d, actor=HANDLER, at=T0))
    got = _refusal(lambda: row.record_contact_attempt(actor=HANDLER, at=T0))  # type: ignore[attr-defined]
    assert got.violations == expected.violations
    assert vars(row) == before


# -- attribute names, binding rules ---------------------------------------------------


class Ligne:
    """An ORM row with its own column names (and no insurer, channel... columns)."""

    def __init__(self, numero: str, etat: str) -> None:
        self.numero = numero
        self.etat = etat


COLUMNS = Names(
    id="numero",
    state="etat",
    due_at="echeance",
    version="revision",
    history="historique",
    contact_attempts="relances",
    interrupted="interrompu",
    insurer=None,
    channel=None,
    subdivision=None,
    contractor=None,
    flags=None,
)


def test_the_caller_names_the_columns() -> None:
    ligne = WF.bind(Ligne("L-1", "etude_devis"), names=COLUMNS)
    assert (ligne.echeance, ligne.revision, ligne.historique, ligne.relances) == (None, 0, (), 0)
    ligne.to_attente_cie(actor=HANDLER, at=T0, comment="c", due=T0 + timedelta(days=2))
    assert (ligne.etat, ligne.revision, ligne.interrompu) == ("attente_cie", 1, "etude_devis")
    assert ligne.echeance == T0 + timedelta(days=2) and len(ligne.historique) == 1
    assert not hasattr(ligne, "state") and not hasattr(ligne, "version")
    assert dossier_of(ligne).id == "L-1" and dossier_of(ligne).state == "attente_cie"


def test_open_writes_a_fresh_file_and_runs_the_hooks() -> None:
    seen: list[Change] = []
    binder = Binder(WF, names=COLUMNS, after=seen.append)
    ligne = Ligne("L-2", "ignored")
    change = binder.open(ligne, actor=CONTRACTOR, at=T0)
    assert change.kind == "open" and seen == [change]
    opened = WF.open("L-2", actor=CONTRACTOR, at=T0).dossier
    assert dossier_of(ligne) == opened and ligne.etat == opened.state


def test_what_cannot_be_bound_says_so() -> None:
    @dataclass(frozen=True)
    class Frozen:
        id: str
        state: str

    @dataclass(slots=True)
    class Slotted:
        id: str
        state: str

    @dataclass(slots=True)
    class SlottedWithRoom:
        id: str
        state: str
        due_at: datetime | None = None
        version: int = 0
        history: tuple[HistoryEntry, ...] = ()
        contact_attempts: int = 0
        interrupted: str | None = None
        _etatmachine_binder: Any = None

    with pytest.raises(BindingError, match="frozen"):
        WF.bind(Frozen("F", "etude_devis"))
    with pytest.raises(BindingError, match="Slotted"):
        WF.bind(Slotted("S", "etude_devis"))
    with pytest.raises(BindingError, match="value"):
        WF.bind(_value())
    with pytest.raises(UnknownStateError):
        WF.bind(Row("R", "no_such_state"))
    with pytest.raises(BoundValueError, match="due_at") as info:
        WF.bind(SlottedWithRoom("S", "etude_devis", due_at=datetime(2024, 1, 1)))
    assert info.value.attribute == "due_at"
    ok = WF.bind(SlottedWithRoom("S", "etude_devis"))
    ok.to_devis_demande_info(actor=HANDLER, at=T0)
    assert ok.state == "devis_demande_info" and ok.version == 1
    # an instance of a bound class that was never bound itself
    with pytest.raises(BindingError, match="not bound"):
        Row("R-2", "etude_devis").to_devis_demande_info(actor=HANDLER, at=T0)  # type: ignore[attr-defined]


def test_the_class_keeps_its_own_methods() -> None:
    class Own:
        def __init__(self) -> None:
            self.id, self.state = "O", "attente_cie"

        def reschedule(self, when: str) -> str:  # the service's own meaning of the word
            return f"own {when}"

    own = WF.bind(Own())
    assert own.reschedule("lundi") == "own lundi"
    binder_of(own).reschedule(own, T0 + timedelta(days=2), actor=HANDLER, at=T0)
    assert own.due_at == T0 + timedelta(days=2)


def test_a_stale_write_is_refused_whole() -> None:
    d, row = _bound()
    moved = WF.move(d, "devis_demande_info", actor=HANDLER, at=T0).dossier
    row.to_devis_demande_info(actor=HANDLER, at=T0)  # type: ignore[attr-defined]
    before = dict(vars(row))
    with pytest.raises(VersionConflict) as info:
        binder_of(row).write(row, moved, expected_version=0)
    assert (info.value.expected, info.value.actual) == (0, 1)
    assert vars(row) == before


def test_the_view_follows_every_change_made_to_the_object_directly() -> None:
    d, row = _bound()
    row.to_devis_demande_info(actor=HANDLER, at=T0)  # type: ignore[attr-defined]
    assert dossier_of(row).insurer is None
    row.insurer = "maif"  # type: ignore[attr-defined]
    assert dossier_of(row).insurer == "MAIF"
    row.flags = {"ren_expert"}  # type: ignore[attr-defined]
    assert dossier_of(row).flags == {"ren_expert"}
    row.flags.discard("ren_expert")  # type: ignore[attr-defined]  # a mutable set, in place
    assert dossier_of(row).flags == frozenset()
    row.state, row.version, row.history = d.state, d.version, d.history  # type: ignore[attr-defined]  # reloaded
    assert dossier_of(row).state == "etude_devis" and dossier_of(row).version == 0
    row.version = -1  # type: ignore[attr-defined]
    with pytest.raises(BoundValueError, match="version"):
        dossier_of(row)


def test_a_copy_of_a_bound_object_is_bound_and_moves_on_its_own() -> None:
    _, row = _bound()
    twin = copy.deepcopy(row)
    assert binder_of(twin) is binder_of(row)
    twin.to_devis_demande_info(actor=HANDLER, at=T0)  # type: ignore[attr-defined]
    assert (twin.state, row.state) == ("devis_demande_info", "etude_devis")
    assert copy.copy(row).state == "etude_devis"


# -- callbacks ------------------------------------------------------------------------


def test_hooks_receive_the_effects_of_the_move() -> None:
    order: list[str] = []

    class Service:
        def __init__(self) -> None:
            self.relaunched: list[SurveyorRelaunch] = []
            self.anomalies: list[SinappsAnomaly] = []

        def after(self, change: Change) -> None:
            order.append(f"after {change.target}")
            for effect in change.effects:
                if isinstance(effect, SurveyorRelaunch):
                    self.relaunched.append(effect)
                elif isinstance(effect, SinappsAnomaly):
                    self.anomalies.append(effect)

    service = Service()
    d = _value(channel="sinapps")
    row = Binder(WF, after=service.after).load(Row(d.id, d.state), d)
    at = T0 + timedelta(hours=1)
    expected = WF.move(d, "demande_traitement_devis", actor=HANDLER, at=at)
    change = row.to_demande_traitement_devis(actor=HANDLER, at=at)  # type: ignore[attr-defined]
    assert change.effects == expected.effects and len(change.effects) == 1
    assert row.entered == [change] and row.left == ["demande_traitement_devis"]
    assert service.relaunched == list(expected.effects)
    assert order == ["after demande_traitement_devis"]
    # a wait on a Sinapps file: the anomaly to report
    row.trigger("attente_cie", actor=HANDLER, at=at, comment="c", due=at + timedelta(days=2))  # type: ignore[attr-defined]
    assert [a.state for a in service.anomalies] == ["attente_cie"]


def test_a_chase_past_the_deadline_carries_the_complaint_in_the_refusal() -> None:
    d, row = _bound()
    late = T0 + timedelta(days=5)
    expected = _refusal(lambda: WF.move(d, "demande_traitement_devis", actor=HANDLER, at=late))
    got = _refusal(lambda: row.to_demande_traitement_devis(actor=HANDLER, at=late))  # type: ignore[attr-defined]
    assert got.rules == ("deadline_passed",) and got.violations == expected.violations
    assert got.effects == expected.effects
    assert [type(e) for e in got.effects] == [ComplaintToOpen]
    assert row.entered == [] and row.state == "etude_devis"


def test_the_order_of_hooks_and_what_they_see() -> None:
    seen: list[tuple[str, str, int]] = []

    class Watched:
        def __init__(self) -> None:
            self.id, self.state = "W", "etude_devis"

        def on_exit_etude_devis(self, change: Change) -> None:
            seen.append(("exit", self.state, self.version))  # type: ignore[attr-defined]

        def on_enter_devis_demande_info(self, change: Change) -> None:
            seen.append(("enter", self.state, self.version))  # type: ignore[attr-defined]

    def after(change: Change) -> None:
        seen.append(("after", change.obj.state, change.obj.version))

    w = Binder(WF, after=[after]).bind(Watched())
    w.to_devis_demande_info(actor=HANDLER, at=T0)  # type: ignore[attr-defined]
    # every hook sees the object already moved (written at once, before any hook)
    assert seen == [
        ("exit", "devis_demande_info", 1),
        ("enter", "devis_demande_info", 1),
        ("after", "devis_demande_info", 1),
    ]


def test_a_coroutine_hook_needs_an_asynchronous_binder() -> None:
    async def after(change: Change) -> None:
        return None

    class Async:
        def __init__(self) -> None:
            self.id, self.state = "A", "etude_devis"

        async def on_enter_devis_demande_info(self, change: Change) -> None:
            return None

    with pytest.raises(BindingError, match="asynchronous=True"):
        Binder(WF, after=after)
    with pytest.raises(BindingError, match="asynchronous=True"):
        WF.bind(Async())
    # a plain function that returns an awaitable is only caught when it returns it

    def sneaky(change: Change) -> Any:
        return after(change)

    row = Binder(WF, after=sneaky).bind(Row("R", "etude_devis"))
    with pytest.raises(BindingError, match="asynchronous=True"):
        row.to_devis_demande_info(actor=HANDLER, at=T0)  # type: ignore[attr-defined]


# -- the shared machine ---------------------------------------------------------------


def test_one_machine_per_workflow_built_from_its_move_table() -> None:
    machine = machine_of(WF)
    row = WF.bind(Row("R", "etude_devis"))
    other = Binder(WF, names=Names()).bind(Row("R2", "etude_devis"))
    assert binder_of(row).machine is machine is binder_of(other).machine
    assert machine.models == []  # no object is add_model-ed: nothing kept alive
    table = {(s.code, t) for s in WF.catalogue for t in WF.targets(s.code)}
    assert transition_table(machine) == table
    assert {(s, t) for s in machine.states for t in machine.get_triggers(s)} == table
    assert not machine.auto_transitions and machine.model_override


def test_transitions_markup_and_graph_agree_with_the_diagrams() -> None:
    table = transition_table(machine_of(WF))
    drawn = model(WF.catalogue).expanded()
    assert {(t["source"], t["dest"]) for t in markup(WF)["transitions"]} == table == drawn
    graph = GraphMachine(
        states=list(machine_of(WF).states),
        transitions=[{"trigger": t, "source": s, "dest": t} for s, t in sorted(table)],
        initial=machine_of(WF).initial,
        auto_transitions=False,
        graph_engine="mermaid",
    )
    text = graph.get_graph().draw(None)
    edges = set(re.findall(r"^  (\w+) --> (\w+): (\w+)$", text, re.M))
    assert {(s, t) for s, t, _ in edges} == table
    assert all(trigger == t for _, t, trigger in edges)


def test_importing_and_building_the_default_workflow_does_not_import_binding() -> None:
    code = (
        "import sys; from etatmachine import Workflow; Workflow.default(); "
        "print('etatmachine.binding' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- threads and asyncio --------------------------------------------------------------


def test_threads_moving_one_object_never_lose_a_change() -> None:
    _, row = _bound()
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        for _ in range(25):
            try:
                row.record_contact_attempt(actor=HANDLER, at=T0)  # type: ignore[attr-defined]
                outcomes.append("ok")
            except VersionConflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = outcomes.count("ok")
    assert len(outcomes) == 200 and made >= 1
    assert row.version == made == row.contact_attempts  # type: ignore[attr-defined]
    assert len(row.history) == made + 1  # type: ignore[attr-defined]


def test_threads_moving_different_objects_share_the_machine() -> None:
    rows = [WF.bind(Row(f"R{i}", "etude_devis")) for i in range(16)]

    def walk(row: Row) -> None:
        at = T0
        for target in ("devis_demande_info", "devis_reponse_metreur", "devis_demande_info"):
            at += timedelta(minutes=5)
            row.trigger(target, actor=HANDLER, at=at)  # type: ignore[attr-defined]

    threads = [threading.Thread(target=walk, args=(row,)) for row in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {(r.state, r.version) for r in rows} == {("devis_demande_info", 3)}


def test_an_asynchronous_binder_awaits_its_hooks() -> None:
    log: list[str] = []

    class AsyncRow:
        def __init__(self) -> None:
            self.id, self.state, self.channel = "A", "etude_devis", "sinapps"

        async def on_enter_attente_cie(self, change: Change) -> None:
            await asyncio.sleep(0)
            log.append(f"enter {[e.kind for e in change.effects]}")

    async def after(change: Change) -> None:
        await asyncio.sleep(0)
        log.append(f"after {change.kind}")

    async def main() -> Any:
        row = WF.bind(AsyncRow(), after=after, asynchronous=True)
        change = await row.to_attente_cie(
            actor=HANDLER, at=T0, comment="c", due=T0 + timedelta(days=2)
        )
        assert change.target == "attente_cie" and row.state == "attente_cie"
        await row.reschedule(T0 + timedelta(days=4), actor=HANDLER, at=T0)
        await row.record_contact_attempt(actor=HANDLER, at=T0)
        with pytest.raises(MoveRefused):
            await row.to_travaux_termines(actor=HANDLER, at=T0)
        assert row.may_to_etude_devis(actor=HANDLER, at=T0) is True
        return row

    row = asyncio.run(main())
    assert log == [
        "enter ['sinapps_anomaly']",
        "after move",
        "after reschedule",
        "after contact_attempt",
    ]
    assert row.version == 3 and row.contact_attempts == 1
    assert binder_of(row).machine is not machine_of(WF)  # the shared AsyncMachine


def test_concurrent_tasks_on_one_object_take_turns() -> None:
    """AsyncMachine alone would cancel a running move's hooks when the next one passes."""
    hooks_done: list[int] = []

    class Slow:
        def __init__(self) -> None:
            self.id, self.state = "S", "etude_devis"

    async def after(change: Change) -> None:
        await asyncio.sleep(0.01)
        hooks_done.append(change.dossier.version)

    async def main() -> Any:
        row = WF.bind(Slow(), after=after, asynchronous=True)
        at = T0 + timedelta(minutes=1)
        await asyncio.gather(
            row.to_devis_demande_info(actor=HANDLER, at=at),
            row.to_devis_reponse_metreur(actor=HANDLER, at=at),
            row.record_contact_attempt(actor=HANDLER, at=at),
        )
        return row

    row = asyncio.run(main())
    assert hooks_done == [1, 2, 3]
    assert [e.target for e in row.history] == [
        "devis_demande_info",
        "devis_reponse_metreur",
        "devis_reponse_metreur",
    ]


# -- both paths on the same random walks ----------------------------------------------


def _gap() -> st.SearchStrategy[timedelta]:
    return st.one_of(
        st.integers(0, 180).map(lambda m: timedelta(minutes=m)),
        st.integers(1, 60).map(lambda h: timedelta(hours=h)),
        st.integers(1, 30).map(lambda n: timedelta(days=n)),
        st.integers(1, 120).map(lambda m: -timedelta(minutes=m)),  # out of order: refused
    )


def _same(attempt_value: Any, attempt_bound: Any, row: Any, before: Dossier) -> Dossier:
    """Run a change on both paths; compare state, due date, history and violations."""
    snapshot = dict(vars(row))
    refused: MoveRefused | None = None
    try:
        expected = attempt_value()
    except MoveRefused as exc:
        refused = exc
    if refused is not None:
        event("refused")
        got = _refusal(attempt_bound)
        assert got.violations == refused.violations and got.effects == refused.effects
        assert vars(row) == snapshot and dossier_of(row) == before
        return before
    event("accepted")
    change = attempt_bound()
    after: Dossier = expected.dossier
    assert (row.state, row.due_at, row.version) == (after.state, after.due_at, after.version)
    assert row.history == after.history and dossier_of(row) == after
    assert change.effects == expected.effects
    return after


@given(walk=move_sequences(max_moves=6), data=st.data())
def test_the_bound_and_the_value_paths_agree_on_random_walks(
    walk: Any, data: st.DataObject
) -> None:
    # the walk's accepted steps (moves, waits and their resumes, contact attempts)
    row = bound_copy(WF, walk.dossiers[0])
    for step, expected in zip(walk.steps, walk.dossiers[1:], strict=True):
        change = step.apply_bound(row)
        assert dossier_of(row) == expected and change.dossier == expected
    # then random steps from its end: allowed or any target, reschedules, contact attempts
    d = walk.end
    for _ in range(data.draw(st.integers(1, 6), label="steps")):
        assert d.last_at is not None
        at = (d.last_at + data.draw(_gap(), label="gap")).astimezone(PARIS)
        kind = data.draw(st.sampled_from(["allowed", "any", "reschedule", "attempt"]))
        actor = data.draw(actors(), label="actor")
        if kind == "reschedule":
            due = at + timedelta(days=data.draw(st.integers(1, 30)))
            d = _same(
                lambda: WF.reschedule(d, due, actor=actor, at=at),  # noqa: B023
                lambda: binder_of(row).reschedule(row, due, actor=actor, at=at),  # noqa: B023
                row,
                d,
            )
            continue
        if kind == "attempt" or WF.catalogue.state(d.state).terminal:
            step = MoveInputs(d.state, actor, at, kind="contact_attempt")
        elif kind == "allowed" and (targets := allowed_targets(WF, d, at)):
            step = data.draw(move_inputs(WF, d, data.draw(st.sampled_from(targets)), at))
        else:
            target = data.draw(st.sampled_from([s.code for s in WF.catalogue]), label="to")
            step = data.draw(move_inputs(WF, d, target, at)).with_actor(actor)
        d = _same(lambda: step.apply(WF, d), lambda: step.apply_bound(row), row, d)  # noqa: B023
