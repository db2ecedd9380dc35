"""Benchmark the memory a dossier holds, idle, against a `transitions` model.

Run: ``python benchmarks/bench_memory.py [--n 2000]``. Figures are traced allocations
(`tracemalloc`) still alive after building ``n`` objects, divided by ``n``:

* ours: a dossier opened then moved 9 times (a 10-entry history), only the last value
  kept; everything it holds is counted (its entries, their datetimes, due dates and data),
  except what every dossier shares (the actor, the catalogue's state codes);
* the same dossier read back from JSON (``Dossier.from_json``): nothing shared but codes;
* `transitions`: one model object attached to a Machine with the catalogue's states and
  moves, the usual way (``add_model``: a bound trigger per move on every model) and with
  ``model_override=True`` (only the names the model class declares are bound). Those
  models hold no history at all: the figure is the price of the attachment alone.

``run(n)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench_moves import CYCLE, HANDLER, START, STEP, _Model, _Plain, bare_transitions

from etatmachine import Dossier, Workflow

__all__ = ["main", "run"]

Row = tuple[str, float, str]
HISTORY = 10


def _per_object(build: Callable[[], Any], n: int) -> float:
    """Bytes still allocated per object after building ``n`` of them with ``build``."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [build() for _ in range(n)]
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == n
    return (after - before) / n


def _dossier_builder(wf: Workflow) -> Callable[[], Dossier]:
    counter = iter(range(10**9))

    def build() -> Dossier:
        i = next(counter)
        at = START + timedelta(seconds=i)
        d = wf.open(f"D-{i}", "etude_devis", actor=HANDLER, at=at, mid_flow=True).dossier
        for target, comment, due, data in CYCLE[: HISTORY - 1]:
            at += STEP
            d = wf.move(
                d,
                target,
                actor=HANDLER,
                at=at,
                comment=comment,
                due=None if due is None else at + due,
                data=data,
            ).dossier
        assert len(d.history) == HISTORY
        return d

    return build


def run(n: int = 2000) -> list[Row]:
    """Measure bytes per idle object; return rows."""
    wf = Workflow.default()
    build = _dossier_builder(wf)
    for _ in range(20):
        build()  # warm the calendar tables and the plan caches
    ours = _per_object(build, n)
    texts = iter([build().to_json() for _ in range(n)])
    loaded = _per_object(lambda: Dossier.from_json(next(texts)), n)

    usual = bare_transitions(wf, model_override=False)
    override = bare_transitions(wf, model_override=True)

    def attach_usual() -> _Plain:
        model = _Plain()
        usual.add_model(model)
        return model

    def attach_override() -> _Model:
        model = _Model()
        override.add_model(model)
        return model

    n_tr = max(50, n // 4)
    tr_usual = _per_object(attach_usual, n_tr)
    tr_override = _per_object(attach_override, n_tr)
    return [
        (f"memory: dossier, {HISTORY}-entry history (built by moves)", ours, "B (goal < 4096)"),
        (f"memory: dossier, {HISTORY}-entry history (from JSON)", loaded, "B"),
        ("memory: transitions add_model (usual binding)", tr_usual, "B, no history"),
        ("memory: transitions add_model (model_override)", tr_override, "B, no history"),
        ("memory: ours / transitions usual", ours / tr_usual, "x"),
        ("memory: ours / transitions model_override", ours / tr_override, "x"),
    ]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    for name, value, unit in run(args.n):
        print(f"  {name:<56} {value:>12,.1f} {unit}")


if __name__ == "__main__":
    main()
