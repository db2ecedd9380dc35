"""Benchmark the memory a dossier holds, idle, against a slots dataclass holding the same.

Run: ``python benchmarks/bench_memory.py [--n 2000]``. Figures are traced allocations
(`tracemalloc`) still alive after building ``n`` objects, divided by ``n``:

* ours: a dossier opened then moved 9 times along a seeded random path (a 10-entry
  history with its comments, due dates and data), only the last value kept; each move is
  given fresh inputs (new datetimes, comment strings and data, as a caller that reads them
  from a request would), so everything the dossier keeps is counted except what every
  dossier shares (the actors, the state codes and data keys);
* the same dossier read back from JSON (``Dossier.from_json``): nothing shared but codes;
* baseline: the same information in plain ``@dataclass(slots=True)`` objects, a dossier
  (every field ours has) and its 10 entries (fresh datetimes, strings, amounts and data
  dicts; the same actors, codes and keys, and the flags set ours holds and counts), i.e.
  what any Python program keeping this history must hold at least. Goal: ours ≤ 1.2× the
  baseline;
* `transitions`: one model attached to a Machine with the catalogue's states and moves (no
  history at all: the price of the attachment alone), for reference.

``run(quick)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bench_moves import HANDLER, _Model, _Plain, bare_transitions, random_paths

from etatmachine import Dossier, Workflow

ORDER = 20  # run_all.py runs benchmarks by ORDER, then name
__all__ = ["SlotsDossier", "SlotsEntry", "main", "run"]

Row = tuple[str, float, str]
HISTORY = 10
GOAL = 1.2


@dataclass(slots=True)
class SlotsEntry:
    kind: str
    source: str | None
    target: str
    at: datetime
    actor: Any
    comment: str | None
    due_at: datetime | None
    data: dict[str, Any] | None


@dataclass(slots=True)
class SlotsDossier:
    id: str
    state: str
    due_at: datetime | None
    version: int
    insurer: str | None
    channel: str | None
    subdivision: str | None
    contractor: str | None
    flags: frozenset[str]
    contact_attempts: int
    autonomy_limit: Decimal | None
    quote_amount: Decimal | None
    interrupted: str | None
    history: tuple[SlotsEntry, ...]


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


def _fresh(when: datetime | None) -> datetime | None:
    """A new datetime object equal to ``when`` (the baseline shares no value with ours)."""
    return None if when is None else datetime.fromtimestamp(when.timestamp(), when.tzinfo)


def _copy(text: str | None) -> str | None:
    """A new string object equal to ``text`` (``text + ""`` would return ``text`` itself)."""
    return None if text is None else (text + ".")[:-1]


def _amount(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _value(value: Any) -> Any:
    """A new object equal to a datum (datetimes and strings; numbers and booleans are
    small or short-lived either way)."""
    if isinstance(value, datetime):
        return _fresh(value)
    if isinstance(value, str):
        return _copy(value)
    return value


def _data(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else {k: _value(v) for k, v in values.items()}


def _slots(d: Dossier) -> SlotsDossier:
    return SlotsDossier(
        id=_copy(d.id),  # type: ignore[arg-type]
        state=d.state,
        due_at=_fresh(d.due_at),
        version=d.version,
        insurer=d.insurer,
        channel=d.channel,
        subdivision=d.subdivision,
        contractor=d.contractor,
        flags=d.flags,
        contact_attempts=d.contact_attempts,
        autonomy_limit=_amount(d.autonomy_limit),
        quote_amount=_amount(d.quote_amount),
        interrupted=d.interrupted,
        history=tuple(
            SlotsEntry(
                kind=str(e.kind),
                source=e.source,
                target=e.target,
                at=_fresh(e.at),  # type: ignore[arg-type]
                actor=e.actor,
                comment=_copy(e.comment),
                due_at=_fresh(e.due_at),
                data=_data(e.data) or None,
            )
            for e in d.history
        ),
    )


def run(quick: bool = False, n: int | None = None) -> list[Row]:
    """Bytes per idle object; rows."""
    wf = Workflow.default()
    count = n or (100 if quick else 2000)
    paths = [
        p for p in random_paths(wf, min(3 * count, 600), seed=7) if len(p.moves) >= HISTORY - 1
    ]
    paths = (paths * (count // max(len(paths), 1) + 2))[: count + 20]
    built = iter(paths)

    def build() -> Dossier:
        p = next(built)
        at = _fresh(p.at)
        d = wf.open(f"D-{id(p)}", p.start, actor=HANDLER, at=at, mid_flow=True).dossier
        for m in p.moves[: HISTORY - 1]:
            d = wf.move(
                d,
                m.target,
                actor=m.actor,
                at=_fresh(m.at),  # type: ignore[arg-type]
                comment=_copy(m.comment),
                due=_fresh(m.due),
                data=_data(m.data),
            ).dossier
        assert len(d.history) == HISTORY
        return d

    for _ in range(20):
        build()  # warm the calendar tables and the plan caches
    ours = _per_object(build, count)
    built = iter(paths)
    sample = [build() for _ in range(count)]
    texts = iter([d.to_json() for d in sample])
    loaded = _per_object(lambda: Dossier.from_json(next(texts)), count)
    originals = iter(sample)
    baseline = _per_object(lambda: _slots(next(originals)), count)

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

    n_tr = max(50, count // 4)
    tr_usual = _per_object(attach_usual, n_tr)
    tr_override = _per_object(attach_override, n_tr)
    return [
        (f"memory: dossier, {HISTORY}-entry history (built by moves)", ours, "B"),
        (f"memory: dossier, {HISTORY}-entry history (from JSON)", loaded, "B"),
        (f"memory: slots dataclass baseline, {HISTORY} slots entries", baseline, "B"),
        ("memory: ours / slots baseline", ours / baseline, f"x (goal <= {GOAL})"),
        ("memory: from JSON / slots baseline", loaded / baseline, "x"),
        ("memory: transitions add_model (usual binding)", tr_usual, "B, no history"),
        ("memory: transitions add_model (model_override)", tr_override, "B, no history"),
    ]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name, value, unit in run(args.quick, args.n):
        digits = 2 if unit.startswith("x") else 1  # ratios to the hundredth
        print(f"  {name:<56} {value:>12,.{digits}f} {unit}")


if __name__ == "__main__":
    main()
