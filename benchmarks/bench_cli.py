"""Benchmark the command line at scale: flat memory, the --jobs speed-up, Dask against --jobs 2.

Run: ``python benchmarks/bench_cli.py [--quick]``. Every figure runs the installed command
(``etatmachine replay``) in a fresh process on archives written by ``bench_parse`` (one
dossier per history, an ``OUVERTURE`` line each), with the default ``--jobs`` (the cores):

* peak RSS of the largest process (the command, its pool workers, the Parquet writer
  process) for ``--format jsonl``, ``csv``, ``parquet`` and ``--summary`` (the table
  mode), on an archive, on one ten times larger, and on a directory of many small
  histories (10,000 files in the full run). Flat means the same figure whatever the input:
  the ``growth`` rows give the largest rise from the small archive to the large one and to
  the directory (goal: a few MB, the noise of a run). One ``all processes`` row samples
  the sum of the RSS of every process of a Parquet run (shared pages counted in each);
* ``--jobs 1`` against ``--jobs 2`` on one archive split into dossiers and on a directory
  of 8 archives (the same entries), ``--format jsonl`` to /dev/null, interleaved and
  rotated, the median of the per-repetition ratios; with the share of the CPU spent in the
  main process (reading, cutting, writing: what cannot run in parallel) and the bound it
  sets on two free cores (Amdahl), and the machine's load average during the run: another
  job on a core takes it from the pool. The CPU times of the same runs move little with
  the load: their ratio is the pool's overhead, and with the main process's share they give
  the speed-up two free cores would show;
* Dask: `etatmachine.cluster.replay_to_parquet` on a ``LocalCluster(n_workers=2,
  processes=True)`` against ``replay --format parquet --jobs 2`` (`replay_cli.run`, the
  pool started each time as each command does) on the same 8 archives, interleaved (the
  cluster's start-up reported apart).

``run(quick)`` returns ``(name, value, unit)`` rows for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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
GOAL_RSS = "MB (goal <= 100)"
FORMATS = {
    "jsonl": ["--format", "jsonl"],
    "csv": ["--format", "csv"],
    "parquet": ["--format", "parquet", "-o", "{out}"],
    "table --summary": ["--summary"],
}
SMALL_HISTORY = (
    Path(__file__).resolve().parents[1] / "examples" / "histories" / "b_wakenson_menuiseries.txt"
)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("etatmachine")
    found = str(script) if script.exists() else shutil.which("etatmachine")
    return [found] if found else [sys.executable, "-m", "etatmachine.cli"]


def _rss_mb(cmd: list[str]) -> float:
    """Peak RSS (MB) of the largest process ``cmd`` runs (its children included)."""
    done = subprocess.run(
        [sys.executable, "-c", _RSS, *cmd], check=True, capture_output=True, text=True
    )
    return int(done.stdout.split()[-1]) / 1024


def _tree_rss_mb(cmd: list[str]) -> float:
    """The largest sum of the RSS of ``cmd`` and its descendants, sampled every 20 ms."""

    def tree(pid: int) -> list[int]:
        pids = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    for child in fh.read().split():
                        pids.extend(tree(int(child)))
        except OSError:
            pass
        return pids

    def rss(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            return 0

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(rss(p) for p in tree(proc.pid)))
        time.sleep(0.02)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return peak / 2**20


def _command(fmt: str, path: Path, out: Path, jobs: int | None = None) -> list[str]:
    args = [a.format(out=out) for a in FORMATS[fmt]]
    jobs_args = [] if jobs is None else ["--jobs", str(jobs)]
    return [*_cli(), "replay", *args, *jobs_args, str(path)]


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command and the processes it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


class _Load:
    """The machine's 1-minute load average, sampled during a measurement."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> _Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else os.getloadavg()[0]


def _jobs(path: Path, repeat: int) -> tuple[float, float, float, float, float]:
    """Median wall seconds of --jobs 1 and 2 on ``path``, the median per-repetition
    speed-up (interleaved, the order alternated each repetition), and the median CPU
    seconds of each (load moves the wall times, hardly the CPU times)."""
    cmds = {
        j: [*_cli(), "replay", "--format", "jsonl", "--jobs", str(j), str(path)] for j in (1, 2)
    }
    times: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    for rep in range(repeat):
        for j in (1, 2) if rep % 2 == 0 else (2, 1):
            wall, cpu = _timed(cmds[j])
            times[j].append(wall)
            cpus[j].append(cpu)
    speedup = statistics.median(a / b for a, b in zip(times[1], times[2], strict=True))
    return (
        statistics.median(times[1]),
        statistics.median(times[2]),
        speedup,
        statistics.median(cpus[1]),
        statistics.median(cpus[2]),
    )


def _main_share(path: Path) -> float:
    """The share of the CPU time of a ``--jobs 2`` replay spent in the main process (reading,
    cutting, writing): what cannot run in parallel, whatever the machine's load."""
    from etatmachine.batch import Options
    from etatmachine.replay_cli import run as replay_run

    before = os.times()
    replay_run([str(path)], Options(fmt="jsonl"), jobs=2, out=io.StringIO(), small_input=0)
    after = os.times()
    main = after.user + after.system - before.user - before.system
    workers = (
        after.children_user + after.children_system - before.children_user - before.children_system
    )
    return main / max(main + workers, 1e-9)


def _small_files(folder: Path, count: int) -> None:
    folder.mkdir()
    text = SMALL_HISTORY.read_text(encoding="utf-8")
    for i in range(count):
        (folder / f"h{i:05d}.txt").write_text(text, encoding="utf-8")


def _dask_vs_jobs(
    inputs: list[list[str]], out: Path, repeat: int
) -> tuple[float, list[tuple[float, float, float]]]:
    """Cluster start, then (Dask replay, --jobs 2 replay, median per-repetition ratio) for
    each input (a list of files), interleaved: Dask on a warm cluster, ``--jobs 2`` in this
    process (its pool and Parquet writer started each time, as each command does)."""
    from distributed import Client, LocalCluster

    from etatmachine.batch import Options
    from etatmachine.cluster import replay_to_parquet
    from etatmachine.replay_cli import run as replay_run

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
        replay_to_parquet([str(SMALL_HISTORY)], out / "warm", client=client)
        figures = []
        for k, paths in enumerate(inputs):
            times: dict[str, list[float]] = {"dask": [], "jobs": []}
            for rep in range(repeat):
                for name in ("dask", "jobs") if rep % 2 == 0 else ("jobs", "dask"):
                    t0 = time.perf_counter()
                    if name == "dask":
                        replay_to_parquet(paths, out / f"dask{k}-{rep}", client=client)
                    else:
                        replay_run(
                            paths,
                            Options(fmt="parquet"),
                            output=out / f"j{k}-{rep}.parquet",
                            jobs=2,
                            small_input=0,
                        )
                    times[name].append(time.perf_counter() - t0)
            ratio = statistics.median(
                d / j for d, j in zip(times["dask"], times["jobs"], strict=True)
            )
            figures.append(
                (statistics.median(times["dask"]), statistics.median(times["jobs"]), ratio)
            )
    return started, figures


def _memory(root: Path, small: Path, big: Path, folder: Path, labels: list[str]) -> list[Row]:
    rows: list[Row] = []
    worst_big = worst_dir = 0.0
    out = root / "o.parquet"
    for fmt in FORMATS:
        figures = [_rss_mb(_command(fmt, path, out)) for path in (small, big, folder)]
        for label, value in zip(labels, figures, strict=True):
            rows.append((f"cli peak RSS (largest process), {fmt}, {label}", value, GOAL_RSS))
        worst_big = max(worst_big, figures[1] - figures[0])
        worst_dir = max(worst_dir, figures[2] - figures[0])
    flat = "MB (goal: flat, a few MB of noise)"
    rows.append((f"cli RSS growth, {labels[0]} -> {labels[1]} (worst format)", worst_big, flat))
    rows.append((f"cli RSS growth, {labels[0]} -> {labels[2]} (worst format)", worst_dir, flat))
    rows.append(
        (
            f"cli RSS of all processes (sampled), parquet, {labels[1]}",
            _tree_rss_mb(_command("parquet", big, out)),
            "MB (pool workers + writer; shared pages counted in each)",
        )
    )
    return rows


def run(quick: bool = False) -> list[Row]:
    """Figures of the command line at scale; rows."""
    n_small, n_big = (3_000, 9_000) if quick else (10_000, 100_000)
    n_files = 200 if quick else 10_000
    repeat = 1 if quick else 5  # --jobs runs; Dask runs: 1 or 3
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small, big = root / "small.txt", root / "big.txt"
        written_small = write_archive(small, n_small, openings=True)
        written_big = write_archive(big, n_big, openings=True)
        folder = root / "many"
        _small_files(folder, n_files)
        labels = [
            f"{written_small:,} entries",
            f"{written_big:,} entries",
            f"{n_files:,} files",
        ]
        rows.extend(_memory(root, small, big, folder, labels))

        parts = root / "parts"
        parts.mkdir()
        in_parts = sum(
            write_archive(parts / f"a{i}.txt", n_big // 8, openings=True) for i in range(8)
        )
        with _Load() as load:
            cpu = {}
            for label, path, written in (
                (f"1 archive, {written_big:,} entries", big, written_big),
                (f"8 archives, {in_parts:,} entries", parts, in_parts),
            ):
                t1, t2, speedup, cpu1, cpu2 = _jobs(path, repeat)
                cpu[label] = (cpu1, cpu2)
                rows.append((f"cli --jobs 1, {label}: entries/s", written / t1, "entries/s"))
                rows.append((f"cli --jobs 2, {label}: entries/s", written / t2, "entries/s"))
                rows.append(
                    (f"cli --jobs 2 speed-up over --jobs 1, {label}", speedup, "x (goal near 2)")
                )
                rows.append(
                    (f"cli --jobs 2 CPU / --jobs 1 CPU, {label}", cpu2 / cpu1, "x (pool overhead)")
                )
        share = _main_share(big)
        rows.append(("cli --jobs 2: CPU of the main process / all CPU", share * 100, "%"))
        rows.append(
            (
                "cli --jobs 2: speed-up bound on 2 free cores (Amdahl)",
                1 / (share + (1 - share) / 2),
                "x",
            )
        )
        for label, (cpu1, cpu2) in cpu.items():
            rows.append(
                (
                    f"cli --jobs 2 speed-up on 2 free cores, from CPU times, {label}",
                    cpu1 / (share * cpu2 + (1 - share) * cpu2 / 2),
                    "x (Amdahl with the pool's overhead)",
                )
            )
        rows.append(("cli --jobs runs: machine load average (1 min)", load.median(), "(2 cores)"))
        try:
            import distributed  # noqa: F401
        except ImportError:
            rows.append(("dask: skipped (pip install 'etatmachine[dask]')", 0, ""))
            return rows
        inputs = {
            f"8 archives, {in_parts:,} entries": sorted(str(p) for p in parts.glob("*.txt")),
            f"1 archive, {written_big:,} entries": [str(big)],
        }
        started, figures = _dask_vs_jobs(list(inputs.values()), root, min(repeat, 3))
        rows.append(("dask: LocalCluster(2 processes) start", started, "s"))
        for label, (dask, jobs, ratio) in zip(inputs, figures, strict=True):
            rows.append((f"dask: replay_to_parquet, {label}", dask, "s"))
            rows.append((f"dask: --jobs 2 --format parquet, {label}", jobs, "s"))
            rows.append(
                (f"dask time / --jobs 2 time, {label}", ratio, "x (median of per-rep. ratios)")
            )
    return rows


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name, value, unit in run(args.quick):
        print(f"  {name:<64} {value:>12,.2f} {unit}")


if __name__ == "__main__":
    main()
