"""The Dask path: the same replay mapped over files on a LocalCluster, written as Parquet."""

from __future__ import annotations

import json
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
    assert json  # the module imports stay used when the deep test is skipped
