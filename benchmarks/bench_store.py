"""Benchmark the SQL store: moves/s against a bare compare-and-set, worklists and sweeps.

Run: ``python benchmarks/bench_store.py [--dossiers 100000] [--postgres URL]``
(``--postgres`` defaults to ``$ETATMACHINE_TEST_POSTGRES_URL``; without one, PostgreSQL is
left out). Every ratio is between figures measured in the same run, on the same machine.

* moves: the same accepted moves (`Workflow.move`, a quote cycle) persisted three ways,
  interleaved and rotated each repetition, the median of per-repetition ratios:
  - store: ``SqlStore.apply`` (compare-and-set on version and trail digest, extracted
    columns with the 50 % instant on the business calendar, the trail row, the outbox);
  - bare: the driver itself (sqlite3 / psycopg) doing ``UPDATE … SET body, version WHERE
    id = ? AND version = ?`` + the trail ``INSERT`` in one transaction, same JSON, on a
    table with no secondary index;
  - bare, the same row: the driver writing the store's own row (its table, its five
    indexes on the due date, its extracted columns) with ``WHERE id AND version``: what a
    hand-written service with the same worklist columns pays, without the descent check;
  - none: the moves alone, so the storage's own cost can be told apart.
  Goal: store / bare ≥ 0.7.
* worklist: ``store.worklist`` over ``--dossiers`` open dossiers (due dates spread over a
  month around now): one desk (a role), one assignee, the whole office. Goal ≤ 50 ms on
  SQLite for a desk.
* sweep: the first sweep over all of them (every past due date), then an hourly one.

``run(dossiers)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from etatmachine import Actor, Dossier, Role, Workflow
from etatmachine.intake import adopt
from etatmachine.store.derive import Extract, entry_json, extract
from etatmachine.store.fastwrite import SET_COLUMNS, FastWriter
from etatmachine.store.sql import SqlStore

__all__ = ["main", "run"]

Row = tuple[str, float, str]
HANDLER = Actor(role=Role.CASE_HANDLER, id="1002730")
CYCLE = {  # accepted moves without a comment or due date, owned by the case handler
    "etude_devis": "devis_demande_info",
    "devis_demande_info": "devis_reponse_metreur",
    "devis_reponse_metreur": "devis_demande_info",
}
STEP = timedelta(minutes=7)
WF = Workflow.default()


def _open(prefix: str, n: int, start: datetime) -> list[Dossier]:
    return [
        WF.open(f"{prefix}-{i}", "etude_devis", actor=HANDLER, at=start, mid_flow=True).dossier
        for i in range(n)
    ]


def _next(d: Dossier) -> Dossier:
    target = CYCLE[d.state]
    if d.state == "devis_reponse_metreur" and len(d.history) % 5 == 0:
        target = "devis_demande_info"
    last = d.last_at
    assert last is not None
    return WF.move(d, target, actor=HANDLER, at=last + STEP).dossier


class _Bare:
    """The same compare-and-set and trail insert, straight through the driver."""

    def __init__(self, kind: str, target: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.conn: Any = sqlite3.connect(target, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(target.replace("postgresql+psycopg://", "postgresql://"))
            self.mark = "%s"
        m = self.mark
        self.update = (
            f"UPDATE bare_dossier SET body = {m}, version = {m} WHERE id = {m} AND version = {m}"
        )
        self.insert = f"INSERT INTO bare_trail (dossier_id, seq, entry) VALUES ({m}, {m}, {m})"
        self._script(
            "DROP TABLE IF EXISTS bare_trail",
            "DROP TABLE IF EXISTS bare_dossier",
            "CREATE TABLE bare_dossier (id VARCHAR(200) PRIMARY KEY, version INTEGER NOT NULL, "
            "body TEXT NOT NULL)",
            "CREATE TABLE bare_trail (dossier_id VARCHAR(200) NOT NULL, seq INTEGER NOT NULL, "
            "entry TEXT NOT NULL, PRIMARY KEY (dossier_id, seq))",
        )

    def _script(self, *statements: str) -> None:
        if self.kind == "sqlite":
            for s in statements:
                self.conn.execute(s)
        else:
            with self.conn.transaction():
                for s in statements:
                    self.conn.execute(s)

    def add(self, dossiers: list[Dossier]) -> None:
        rows = [(d.id, d.version, d.model_dump_json(exclude={"history"})) for d in dossiers]
        trail = [(d.id, 0, entry_json(d.history[0])) for d in dossiers]
        m = self.mark
        if self.kind == "sqlite":
            self.conn.execute("BEGIN")
            self.conn.executemany(f"INSERT INTO bare_dossier VALUES ({m}, {m}, {m})", rows)
            self.conn.executemany(self.insert, trail)
            self.conn.execute("COMMIT")
        else:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.executemany(f"INSERT INTO bare_dossier VALUES ({m}, {m}, {m})", rows)
                cur.executemany(self.insert, trail)

    def write(self, d: Dossier, expected: int) -> None:
        body = d.model_dump_json(exclude={"history"})
        entry = entry_json(d.history[-1])
        seq = len(d.history) - 1
        if self.kind == "sqlite":
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute(self.update, (body, d.version, d.id, expected)).rowcount != 1:
                conn.execute("ROLLBACK")
                raise RuntimeError("conflict")
            conn.execute(self.insert, (d.id, seq, entry))
            conn.execute("COMMIT")
        else:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute(self.update, (body, d.version, d.id, expected))
                if cur.rowcount != 1:
                    raise RuntimeError("conflict")
                cur.execute(self.insert, (d.id, seq, entry))

    def close(self) -> None:
        self.conn.close()


class _SameRow(_Bare):
    """The same row a store writes (the store's own table, indexes and extracted
    columns, computed as a hand-written service would have to), ``UPDATE … WHERE id AND
    version`` + the trail insert through the driver: no descent check, no outbox."""

    def __init__(self, kind: str, target: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.conn = sqlite3.connect(target, isolation_level=None)
            self.conn.execute("PRAGMA synchronous=NORMAL")
        else:
            import psycopg

            self.conn = psycopg.connect(target.replace("postgresql+psycopg://", "postgresql://"))
        self.fast = FastWriter(kind)
        m = "?" if kind == "sqlite" else "%s"
        sets = ", ".join(f"{c} = {m}" for c in SET_COLUMNS)
        self.update = f"UPDATE etm_dossier SET {sets} WHERE id = {m} AND version = {m}"

    def write(self, d: Dossier, expected: int) -> None:
        c = extract(d, WF)
        row = {
            **{f: getattr(c, f) for f in Extract.__dataclass_fields__ if f != "assignees"},
            "assignees": json.dumps(c.assignees, sort_keys=True),
            "insurer": d.insurer,
            "channel": d.channel,
            "subdivision": d.subdivision,
            "flags": json.dumps(sorted(d.flags)),
            "version": d.version,
            "trail_digest": "",
            "updated_at": datetime.now(UTC),
        }
        f = self.fast
        params = [f.instant(row[k]) if k.endswith("_at") else row[k] for k in SET_COLUMNS]
        entry = d.history[-1]
        trail = (
            d.id,
            len(d.history) - 1,
            entry.kind,
            entry.source,
            entry.target,
            f.instant(entry.at),
            entry.actor.role.value,
            entry.actor.id,
            f.instant(entry.due_at),
            entry_json(entry),
        )
        if self.kind == "sqlite":
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute(self.update, (*params, d.id, expected)).rowcount != 1:
                conn.execute("ROLLBACK")
                raise RuntimeError("conflict")
            conn.execute(f.trail, trail)
            conn.execute("COMMIT")
        else:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute(self.update, (*params, d.id, expected))
                if cur.rowcount != 1:
                    raise RuntimeError("conflict")
                cur.execute(f.trail, trail)


def _moves(kind: str, url: str, bare_target: str, moves: int, reps: int) -> list[Row]:
    store = SqlStore(url)
    bare = _Bare(kind, bare_target)
    same = _SameRow(kind, url.removeprefix("sqlite:///"))
    start = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    n = 50
    pools = {
        "store": _open("S", n, start),
        "bare": _open("B", n, start),
        "none": _open("N", n, start),
        "row": _open("R", n, start),
    }
    store.add_many(pools["store"])
    store.add_many(pools["row"])
    bare.add(pools["bare"])

    def contender(name: str) -> Callable[[], None]:
        pool = pools[name]

        def go() -> None:
            for i in range(moves):
                d = pool[i % n]
                moved = _next(d)
                if name == "store":
                    store.apply(moved, d.version)
                elif name == "bare":
                    bare.write(moved, d.version)
                elif name == "row":
                    same.write(moved, d.version)
                pool[i % n] = moved

        return go

    order = ["store", "bare", "row", "none"]
    ratios: list[float] = []
    row_ratios: list[float] = []
    storage: list[float] = []
    rates: dict[str, list[float]] = {k: [] for k in order}
    contender("store")()  # warm up: statement caches, the calendar
    contender("bare")()
    contender("row")()
    for rep in range(reps):
        elapsed: dict[str, float] = {}
        shift = rep % len(order)
        for name in order[shift:] + order[:shift]:  # rotated each repetition
            t0 = time.perf_counter()
            contender(name)()
            elapsed[name] = time.perf_counter() - t0
        for name in order:
            rates[name].append(moves / elapsed[name])
        ratios.append(elapsed["bare"] / elapsed["store"])
        row_ratios.append(elapsed["row"] / elapsed["store"])
        storage.append((elapsed["bare"] - elapsed["none"]) / (elapsed["store"] - elapsed["none"]))
    store.close()
    bare.close()
    same.close()
    return [
        (f"{kind} moves/s: store", statistics.median(rates["store"]), "moves/s"),
        (f"{kind} moves/s: bare UPDATE+INSERT", statistics.median(rates["bare"]), "moves/s"),
        (f"{kind} moves/s: bare, the same row", statistics.median(rates["row"]), "moves/s"),
        (f"{kind} moves/s: moves alone", statistics.median(rates["none"]), "moves/s"),
        (f"{kind} store / bare (goal >= 0.7)", statistics.median(ratios), "x"),
        (f"{kind} store / bare, the same row", statistics.median(row_ratios), "x"),
        (f"{kind} store / bare, storage cost only", statistics.median(storage), "x"),
    ]


_STATES = (
    "etude_devis",
    "devis_demande_info",
    "contact_client_devis",
    "attente_cie",
    "attente_gestion_ma",
    "rapport_attente_traitement",
)


def _office(n: int, now: datetime) -> list[Dossier]:
    rng = random.Random(42)
    out = []
    for i in range(n):
        state = _STATES[i % len(_STATES)]
        owner = WF.catalogue.state(state).owner
        assert owner is not None
        start = now - timedelta(hours=rng.uniform(0, 24 * 12))
        due = start + timedelta(hours=rng.uniform(12, 24 * 18))
        actor = Actor(role=owner, id=f"{owner.value}-{rng.randrange(200)}")
        out.append(
            adopt(WF, f"W-{i}", state, due_at=due, at=start, actor=actor, contractor=f"C{i % 300}")
        )
    return out


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _office_figures(kind: str, url: str, dossiers: int, repeat: int) -> list[Row]:
    now = datetime(2024, 3, 13, 12, 0, tzinfo=UTC)  # a Wednesday
    store = SqlStore(url)
    t0 = time.perf_counter()
    store.add_many(_office(dossiers, now), batch=2000)
    load = time.perf_counter() - t0
    rows: list[Row] = [(f"{kind} load {dossiers:,} dossiers (add_many)", load, "s")]
    for label, query in (
        ("a desk (role surveyor)", {"role": "surveyor"}),
        ("one assignee", {"assignee": "surveyor-17"}),
        ("one contractor", {"contractor": "C7"}),
        ("the whole office", {}),
        ("the whole office, first 100", {"limit": 100}),
    ):
        seconds, items = _time(lambda q=query: store.worklist(at=now, **q), repeat)  # type: ignore[misc]
        rows.append(
            (
                f"{kind} worklist over {dossiers:,}: {label} ({len(items)} items)",
                seconds * 1000,
                "ms",
            )
        )
    seconds, report = _time(lambda: store.sweep(now), 1)
    rows.append(
        (
            f"{kind} sweep over {dossiers:,}: first "
            f"({len(report.breaches)} breaches, {report.recorded} complaints)",
            seconds * 1000,
            "ms",
        )
    )
    seconds, report = _time(lambda: store.sweep(now + timedelta(hours=1)), 1)
    rows.append(
        (f"{kind} sweep: the next hour ({len(report.breaches)} breaches)", seconds * 1000, "ms")
    )
    seconds, report = _time(lambda: store.sweep(now + timedelta(hours=1)), 3)
    rows.append(
        (f"{kind} sweep: again, nothing new ({report.recorded} recorded)", seconds * 1000, "ms")
    )
    store.close()
    return rows


def _drop(url: str) -> None:
    from etatmachine.store import schema
    from etatmachine.store.sql import make_engine

    engine = make_engine(url)
    schema.metadata.drop_all(engine)
    engine.dispose()


def run(
    dossiers: int = 100_000,
    *,
    quick: bool = False,
    postgres: str | None = "",
    moves: int = 2000,
    reps: int = 7,
) -> list[Row]:
    """The figures, SQLite always, PostgreSQL when a URL is given (its tables are dropped;
    by default ``$ETATMACHINE_TEST_POSTGRES_URL``, None: leave PostgreSQL out). ``quick``:
    the smoke run of `run_all.py --quick` (2,000 dossiers, 100 moves, one repetition)."""
    if quick:
        dossiers, moves, reps = 2_000, 100, 1
    if postgres == "":
        postgres = os.environ.get("ETATMACHINE_TEST_POSTGRES_URL")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        rows += _moves(
            "sqlite", f"sqlite:///{base / 'store.db'}", str(base / "bare.db"), moves, reps
        )
        rows += _office_figures("sqlite", f"sqlite:///{base / 'office.db'}", dossiers, 9)
    if postgres:
        _drop(postgres)
        rows += _moves("postgresql", postgres, postgres, moves, reps)
        _drop(postgres)
        rows += _office_figures("postgresql", postgres, dossiers, 9)
        _drop(postgres)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument(
        "--moves", type=int, default=2000, help="moves per contender per repetition"
    )
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("ETATMACHINE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    for name, value, unit in run(
        args.dossiers, postgres=args.postgres, moves=args.moves, reps=args.reps
    ):
        print(f"{name:72} {value:12,.2f} {unit}")


if __name__ == "__main__":
    main()
