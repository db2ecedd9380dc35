"""Benchmark rule-checked moves and ``allowed_moves`` against bare `transitions` and a floor.

Run: ``python benchmarks/bench_moves.py [--dossiers 2000] [--profile]``.

The paths are seeded random walks through the catalogue (`random_paths`): at each step a
move is drawn among those some actor may make, with the inputs it needs (a comment, a due
date, an appointment, a humidity, a confirmation) and, at random, a comment it does not
need; waits and resumes come as the walk finds them. Each move is checked against every
rule of its target, so the benchmark times the rules that real histories exercise, not a
cycle where nothing is ever checked. The walks are drawn once, outside the timing.

Contenders, each over the same paths, interleaved and rotated each repetition (see
``method.py``); the ratios are medians of per-repetition ratios:

* ours: `Workflow.move` through the public API (rules, due date on the business calendar,
  a history entry, a new dossier);
* bare `transitions`: a ``Machine`` with the same states and moves and one trivial guard per
  move; models attached with ``model_override=True``, triggered by name;
* floor: a dict of sets (state -> targets) plus one guard call.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from method import compare

from etatmachine import Actor, Dossier, Role, Workflow
from etatmachine.business_calendar import PARIS

ORDER = 10  # run_all.py runs benchmarks by ORDER, then name
__all__ = ["HANDLER", "START", "Path", "main", "profile_summary", "random_paths", "run"]

Row = tuple[str, float, str]
MOVES_PER_DOSSIER = 10
START = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)
HANDLER = Actor(role=Role.CASE_HANDLER, id="1002730")
ACTORS = tuple(Actor(role=role, id=f"id-{role.value}") for role in Role)
STARTS = ("etude_devis", "contact_client_devis", "contact_client_rdv_reco_chiffrage")


@dataclass(frozen=True)
class Move:
    target: str
    actor: Actor
    at: datetime
    comment: str | None
    due: datetime | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class Path:
    """A dossier's start and its accepted moves."""

    start: str
    at: datetime
    moves: tuple[Move, ...]


def _inputs(
    rng: random.Random, needs: tuple[str, ...], at: datetime
) -> tuple[str | None, datetime | None, dict[str, Any] | None]:
    comment = "relance faite" if "comment" in needs or rng.random() < 0.3 else None
    due = at + timedelta(days=rng.randint(2, 9)) if "due" in needs else None
    data: dict[str, Any] = {}
    for need in needs:
        if need == "appointment_at":
            data[need] = at + timedelta(days=rng.randint(1, 6), hours=1)
        elif need == "humidity":
            data[need] = rng.randint(20, 90)
        elif need in ("delivery_at",):
            data[need] = at + timedelta(days=rng.randint(5, 30))
        elif need not in ("comment", "due"):
            data[need] = True
    return comment, due, data or None


def random_paths(wf: Workflow, n: int, seed: int = 20240304) -> list[Path]:
    """``n`` seeded random walks of up to 10 accepted moves (see the module notes)."""
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        start = rng.choice(STARTS)
        at = opened_at = START + timedelta(minutes=rng.randint(0, 60 * 24 * 200))
        d = wf.open(f"D-{i}", start, actor=HANDLER, at=at, mid_flow=True).dossier
        moves: list[Move] = []
        while len(moves) < MOVES_PER_DOSSIER:
            at += timedelta(minutes=rng.randint(10, 60 * 30))
            options = [
                (actor, v)
                for actor in ACTORS
                for v in wf.allowed_moves(d, actor=actor, at=at)
                if v.allowed
            ]
            if not options:
                break
            actor, verdict = rng.choice(options)
            comment, due, data = _inputs(rng, verdict.needs, at)
            moved, violations = wf.record(
                d, verdict.target, actor=actor, at=at, comment=comment, due=due, data=data
            )
            if violations:
                continue  # an input the walk did not guess: draw again
            d = moved.dossier
            moves.append(Move(verdict.target, actor, at, comment, due, data))
        paths.append(Path(start, opened_at, tuple(moves)))
    return paths


def _openings(wf: Workflow, paths: list[Path]) -> list[Dossier]:
    return [
        wf.open(f"D-{i}", p.start, actor=HANDLER, at=p.at, mid_flow=True).dossier
        for i, p in enumerate(paths)
    ]


def move_all(wf: Workflow, dossiers: list[Dossier], paths: list[Path]) -> int:
    """Every dossier along its path; returns the moves made."""
    move = wf.move
    n = 0
    for d, path in zip(dossiers, paths, strict=True):
        for m in path.moves:
            d = move(
                d, m.target, actor=m.actor, at=m.at, comment=m.comment, due=m.due, data=m.data
            ).dossier
            n += 1
    return n


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


def _transitions(wf: Workflow, paths: list[Path]) -> Callable[[], None]:
    machine = bare_transitions(wf)
    models = [_Model() for _ in paths]
    machine.add_model(models)
    plans = [(p.start, [m.target for m in p.moves]) for p in paths]

    def go() -> None:
        for model, (start, targets) in zip(models, plans, strict=True):
            model.state = start
            trigger = model.trigger
            for target in targets:
                if not trigger(target):
                    raise AssertionError(target)

    return go


def _floor(wf: Workflow, paths: list[Path]) -> Callable[[], None]:
    table: dict[str, set[str]] = {}
    for source, target in _edges(wf):
        table.setdefault(source, set()).add(target)
    plans = [(p.start, [m.target for m in p.moves]) for p in paths]

    def go() -> None:
        for start, targets in plans:
            state = start
            for target in targets:
                if target in table[state] and _guard(state, target):
                    state = target
                else:
                    raise AssertionError(target)

    return go


def _allowed_moves(wf: Workflow, repeat: int) -> tuple[Callable[[], None], Callable[[], None], int]:
    d = wf.open(
        "D-A", "contact_client_devis", actor=HANDLER, at=START, mid_flow=True, insurer="MAIF"
    ).dossier
    at = START + timedelta(hours=2)
    machine = bare_transitions(wf, model_override=False)
    model = _Plain()
    machine.add_model(model, initial="contact_client_devis")
    may = model.may_trigger  # type: ignore[attr-defined]

    def ours() -> None:
        for _ in range(repeat):
            wf.allowed_moves(d, actor=HANDLER, at=at)

    def theirs() -> None:
        for _ in range(repeat):
            [(t, may(t)) for t in machine.get_triggers(model.state)]

    return ours, theirs, len(machine.get_triggers(model.state))


def rules_per_move(wf: Workflow, paths: list[Path]) -> float:
    """Rules evaluated per move on these paths (the target's rules and its move's)."""
    total = moves = 0
    for p in paths:
        for m in p.moves:
            total += len(wf.catalogue.state(m.target).rules)
            moves += 1
    return total / max(moves, 1)


def profile_summary(wf: Workflow, n: int = 1000, top: int = 12) -> str:
    """cProfile of the moves of ``n`` random paths: the top functions by own time."""
    paths = random_paths(wf, n)
    dossiers = _openings(wf, paths)
    prof = cProfile.Profile()
    prof.enable()
    move_all(wf, dossiers, paths)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    return "\n".join(lines[start - 1 : start + top + 1])


def run(quick: bool = False, dossiers: int | None = None) -> list[Row]:
    """Moves/s (ours, bare transitions, floor) and allowed_moves, interleaved; rows."""
    wf = Workflow.default()
    n = dossiers or (150 if quick else 2000)
    paths = random_paths(wf, n)
    n_moves = sum(len(p.moves) for p in paths)
    opened = _openings(wf, paths)
    move_all(wf, opened[:20], paths[:20])  # warm the calendar's tables
    repeat = 3 if quick else 7
    moves = compare(
        {
            "ours": lambda: move_all(wf, opened, paths),
            "transitions": _transitions(wf, paths),
            "floor": _floor(wf, paths),
        },
        "ours",
        repeat,
    )
    am_ours, am_theirs, n_targets = _allowed_moves(wf, 20 if quick else 200)
    allowed = compare({"ours": am_ours, "transitions": am_theirs}, "ours", repeat)
    per_call = 20 if quick else 200
    return [
        (f"moves: random paths ({n:,} dossiers, {n_moves:,} moves)", n_moves, "moves"),
        ("moves: rules checked per move", rules_per_move(wf, paths), "rules"),
        ("moves: Workflow.move", n_moves / moves.seconds["ours"], "moves/s"),
        (
            "moves: bare transitions (model_override, 1 guard)",
            n_moves / moves.seconds["transitions"],
            "moves/s",
        ),
        ("moves: floor (dict of sets + guard)", n_moves / moves.seconds["floor"], "moves/s"),
        ("moves: ours / bare transitions", moves.ratios["transitions"], "x speed (goal >= 1.0)"),
        ("moves: ours / floor", moves.ratios["floor"], "x speed"),
        ("moves: ours, per move", moves.seconds["ours"] / n_moves * 1e6, "µs"),
        (
            f"allowed_moves: ours ({n_targets} targets)",
            allowed.seconds["ours"] / per_call * 1e6,
            "µs/call (goal < 20)",
        ),
        (
            "allowed_moves: transitions get_triggers+may_trigger",
            allowed.seconds["transitions"] / per_call * 1e6,
            "µs/call",
        ),
        ("allowed_moves: transitions / ours", allowed.ratios["transitions"], "x faster"),
    ]


def main() -> None:
    """Print the figures (and a profile of the moves with ``--profile``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile summary")
    args = parser.parse_args()
    for name, value, unit in run(args.quick, None if args.quick else args.dossiers):
        print(f"  {name:<56} {value:>14,.2f} {unit}")
    if args.profile:
        print(profile_summary(Workflow.default()))


if __name__ == "__main__":
    main()
