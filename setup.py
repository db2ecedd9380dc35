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
    # separate=True: one C extension per module, so build_ext compiles them in parallel (one
    # per core); the generated C of one group is otherwise compiled on one core.
    ext_modules = mypycify(
        paths, opt_level="3", separate=True, target_dir=os.path.join(build_base, "c")
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
