"""``etatmachine report``: lateness and breaches grouped, computed by DuckDB over Parquet.

Reads the entries files `replay --format parquet` writes (any number, or a Dask output
directory's parts) and groups the steps the entries close:

* ``contractor``: the dossier's contractor; ``owner``: who owed the closed step;
  ``state``/``phase``: the closed step's state and phase; ``month``: the month (Paris
  time) the entry was made.
* per group: ``entries``, ``steps`` (entries that close a step), ``late`` (steps that ended
  after their due date), ``p50_late_hours``/``p90_late_hours`` (median and 90th
  percentile of the lateness of the late steps, business hours, linear interpolation as
  `lateness.GroupStats`), ``breaches`` (entries refused or unresolved).

The lateness column is the first ``lateness*`` column of the schema
(`export.schema.LATENESS_COLUMNS`). Needs duckdb (``pip install 'etatmachine[parquet]'``);
``--plot`` needs matplotlib (``[plot]``).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etatmachine.errors import EtatmachineError
from etatmachine.export.columnar import MissingExtraError
from etatmachine.export.schema import LATENESS_COLUMNS

__all__ = ["GROUPS", "GroupReport", "group_report", "plot_lateness", "write"]

GROUPS = {
    "contractor": "coalesce(contractor, '(none)')",
    "owner": "coalesce(closes_owner, '(none)')",
    "state": "coalesce(closes, '(none)')",
    "phase": "coalesce(closes_phase, '(none)')",
    "month": "strftime(timezone('Europe/Paris', set_at), '%Y-%m')",
}
_COLUMNS = ("entries", "steps", "late", "p50_late_hours", "p90_late_hours", "breaches")


@dataclass(frozen=True, slots=True)
class GroupReport:
    """One row per group, columns `_COLUMNS` after the group's key."""

    by: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise MissingExtraError("duckdb", "parquet") from None
    return duckdb


class ReportInputError(EtatmachineError, ValueError):
    """A Parquet file the report cannot read; names the file."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def _files(paths: list[str]) -> list[str]:
    files: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():  # a Dask output directory: its entries parts
            found = sorted(str(p) for p in path.glob("*.parquet") if ".steps." not in p.name)
            if not found:
                raise ReportInputError(raw, "no .parquet file in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(raw)
        else:
            raise ReportInputError(raw, "no such file or directory")
    return files


def group_report(paths: list[str], by: str) -> GroupReport:
    """Counts and lateness per group of ``by`` over the entries files ``paths``."""
    duckdb = _duckdb()
    files = _files(paths)
    late = LATENESS_COLUMNS[0]
    key = GROUPS[by]
    sql = f"""
        SELECT {key} AS key,
               count(*) AS entries,
               count(closes) AS steps,
               count(*) FILTER (WHERE {late} > 0) AS late,
               quantile_cont({late}, 0.5) FILTER (WHERE {late} > 0) / 3600 AS p50,
               quantile_cont({late}, 0.9) FILTER (WHERE {late} > 0) / 3600 AS p90,
               count(*) FILTER (WHERE verdict <> 'accepted') AS breaches
        FROM read_parquet($files)
        GROUP BY key ORDER BY key
    """
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(sql, {"files": files}).fetchall()
    except duckdb.Error as exc:
        raise ReportInputError(", ".join(paths), f"cannot read as replay Parquet: {exc}") from None
    finally:
        con.close()
    return GroupReport(by, (by, *_COLUMNS), [tuple(r) for r in rows])


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def write(report: GroupReport, fmt: str, output: Path | None, width: int) -> None:
    """Print ``report`` as a table, or write it as CSV or Parquet (to ``output`` or stdout)."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert output is not None
        columns = list(zip(*report.rows, strict=True)) if report.rows else [()] * 7
        table = pa.table(
            {name: list(col) for name, col in zip(report.columns, columns, strict=True)}
        )
        pq.write_table(table, output)
        return
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(report.columns)
            writer.writerows(["" if v is None else v for v in row] for row in report.rows)
            return
        from etatmachine.terminal import block, table

        rows = [[_shown(v) for v in row] for row in report.rows]
        headers = [report.by, "entries", "steps", "late", "p50 late h", "p90 late h", "breaches"]
        laid = table(headers, rows, width, right=range(1, 7))
        if laid is None:
            laid = "".join(
                block(r[0], list(zip(headers[1:], r[1:], strict=True)), width) for r in rows
            )
        out.write(f"lateness by {report.by} (late steps, business hours)\n{laid}")
    finally:
        if output:
            out.close()


def plot_lateness(paths: list[str], by: str, target: Path) -> None:
    """A box plot of the late steps' lateness (business hours) per group, to a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("matplotlib", "plot") from None
    duckdb = _duckdb()
    late = LATENESS_COLUMNS[0]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(
            f"SELECT {GROUPS[by]} AS key, list({late} / 3600 ORDER BY {late}) "
            f"FROM read_parquet($files) WHERE {late} > 0 GROUP BY key ORDER BY key",
            {"files": _files(paths)},
        ).fetchall()
    finally:
        con.close()
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(rows) + 2), 4.5))
    if rows:
        ax.boxplot([r[1] for r in rows], showfliers=True)
        ax.set_xticks(range(1, len(rows) + 1), [str(r[0]) for r in rows], rotation=30, ha="right")
    ax.set_ylabel("lateness of late steps (business hours)")
    ax.set_title(f"Lateness by {by}")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
