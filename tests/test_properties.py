"""Property tests of the workflow, built on `etatmachine.testing` (see tests/strategies.py).

The strategies make *allowed* moves with valid inputs, so a refusal anywhere in a walk is
a bug; the state machine adds forbidden moves and checks that they change nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    BrokenCatalogue,
    Walk,
    WorkflowStateMachine,
    actors,
    broken_catalogues,
    business_instants,
    dossiers,
    label_spellings,
    legacy_histories,
    move_inputs,
    move_sequences,
)

from etatmachine import Actor, CatalogueError, Dossier, MoveRefused, Role, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.catalogue import default_catalogue, parse_catalogue
from etatmachine.labels import resolve
from etatmachine.rules import RULES

WF = Workflow.default()
CODES = [s.code for s in WF.catalogue]


@given(move_sequences(max_moves=12))
def test_walks_over_allowed_moves_are_accepted_and_stay_in_the_catalogue(walk: Walk) -> None:
    for version, d in enumerate(walk.dossiers):
        assert d.state in WF.catalogue
        assert d.version == version and len(d.history) == version + 1
        assert d.history[-1].target == d.state
    assert walk.replay() == walk.end


@given(dossiers(max_moves=8), st.data())
def test_a_refused_move_never_mutates(d: Dossier, data: st.DataObject) -> None:
    snapshot = d.model_copy(deep=True)
    text = d.to_json()
    assert d.last_at is not None
    at = d.last_at + timedelta(minutes=7 * data.draw(st.integers(-3000, 3000)))
    junk = st.dictionaries(st.sampled_from(["humidity", "appointment_at"]), st.integers(-5, 150))
    refused: MoveRefused | None = None
    try:
        WF.move(
            d,
            data.draw(st.sampled_from(CODES)),
            actor=data.draw(actors()),
            at=at,
            comment=data.draw(st.none() | st.just("")),
            data=data.draw(junk),
        )
    except MoveRefused as exc:
        refused = exc
    if refused is not None:
        assert refused.violations and all(v.rule in RULES for v in refused.violations)
    assert d == snapshot and d.to_json() == text and len(d.history) == d.version + 1


@given(dossiers(max_moves=10))
def test_json_round_trip_is_lossless(d: Dossier) -> None:
    assert Dossier.from_json(d.to_json()) == d
    assert Dossier.from_json(d.to_json()).to_json() == d.to_json()


TestWorkflow = WorkflowStateMachine.TestCase
TestWorkflow.settings = settings(stateful_step_count=12)


@given(dossiers(max_moves=8), st.sampled_from(list(Role)), st.data())
def test_allowed_moves_agrees_with_move(d: Dossier, role: Role, data: st.DataObject) -> None:
    assert d.last_at is not None
    at = d.last_at + timedelta(minutes=data.draw(st.integers(0, 3000)))
    actor = Actor(role=role, id="995")
    verdicts = WF.allowed_moves(d, actor=actor, at=at)
    assert [v.target for v in verdicts] == sorted(WF.targets(d.state))
    verdict = data.draw(st.sampled_from(verdicts)) if verdicts else None
    if verdict is not None:
        inputs = data.draw(move_inputs(WF, d, verdict.target, at)).with_actor(actor)
        if verdict.allowed:
            moved = inputs.apply(WF, d).dossier
            assert moved.state == verdict.target
        else:
            with pytest.raises(MoveRefused) as refused:
                inputs.apply(WF, d)
            assert {v.rule for v in verdict.violations} <= set(refused.value.rules)
    outside = [c for c in CODES if c not in WF.targets(d.state)]
    target = data.draw(st.sampled_from(outside))
    inputs = data.draw(move_inputs(WF, d, target, at)).with_actor(actor)
    with pytest.raises(MoveRefused) as refused:
        inputs.apply(WF, d)
    assert "move_not_allowed" in refused.value.rules


@given(broken_catalogues())
def test_the_catalogue_check_names_state_and_field(broken: BrokenCatalogue) -> None:
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(broken.data)
    assert (err.value.state, err.value.field) == (broken.state, broken.field), broken.defect


def test_the_unbroken_export_parses_back() -> None:
    again = parse_catalogue(default_catalogue().to_dict())
    assert [s.code for s in again] == CODES
    assert again.move_count == WF.catalogue.move_count


@given(business_instants())
def test_business_instants_fall_on_business_days(at: datetime) -> None:
    assert at.tzinfo is not None and at.utcoffset() is not None
    assert WF.calendar().is_business_day(at.astimezone(PARIS).date())


def test_history_spellings_resolve_to_their_state() -> None:
    spellings = dict(label_spellings(WF))
    for written, code in [
        ("PT - Devis - demande info complémentaire", "devis_demande_info"),
        ("client injoignable", "client_injoignable"),
        ("Etude de devis.", "etude_devis"),
        ("DEVIS - Réponse vers mètreur", "devis_reponse_metreur"),
    ]:
        assert spellings.get(written) == code
        assert resolve(written).code == code
    from etatmachine.testing import _spellings

    for spec in WF.catalogue:
        if spec.resolvable:
            for label in (spec.label, *spec.aliases):
                for written in _spellings(label, spec):
                    assert resolve(written).code == spec.code, written


@given(legacy_histories())
def test_valid_legacy_text_parses_as_generated(history: Any) -> None:
    legacy = pytest.importorskip("etatmachine.legacy")
    parsed = legacy.parse_text(history.text)
    assert parsed.problems == ()
    assert len(parsed.etats) == len(history.etats)
    for got, want in zip(parsed.etats, history.etats, strict=True):
        assert (got.label, got.n, got.comment) == (want.label, want.n, want.comment)
        wall = got.due_at.astimezone(PARIS).replace(tzinfo=None)
        assert wall == want.due_at.replace(tzinfo=None)
        assert (got.set_on, got.set_number) == (want.set_on, want.set_number)
        assert (got.humidity, got.week) == (want.humidity, want.week)
        assert got.author is not None and got.author.user_id == want.author_id
        assert resolve(got.label).code == want.state


@given(legacy_histories(noisy=True))
def test_noisy_legacy_text_never_breaks_the_parser(history: Any) -> None:
    legacy = pytest.importorskip("etatmachine.legacy")
    parsed = legacy.parse_text(history.text)
    lines = legacy.split_lines(history.text)
    assert "\n".join(r.raw for r in parsed.records) == "\n".join(lines)


# --- library bugs these strategies found, pinned now that they are fixed -----------------------

T0 = datetime(2023, 1, 4, 9, tzinfo=PARIS)
CONTRACTOR = Actor(role=Role.CONTRACTOR, id="995")
HANDLER = Actor(role=Role.CASE_HANDLER, id="gr")


def test_delivery_week_53_of_a_52_week_year_is_a_violation_not_a_crash() -> None:
    d = WF.open("D", "contact_client_travaux", actor=HANDLER, at=T0, mid_flow=True).dossier
    found = WF.explain(
        d, "attente_fourniture", actor=CONTRACTOR, at=T0, comment="x", data={"delivery_week": 53}
    )
    assert [v.rule for v in found] == ["data_required"]


def test_appointment_limit_does_not_depend_on_how_the_datetime_is_passed() -> None:
    at = datetime(2023, 3, 25, 10, tzinfo=PARIS)  # the clocks change on the 26th
    d = WF.open("D", actor=CONTRACTOR, at=at).dossier
    when = datetime(2023, 4, 1, 10, 30, tzinfo=PARIS)  # 6 days 23h30 of real time later
    as_object = WF.explain(
        d, "premiere_visite", actor=CONTRACTOR, at=at, data={"appointment_at": when}
    )
    as_text = WF.explain(
        d, "premiere_visite", actor=CONTRACTOR, at=at, data={"appointment_at": when.isoformat()}
    )
    assert as_object == as_text


def test_json_round_trip_with_a_nan_datum() -> None:
    d = WF.open("D", actor=CONTRACTOR, at=T0, data={"note": float("nan")}).dossier
    assert d.history[0].data["note"] == "nan"
    assert Dossier.from_json(d.to_json()) == d


def test_allowed_moves_and_move_agree_on_contact_attempts() -> None:
    d = WF.open("D", actor=CONTRACTOR, at=T0).dossier
    for _ in range(2):
        verdict = next(
            v
            for v in WF.allowed_moves(d, actor=CONTRACTOR, at=T0)
            if v.target == "client_injoignable"
        )
        assert not verdict.allowed
        with pytest.raises(MoveRefused):
            WF.move(
                d, "client_injoignable", actor=CONTRACTOR, at=T0, comment="x", data={"attempts": 3}
            )
        d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=T0).dossier
    d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=T0).dossier
    verdict = next(
        v for v in WF.allowed_moves(d, actor=CONTRACTOR, at=T0) if v.target == "client_injoignable"
    )
    assert verdict.allowed and verdict.needs == ("comment", "due")
    due = T0 + timedelta(days=2)
    assert WF.move(d, "client_injoignable", actor=CONTRACTOR, at=T0, comment="x", due=due).dossier
