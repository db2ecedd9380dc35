"""The history parser's layout: `etatmachine.legacy` re-exports the subpackage's public names,
the engine holds no pydantic model (so mypyc can compile it), and the parser never imports
the machine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import BaseModel

from etatmachine import legacy
from etatmachine.history import parser, reading, records

CHECKED = {
    "iter_file",
    "iter_records",
    "parse_text",
    "parse_file",
    "read_lines",
    "split_lines",
    "is_opening_line",
}
"""The engine's functions legacy fronts with argument checks (named errors in both builds)."""


def test_legacy_re_exports_the_subpackage_names() -> None:
    for name in legacy.__all__:
        value = getattr(legacy, name)
        if name in CHECKED:  # its own function, which checks, then runs the engine's
            assert value.__module__ == "etatmachine.legacy", name
            assert getattr(parser, name, None) or getattr(reading, name, None), name
            continue
        homes = [m for m in (parser, reading, records) if getattr(m, name, None) is value]
        assert homes or name == "PARIS", name
    engine = set(parser.__all__) | set(reading.__all__)  # what the engine modules offer
    assert engine - set(legacy.__all__) == {"file_blocks", "physical_lines"}
    assert set(records.__all__) - set(legacy.__all__) == {"BUILTIN_ROLES"}
    assert legacy.BUILTIN_ROLES is records.BUILTIN_ROLES


def test_the_compiled_modules_define_no_pydantic_model() -> None:
    for module in (parser, reading):
        defined = [
            v
            for v in vars(module).values()
            if isinstance(v, type) and v.__module__ == module.__name__
        ]
        assert not [c for c in defined if issubclass(c, BaseModel)], module.__name__


def test_the_parser_never_imports_the_machine() -> None:
    code = (
        "import sys\n"
        "import etatmachine.legacy\n"
        "print(sorted(m for m in sys.modules if m.startswith('etatmachine.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = eval(done.stdout)
    machine = {"etatmachine.workflow", "etatmachine.replay", "etatmachine.binding"}
    assert not machine & set(loaded), loaded
    assert "etatmachine.history.parser" in loaded


def test_the_public_functions_name_a_wrong_argument(tmp_path: Path) -> None:
    """A wrong type gets `ArgumentTypeError` naming the argument, in the pure and the
    compiled build (not an AttributeError from deep inside, nor a bare TypeError)."""
    from etatmachine.errors import ArgumentTypeError, ArgumentValueError

    history = tmp_path / "h.txt"
    history.write_text("ETAT: Etude de devis 20/01/2023 10:00\n", encoding="utf-8")
    calls: list[tuple[str, Callable[[], object]]] = [
        ("path", lambda: list(legacy.iter_file(3))),  # type: ignore[arg-type]
        ("roles", lambda: list(legacy.iter_file(history, roles={"995": "contractor"}))),  # type: ignore[arg-type]
        ("path", lambda: legacy.parse_file(None)),  # type: ignore[arg-type]
        ("text", lambda: legacy.parse_text(b"ETAT: x")),  # type: ignore[arg-type]
        ("source", lambda: legacy.parse_text("", source=3)),  # type: ignore[arg-type]
        ("lines", lambda: list(legacy.iter_records("ETAT: one text, not lines"))),
        ("first_line", lambda: list(legacy.iter_records([], first_line="1"))),  # type: ignore[arg-type]
        ("source", lambda: list(legacy.read_lines(3))),  # type: ignore[arg-type]
        ("text", lambda: legacy.split_lines(None)),  # type: ignore[arg-type]
        ("line", lambda: legacy.is_opening_line(b"OUVERTURE:")),  # type: ignore[arg-type]
    ]
    for argument, call in calls:
        with pytest.raises(ArgumentTypeError) as err:
            call()
        assert err.value.argument == argument
    with pytest.raises(ArgumentValueError) as bad:
        list(legacy.iter_records([], first_line=0))
    assert bad.value.argument == "first_line"
    # what they accept, they read as the engine does
    assert legacy.parse_file(str(history)).records == legacy.parse_file(history).records
    assert list(legacy.read_lines(history.open("rb"))) == list(legacy.read_lines(history))
