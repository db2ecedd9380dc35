"""The Dask path: the same replay mapped over files on a LocalCluster, written as Parquet."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from etatmachine.cli import main

pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "histories"


def _run_on_cluster(tmp_path: Path, processes: bool) -> list[dict[str, object]]:
    from etatmachine.cluster import replay_to_parquet

    paths = [str(p) for p in sorted(EXAMPLES.glob("*.txt"))]
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=processes,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        parts = replay_to_parquet(paths, tmp_path / "out", client=client, files_per_part=2)
    assert len(parts) == 3 and sum(p.entries for p in parts) == 17
    rows: list[dict[str, object]] = []
    for part in parts:
        rows.extend(pq.read_table(part.path).to_pylist())
    return rows


def _cli_rows(tmp_path: Path) -> list[dict[str, object]]:
    out = tmp_path / "cli.parquet"
    result = CliRunner().invoke(
        main, ["replay", "--format", "parquet", "-o", str(out), str(EXAMPLES)]
    )
    assert result.exit_code == 0
    rows: list[dict[str, object]] = pq.read_table(out).to_pylist()
    return rows


def test_dask_threads_give_the_command_lines_tables(tmp_path: Path) -> None:
    assert _run_on_cluster(tmp_path, processes=False) == _cli_rows(tmp_path)
    result = CliRunner().invoke(main, ["report", str(tmp_path / "out"), "--format", "csv"])
    assert result.exit_code == 0 and "WAKENSON MENUISERIES,10," in result.stdout


@pytest.mark.deep
def test_dask_worker_processes_give_the_command_lines_tables(tmp_path: Path) -> None:
    assert _run_on_cluster(tmp_path, processes=True) == _cli_rows(tmp_path)


def test_one_big_archive_is_many_partitions(tmp_path: Path) -> None:
    """An archive is cut into spans as the command line cuts it: one file, several parts,
    the rows of ``replay --format parquet`` on the same file."""
    from etatmachine.batch import WHOLE_BYTES
    from etatmachine.cluster import replay_to_parquet

    opening = "OUVERTURE: -02.01.2023-08:00-(1000001) OUVERTURE SYNTHETIQUE\n"
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    one = "".join(("" if t.lstrip().startswith("OUVERTURE") else opening) + t for t in texts)
    archive = tmp_path / "archive.txt"
    archive.write_text(one * (WHOLE_BYTES // len(one.encode()) * 3), encoding="utf-8")
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=False,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        parts = replay_to_parquet([str(archive)], tmp_path / "out", client=client, part_bytes=1)
    assert len(parts) > 2
    rows = [row for part in parts for row in pq.read_table(part.path).to_pylist()]
    out = tmp_path / "cli.parquet"
    result = CliRunner().invoke(
        main, ["replay", "--format", "parquet", "-o", str(out), str(archive)]
    )
    assert result.exit_code == 0, result.stderr
    assert rows == pq.read_table(out).to_pylist()
