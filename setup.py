"""Compile the core with mypyc when ``ETATMACHINE_COMPILE=1``; otherwise a pure Python build.

All metadata lives in pyproject.toml; this file only adds the extension modules. The modules
to compile are read from ``src/etatmachine/build_info.py`` with ``ast`` (the package is not
importable at build time, and importing it would run its dependencies). The in-tree backend
(build_backend/etatmachine_build.py) adds mypy to the build requirements when compiling and
keeps editable installs pure.
"""

from __future__ import annotations

import ast
import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from setuptools import setup

HERE = Path(__file__).resolve().parent
BUILD_INFO = HERE / "src" / "etatmachine" / "build_info.py"


def compiled_modules() -> tuple[str, ...]:
    """The ``COMPILED_MODULES`` tuple of build_info.py, read from its source."""
    for node in ast.parse(BUILD_INFO.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.AnnAssign | ast.Assign)
            and "COMPILED_MODULES"
            in {
                t.id
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name)
            }
            and node.value is not None
        ):
            names = ast.literal_eval(node.value)
            if isinstance(names, tuple) and all(isinstance(n, str) for n in names):
                return names
    raise SystemExit(f"setup.py: no COMPILED_MODULES tuple of strings in {BUILD_INFO}")


# The compiled modules are split into this many C extensions (shared libraries), which
# build_ext compiles in parallel: one per core of a 2-core machine. One group would compile
# on one core; one per module would compile mypyc's runtime once per module. Calls between
# groups cannot be inlined, so a subpackage stays in one group; the groups are balanced by
# source size. ETATMACHINE_COMPILE_GROUPS overrides the count (1: one shared library).
GROUPS = 2


def groups(paths: list[str], count: int) -> list[tuple[list[str], str | None]]:
    """``paths`` in at most ``count`` groups of about equal source size (largest first into
    the lightest group), a subpackage's modules together; mypycify's ``separate`` argument."""
    units: dict[str, list[str]] = {}
    for path in paths:
        parts = Path(path).parts  # src, etatmachine, [subpackage, ...] module.py
        units.setdefault("/".join(parts[:3]) if len(parts) > 3 else path, []).append(path)
    size = {unit: sum(Path(p).stat().st_size for p in members) for unit, members in units.items()}
    bins: list[list[str]] = [[] for _ in range(max(1, min(count, len(units))))]
    for unit in sorted(units, key=lambda u: (-size[u], u)):
        lightest = min(bins, key=lambda b: sum(size[u] for u in b))
        lightest.append(unit)
    return [
        ([p for unit in sorted(b) for p in units[unit]], f"etatmachine.mypyc_core_{i}")
        for i, b in enumerate(bins)
    ]


def compiling() -> bool:
    """``ETATMACHINE_COMPILE`` set to 1 (the in-tree backend unsets it for editable installs)."""
    return os.environ.get("ETATMACHINE_COMPILE", "").strip().lower() in {"1", "true", "yes"}


def extensions() -> dict[str, Any]:
    """``ext_modules`` (and build_ext options) for setup(): empty unless compiling."""
    if not compiling():
        return {}
    from mypyc.build import mypycify  # a build requirement only when compiling

    paths = [str(Path("src", *name.split(".")).with_suffix(".py")) for name in compiled_modules()]
    # A build directory of its own, removed afterwards: a compiled .so left in ./build/lib
    # would otherwise be packed into the next pure build from this tree.
    build_base = tempfile.mkdtemp(prefix="etatmachine-mypyc-")
    atexit.register(shutil.rmtree, build_base, ignore_errors=True)
    started = time.perf_counter()
    ext_modules = mypycify(
        paths,
        opt_level="3",
        separate=groups(paths, int(os.environ.get("ETATMACHINE_COMPILE_GROUPS", str(GROUPS)))),
        target_dir=os.path.join(build_base, "c"),
    )
    print(
        f"setup.py: mypyc generated C for {len(paths)} modules in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return {
        "ext_modules": ext_modules,
        "options": {
            "build": {"build_base": build_base},
            "build_ext": {"parallel": os.cpu_count() or 1},
        },
    }


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import it
    setup(**extensions())
