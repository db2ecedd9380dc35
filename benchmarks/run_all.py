"""Run every benchmark and print one table: ``python benchmarks/run_all.py [--quick]``.

``--quick`` is a smoke run (small sizes, one repetition of the cold starts): it checks that
everything runs, its figures are rough. Benchmarks that another module provides
(``bench_calendar``, ``bench_parse``, ``bench_replay``) are run when present and importable,
else listed as skipped. Every ratio compares figures measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

Row = tuple[str, float, str]

# (module, argument of run() for a full run, for a quick run)
BENCHMARKS: tuple[tuple[str, int, int], ...] = (
    ("bench_moves", 10_000, 300),
    ("bench_memory", 2_000, 100),
    ("bench_startup", 5, 1),
    ("bench_calendar", 1_000_000, 1_000),
    ("bench_parse", 1_000_000, 2_000),
    ("bench_replay", 1_000_000, 500),
)
# Keyword arguments of run() for a quick run, passed only where run() accepts them.
QUICK_KWARGS: dict[str, dict[str, Any]] = {"bench_replay": {"memory_sizes": (200, 500)}}


def _load(name: str) -> Callable[[int], list[Row]] | str:
    """The module's ``run`` function, or why it is skipped."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        return f"not available ({exc.name})"
    except Exception as exc:  # a benchmark being written must not stop the others
        return f"import failed: {type(exc).__name__}: {exc}"
    run = getattr(module, "run", None)
    if not callable(run):
        return "has no run() function"
    return run  # type: ignore[no-any-return]


def collect(quick: bool) -> list[tuple[str, str, float | None, str]]:
    """(benchmark, figure, value, unit) for every benchmark; value None when skipped."""
    table: list[tuple[str, str, float | None, str]] = []
    for name, full, small in BENCHMARKS:
        run = _load(name)
        if isinstance(run, str):
            table.append((name, "skipped", None, run))
            continue
        t0 = time.perf_counter()
        try:
            kwargs = QUICK_KWARGS.get(name, {}) if quick else {}
            accepted = inspect.signature(run).parameters
            kwargs = {k: v for k, v in kwargs.items() if k in accepted}
            rows: list[Any] = run(small if quick else full, **kwargs)
        except Exception as exc:
            traceback.print_exc()
            table.append((name, "FAILED", None, f"{type(exc).__name__}: {exc}"))
            continue
        for figure, value, unit in rows:
            table.append((name, figure, float(value), unit))
        table.append((name, "(benchmark wall time)", time.perf_counter() - t0, "s"))
    return table


def _print(table: list[tuple[str, str, float | None, str]], quick: bool) -> None:
    title = "etatmachine benchmarks" + (" (--quick: smoke run, rough figures)" if quick else "")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a runtime dependency
        print(title)
        for bench, figure, value, unit in table:
            shown = "" if value is None else f"{value:,.2f}"
            print(f"{bench:<15} {figure:<58} {shown:>16} {unit}")
        return
    out = Table(title=title)
    out.add_column("benchmark")
    out.add_column("figure")
    out.add_column("value", justify="right")
    out.add_column("unit / goal")
    for bench, figure, value, unit in table:
        out.add_row(bench, figure, "" if value is None else f"{value:,.2f}", unit)
    Console(width=160).print(out)


def main(argv: list[str] | None = None) -> int:
    """Run, print, and exit non-zero only if a benchmark failed (never on a figure)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    args = parser.parse_args(argv)
    table = collect(args.quick)
    _print(table, args.quick)
    return 1 if any(figure == "FAILED" for _, figure, _, _ in table) else 0


if __name__ == "__main__":
    sys.exit(main())
