"""Benchmark bound objects (`etatmachine.binding`): moves/s, bytes and µs per bind, start-up.

Run: ``python benchmarks/bench_bind.py [--dossiers 2000] [--repeat 7]``. Every ratio is the
median of per-repetition ratios; within a repetition the contenders run interleaved, in an
order rotated each repetition, on the same machine and process.

Moves (the 10-move cycle of ``bench_moves``: waits, a given due date, a resume):

* bound: ``obj.trigger(target, ...)`` on plain objects bound to the shared machine (the
  object read into a validated view, the value API judging as the move's condition,
  transitions' callbacks, the moved values written back, hooks looked up);
* value: `Workflow.move` on immutable dossiers (the same rules, no transitions);
* bare transitions: a ``Machine`` with the same states and moves and, on each move, as many
  trivial guards as the move has rule checks in the catalogue (leaving, the move's own,
  entering); models attached with ``model_override=True``, triggered by name.

Memory and time per bind: ``tracemalloc`` bytes and wall time to bind N plain objects that
already hold their file's attributes, against transitions' own ``add_model`` (with
``model_override=True`` on a model declaring every trigger, and the usual binding).

Start-up (fresh interpreters, best of N): ``import etatmachine`` + ``Workflow.default()``,
then the same plus building the shared machine, then plus the first bound move.

``run(dossiers)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_moves import HANDLER, START, _edges  # noqa: E402

from etatmachine import Dossier, Workflow  # noqa: E402
from etatmachine.binding import Binder, machine_of  # noqa: E402

__all__ = ["main", "run"]

Row = tuple[str, float, str]
# The same ten moves for every object: surveyor steps, a wait with a comment and a given due
# date, and its resume (the case handler acts on every desk's behalf).
CYCLE: tuple[tuple[str, str | None, timedelta | None, dict[str, Any] | None], ...] = (
    ("devis_demande_info", None, None, None),
    ("devis_reponse_metreur", None, None, None),
    ("attente_cie", "accord de la compagnie attendu", timedelta(days=7), None),
    ("devis_reponse_metreur", None, None, None),  # the resume of the wait
    ("devis_demande_info", None, None, None),
    ("etude_devis", None, None, None),
    ("devis_demande_info", None, None, None),
    ("devis_reponse_metreur", None, None, None),
    ("devis_demande_info", None, None, None),
    ("etude_devis", None, None, None),
)
STEP = timedelta(minutes=37)
MOVES_PER_DOSSIER = len(CYCLE)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class File:
    """A service's own object: the file's attributes under their default names."""

    def __init__(self, d: Dossier) -> None:
        self.id = d.id
        self.state = d.state
        self.due_at = d.due_at
        self.version = d.version
        self.history = d.history
        self.contact_attempts = d.contact_attempts
        self.interrupted = d.interrupted
        self.insurer = d.insurer
        self.channel = d.channel
        self.subdivision = d.subdivision
        self.contractor = d.contractor
        self.flags = d.flags


def _opened(wf: Workflow, n: int) -> list[Dossier]:
    return [
        wf.open(f"D-{i}", "etude_devis", actor=HANDLER, at=START, mid_flow=True).dossier
        for i in range(n)
    ]


def _cycle() -> list[tuple[str, dict[str, Any]]]:
    at = START
    out = []
    for target, comment, due, data in CYCLE:
        at += STEP
        out.append(
            (
                target,
                {
                    "actor": HANDLER,
                    "at": at,
                    "comment": comment,
                    "due": None if due is None else at + due,
                    "data": data,
                },
            )
        )
    return out


def _guards(wf: Workflow, source: str, target: str) -> int:
    """How many rule checks the catalogue gives one move (leaving, the move's, entering)."""
    cat = wf.catalogue
    leave = [r for r in cat.state(source).rules if getattr(r, "leave", False)]
    move = cat.moves_from(source).get(target)
    return max(1, len(leave) + len(move.rules if move else ()) + len(cat.state(target).rules))


class _Model:
    """A transitions model declaring what ``model_override=True`` should bind."""

    state: str

    def trigger(self, name: str) -> bool:  # replaced by the machine
        raise NotImplementedError


def _guard(*_: Any) -> bool:
    return True


def _bare(wf: Workflow, *, model_override: bool = True) -> Any:
    from transitions import Machine

    machine = Machine(
        model=None,
        states=[s.code for s in wf.catalogue],
        initial="etude_devis",
        auto_transitions=False,
        model_override=model_override,
    )
    for source, target in _edges(wf):
        n = _guards(wf, source, target)
        machine.add_transition(target, source, target, conditions=[_guard] * n)
    return machine


# --- moves ----------------------------------------------------------------------------


def _contenders(wf: Workflow, n: int) -> dict[str, Callable[[], float]]:
    cycle = _cycle()
    binder = Binder.cached(wf)
    machine = _bare(wf)
    move = wf.move

    def value() -> float:
        dossiers = _opened(wf, n)
        t0 = time.perf_counter()
        for d in dossiers:
            for target, kwargs in cycle:
                d = move(d, target, **kwargs).dossier
        return time.perf_counter() - t0

    def bound() -> float:
        files = [binder.bind(File(d)) for d in _opened(wf, n)]
        t0 = time.perf_counter()
        for f in files:
            trigger = f.trigger  # type: ignore[attr-defined]
            for target, kwargs in cycle:
                trigger(target, **kwargs)
        return time.perf_counter() - t0

    def bare() -> float:
        models = [_Model() for _ in range(n)]
        machine.add_model(models, initial="etude_devis")
        targets = [t for t, _ in cycle]
        t0 = time.perf_counter()
        for m in models:
            trigger = m.trigger
            for target in targets:
                if not trigger(target):
                    raise AssertionError(target)
        elapsed = time.perf_counter() - t0
        machine.remove_model(models)
        return elapsed

    return {"bound": bound, "value": value, "bare": bare}


def _moves(wf: Workflow, n: int, repeat: int) -> dict[str, list[float]]:
    """Seconds per contender per repetition: interleaved, the order rotated each time."""
    contenders = _contenders(wf, n)
    names = list(contenders)
    for name in names:  # warm-up: calendar tables, plans, the shared machine, caches
        contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeat):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            gc.collect()
            times[name].append(contenders[name]())
    return times


# --- memory and time per bind ----------------------------------------------------------


def _per_object(
    make: Callable[[], list[Any]], attach: Callable[[list[Any]], Any]
) -> tuple[float, float]:
    """Bytes and µs per object that ``attach`` adds to objects ``make`` built."""
    objects = make()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    attach(objects)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    objects = make()
    gc.collect()
    t0 = time.perf_counter()
    attach(objects)
    elapsed = time.perf_counter() - t0
    return (after - before) / len(objects), elapsed / len(objects) * 1e6


def _memory(wf: Workflow, n: int) -> list[Row]:
    dossiers = _opened(wf, n)
    binder = Binder.cached(wf)
    binder.bind(File(dossiers[0]))  # the class gets its interface once, before measuring

    def bind_all(objs: list[Any]) -> None:
        for o in objs:
            binder.bind(o)

    ours_b, ours_us = _per_object(lambda: [File(d) for d in dossiers], bind_all)

    def remember_all(objs: list[Any]) -> None:
        for o in objs:
            binder.dossier(o)  # what a move leaves in the binder's bounded view cache

    k = min(n, 1000)
    bound_files = [binder.bind(File(d)) for d in dossiers[:k]]
    cache_b, _ = _per_object(lambda: bound_files, remember_all)

    stubs = {t: (lambda self, *a, **k: None) for t in {t for _, t in _edges(wf)}}
    stubs.update({f"may_{t}": stubs[t] for t in list(stubs)})
    declared = type("Declared", (_Model,), stubs)
    override = _bare(wf, model_override=True)
    usual = _bare(wf, model_override=False)

    def add(machine: Any) -> Callable[[list[Any]], None]:
        def attach(objs: list[Any]) -> None:
            for o in objs:
                machine.add_model(o, initial="etude_devis")
            machine.remove_model(objs)  # add_model keeps every model: measure one batch

        return attach

    # add_model scans machine.models on every call (quadratic): a smaller batch
    m = min(n, 500)
    tr_b, tr_us = _per_object(lambda: [declared() for _ in range(m)], add(override))
    us_b, us_us = _per_object(lambda: [_Model() for _ in range(m)], add(usual))
    return [
        ("bind: bytes per bound object", ours_b, "B (goal <= 1024)"),
        ("bind: µs per bind", ours_us, "µs (goal <= 50)"),
        ("bind: view cache, per remembered object (<= 1024)", cache_b, "B"),
        ("bind: transitions add_model, model_override, all declared", tr_b, "B/object"),
        ("bind: transitions add_model, model_override, all declared", tr_us, "µs/object"),
        ("bind: transitions add_model, usual binding", us_b, "B/object"),
        ("bind: transitions add_model, usual binding", us_us, "µs/object"),
    ]


# --- start-up --------------------------------------------------------------------------

_IMPORT = "import etatmachine; wf = etatmachine.Workflow.default()"
_MACHINE = _IMPORT + "; from etatmachine.binding import machine_of; machine_of(wf)"
_PREAMBLE = (
    _IMPORT + "\nfrom datetime import datetime\nfrom etatmachine.business_calendar import PARIS\n"
    "actor = etatmachine.Actor(role='case_handler', id='7')\n"
    "at = datetime(2024, 3, 4, 9, tzinfo=PARIS)\n"
)
_FIRST_VALUE_MOVE = (
    _PREAMBLE + "d = wf.open('D-1', 'etude_devis', actor=actor, at=at, mid_flow=True).dossier\n"
    "wf.move(d, 'devis_demande_info', actor=actor, at=at)"
)
_FIRST_BOUND_MOVE = (
    _PREAMBLE + "class F:\n    id, state = 'D-1', 'etude_devis'\n"
    "f = wf.bind(F())\nf.to_devis_demande_info(actor=actor, at=at)"
)


def _startup(repeat: int) -> list[Row]:
    py = sys.executable
    scripts = {
        "import": _IMPORT,
        "machine": _MACHINE,
        "value": _FIRST_VALUE_MOVE,
        "bound": _FIRST_BOUND_MOVE,
    }
    for code in scripts.values():  # warm-up: bytecode caches written, as a user's first start
        subprocess.run([py, "-c", code], check=True, capture_output=True, env=ENV)
    best: dict[str, float] = {name: float("inf") for name in scripts}
    names = list(scripts)
    for rep in range(repeat):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            t0 = time.perf_counter()
            subprocess.run([py, "-c", scripts[name]], check=True, capture_output=True, env=ENV)
            best[name] = min(best[name], time.perf_counter() - t0)
    # in-process: building the shared machine of a fresh workflow
    builds = []
    for _ in range(max(2, repeat)):
        wf = Workflow(Workflow.default().catalogue)
        t0 = time.perf_counter()
        machine_of(wf)
        builds.append(time.perf_counter() - t0)
    return [
        ("startup: import + Workflow.default()", best["import"] * 1e3, "ms"),
        ("startup: same + building the shared machine", best["machine"] * 1e3, "ms"),
        ("startup: import + first value move (open, move)", best["value"] * 1e3, "ms"),
        ("startup: import + bind + first bound move", best["bound"] * 1e3, "ms"),
        ("startup: first bound / first value move", best["bound"] / best["value"], "x"),
        ("startup: building the shared machine, in process", min(builds) * 1e3, "ms"),
    ]


def run(dossiers: int = 2_000, repeat: int = 7, *, quick: bool = False) -> list[Row]:
    """Every figure of this benchmark, as rows (``quick``: 200 dossiers, one repetition)."""
    if quick:
        dossiers, repeat = 200, 1
    wf = Workflow.default()
    times = _moves(wf, dossiers, repeat)
    n_moves = dossiers * MOVES_PER_DOSSIER

    def med(name: str) -> float:
        return n_moves / statistics.median(times[name])

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))

    guards = [_guards(wf, s, t) for s, t in _edges(wf)]
    rows: list[Row] = [
        (f"bound: moves/s ({dossiers:,} objects x {MOVES_PER_DOSSIER})", med("bound"), "moves/s"),
        ("bound: value API (Workflow.move)", med("value"), "moves/s"),
        (
            f"bound: bare transitions ({min(guards)}-{max(guards)} guards a move)",
            med("bare"),
            "moves/s",
        ),
        ("bound: time bound / value", ratio("bound", "value"), "x (median of ratios)"),
        ("bound: time bound / bare transitions", ratio("bound", "bare"), "x (median of ratios)"),
        ("bound: µs per bound move", statistics.median(times["bound"]) / n_moves * 1e6, "µs"),
        ("bound: µs per value move", statistics.median(times["value"]) / n_moves * 1e6, "µs"),
    ]
    rows += _memory(wf, dossiers)
    rows += _startup(max(1, repeat // 2))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name, value, unit in run(args.dossiers, args.repeat):
        print(f"  {name:<60} {value:>14,.2f} {unit}")


if __name__ == "__main__":
    main()
