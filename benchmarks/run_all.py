"""Run every benchmark and print one table: ``python benchmarks/run_all.py [--quick]``.

Benchmarks are discovered, not listed: every ``benchmarks/bench_*.py`` module with a
``run`` function joins (the contract is in benchmarks/README.md), in the order of its
``ORDER`` attribute (default 50), then by name. ``--quick`` is a smoke run (small sizes,
few repetitions): it checks that everything runs, its figures are rough. ``--only NAME``
runs the benchmarks whose module name contains NAME. A module that cannot be imported is
listed as skipped; one that fails as FAILED (and the command exits 1). A module with
``FULL_ONLY = True`` is skipped by ``--quick``. Every ratio compares figures measured in the
same run. The first lines say which build is measured: pure Python or the compiled core.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

Line = tuple[str, str, float | None, str]  # benchmark, figure, value, unit / goal


def discover() -> list[str]:
    """The benchmark modules beside this script, in run order."""
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    order: dict[str, float] = {}
    for name in names:
        try:
            order[name] = float(getattr(importlib.import_module(name), "ORDER", 50))
        except Exception:  # listed as skipped by collect()
            order[name] = 50
    return sorted(names, key=lambda n: (order[n], n))


def _load(name: str) -> Callable[..., Any] | str:
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


def _call(run: Callable[..., Any], module: Any, quick: bool) -> Sequence[Sequence[Any]]:
    """``run(quick=...)`` when it takes ``quick``; else ``run(SIZES[quick])``; else ``run()``."""
    params = inspect.signature(run).parameters
    if "quick" in params:
        return run(quick=quick)  # type: ignore[no-any-return]
    sizes = getattr(module, "SIZES", None)
    if sizes is not None:
        return run(sizes[1] if quick else sizes[0])  # type: ignore[no-any-return]
    return run()  # type: ignore[no-any-return]


def collect(quick: bool, only: str | None = None) -> list[Line]:
    """(benchmark, figure, value, unit) for every benchmark; value None when skipped."""
    table: list[Line] = []
    for name in discover():
        if only and only not in name:
            continue
        run = _load(name)
        if isinstance(run, str):
            table.append((name, "skipped", None, run))
            continue
        if quick and getattr(sys.modules[name], "FULL_ONLY", False):
            table.append((name, "skipped", None, "full run only (too slow for --quick)"))
            continue
        t0 = time.perf_counter()
        try:
            rows = _call(run, sys.modules[name], quick)
        except Exception as exc:
            traceback.print_exc()
            table.append((name, "FAILED", None, f"{type(exc).__name__}: {exc}"))
            continue
        for row in rows:
            figure, value, *rest = row
            table.append((name, str(figure), float(value), " ".join(str(r) for r in rest)))
        table.append((name, "(benchmark wall time)", time.perf_counter() - t0, "s"))
    return table


def build() -> str:
    """Which etatmachine the benchmarks measure: where it is imported from, and whether its
    core is compiled (every benchmark but bench_compiled times this installed build)."""
    import etatmachine
    from etatmachine.build_info import core_description

    where = Path(etatmachine.__file__).resolve().parent
    return f"etatmachine {etatmachine.__version__} from {where} ({core_description()})"


def _print(table: list[Line], quick: bool) -> None:
    title = "etatmachine benchmarks" + (" (--quick: smoke run, rough figures)" if quick else "")
    print(title)
    print(f"measuring {build()}")
    width = max((len(f) for _, f, _, _ in table), default=40)
    current = None
    for bench, figure, value, unit in table:
        if bench != current:
            print(f"\n[{bench}]")
            current = bench
        shown = "" if value is None else f"{value:,.2f}"
        print(f"  {figure:<{width}}  {shown:>16}  {unit}")


def main(argv: list[str] | None = None) -> int:
    """Run, print, and exit non-zero only if a benchmark failed (never on a figure)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--only", default=None, help="run the benchmarks whose name has this")
    args = parser.parse_args(argv)
    table = collect(args.quick, args.only)
    _print(table, args.quick)
    return 1 if any(figure == "FAILED" for _, figure, _, _ in table) else 0


if __name__ == "__main__":
    sys.exit(main())
