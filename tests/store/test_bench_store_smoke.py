"""benchmarks/bench_store.py runs (tiny sizes): a smoke run, never a timing assertion."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_bench_store_runs_and_reports_every_figure() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_store
    finally:
        sys.path.remove(str(BENCHMARKS))
    rows = bench_store.run(300, postgres=None, moves=20, reps=1)
    names = [name for name, _, _ in rows]
    assert any("store / bare (goal >= 0.7)" in n for n in names)
    assert any("worklist over 300: a desk" in n for n in names)
    assert any("sweep over 300: first" in n for n in names)
    assert all(value >= 0 for _, value, _ in rows)
