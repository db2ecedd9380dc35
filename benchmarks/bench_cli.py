"""Benchmark the command line at scale: --jobs speed-up, flat memory, Dask against --jobs 2.

Run: ``python benchmarks/bench_cli.py [--quick]``. Every figure runs the installed command
(``etatmachine replay``) in a fresh process on archives written by ``bench_parse``
(one dossier per history, an ``OUVERTURE`` line each):

* ``--jobs 1`` vs ``--jobs 2`` on one archive, ``--format jsonl`` to /dev/null, interleaved
  and rotated (median of per-repetition ratios): the speed-up of the process pool
  (cut at ``OUVERTURE``, pieces replayed in order). It can only approach 2 on a machine
  whose two cores are free;
* peak RSS (the largest process, pool workers included) for the archive and for one five
  times larger, in JSON Lines and in Parquet, and for a directory of many small files
  (10,000 in the full run): flat means the same whatever the input (goal ≤ 100 MB);
* Dask: `etatmachine.cluster.replay_to_parquet` on a ``LocalCluster(n_workers=2,
  processes=True)`` against ``replay --format parquet --jobs 2`` on the same files (the
  cluster's start-up is reported apart).

``run(quick)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_parse import write_archive

ORDER = 70  # run_all.py runs benchmarks by ORDER, then name
__all__ = ["main", "run"]

Row = tuple[str, float, str]
_RSS = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("etatmachine")
    found = str(script) if script.exists() else shutil.which("etatmachine")
    return [found] if found else [sys.executable, "-m", "etatmachine.cli"]


def _rss_mb(cmd: list[str]) -> float:
    """Peak RSS (MB) of the largest process ``cmd`` runs."""
    done = subprocess.run(
        [sys.executable, "-c", _RSS, *cmd], check=True, capture_output=True, text=True
    )
    return int(done.stdout.split()[-1]) / 1024


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _jobs(archive: Path, repeat: int) -> tuple[float, float, float]:
    """Median seconds of --jobs 1 and 2, and the median per-repetition speed-up."""
    cmds = {
        j: [*_cli(), "replay", "--format", "jsonl", "--jobs", str(j), str(archive)] for j in (1, 2)
    }
    times: dict[int, list[float]] = {1: [], 2: []}
    for rep in range(repeat):
        for j in (1, 2) if rep % 2 == 0 else (2, 1):
            times[j].append(_timed(cmds[j]))
    speedup = statistics.median(a / b for a, b in zip(times[1], times[2], strict=True))
    return statistics.median(times[1]), statistics.median(times[2]), speedup


def _main_share(archive: Path) -> float:
    """The share of the CPU time of a ``--jobs 2`` replay spent in the main process (reading,
    cutting, writing): what cannot run in parallel, whatever the machine's load."""
    from etatmachine.batch import Options
    from etatmachine.replay_cli import run as replay_run

    before = os.times()
    replay_run([str(archive)], Options(fmt="jsonl"), jobs=2, out=io.StringIO(), small_input=0)
    after = os.times()
    main = after.user + after.system - before.user - before.system
    workers = (
        after.children_user + after.children_system - before.children_user - before.children_system
    )
    return main / max(main + workers, 1e-9)


def _small_files(folder: Path, count: int, source: Path) -> None:
    folder.mkdir()
    text = source.read_text(encoding="utf-8")
    for i in range(count):
        (folder / f"h{i:05d}.txt").write_text(text, encoding="utf-8")


def _dask_vs_jobs(folder: Path, out: Path, repeat: int) -> tuple[float, float, float]:
    """(cluster start, Dask replay, --jobs 2 replay) median seconds on the files of
    ``folder``, interleaved: Dask on a warm cluster, ``--jobs 2`` in this process (its
    pool started each time, as each command does)."""
    from distributed import Client, LocalCluster

    from etatmachine.batch import Options
    from etatmachine.cluster import replay_to_parquet
    from etatmachine.replay_cli import run as replay_run

    paths = sorted(str(p) for p in folder.glob("*.txt"))
    per_part = max(1, len(paths) // 8)
    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # workers complain when the cluster closes
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - t0
        replay_to_parquet(paths[:2], out / "warm", client=client, files_per_part=1)
        times: dict[str, list[float]] = {"dask": [], "jobs": []}
        for rep in range(repeat):
            for name in ("dask", "jobs") if rep % 2 == 0 else ("jobs", "dask"):
                t0 = time.perf_counter()
                if name == "dask":
                    replay_to_parquet(
                        paths, out / f"dask{rep}", client=client, files_per_part=per_part
                    )
                else:
                    replay_run(
                        paths, Options(fmt="parquet"), output=out / f"j{rep}.parquet", jobs=2
                    )
                times[name].append(time.perf_counter() - t0)
    return started, statistics.median(times["dask"]), statistics.median(times["jobs"])


def run(quick: bool = False) -> list[Row]:
    """Figures of the command line at scale; rows."""
    n = 1_500 if quick else 100_000
    n_files = 50 if quick else 10_000
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        archive = root / "archive.txt"
        written = write_archive(archive, n, openings=True)
        rows.append(("cli archive ETAT entries", written, "entries"))
        t1, t2, speedup = _jobs(archive, 1 if quick else 3)
        rows.append(("cli replay --jobs 1: entries/s", written / t1, "entries/s"))
        rows.append(("cli replay --jobs 2: entries/s", written / t2, "entries/s"))
        rows.append(("cli --jobs 2 speed-up over --jobs 1", speedup, "x (2 cores: goal near 2)"))
        share = _main_share(archive)
        rows.append(("cli --jobs 2: CPU of the main process / all CPU", share * 100, "%"))
        rows.append(
            (
                "cli --jobs 2: speed-up bound on 2 free cores (Amdahl)",
                1 / (share + (1 - share) / 2),
                "x",
            )
        )
        big = root / "big.txt"
        write_archive(big, 5 * n, openings=True)
        sizes = (
            [(f"{5 * written:,}", big)]
            if quick
            else [(f"{written:,}", archive), (f"{5 * written:,}", big)]
        )
        for label, path in sizes:
            rows.append(
                (
                    f"cli peak RSS, jsonl, {label} entries",
                    _rss_mb([*_cli(), "replay", "--format", "jsonl", str(path)]),
                    "MB (goal <= 100)",
                )
            )
        rows.append(
            (
                f"cli peak RSS, parquet, {5 * written:,} entries",
                _rss_mb(
                    [
                        *_cli(),
                        "replay",
                        "--format",
                        "parquet",
                        "-o",
                        str(root / "o.parquet"),
                        str(big),
                    ]
                ),
                "MB (goal <= 100)",
            )
        )
        folder = root / "many"
        _small_files(
            folder,
            n_files,
            Path(__file__).resolve().parents[1]
            / "examples"
            / "histories"
            / "b_wakenson_menuiseries.txt",
        )
        rows.append(
            (
                f"cli peak RSS, table --summary, {n_files:,} files",
                _rss_mb([*_cli(), "replay", "--summary", str(folder)]),
                "MB (goal <= 100)",
            )
        )
        try:
            import distributed  # noqa: F401
        except ImportError:
            rows.append(("dask: skipped (pip install 'etatmachine[dask]')", 0, ""))
            return rows
        dask_files = root / "dask"
        dask_files.mkdir()
        for i in range(8):
            write_archive(dask_files / f"a{i}.txt", max(150, n // 8), openings=True)
        started, dask, jobs = _dask_vs_jobs(dask_files, root, 1 if quick else 3)
        rows.append(("dask: LocalCluster(2 processes) start", started, "s"))
        rows.append(("dask: replay_to_parquet, 8 archives", dask, "s"))
        rows.append(("dask: --jobs 2 (replay_cli.run, pool started), same files", jobs, "s"))
        rows.append(("dask / --jobs 2", dask / jobs, "x time"))
    return rows


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name, value, unit in run(args.quick):
        print(f"  {name:<56} {value:>12,.2f} {unit}")


if __name__ == "__main__":
    main()
