"""Which modules make up the optional compiled core, and which of them this process runs compiled.

``ETATMACHINE_COMPILE=1 pip install .`` compiles the modules named in `COMPILED_MODULES` with
mypyc (setup.py reads the tuple from this file's source, without importing the package); any
other install runs them as plain Python. Both builds run the same source and give the same
results: compiling changes speed only. `compiled_modules` tells which build is running, for
``etatmachine --version``, the benchmarks and the tests that check CI really tests the
compiled build.

This module imports nothing from etatmachine and nothing heavy, so ``--version`` stays fast.

>>> set(compiled_modules()) <= set(COMPILED_MODULES)
True
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES, PathFinder
from types import FunctionType
from typing import Final

__all__ = ["COMPILED_MODULES", "compiled_modules", "core_description", "runs_compiled"]

# The dotted names mypyc compiles (one tuple of string literals: setup.py reads it with ast).
# A module joins when it compiles and the whole test suite passes against the compiled build
# (.ci/run's compiled stage).
COMPILED_MODULES: Final = (
    "etatmachine.history.parser",
    "etatmachine.history.reading",
    "etatmachine.replay.engine",
    "etatmachine.judge",
    "etatmachine.rules",
    "etatmachine.arguments",
    "etatmachine.deadlines",
    "etatmachine.business_calendar.kernel",
    "etatmachine.lateness.steps",
    "etatmachine.lateness.stats",
    "etatmachine.evidence",
    "etatmachine.trusted",
)


def _package_path(package: str) -> list[str]:
    """The directories a submodule of ``package`` is looked up in, importing nothing: the
    package's ``__path__`` once imported, else its parent's directories joined with its name."""
    module = sys.modules.get(package)
    if module is not None:
        return list(getattr(module, "__path__", []))
    parent, _, name = package.rpartition(".")
    if not parent:
        return []
    return [os.path.join(directory, name) for directory in _package_path(parent)]


def _origin(name: str) -> str | None:
    """The file module ``name`` was loaded from, or (not imported yet) the file the import
    system would load it from: the same path finders, which rank extensions before sources."""
    module = sys.modules.get(name)
    if module is not None:
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
        return origin if isinstance(origin, str) else None
    parent = name.rpartition(".")[0]
    spec = PathFinder.find_spec(name, _package_path(parent))
    return None if spec is None else spec.origin


def runs_compiled(function: object) -> bool:
    """Whether ``function`` (one of a module's own) runs compiled: mypyc builds functions
    as built-in ones. A compiled module asks it of itself where the fastest code differs
    between the builds.

    >>> runs_compiled(runs_compiled)  # this module is never compiled
    False
    """
    return not isinstance(function, FunctionType)


def compiled_modules() -> tuple[str, ...]:
    """The names in `COMPILED_MODULES` that this process runs (or, not yet imported, would
    run) from a compiled extension; empty for the pure Python build."""
    return tuple(
        name
        for name in COMPILED_MODULES
        if (origin := _origin(name)) is not None and origin.endswith(tuple(EXTENSION_SUFFIXES))
    )


def core_description() -> str:
    """``compiled core: N modules, mypyc`` or ``pure Python``, as ``--version`` prints it."""
    compiled = compiled_modules()
    if not compiled:
        return "pure Python"
    partial = "" if len(compiled) == len(COMPILED_MODULES) else f" of {len(COMPILED_MODULES)}"
    plural = "" if len(compiled) == 1 else "s"
    return f"compiled core: {len(compiled)}{partial} module{plural}, mypyc"
