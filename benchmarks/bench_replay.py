"""Benchmark the end-to-end replay of a large archive against a bare regex scan (the floor).

The archive is the example histories repeated with dates shifted one day per copy, every
history starting with an ``OUVERTURE:`` line so that `iter_replays` splits it into one dossier
per history (six per copy). It is streamed to a temporary file, never held in memory.

Measured, each on the same file in the same run:

* floor: read the lines, find the ``ETAT:`` lines and their due date (a bare regex scan);
* parse: `iter_file` only (every record built);
* end to end: ``iter_replays(iter_file(path))``, every report consumed: parse, resolve each
  label, apply each entry as a recorded move (rules, due dates), lateness and the summary.

Peak memory (tracemalloc) of the end-to-end run on a small and a five times larger archive
shows that it stays flat; a cProfile of the end-to-end run lists where the time goes.

Run: ``python benchmarks/bench_replay.py [--entries 1000000] [--quick] [--no-profile]``.
``run(n_entries)`` returns ``(name, value, unit)`` rows.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bench_parse import _floor, write_archive

from etatmachine.legacy import EtatRecord, iter_file
from etatmachine.replay import iter_replays
from etatmachine.workflow import Workflow

ORDER = 60  # run_all.py runs benchmarks by ORDER, then name
__all__ = ["main", "profile_summary", "run"]

Row = tuple[str, float, str]
GOAL_RATE = 50_000  # entries/s end to end, one core
GOAL_RATIO = 10.0  # end to end within 10x the floor


def _parse(path: Path) -> int:
    etats = 0
    for record in iter_file(path):
        if isinstance(record, EtatRecord):
            etats += 1
    return etats


def _replay(path: Path) -> tuple[int, int]:
    """Replay the archive, consuming every report; (dossiers, entries)."""
    dossiers = entries = 0
    for report in iter_replays(iter_file(path), Workflow.default(), source=path.name):
        dossiers += 1
        entries += report.summary.entries
    return dossiers, entries


def _peak_memory(path: Path) -> float:
    """Peak traced memory (MB) while replaying the whole archive."""
    tracemalloc.start()
    try:
        _replay(path)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def profile_summary(n_entries: int = 20_000, top: int = 15) -> str:
    """cProfile of the end-to-end replay of ``n_entries``: the top functions by own time."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.txt"
        write_archive(path, n_entries, openings=True)
        _replay(path)  # warm the caches (calendar tables, label resolution)
        prof = cProfile.Profile()
        prof.enable()
        _replay(path)
        prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    return "\n".join(lines[start - 2 : start + top + 1])


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _per_entry(
    sizes: tuple[int, ...], write: Callable[[Path, int], int], stem: str, row: str
) -> tuple[list[Row], float]:
    """End-to-end µs per entry of the input ``write`` makes at each size (``row``: the row's
    name, formatted with the size), and the spread between them in % (linear when they
    agree; goal: within 20 %)."""
    rows: list[Row] = []
    per_entry = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"{stem}-{size}.txt"
            written = write(path, size)
            elapsed = _timed(lambda p=path: _replay(p))
            per_entry.append(elapsed / written * 1e6)
            rows.append((row.format(size), per_entry[-1], "µs/entry"))
            path.unlink()
    spread = max(per_entry) / min(per_entry) - 1
    return rows, spread * 100


def scaling(sizes: tuple[int, ...]) -> list[Row]:
    """End-to-end µs per entry of an archive at each size (goal: within 20 %)."""
    rows, spread = _per_entry(
        sizes,
        lambda p, n: write_archive(p, n, openings=True),
        "archive",
        "scaling: end to end, {:,} entries",
    )
    rows.append(("scaling: largest / smallest cost per entry - 1", spread, "% (goal <= 20)"))
    return rows


def write_long_history(path: Path, n_entries: int, seed: int = 13) -> int:
    """One dossier's history of ``n_entries`` ETAT entries in one excerpt (time only goes
    forward, every move one the catalogue allows its case handler), written as the back
    office writes it: the worst case for a replay that copied the trail on every move."""
    import random

    from etatmachine import Actor, Role
    from etatmachine.business_calendar import PARIS
    from etatmachine.working import WorkingDossier

    wf = Workflow.default()
    rng = random.Random(seed)
    ids = {Role.CONTRACTOR: "995", Role.SYSTEM: "996"}
    actors = [Actor(role=r, id=ids.get(r, "3995"), name="SANDRINE SUTOR") for r in Role]
    actor = actors[[a.role for a in actors].index(Role.CASE_HANDLER)]
    at = datetime(2023, 2, 7, 9, 0, tzinfo=PARIS)
    start = wf.state("contact_client_devis")
    work = WorkingDossier(wf.open("D", start.code, actor=actor, at=at, mid_flow=True).dossier)
    due = work.due_at
    assert due is not None

    def stamp(when: datetime, who: Actor) -> str:
        name = {"995": "INTERNET", "996": "SYSTEME"}.get(who.id, "SANDRINE SUTOR")
        return f"{when:%d.%m.%Y-%H:%M}-({who.id}) {name} ."

    lines = [
        f"ETAT: {start.label} (1) {due:%d/%m/%Y %H:%M} ({at:%d/%m/%Y})\n{stamp(at, actor)}\n\n"
    ]
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for _ in range(n_entries - 1):
            at += timedelta(hours=rng.randint(1, 30))
            allowed = [
                (who, v)
                for who in actors
                if who.id != "3995" or who.role is Role.CASE_HANDLER  # the roles replay reads
                for v in wf.allowed_moves(work, actor=who, at=at)  # type: ignore[arg-type]
                if v.allowed
                and set(v.needs) <= {"comment", "due"}
                and not wf.state(v.target).terminal
                and v.target != work.state
            ]
            actor, move = rng.choice(allowed)
            target = wf.state(move.target)
            given = at + timedelta(days=rng.randint(1, 5)) if "due" in move.needs else None
            comment = "RAS" if "comment" in move.needs else None
            wf.record_in_place(work, target.code, actor=actor, at=at, comment=comment, due=given)
            due = work.due_at or at
            note = f"\n{comment}" if comment else ""
            lines.append(
                f"ETAT: {target.label} (1) {due:%d/%m/%Y %H:%M} ({at:%d/%m/%Y}){note}\n"
                f"{stamp(at, actor)}\n\n"
            )
            if len(lines) >= 1000:
                fh.write("".join(lines))
                lines.clear()
        fh.write("".join(lines))
    return n_entries


def long_scaling(sizes: tuple[int, ...]) -> list[Row]:
    """End-to-end µs per entry of one dossier's history at each size (goal: within 20 %)."""
    rows, spread = _per_entry(sizes, write_long_history, "long", "one long history: {:,} entries")
    rows.append(("one long history: largest / smallest - 1", spread, "% (goal <= 20)"))
    return rows


def run(
    quick: bool = False,
    n_entries: int | None = None,
    memory_sizes: tuple[int, int] | None = None,
    sizes: tuple[int, ...] | None = None,
) -> list[Row]:
    """The floor, the parser and the end-to-end replay on one archive, interleaved and
    rotated (median of per-repetition ratios); peak memory; linear scaling. Rows."""
    from method import compare

    n = n_entries or (3_000 if quick else 100_000)
    memory_sizes = memory_sizes or ((500, 2_500) if quick else (20_000, 100_000))
    sizes = sizes or ((1_000, 10_000) if quick else (10_000, 100_000, 1_000_000))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.txt"
        write_archive(path, 1_000, openings=True)
        _replay(path)  # warm the caches (calendar tables, label resolution)
        written = write_archive(path, n, openings=True)
        rows.append(("archive ETAT entries", written, "entries"))
        rows.append(("archive size", path.stat().st_size / 1e6, "MB"))
        counts: dict[str, object] = {}
        cmp = compare(
            {
                "floor": lambda: counts.__setitem__("floor", _floor(path)[1]),
                "parse": lambda: counts.__setitem__("parse", _parse(path)),
                "replay": lambda: counts.__setitem__("replay", _replay(path)),
            },
            "floor",
            2 if quick else 3,
        )
        dossiers, replayed = counts["replay"]  # type: ignore[misc]
        if not counts["floor"] == counts["parse"] == replayed == written:
            raise AssertionError(f"counts differ: {written} {counts}")
        rows.append(("archive dossiers", dossiers, "dossiers"))
        for name, label in (
            ("floor", "floor (regex scan)"),
            ("parse", "parse (iter_file)"),
            ("replay", "end to end (iter_replays)"),
        ):
            rows.append((f"{label}: entries/s", written / cmp.seconds[name], "entries/s"))
        rows.append(("parse / floor", cmp.ratios["parse"], "x time"))
        rows.append(
            ("end to end / floor", cmp.ratios["replay"], f"x time (goal <= {GOAL_RATIO:g})")
        )
        rows.append(("end to end, per entry", cmp.seconds["replay"] / written * 1e6, "µs"))
        rows.append(("  of which parse, per entry", cmp.seconds["parse"] / written * 1e6, "µs"))
        rows.append(
            ("end to end / goal rate", written / cmp.seconds["replay"] / GOAL_RATE, "x (goal >= 1)")
        )
        for size in memory_sizes:
            write_archive(path, size, openings=True)
            rows.append((f"peak memory, end to end, {size:,} entries", _peak_memory(path), "MB"))
    rows.extend(scaling(sizes))
    # one dossier's report holds all its entries (its memory grows with that dossier alone):
    # a history of a million entries is no real file, so the long history stops at 100k
    rows.extend(long_scaling(sizes[:2]))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table (and the profile unless ``--no-profile``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="ETAT entries to replay")
    parser.add_argument("--quick", action="store_true", help="20,000 entries (smoke run)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile summary")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else args.entries
    for name, value, unit in run(args.quick, n):
        print(f"{name:<44} {value:>16,.2f} {unit}")
    if not args.no_profile:
        print()
        print("cProfile, end to end, 20,000 entries (top 15 by own time):")
        print(profile_summary(20_000))


if __name__ == "__main__":
    main()
