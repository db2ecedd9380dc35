"""Bad input of every kind: each is refused with the exact error type and message.

What `tests/test_rules.py`, `tests/test_catalogue.py` and `tests/test_legacy.py` already
cover (rule refusals, catalogue fields at fault, binary garbage and a 10 MB line through the
legacy parser, code never executed by a catalogue load) is referenced in
``docs/reliability.md``, not repeated here; these tests pin the whole messages.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies import tiny_catalogue

from etatmachine import (
    Actor,
    CatalogueError,
    Dossier,
    MoveRefused,
    NaiveDatetimeError,
    Role,
    UnknownStateError,
    Workflow,
)
from etatmachine.business_calendar import PARIS
from etatmachine.catalogue import default_catalogue, load_catalogue, parse_catalogue

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
AT = datetime(2024, 3, 4, 9, tzinfo=PARIS)
NAIVE = datetime(2024, 3, 4, 9)


def _dossier(state: str = "contact_client_devis") -> Dossier:
    return WF.open("D-1", state, actor=HANDLER, at=AT, mid_flow=True).dossier


def _error(fn: Any, *args: Any, **kwargs: Any) -> BaseException:
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is asserted exactly
        fn(*args, **kwargs)
    return info.value


# --- states and labels ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("etude_devix", "unknown state 'etude_devix'; closest: etude_devis"),
        (
            "Attente du facteur lunaire",
            "unknown state 'Attente du facteur lunaire'; "
            "closest: attente_fourniture, attente_retour_prestataire",
        ),
    ],
    ids=["code", "label"],
)
def test_move_to_an_unknown_state_code_or_label(to: str, message: str) -> None:
    """A move to an unknown code or label: UnknownStateError with the closest codes."""
    err = _error(WF.move, _dossier(), to, actor=HANDLER, at=AT)
    assert type(err) is UnknownStateError and str(err) == message
    assert isinstance(err, LookupError)


def test_dossier_in_an_unknown_state_cannot_move() -> None:
    """A stored dossier whose state the catalogue lacks: UnknownStateError, not KeyError."""
    stray = Dossier(id="D-2", state="nulle_part", due_at=None)
    err = _error(WF.move, stray, "etude_devis", actor=HANDLER, at=AT)
    assert type(err) is UnknownStateError
    assert str(err) == "unknown state 'nulle_part'; closest: attente_expert"


# --- datetimes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: WF.open("D-3", actor=HANDLER, at=NAIVE),
        lambda: WF.allowed_moves(_dossier(), actor=HANDLER, at=NAIVE),
        lambda: WF.record_contact_attempt(_dossier(), actor=HANDLER, at=NAIVE),
        lambda: WF.explain(_dossier(), "etude_devis", actor=HANDLER, at=NAIVE),
    ],
    ids=["open", "allowed_moves", "record_contact_attempt", "explain"],
)
def test_naive_datetime_everywhere(call: Any) -> None:
    """A naive ``at`` in any entry point: NaiveDatetimeError quoting the value."""
    err = _error(call)
    assert type(err) is NaiveDatetimeError and isinstance(err, ValueError)
    assert str(err) == (
        "at must be timezone-aware (e.g. Europe/Paris), "
        "got naive datetime.datetime(2024, 3, 4, 9, 0)"
    )


def test_contact_attempt_dated_before_the_last_change() -> None:
    """A contact attempt earlier than the last history entry: MoveRefused out_of_order."""
    err = _error(WF.record_contact_attempt, _dossier(), actor=HANDLER, at=AT - timedelta(hours=1))
    assert type(err) is MoveRefused
    assert str(err) == (
        "dossier D-1: move contact_client_devis -> contact_client_devis refused (out_of_order): "
        "[out_of_order] at 2024-03-04T08:00:00+01:00 is earlier than the file's last change "
        "(2024-03-04T09:00:00+01:00)."
    )


# --- the move's inputs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "comment", "data", "message"),
    [
        (
            "attente_sechage",
            "   ",
            {"humidity": 60},
            "refused (comment_required): [comment_required] 'attente_sechage' is a wait: "
            "it must be justified by a non-blank comment.",
        ),
        (
            "attente_sechage",
            "TH",
            {"humidity": 140},
            "refused (data_required): [data_required] 'attente_sechage': data field humidity "
            "is invalid: must be between 0 and 100, got 140.",
        ),
        (
            "attente_sechage",
            "TH",
            {"humidity": "abc"},
            "refused (data_required): [data_required] 'attente_sechage': data field humidity "
            "is invalid: not a number: 'abc'.",
        ),
    ],
    ids=["blank-comment", "humidity-140", "humidity-abc"],
)
def test_bad_move_inputs(to: str, comment: str, data: dict[str, Any], message: str) -> None:
    """Blank comment on a wait, humidity 140 or "abc": MoveRefused, the whole message."""
    err = _error(
        WF.move,
        _dossier(),
        to,
        actor=HANDLER,
        at=AT,
        comment=comment,
        due=AT + timedelta(days=3),
        data=data,
    )
    assert type(err) is MoveRefused
    assert str(err) == f"dossier D-1: move contact_client_devis -> {to} {message}"


def test_negative_attempts_count() -> None:
    """A dossier with a negative contact-attempts count does not validate; a count passed
    with a move is not read (attempts are facts of the trail): 0 recorded, refused."""
    with pytest.raises(ValidationError) as info:
        Dossier(id="D-4", state="contact_client_devis", due_at=None, contact_attempts=-1)
    (problem,) = info.value.errors()
    assert (problem["loc"], problem["msg"]) == (
        ("contact_attempts",),
        "Input should be greater than or equal to 0",
    )
    err = _error(
        WF.move,
        _dossier(),
        "client_injoignable",
        actor=HANDLER,
        due=AT + timedelta(days=3),
        at=AT,
        comment="nrp",
        data={"attempts": -1},
    )
    assert type(err) is MoveRefused
    assert str(err) == (
        "dossier D-1: move contact_client_devis -> client_injoignable refused "
        "(contact_attempts_required): [contact_attempts_required] 'client_injoignable' needs "
        "at least 3 contact attempts first (0 recorded)."
    )


# --- malformed catalogue files -----------------------------------------------------------


def _tiny() -> dict[str, Any]:
    return tiny_catalogue({"start": ["middle"], "middle": ["end"]})


def _wrong_type(d: dict[str, Any]) -> None:
    d["states"][0]["deadline"]["amount"] = "vingt-quatre"


def _missing_field(d: dict[str, Any]) -> None:
    del d["states"][1]["label"]


def _unknown_target(d: dict[str, Any]) -> None:
    d["states"][1]["moves"].append({"to": "nulle_part"})


def _cycle_without_exit(d: dict[str, Any]) -> None:
    # start -> middle <-> loop, start -> end: middle and loop can never end
    d["states"][0]["moves"] = [{"to": "middle"}, {"to": "end"}]
    d["states"][1]["moves"] = [{"to": "loop"}]
    d["states"].insert(2, {**copy.deepcopy(d["states"][1]), "code": "loop", "label": "Loop"})
    d["states"][2]["moves"] = [{"to": "middle"}]


def _duplicate_code(d: dict[str, Any]) -> None:
    d["states"].append(copy.deepcopy(d["states"][1]))


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            _wrong_type,
            "state 'start', field 'deadline.amount': Input should be a valid integer",
        ),
        (_missing_field, "state 'middle', field 'label': Field required"),
        (_unknown_target, "state 'middle', field 'moves[1].to': unknown state 'nulle_part'"),
        (
            _cycle_without_exit,
            "state 'middle', field 'moves': a cycle with no way to a terminal state",
        ),
        (_duplicate_code, "state 'middle', field 'code': duplicate state code"),
    ],
    ids=["wrong-type", "missing-field", "unknown-target", "cycle-no-exit", "duplicate-code"],
)
def test_malformed_catalogue(breakage: Any, message: str, tmp_path: Path) -> None:
    """Broken catalogue data, as JSON: CatalogueError naming file, state and field."""
    data = _tiny()
    parse_catalogue(data)  # valid before the breakage
    breakage(data)
    path = tmp_path / "cat.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    err = _error(load_catalogue, path)
    assert type(err) is CatalogueError and isinstance(err, ValueError)
    assert str(err) == f"file {path}, {message}"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "bad.toml",
            "name = 'x'\n[[states]\n",
            "invalid TOML: Expected ']]' at the end of an array declaration (at line 2, column 9)",
        ),
        ("bad.json", '{"name": ', "invalid JSON: Expecting value: line 1 column 10 (char 9)"),
    ],
    ids=["invalid-toml", "invalid-json"],
)
def test_undecodable_catalogue(name: str, text: str, message: str, tmp_path: Path) -> None:
    """Invalid TOML or JSON: CatalogueError with the decoder's position."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    err = _error(load_catalogue, path)
    assert type(err) is CatalogueError
    assert str(err) == f"file {path}: {message}"


# --- round trips -------------------------------------------------------------------------


@st.composite
def _walks(draw: st.DrawFn) -> Dossier:
    """A dossier after a random walk of accepted moves (attributes drawn too)."""
    d = WF.open(
        draw(st.text(alphabet="ABCD-0123456789", min_size=1, max_size=8)),
        "contact_client_devis",
        actor=HANDLER,
        at=AT,
        mid_flow=True,
        insurer=draw(st.sampled_from([None, "MAIF", "BPCE", "ALLIANZ"])),
        channel=draw(st.sampled_from([None, "sinapps", "darva"])),
        flags=draw(st.sets(st.sampled_from(["ren_expert", "vip"]))),
    ).dossier
    at = AT
    for _ in range(draw(st.integers(0, 8))):
        at += timedelta(minutes=draw(st.integers(0, 3000)))
        if draw(st.booleans()):
            d = WF.record_contact_attempt(d, actor=HANDLER, at=at, comment="appel").dossier
            continue
        allowed = [v.target for v in WF.allowed_moves(d, actor=HANDLER, at=at) if v.allowed]
        if not allowed:
            break
        target = draw(st.sampled_from(allowed))
        moved, _ = WF.record(
            d,
            target,
            actor=HANDLER,
            at=at,
            comment=draw(st.sampled_from(["attente justifiée", "éàç «»", "x"])),
            due=at + timedelta(days=3),
            data={"humidity": 55, "appointment_at": at + timedelta(days=2), "confirmed": True},
        )
        d = moved.dossier
    return d


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_walks())
def test_dossier_json_round_trip(dossier: Dossier) -> None:
    """Any dossier reached by moves reads back from JSON equal, and re-dumps identically."""
    text = dossier.to_json()
    back = Dossier.from_json(text)
    assert back == dossier and back.to_json() == text
    assert Dossier.model_validate(dossier.model_dump()) == dossier


@st.composite
def _catalogues(draw: st.DrawFn) -> dict[str, Any]:
    """A valid catalogue: a chain of states with drawn deadlines, rules and extra moves."""
    n = draw(st.integers(2, 6))
    codes = [f"s{i}" for i in range(n)]
    states: list[dict[str, Any]] = []
    for i, code in enumerate(codes):
        deadline = draw(
            st.sampled_from(
                [
                    {"kind": "business_hours", "amount": 24},
                    {"kind": "business_days", "amount": 5},
                    {"kind": "calendar_days", "amount": 15},
                    {"kind": "given", "overridable": True},
                    {"kind": "inherit"},
                ]
            )
        )
        extra_moves = draw(st.sets(st.sampled_from(codes))) - {code}
        states.append(
            {
                "code": code,
                "label": f"État {code} « {draw(st.text(alphabet='abcé ', max_size=5))} »",
                "phase": "p",
                "owner": draw(st.sampled_from(["contractor", "case_handler"])),
                "meaning": "m",
                "meaning_en": "m",
                "deadline": deadline,
                "initial": i == 0,
                "rules": draw(st.sampled_from([[], [{"code": "comment_required"}]])),
                "moves": [{"to": t} for t in sorted({codes[i + 1] if i + 1 < n else "end"})]
                + [{"to": t, "why": "drawn"} for t in sorted(extra_moves)],
            }
        )
    states.append(
        {
            "code": "end",
            "label": "Fin",
            "phase": "p",
            "kind": "terminal",
            "meaning": "m",
            "meaning_en": "m",
            "deadline": {"kind": "none"},
        }
    )
    return {
        "name": "drawn",
        "version": str(draw(st.integers(1, 99))),
        "phases": [{"code": "p", "label": "P", "description": "p"}],
        "states": states,
    }


@settings(max_examples=60, deadline=None)
@given(_catalogues())
def test_catalogue_export_import_round_trip(data: dict[str, Any]) -> None:
    """Any valid catalogue exports (`to_dict`) and re-imports to the same export."""
    cat = parse_catalogue(data)
    exported = cat.to_dict()
    again = parse_catalogue(json.loads(json.dumps(exported)))
    assert again.to_dict() == exported
    assert [s.code for s in again] == [s.code for s in cat]
    assert all(again.moves_from(s.code) == cat.moves_from(s.code) for s in cat)


def test_bundled_catalogue_export_import_round_trip() -> None:
    """The bundled procedure exports and re-imports to an equal export."""
    exported = default_catalogue().to_dict()
    assert parse_catalogue(exported).to_dict() == exported
