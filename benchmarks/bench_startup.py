"""Benchmark start-up to the first move, against importing what etatmachine loads by then.

Run: ``python benchmarks/bench_startup.py [--repeat 7]``. Each figure is the median wall time
of fresh interpreters (``python -c ...``), the contenders interleaved and rotated each
repetition, after one warm-up run each (bytecode caches written, as after a user's first
start); ratios are medians of per-repetition ratios:

* ours: ``import etatmachine``, ``Workflow.default()``, open a dossier and make one move
  with a due date (the first real call: the calendar loads its holidays here);
* baseline: import every module, other than etatmachine's own, that ours has in
  ``sys.modules`` after that first move (listed by a first run: transitions, pydantic and
  its core, holidays and its French calendars, dateutil, zoneinfo, the stdlib modules they
  pull in) and nothing else: the dependencies' own start-up. Goal: ours ≤ 1.5× it;
* python: an empty interpreter (``python -c pass``), the floor of both;
* ``etatmachine --version`` and ``--help``: the console script's cold start (goal ≤ 150 ms).

``run(quick)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ORDER = 30  # run_all.py runs benchmarks by ORDER, then name
__all__ = ["FIRST_MOVE", "main", "run"]

Row = tuple[str, float, str]
FIRST_MOVE = """
from datetime import datetime, timedelta
import etatmachine
from etatmachine import Actor, Role, Workflow
from etatmachine.business_calendar import PARIS
wf = Workflow.default()
actor = Actor(role=Role.CASE_HANDLER, id="1")
at = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)
d = wf.open("D-1", "etude_devis", actor=actor, at=at, mid_flow=True).dossier
wf.move(d, "attente_cie", actor=actor, at=at + timedelta(hours=1),
        comment="accord attendu", due=at + timedelta(days=7))
"""
_LIST = (
    FIRST_MOVE
    + """
import sys, json
print(json.dumps(sorted(m for m in sys.modules if not m.startswith(("etatmachine", "__main__")))))
"""
)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def baseline_script() -> str:
    """A script importing every non-etatmachine module the first move loads."""
    done = subprocess.run(
        [sys.executable, "-c", _LIST], check=True, capture_output=True, text=True, env=ENV
    )
    modules = json.loads(done.stdout)
    return (
        "import importlib\n"
        f"for m in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except Exception:\n"
        "        pass\n"
    )


def _cli(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("etatmachine")
    found = str(script) if script.exists() else shutil.which("etatmachine")
    if found:
        return [found, *args]
    return [sys.executable, "-m", "etatmachine.cli", *args]


def _interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    for cmd in commands.values():  # warm-up: bytecode caches
        subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    names = list(commands)
    times: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeat):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            t0 = time.perf_counter()
            subprocess.run(commands[name], check=True, capture_output=True, env=ENV)
            times[name].append(time.perf_counter() - t0)
    return times


def run(quick: bool = False, repeat: int | None = None) -> list[Row]:
    """Cold starts, interleaved; rows (milliseconds and ratios)."""
    py = sys.executable
    n = repeat or (1 if quick else 9)
    times = _interleaved(
        {
            "ours": [py, "-c", FIRST_MOVE],
            "baseline": [py, "-c", baseline_script()],
            "empty": [py, "-c", "pass"],
            "version": _cli("--version"),
            "help": _cli("--help"),
        },
        n,
    )
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    ratio = statistics.median(o / b for o, b in zip(times["ours"], times["baseline"], strict=True))
    net = statistics.median(
        (o - e) / max(b - e, 1e-9)
        for o, b, e in zip(times["ours"], times["baseline"], times["empty"], strict=True)
    )
    return [
        ("startup: to the first move (import, workflow, open, move)", med["ours"], "ms"),
        ("startup: baseline, the modules it loads, imported", med["baseline"], "ms"),
        ("startup: empty interpreter", med["empty"], "ms"),
        ("startup: ours / baseline", ratio, "x (goal <= 1.5)"),
        ("startup: ours / baseline, interpreter subtracted", net, "x"),
        ("startup: etatmachine --version", med["version"], "ms (goal <= 150)"),
        ("startup: etatmachine --help", med["help"], "ms (goal <= 150)"),
    ]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name, value, unit in run(args.quick, args.repeat):
        print(f"  {name:<60} {value:>10,.2f} {unit}")


if __name__ == "__main__":
    main()
