"""Benchmark the compiled core against the pure Python build, on the same archive.

Builds the compiled core from the source tree this script runs from
(``ETATMACHINE_COMPILE=1 pip wheel --no-deps``, in an isolated build environment as a user's
``pip install`` does; the build time is a figure) and installs the wheel into a temporary
directory. The two builds cannot share one process (same module names), so every repetition
starts one fresh interpreter per build, the order rotated each repetition; each interpreter
warms its caches on a small archive, then times, on the same archive file:

* floor: the bare regex scan of bench_parse (the same Python code in both builds: a
  baseline measured in the same process as the build's own figures);
* parse: ``iter_file`` (every record built);
* end to end: ``iter_replays(iter_file(path), Workflow.default())``, every report consumed.

Figures are medians over repetitions: per-entry times, the ratio to the floor measured in the
same interpreter, and the speed-up pure / compiled measured in the same repetition. Each
interpreter reports which modules it ran compiled (`etatmachine.build_info`); a pure side
running anything compiled, or a compiled side running anything pure, fails the benchmark.

Run: ``python benchmarks/bench_compiled.py [--entries 100000] [--repeat 5] [--site DIR]``
(``--site``: a directory where a compiled wheel is already installed: no build).
A full-run benchmark only (``FULL_ONLY``): building takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORDER = 65  # after bench_replay: run_all.py runs benchmarks by ORDER, then name
FULL_ONLY = True  # run_all.py --quick lists it as skipped: the build alone takes a minute
__all__ = ["build_compiled", "main", "run"]

Row = tuple[str, float, str]
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILDS = ("pure", "compiled")
GOAL_RATE = 50_000  # entries/s end to end, one core (issue 13)
GOAL_RATIO = 10.0  # end to end within 10x the floor


def build_compiled(target: Path) -> tuple[Path, float]:
    """Build the compiled wheel of ROOT and install it (no dependencies) into ``target/site``;
    the site directory and the seconds ``pip wheel`` took (type check and C compile from
    scratch; pip's download cache may be warm)."""
    wheels = target / "wheel"
    # a mypy cache of its own: the tree's .mypy_cache would make mypyc's type check incremental
    env = {
        **os.environ,
        "ETATMACHINE_COMPILE": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "MYPY_CACHE_DIR": str(target / "mypy_cache"),
    }
    started = time.perf_counter()
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "-q", "--no-deps", str(ROOT), "-w", str(wheels)], env=env, check=True
    )
    seconds = time.perf_counter() - started
    (wheel,) = wheels.glob("etatmachine-*.whl")
    site = target / "site"
    subprocess.run(
        [*pip, "install", "-q", "--no-deps", "--target", str(site), str(wheel)], env=env, check=True
    )
    return site, seconds


def _worker(archive: Path, warm: Path) -> dict[str, object]:
    """In a fresh interpreter of one build: seconds for the floor, parse and end to end."""
    from bench_parse import _floor
    from bench_replay import _parse, _replay

    import etatmachine
    from etatmachine.build_info import compiled_modules

    _replay(warm)  # warm the caches (calendar tables, label resolution)
    seconds: dict[str, float] = {}
    counts: dict[str, object] = {}
    for name, fn in (("floor", _floor), ("parse", _parse), ("replay", _replay)):
        t0 = time.perf_counter()
        counts[name] = fn(archive)
        seconds[name] = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "entries": counts["parse"],
        "compiled": list(compiled_modules()),
        "file": etatmachine.__file__,
    }


def _run_build(path: Path, archive: Path, warm: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(path), str(HERE)))}
    done = subprocess.run(
        [sys.executable, str(Path(__file__)), "--worker", str(archive), str(warm)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _check(build: str, result: dict[str, object], expected: tuple[str, ...], where: Path) -> None:
    """The interpreter ran the build it was meant to: the right files, compiled or not."""
    file = Path(str(result["file"])).resolve()
    compiled = tuple(str(name) for name in result["compiled"])  # type: ignore[attr-defined]
    if not file.is_relative_to(where.resolve()) or compiled != expected:
        raise AssertionError(
            f"{build} build ran {file} with compiled modules {result['compiled']}, "
            f"expected {expected} from {where}"
        )


def run(
    quick: bool = False,
    n_entries: int | None = None,
    repeat: int | None = None,
    site: Path | None = None,
) -> list[Row]:
    """Build (unless ``site``), then pure vs compiled in rotated subprocesses; rows."""
    from bench_parse import write_archive

    # this tree's list (whatever build is installed), read without importing the package
    compiled_list = runpy.run_path(str(ROOT / "src" / "etatmachine" / "build_info.py"))
    modules: tuple[str, ...] = compiled_list["COMPILED_MODULES"]

    n = n_entries or (3_000 if quick else 100_000)
    reps = repeat or (2 if quick else 5)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="etm-bench-compiled-") as tmp:
        if site is None:
            site, build_seconds = build_compiled(Path(tmp))
            rows.append(("compiled: build (pip wheel, mypyc from scratch)", build_seconds, "s"))
        paths = {"pure": ROOT / "src", "compiled": site}
        expected = {"pure": (), "compiled": modules}
        rows.append(("compiled: modules compiled", len(modules), "modules"))
        archive, warm = Path(tmp) / "archive.txt", Path(tmp) / "warm.txt"
        write_archive(warm, 1_000, openings=True)
        written = write_archive(archive, n, openings=True)
        rows.append(("compiled: archive ETAT entries", written, "entries"))
        results: dict[str, list[dict[str, float]]] = {b: [] for b in BUILDS}
        for rep in range(reps):
            for build in BUILDS[rep % 2 :] + BUILDS[: rep % 2]:
                result = _run_build(paths[build], archive, warm)
                _check(build, result, expected[build], paths[build])
                if result["entries"] != written:
                    raise AssertionError(f"{build}: parsed {result['entries']} of {written}")
                results[build].append(result["seconds"])  # type: ignore[arg-type]

    def med(build: str, key: str, over: str | None = None) -> float:
        return statistics.median(s[key] / (s[over] if over else written) for s in results[build])

    for build in BUILDS:
        rows += [
            (f"compiled: {build}, parse per entry", med(build, "parse") * 1e6, "µs"),
            (f"compiled: {build}, end to end per entry", med(build, "replay") * 1e6, "µs"),
            (
                f"compiled: {build}, end to end",
                1 / med(build, "replay"),
                f"entries/s (goal >= {GOAL_RATE:,})",
            ),
            (f"compiled: {build}, parse / floor", med(build, "parse", "floor"), "x time"),
            (
                f"compiled: {build}, end to end / floor",
                med(build, "replay", "floor"),
                f"x time (goal <= {GOAL_RATIO:g})",
            ),
        ]
    for key, label in (("parse", "parse"), ("replay", "end to end")):
        speedup = statistics.median(
            p[key] / c[key] for p, c in zip(results["pure"], results["compiled"], strict=True)
        )
        rows.append((f"compiled: speed-up, {label} (pure / compiled)", speedup, "x"))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table (or, with ``--worker``, one build's timings as JSON)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--worker"]:
        print(json.dumps(_worker(Path(args[1]), Path(args[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="ETAT entries to replay")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions (both builds each)")
    parser.add_argument("--site", type=Path, default=None, help="an installed compiled build")
    parser.add_argument("--quick", action="store_true", help="3,000 entries, 2 repetitions")
    ns = parser.parse_args(args)
    entries = 3_000 if ns.quick else ns.entries
    repeat = 2 if ns.quick else ns.repeat
    for name, value, unit in run(ns.quick, entries, repeat, ns.site):
        print(f"{name:<52} {value:>16,.2f} {unit}")


if __name__ == "__main__":
    main()
