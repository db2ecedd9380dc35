"""The project's own strategies: the public ones of `etatmachine.testing`, plus broken
catalogues for the catalogue check (only this project needs those)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from etatmachine.catalogue import default_catalogue
from etatmachine.testing import (
    MoveInputs,
    Walk,
    WorkflowStateMachine,
    actors,
    allowed_targets,
    business_instants,
    dossiers,
    label_spellings,
    legacy_histories,
    legacy_history_text,
    move_inputs,
    move_sequences,
    roles_for,
)

__all__ = [
    "BrokenCatalogue",
    "MoveInputs",
    "Walk",
    "WorkflowStateMachine",
    "actors",
    "allowed_targets",
    "broken_catalogues",
    "business_instants",
    "dossiers",
    "label_spellings",
    "legacy_histories",
    "legacy_history_text",
    "move_inputs",
    "move_sequences",
    "roles_for",
    "tiny_catalogue",
]


@dataclass(frozen=True)
class BrokenCatalogue:
    """Catalogue data with one defect, and where `CatalogueError` must point."""

    data: dict[str, Any]
    defect: str
    state: str
    field: str


def _base() -> dict[str, Any]:
    return copy.deepcopy(default_catalogue().to_dict())


def _targeted(data: dict[str, Any]) -> list[str]:
    return sorted({m["to"] for s in data["states"] for m in s["moves"]})


@st.composite
def _drop_targeted(draw: st.DrawFn) -> BrokenCatalogue:
    data = _base()
    gone = draw(st.sampled_from(_targeted(data)))
    data["states"] = [s for s in data["states"] if s["code"] != gone]
    # the first state (in file order) with a move to the dropped one is named
    for s in data["states"]:
        for i, m in enumerate(s["moves"]):
            if m["to"] == gone:
                return BrokenCatalogue(data, f"drop {gone}", s["code"], f"moves[{i}].to")
    raise AssertionError("unreachable: the dropped state was targeted")


@st.composite
def _duplicate(draw: st.DrawFn) -> BrokenCatalogue:
    data = _base()
    twin = copy.deepcopy(draw(st.sampled_from(data["states"])))
    data["states"].insert(draw(st.integers(0, len(data["states"]))), twin)
    first = next(s for s in data["states"] if s["code"] == twin["code"])
    assert first is twin or first["code"] == twin["code"]
    return BrokenCatalogue(data, f"duplicate {twin['code']}", twin["code"], "code")


@st.composite
def _unknown_target(draw: st.DrawFn) -> BrokenCatalogue:
    data = _base()
    state = draw(st.sampled_from(data["states"]))
    name = draw(
        st.from_regex(r"\A[a-z][a-z0-9_]{2,20}\Z").filter(
            lambda n: all(s["code"] != n for s in data["states"])
        )
    )
    state["moves"].append({"to": name})
    return BrokenCatalogue(
        data, f"{state['code']} -> {name}", state["code"], f"moves[{len(state['moves']) - 1}].to"
    )


@st.composite
def _terminal_exit(draw: st.DrawFn) -> BrokenCatalogue:
    data = _base()
    terminals = [s for s in data["states"] if s.get("kind") == "terminal"]
    state = draw(st.sampled_from(terminals))
    # a terminal state may be reopened into a wait (a complaint): an exit to anything else
    not_waits = [s["code"] for s in data["states"] if s is not state and s.get("kind") != "wait"]
    state["moves"].append({"to": draw(st.sampled_from(not_waits))})
    return BrokenCatalogue(data, f"terminal {state['code']} exits", state["code"], "moves")


@st.composite
def _no_exit(draw: st.DrawFn) -> BrokenCatalogue:
    data = _base()
    open_ = [s for s in data["states"] if s.get("kind") != "terminal"]
    state = draw(st.sampled_from(open_))
    state["moves"] = []
    return BrokenCatalogue(data, f"no exit from {state['code']}", state["code"], "moves")


def broken_catalogues() -> st.SearchStrategy[BrokenCatalogue]:
    """The bundled catalogue (as `Catalogue.to_dict` exports it) with one defect."""
    return st.one_of(
        _drop_targeted(), _duplicate(), _unknown_target(), _terminal_exit(), _no_exit()
    )


def tiny_catalogue(moves: dict[str, list[str]]) -> dict[str, Any]:
    """A three-state catalogue as data: start (initial), middle, end (terminal), with the
    moves given by source code; tests break it on purpose."""

    def state(code: str, **extra: Any) -> dict[str, Any]:
        return {
            "code": code,
            "label": code.title(),
            "phase": "p",
            "owner": "contractor",
            "meaning": code,
            "meaning_en": code,
            "deadline": {"kind": "business_hours", "amount": 24},
            "moves": [{"to": t} for t in moves.get(code, [])],
            **extra,
        }

    return {
        "name": "tiny",
        "version": "1",
        "phases": [{"code": "p", "label": "P", "description": "p"}],
        "states": [
            state("start", initial=True),
            state("middle"),
            state("end", kind="terminal", owner=None, deadline={"kind": "none"}),
        ],
    }
