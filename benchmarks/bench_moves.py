"""Benchmark rule-checked moves and ``allowed_moves`` against bare `transitions` and a floor.

Run: ``python benchmarks/bench_moves.py [--dossiers 10000] [--profile]``. Every ratio is
between figures measured in the same run, on the same machine.

* ours: `Workflow.move` through the public API (every rule of the move evaluated, due
  date computed on the business calendar, a history entry appended, a new dossier
  returned), on a realistic cycle of accepted moves including a wait with a comment and
  a given due date and a resume;
* bare `transitions`: a ``Machine`` with the same states and moves (explicit and resume)
  and one trivial guard per move; models attached with ``model_override=True`` (the
  light way: the model class declares ``trigger``/``may_trigger``), triggered by name;
* floor: a dict of sets (state -> targets) plus one guard call: what any engine costs.

``run(dossiers)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from etatmachine import Actor, Dossier, Role, Workflow
from etatmachine.business_calendar import PARIS

__all__ = ["CYCLE", "main", "profile_summary", "run"]

Row = tuple[str, float, str]
MOVES_PER_DOSSIER = 10
START = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)
HANDLER = Actor(role=Role.CASE_HANDLER, id="1002730")
# (target, comment, due as an offset from the move, data): every move is accepted.
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


def _best(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def open_dossiers(wf: Workflow, n: int) -> list[Dossier]:
    """``n`` files in « Etude de devis », as a replay opens them."""
    return [
        wf.open(f"D-{i}", "etude_devis", actor=HANDLER, at=START, mid_flow=True).dossier
        for i in range(n)
    ]


def move_all(wf: Workflow, dossiers: list[Dossier]) -> list[Dossier]:
    """Every dossier through the 10-move cycle; returns the moved dossiers."""
    out = []
    move = wf.move
    for d in dossiers:
        at = START
        for target, comment, due, data in CYCLE:
            at += STEP
            d = move(
                d,
                target,
                actor=HANDLER,
                at=at,
                comment=comment,
                due=None if due is None else at + due,
                data=data,
            ).dossier
        out.append(d)
    return out


def _edges(wf: Workflow) -> list[tuple[str, str]]:
    return [(s.code, t) for s in wf.catalogue for t in sorted(wf.targets(s.code))]


class _Model:
    """A `transitions` model: with ``model_override=True`` only these names get bound."""

    state: str

    def trigger(self, name: str) -> bool:  # replaced by the machine
        raise NotImplementedError

    def may_trigger(self, name: str) -> bool:  # replaced by the machine
        raise NotImplementedError


class _Plain:
    """A `transitions` model for the usual binding: the machine adds every trigger."""

    state: str


def _guard(*_: Any) -> bool:
    return True


def bare_transitions(wf: Workflow, *, model_override: bool = True) -> Any:
    """A plain `transitions` Machine with the catalogue's states, moves and one guard."""
    from transitions import Machine

    machine = Machine(
        model=None,
        states=[s.code for s in wf.catalogue],
        initial="etude_devis",
        auto_transitions=False,
        model_override=model_override,
    )
    for source, target in _edges(wf):
        machine.add_transition(target, source, target, conditions=_guard)
    return machine


def _transitions_moves(wf: Workflow, n: int) -> float:
    machine = bare_transitions(wf)
    models = [_Model() for _ in range(n)]
    machine.add_model(models)
    targets = [c[0] for c in CYCLE]

    def go() -> None:
        for m in models:
            m.state = "etude_devis"
            trigger = m.trigger
            for target in targets:
                if not trigger(target):
                    raise AssertionError(target)

    return _best(go)


def _floor_moves(wf: Workflow, n: int) -> float:
    table: dict[str, set[str]] = {}
    for source, target in _edges(wf):
        table.setdefault(source, set()).add(target)
    targets = [c[0] for c in CYCLE]
    states = ["etude_devis"] * n

    def go() -> None:
        for i in range(n):
            state = "etude_devis"
            for target in targets:
                if target in table[state] and _guard(state, target):
                    state = target
                else:
                    raise AssertionError(target)
            states[i] = state

    return _best(go)


def _allowed_moves_us(wf: Workflow, repeat: int) -> tuple[float, float, int]:
    """µs per ``allowed_moves`` call, and per transitions get_triggers + may_trigger loop."""
    d = wf.open(
        "D-A", "contact_client_devis", actor=HANDLER, at=START, mid_flow=True, insurer="MAIF"
    ).dossier
    at = START + timedelta(hours=2)
    wf.allowed_moves(d, actor=HANDLER, at=at)
    t_ours = _best(lambda: [wf.allowed_moves(d, actor=HANDLER, at=at) for _ in range(repeat)])

    machine = bare_transitions(wf, model_override=False)
    model = _Plain()
    machine.add_model(model, initial="contact_client_devis")
    may = model.may_trigger  # type: ignore[attr-defined]

    def theirs() -> list[tuple[str, bool]]:
        return [(t, may(t)) for t in machine.get_triggers(model.state)]

    n_targets = len(theirs())
    t_theirs = _best(lambda: [theirs() for _ in range(repeat)])
    return t_ours / repeat * 1e6, t_theirs / repeat * 1e6, n_targets


def profile_summary(wf: Workflow, n: int = 2000, top: int = 12) -> str:
    """cProfile of ``n`` dossiers x 10 moves: the top functions by own time."""
    dossiers = open_dossiers(wf, n)
    prof = cProfile.Profile()
    prof.enable()
    move_all(wf, dossiers)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    return "\n".join(lines[start - 1 : start + top + 1])


def run(dossiers: int = 10_000) -> list[Row]:
    """Measure moves/s (ours, bare transitions, floor) and allowed_moves; return rows."""
    wf = Workflow.default()
    n_moves = dossiers * MOVES_PER_DOSSIER
    move_all(wf, open_dossiers(wf, 10))  # warm the calendar's tables
    opened = open_dossiers(wf, dossiers)
    t_ours = _best(lambda: move_all(wf, opened))
    t_tr = _transitions_moves(wf, dossiers)
    t_floor = _floor_moves(wf, dossiers)
    am_ours, am_theirs, n_targets = _allowed_moves_us(wf, 200 if dossiers >= 10_000 else 50)
    return [
        (f"moves: Workflow.move ({dossiers:,} dossiers x 10)", n_moves / t_ours, "moves/s"),
        ("moves: bare transitions (model_override, 1 guard)", n_moves / t_tr, "moves/s"),
        ("moves: floor (dict of sets + guard)", n_moves / t_floor, "moves/s"),
        ("moves: ours / bare transitions", t_tr / t_ours, "x (goal >= 1.0)"),
        ("moves: ours / floor", t_floor / t_ours, "x"),
        ("moves: ours, per move", t_ours / n_moves * 1e6, "µs"),
        (f"allowed_moves: ours ({n_targets} targets)", am_ours, "µs/call (goal < 20)"),
        ("allowed_moves: transitions get_triggers+may_trigger", am_theirs, "µs/call"),
        ("allowed_moves: transitions / ours", am_theirs / am_ours, "x faster"),
    ]


def main() -> None:
    """Print the figures (and a profile of the moves with ``--profile``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile summary")
    args = parser.parse_args()
    for name, value, unit in run(args.dossiers):
        print(f"  {name:<56} {value:>14,.2f} {unit}")
    if args.profile:
        print(profile_summary(Workflow.default()))


if __name__ == "__main__":
    main()
