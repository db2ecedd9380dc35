"""Replay on a Dask cluster: the same replay function as ``--jobs``, mapped over files.

>>> from etatmachine.cluster import replay_to_parquet          # doctest: +SKIP
>>> from distributed import Client, LocalCluster              # doctest: +SKIP
>>> with Client(LocalCluster(n_workers=2)) as client:         # doctest: +SKIP
...     parts = replay_to_parquet(paths, "out/", client=client)

`replay_to_parquet` groups the files into partitions of a `dask.bag`, and each partition,
on whichever worker Dask gives it, runs `batch.replay_task` (cut at ``OUVERTURE``, replay,
rows) and writes ``part-NNNNN.parquet`` (entries) and ``part-NNNNN.steps.parquet``: the
schema of ``replay --format parquet``, so ``etatmachine report out/`` reads the directory.
No scheduling of our own: Dask places, retries and balances the partitions.

Needs ``pip install 'etatmachine[dask]'`` (dask[distributed], pyarrow).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from etatmachine.batch import Options, Problem, pieces, replay_task, tasks
from etatmachine.export.columnar import MissingExtraError

__all__ = ["Part", "replay_to_parquet", "write_part"]


@dataclass(frozen=True, slots=True)
class Part:
    """One partition written: its entries file, how many entries, the problems met."""

    path: str
    entries: int
    problems: tuple[Problem, ...]


def write_part(index: int, paths: list[str], out_dir: str, options: Options) -> Part:
    """Replay ``paths`` and write them as part ``index`` of ``out_dir`` (one Dask task)."""
    from etatmachine.export.columnar import ParquetSink

    target = Path(out_dir) / f"part-{index:05d}.parquet"
    sink = ParquetSink(target)
    entries = 0
    problems: list[Problem] = []
    try:
        for task in tasks(pieces(paths)):
            for result in replay_task(task, options):
                if result.payload is not None:
                    sink.write(result.payload)
                entries += result.entries
                problems.extend(result.problems)
    finally:
        sink.close()
    return Part(str(target), entries, tuple(problems))


def replay_to_parquet(
    paths: Sequence[str],
    out_dir: str | Path,
    *,
    options: Options | None = None,
    client: Any = None,
    files_per_part: int = 64,
) -> list[Part]:
    """Replay ``paths`` on Dask into Parquet parts under ``out_dir``; the parts, in order.

    ``client``: a ``distributed.Client`` (default: Dask's current scheduler);
    ``options``: the replay's options (its format is always parquet).
    """
    try:
        import dask.bag as db
    except ImportError:
        raise MissingExtraError("dask", "dask") from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opts = replace(options or Options(), fmt="parquet")
    files = list(paths)
    groups = [
        (i, files[k : k + files_per_part])
        for i, k in enumerate(range(0, len(files), files_per_part))
    ]
    bag = db.from_sequence(groups, npartitions=max(1, len(groups)))  # type: ignore[no-untyped-call]
    parts = bag.map(lambda g: write_part(g[0], g[1], str(out), opts))
    if client is not None:
        result: list[Part] = client.compute(parts).result()
    else:
        result = parts.compute()
    return sorted(result, key=lambda p: p.path)
