"""Replay on a Dask cluster: the same replay function as ``--jobs``, mapped over files.

>>> from etatmachine.cluster import replay_to_parquet          # doctest: +SKIP
>>> from distributed import Client, LocalCluster              # doctest: +SKIP
>>> with Client(LocalCluster(n_workers=2)) as client:         # doctest: +SKIP
...     parts = replay_to_parquet(paths, "out/", client=client)

`replay_to_parquet` cuts the files into spans as the command line does (`batch.spans`: a
small file is one span, an archive is cut at ``OUVERTURE`` lines, so one big archive is
many partitions too), groups the spans into the partitions of a `dask.bag`, and each
partition, on whichever worker Dask gives it, reads its spans and runs `batch.replay_task`
(the function ``--jobs`` maps) and writes ``part-NNNNN.parquet`` (entries) and
``part-NNNNN.steps.parquet``: the schema of ``replay --format parquet``, so ``etatmachine
report out/`` reads the directory. The workers read the files: they must see the paths
(one machine, or a shared file system). No scheduling of our own: Dask places, retries
and balances the partitions.

Needs ``pip install 'etatmachine[dask]'`` (dask[distributed], pyarrow).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from etatmachine.batch import Options, Piece, Problem, Span, replay_task, spans
from etatmachine.export.parquet import MissingExtraError

__all__ = ["Part", "replay_to_parquet", "write_part"]


@dataclass(frozen=True, slots=True)
class Part:
    """One partition written: its entries file, how many entries, the problems met."""

    path: str
    entries: int
    problems: tuple[Problem, ...]


def write_part(index: int, items: Sequence[Span | Piece], out_dir: str, options: Options) -> Part:
    """Replay ``items`` (spans, from `batch.spans`) and write them as part ``index`` of
    ``out_dir`` (one Dask task)."""
    from etatmachine.export.columnar import ParquetSink

    target = Path(out_dir) / f"part-{index:05d}.parquet"
    sink = ParquetSink(target)
    entries = 0
    problems: list[Problem] = []
    try:
        for item in items:
            for result in replay_task([item], options):
                if result.payload is not None:
                    sink.write(result.payload)
                entries += result.entries
                problems.extend(result.problems)
    finally:
        sink.close()
    return Part(str(target), entries, tuple(problems))


def _size(item: Span | Piece) -> int:
    if isinstance(item, Piece):
        return 40 * len(item.lines)
    if item.end is not None:
        return item.end - item.start
    try:
        return os.path.getsize(item.source) - item.start
    except OSError:
        return 0


def _groups(
    items: Iterator[Span | Piece], files_per_part: int, part_bytes: int
) -> list[list[Span | Piece]]:
    groups: list[list[Span | Piece]] = []
    group: list[Span | Piece] = []
    size = 0
    for item in items:
        group.append(item)
        size += _size(item)
        if len(group) >= files_per_part or size >= part_bytes:
            groups.append(group)
            group, size = [], 0
    if group:
        groups.append(group)
    return groups


def replay_to_parquet(
    paths: Sequence[str],
    out_dir: str | Path,
    *,
    options: Options | None = None,
    client: Any = None,
    files_per_part: int = 64,
    part_bytes: int = 4 << 20,
) -> list[Part]:
    """Replay ``paths`` on Dask into Parquet parts under ``out_dir``; the parts, in order.

    ``client``: a ``distributed.Client`` (default: Dask's current scheduler);
    ``options``: the replay's options (its format is always parquet). A part holds at most
    ``files_per_part`` spans (small files, or pieces of an archive) and about
    ``part_bytes`` of history.
    """
    try:
        import dask.bag as db
    except ImportError:
        raise MissingExtraError("dask", "dask") from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opts = replace(options or Options(), fmt="parquet")
    groups = list(enumerate(_groups(spans(paths), files_per_part, part_bytes)))
    bag = db.from_sequence(groups, npartitions=max(1, len(groups)))  # type: ignore[no-untyped-call]
    parts = bag.map(lambda g: write_part(g[0], g[1], str(out), opts))
    if client is not None:
        result: list[Part] = client.compute(parts).result()
    else:
        result = parts.compute()
    return sorted(result, key=lambda p: p.path)
