"""The history parser's layout: `etatmachine.legacy` re-exports the subpackage's public names,
the engine holds no pydantic model (so mypyc can compile it), and the parser never imports
the machine."""

from __future__ import annotations

import subprocess
import sys

from pydantic import BaseModel

from etatmachine import legacy
from etatmachine.history import parser, reading, records


def test_legacy_re_exports_the_subpackage_names() -> None:
    for name in legacy.__all__:
        value = getattr(legacy, name)
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
