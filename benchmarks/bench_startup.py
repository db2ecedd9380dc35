"""Benchmark start-up: a fresh process importing etatmachine and building the workflow.

Run: ``python benchmarks/bench_startup.py [--repeat 5]``. Each figure is the best wall
time of ``repeat`` fresh interpreters (``python -c ...``), so no module is in memory; each
command runs once first so that its bytecode caches exist, as after a user's first start:

* ours: ``import etatmachine`` + ``Workflow.default()`` (catalogue parsed and checked,
  `transitions` machine built, rule checks bound);
* baseline: ``import transitions, pydantic, holidays`` (our dependencies, nothing built);
* baseline with models: the same plus ``from pydantic import BaseModel`` (``import
  pydantic`` alone is lazy and loads none of the model machinery we use);
* python: an empty interpreter (``python -c pass``), the floor of both;
* ``etatmachine --help``: the console script's cold start (the CLI imports lazily).

``run(repeat)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "run"]

Row = tuple[str, float, str]
OURS = "import etatmachine; etatmachine.Workflow.default()"
BASELINE = "import transitions, pydantic, holidays"
# `import pydantic` is lazy: BaseModel's machinery loads on first use. This baseline loads it.
BASELINE_MODELS = "import transitions, holidays; from pydantic import BaseModel"


# Users run with bytecode caches (pip compiles installed packages; an editable install writes
# them on first import). With PYTHONDONTWRITEBYTECODE set, an editable checkout would be
# recompiled on every start while the dependencies keep their caches: not a fair comparison.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _best(cmd: list[str], repeat: int) -> float:
    """Best wall time (s) of ``repeat`` runs of ``cmd`` in fresh processes (after a warm-up
    run that writes the bytecode caches, as a user's first start does)."""
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=ENV)
        times.append(time.perf_counter() - t0)
    return min(times)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("etatmachine")
    if script.exists():
        return [str(script), "--help"]
    found = shutil.which("etatmachine")
    if found:
        return [found, "--help"]
    return [sys.executable, "-m", "etatmachine.cli", "--help"]


def run(repeat: int = 5) -> list[Row]:
    """Measure cold starts; return rows (milliseconds and ratios)."""
    py = sys.executable
    t_empty = _best([py, "-c", "pass"], repeat)
    t_ours = _best([py, "-c", OURS], repeat)
    t_base = _best([py, "-c", BASELINE], repeat)
    t_models = _best([py, "-c", BASELINE_MODELS], repeat)
    t_cli = _best(_cli(), repeat)
    return [
        ("startup: import etatmachine + Workflow.default()", t_ours * 1e3, "ms"),
        ("startup: import transitions, pydantic, holidays", t_base * 1e3, "ms"),
        ("startup: same + `from pydantic import BaseModel`", t_models * 1e3, "ms"),
        ("startup: empty interpreter", t_empty * 1e3, "ms"),
        ("startup: ours / dependencies", t_ours / t_base, "x (goal <= 1.5)"),
        ("startup: ours / dependencies with BaseModel loaded", t_ours / t_models, "x"),
        (
            "startup: ours / dependencies, interpreter subtracted",
            (t_ours - t_empty) / max(t_base - t_empty, 1e-9),
            "x",
        ),
        ("startup: etatmachine --help", t_cli * 1e3, "ms (goal < 500)"),
    ]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, value, unit in run(args.repeat):
        print(f"  {name:<56} {value:>10,.2f} {unit}")


if __name__ == "__main__":
    main()
