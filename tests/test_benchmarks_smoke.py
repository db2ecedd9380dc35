"""The benchmark runner runs: a smoke run only, never a timing assertion.

Slow depth (about 9 s of benchmarks): marked ``deep``, so the README's ``pytest`` skips it;
``pytest --deep`` runs it, and ``.ci/run`` runs this file with ``--deep``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RUN_ALL = Path(__file__).resolve().parents[1] / "benchmarks" / "run_all.py"


@pytest.mark.deep
def test_run_all_quick_runs_every_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, str(RUN_ALL), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for figure in ("moves: ours / bare transitions", "allowed_moves: ours", "memory: dossier"):
        assert figure in done.stdout
    assert "FAILED" not in done.stdout
