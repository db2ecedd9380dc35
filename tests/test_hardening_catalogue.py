"""Catalogues load in bounded time and memory, and every problem is found when loaded.

Issue 14's "Catalogues" section, one row per case, plus fuzzing: generated TOML and a
mutated bundled catalogue either load or raise `CatalogueError`, each within a time bound.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import tiny_catalogue

from etatmachine.catalogue import (
    MAX_CATALOGUE_BYTES,
    default_catalogue,
    load_catalogue,
    parse_catalogue,
)
from etatmachine.errors import CatalogueError

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "etatmachine" / "data" / "procedure.toml"
LOAD_SECONDS = 10.0
"""A generous bound per load (a 2-core machine shared with others): the broken loads took
forever (a FIFO, 2^40 group expansions), so any bound tells them apart."""


def _tiny() -> dict[str, Any]:
    return tiny_catalogue({"start": ["middle"], "middle": ["end"]})


def _raises(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> CatalogueError:
    started = time.perf_counter()
    with pytest.raises(CatalogueError) as info:
        fn(*args, **kwargs)
    assert time.perf_counter() - started < LOAD_SECONDS
    assert type(info.value) is CatalogueError
    return info.value


# --- groups ---------------------------------------------------------------------------------


def test_exponential_groups_expand_in_linear_time() -> None:
    """40 groups each naming the previous one twice (2^40 expansions before): loads at once,
    the move to the last group reaches its one state."""
    data = _tiny()
    data["groups"] = {"g0": ["middle"]} | {f"g{i}": [f"@g{i - 1}"] * 2 for i in range(1, 41)}
    data["states"][0]["moves"].append({"to": "@g40", "why": "w"})
    started = time.perf_counter()
    cat = parse_catalogue(data)
    assert time.perf_counter() - started < LOAD_SECONDS
    assert set(cat.moves_from("start")) == {"middle"}


@pytest.mark.parametrize(
    ("groups", "state", "field", "reason"),
    [
        ({"loop": ["@loop"]}, "groups.loop", "[0]", "group cycle through '@loop'"),
        ({"a": ["@b"], "b": ["middle", "@a"]}, "groups.b", "[1]", "group cycle through '@a'"),
        (
            {"unused": ["middle", "nulle_part"]},
            "groups.unused",
            "[1]",
            "unknown state 'nulle_part'",
        ),
        ({"unused": ["@nowhere"]}, "groups.unused", "[0]", "unknown group '@nowhere'"),
    ],
    ids=["self", "mutual", "unknown-state-unused", "unknown-group-unused"],
)
def test_broken_groups(groups: dict[str, list[str]], state: str, field: str, reason: str) -> None:
    """A group naming itself, two naming each other, an unused group with an unknown state or
    group: CatalogueError naming the group and the position (never a RecursionError)."""
    data = _tiny()
    data["groups"] = groups
    err = _raises(parse_catalogue, data)
    assert (err.state, err.field, err.reason) == (state, field, reason)


def test_a_deep_chain_of_groups_is_no_recursion_error() -> None:
    """5,000 groups each naming the next: expanded without recursion."""
    data = _tiny()
    data["groups"] = {f"g{i}": [f"@g{i + 1}"] for i in range(5000)} | {"g5000": ["middle"]}
    data["states"][0]["moves"].append({"to": "@g0"})
    assert set(parse_catalogue(data).moves_from("start")) == {"middle"}


# --- bounded loading ------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO named like a catalogue (reading it waited forever): CatalogueError."""
    fifo = tmp_path / "cat.toml"
    os.mkfifo(fifo)
    err = _raises(load_catalogue, fifo)
    assert (err.file, err.reason) == (str(fifo), "not a regular file")


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_devices_are_refused(path: str) -> None:
    """/dev/zero (exhausted memory) or /dev/null as a catalogue: CatalogueError."""
    if not Path(path).exists():
        pytest.skip(f"no {path}")
    assert _raises(load_catalogue, path).reason == "not a regular file"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    """A directory as a catalogue: CatalogueError, not IsADirectoryError."""
    err = _raises(load_catalogue, tmp_path)
    assert err.reason in {"not a regular file", "cannot read: Is a directory"}


def test_size_limit_is_documented_and_overridable(tmp_path: Path) -> None:
    """A file over the size limit: CatalogueError saying so; ``max_bytes`` raises the limit."""
    text = BUNDLED.read_text(encoding="utf-8")
    path = tmp_path / "big.toml"
    path.write_text(text + "\n" + "#" * (MAX_CATALOGUE_BYTES + 1) + "\n", encoding="utf-8")
    err = _raises(load_catalogue, path)
    assert err.reason.startswith("file too large (")
    assert "max_bytes" in err.reason
    assert len(load_catalogue(path, max_bytes=2 * MAX_CATALOGUE_BYTES)) == len(default_catalogue())
    assert _raises(load_catalogue, BUNDLED, max_bytes=1000).reason.startswith("file too large")


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000, "invalid TOML: nested too deeply"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply"),
        (
            "inline.toml",
            "a = " + "{b = " * 10_000 + "1" + "}" * 10_000,
            "invalid TOML: nested too deeply",
        ),
        ("shallow.json", '{"a": ' + "[" * 40 + "]" * 40 + "}", "nested deeper than 32 levels"),
        ("big.toml", "a = " + "9" * 5000, "invalid TOML: Exceeds the limit (4300 digits)"),
        ("big.json", '{"a": ' + "9" * 5000 + "}", "invalid JSON: Exceeds the limit (4300 digits)"),
        (
            "large.toml",
            "a = " + "9" * 100,
            "integer too large (more than 9007199254740992 in absolute value)",
        ),
    ],
    ids=[
        "deep-toml",
        "deep-json",
        "deep-inline-table",
        "depth-limit",
        "huge-int-toml",
        "huge-int-json",
        "large-int",
    ],
)
def test_depth_and_integer_limits(name: str, text: str, reason: str, tmp_path: Path) -> None:
    """100k-deep TOML/JSON (a RecursionError before), nesting past the limit, integers of
    5,000 digits or past 2^53: CatalogueError naming the file."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    err = _raises(load_catalogue, path)
    assert err.file == str(path) and err.reason.startswith(reason)


# --- checked when loaded --------------------------------------------------------------------


def _state(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in data["states"] if s["code"] == code)  # type: ignore[no-any-return]


def _with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = _tiny()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "state", "field", "reason"),
    [
        (
            lambda d: _state(d, "end").update(label="Middle"),
            "end",
            "label",
            "label 'Middle' resolves to both 'middle' and 'end'; mark one `resolvable = false`",
        ),
        (
            lambda d: _state(d, "end").update(label="Le middles !"),
            "end",
            "label",
            "label 'Le middles !' resolves to both 'middle' and 'end'; "
            "mark one `resolvable = false`",
        ),
        (
            lambda d: _state(d, "end").update(aliases=["MIDDLE."]),
            "end",
            "aliases[0]",
            "label 'MIDDLE.' resolves to both 'middle' and 'end'; mark one `resolvable = false`",
        ),
        (
            lambda d: d["phases"].append(copy.deepcopy(d["phases"][0])),
            "phases[1]",
            "code",
            "duplicate phase code 'p'",
        ),
        (
            lambda d: _state(d, "middle").update(
                rules=[{"code": "season_restricted", "start": "13-45", "end": "09-30"}]
            ),
            "middle",
            "rules.0.season_restricted.start",
            "'13-45' is not a month-day (MM-DD)",
        ),
        (
            lambda d: _state(d, "middle").update(
                rules=[{"code": "season_restricted", "start": "06-01", "end": "02-30"}]
            ),
            "middle",
            "rules.0.season_restricted.end",
            "'02-30' is not a month-day (MM-DD)",
        ),
        (
            lambda d: _state(d, "start").update(initial="yes"),
            "start",
            "initial",
            "Input should be a valid boolean",
        ),
        (
            lambda d: _state(d, "start").update(initial=1),
            "start",
            "initial",
            "Input should be a valid boolean",
        ),
        (
            lambda d: _state(d, "start")["deadline"].update(amount="24"),
            "start",
            "deadline.amount",
            "Input should be a valid integer",
        ),
        (
            lambda d: _state(d, "start")["deadline"].update(amount=24.0),
            "start",
            "deadline.amount",
            "Input should be a valid integer",
        ),
        (
            lambda d: _state(d, "start")["deadline"].update(amount=True),
            "start",
            "deadline.amount",
            "Input should be a valid integer",
        ),
        (
            lambda d: _state(d, "start")["deadline"].update(amount=10**9),
            "start",
            "deadline",
            "amount 1000000000 is too large for 'business_hours' (at most 8784)",
        ),
        (
            lambda d: _state(d, "middle").update(
                deadline={"kind": "calendar_days", "amount": 10**6}
            ),
            "middle",
            "deadline",
            "amount 1000000 is too large for 'calendar_days' (at most 3660)",
        ),
        (
            lambda d: _state(d, "middle").update(label="!!!"),
            "middle",
            "label",
            "label '!!!' has no word once normalised (only stop-words or punctuation): "
            "it would match any such text",
        ),
        (
            lambda d: _state(d, "middle").update(label="de la"),
            "middle",
            "label",
            "label 'de la' has no word once normalised (only stop-words or punctuation): "
            "it would match any such text",
        ),
    ],
    ids=[
        "duplicate-label",
        "label-collision",
        "alias-collision",
        "duplicate-phase",
        "season-13-45",
        "season-02-30",
        "initial-yes",
        "initial-1",
        "amount-str",
        "amount-float",
        "amount-bool",
        "amount-overflow",
        "days-overflow",
        "label-punctuation",
        "label-stop-words",
    ],
)
def test_checked_when_loaded(
    change: Callable[[dict[str, Any]], None], state: str, field: str, reason: str
) -> None:
    """Duplicate labels (also once normalised, and aliases), duplicate phase codes, seasons
    "13-45" or "02-30", initial "yes" or 1, amount "24", 24.0 or true, amounts that would
    overflow a due date, a label of stop-words or punctuation only: CatalogueError at load."""
    data = _with(change)
    err = _raises(parse_catalogue, data)
    assert (err.state, err.field, err.reason) == (state, field, reason)


def test_a_shared_label_marked_unresolvable_is_fine() -> None:
    """Two states sharing a label load when one is ``resolvable = false`` (as the procedure
    does for labels two states share)."""
    data = _with(lambda d: _state(d, "end").update(label="Middle", resolvable=False))
    assert len(parse_catalogue(data)) == 3


def _three_problems(d: dict[str, Any]) -> None:
    d["phases"].append(copy.deepcopy(d["phases"][0]))
    _state(d, "middle")["moves"].append({"to": "nulle_part"})
    _state(d, "end")["label"] = "Middle"


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    """A file with a duplicate phase, an unknown target and a duplicate label: one
    CatalogueError listing all three (``problems``), each naming state and field."""
    data = _with(_three_problems)
    err = _raises(parse_catalogue, data)
    assert [(p.state, p.field) for p in err.problems] == [
        ("phases[1]", "code"),
        ("middle", "moves[1].to"),
        ("end", "label"),
    ]
    assert str(err) == str(err.problems[0])


def test_every_validation_problem_is_reported() -> None:
    """Two fields of wrong type in two states: both reported, not only the first."""
    data = _tiny()
    _state(data, "start")["initial"] = "yes"
    _state(data, "middle")["deadline"]["amount"] = "24"
    err = _raises(parse_catalogue, data)
    assert [(p.state, p.field) for p in err.problems] == [
        ("start", "initial"),
        ("middle", "deadline.amount"),
    ]


def test_cli_validate_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    """`etatmachine validate` on that file: each problem on its own line, exit 2, no
    traceback; a FIFO too."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_with(_three_problems)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "etatmachine.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 3 and all(
        line.startswith(f"etatmachine: error: file {path}") for line in lines
    )
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.toml"
        os.mkfifo(fifo)
        done = subprocess.run(
            [sys.executable, "-m", "etatmachine.cli", "validate", str(fifo)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2 and done.stderr.strip().endswith("not a regular file")


# --- fuzzing --------------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "name",
        "version",
        "phases",
        "states",
        "groups",
        "group_moves",
        "code",
        "label",
        "phase",
        "kind",
        "owner",
        "meaning",
        "meaning_en",
        "deadline",
        "amount",
        "initial",
        "moves",
        "to",
        "rules",
        "from",
        "why",
        "resolvable",
        "aliases",
        "x",
    ]
)
_SCALARS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["@g", "@loop", "start", "end", "business_hours", "terminal", "13-45"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=30,
)


def _toml_key(key: str) -> str:
    return json.dumps(key)


def _toml_value(value: Any) -> str:
    """TOML text for a value (inline tables and arrays; floats as TOML spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _load_bounded(path: Path) -> None:
    started = time.perf_counter()
    with contextlib.suppress(CatalogueError):
        load_catalogue(path)
    assert time.perf_counter() - started < LOAD_SECONDS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(_KEYS, _VALUES, max_size=8), as_json=st.booleans())
def test_generated_catalogues_load_or_raise_catalogue_error(
    data: dict[str, Any], as_json: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Generated TOML or JSON documents (any keys of the schema, any values): a catalogue or
    a CatalogueError, within the time bound; never another exception."""
    path = tmp_path_factory.mktemp("fuzz") / ("cat.json" if as_json else "cat.toml")
    if as_json:
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        path.write_text(
            "\n".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items()),
            encoding="utf-8",
        )
    _load_bounded(path)


_LINES = BUNDLED.read_text(encoding="utf-8").splitlines()


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    """The bundled catalogue's text with a few lines deleted, duplicated, swapped or edited."""
    lines = list(_LINES)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "duplicate", "swap", "cut", "replace", "group"]))
        if how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        elif how == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif how == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif how == "replace":
            old = draw(st.sampled_from(["true", "24", '"', "=", "[", "business", "devis", "@"]))
            new = draw(st.sampled_from(["false", '"24"', "'", "", "[[", "13-45", "@loop", "1e9"]))
            lines[i] = lines[i].replace(old, new)
        else:
            lines.insert(i, draw(st.sampled_from(['loop = ["@loop"]', "x = 1", "[groups]"])))
    return "\n".join(lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_mutated())
def test_mutated_bundled_catalogue_loads_or_raises_catalogue_error(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The bundled procedure with lines deleted, duplicated, swapped, cut or edited: a
    catalogue or a CatalogueError, within the time bound."""
    path = tmp_path_factory.mktemp("mutated") / "procedure.toml"
    path.write_text(text, encoding="utf-8")
    _load_bounded(path)
