"""CSV and Parquet output of replays: rows built where the replay runs, written streaming.

A replay worker turns each piece's dossiers into a small payload (`csv_payload`: CSV text;
`parquet_payload`: the entries' and steps' columns, pickled, built without pyarrow) and the
main process appends payloads in input order to a sink (`CsvSink`, `ParquetSink`). The
Parquet sink holds at most one row group (`parquet.ROW_GROUP` rows) per table at a time,
and the command line runs it in a child process (`etatmachine.export.parquet`), so that no
process holds both pyarrow and the replay engine: memory stays flat whatever the input.

Parquet needs pyarrow (``pip install 'etatmachine[parquet]'``). Every Parquet file carries
``etatmachine.schema_version`` (`PARQUET_SCHEMA_VERSION`) and the column descriptions in
its metadata; timestamps are UTC (microseconds), lists are lists of strings.
"""

from __future__ import annotations

import csv
import io
import pickle
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from etatmachine.export import parquet
from etatmachine.export.parquet import ColumnSpec, MissingExtraError, ParquetWriteError
from etatmachine.export.schema import (
    ENTRY_COLUMNS,
    PARQUET_SCHEMA_VERSION,
    STEP_COLUMNS,
    entry_rows,
    step_rows,
)
from etatmachine.replay import ReplayReport

__all__ = [
    "CsvSink",
    "MissingExtraError",
    "ParquetSink",
    "ParquetWriteError",
    "arrow_schema",
    "csv_header",
    "csv_payload",
    "parquet_payload",
    "steps_path",
]


# -- CSV ---------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def csv_header() -> str:
    """The header line of the entries CSV."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([c.name for c in ENTRY_COLUMNS])
    return out.getvalue()


def csv_payload(report: ReplayReport, phases: dict[str, str]) -> str:
    """The CSV lines of ``report``'s entries (lists joined with ``;``, times ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in entry_rows(report, phases):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


class CsvSink:
    """Writes the header, then each payload as it comes."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        out.write(csv_header())

    def write(self, payload: str) -> None:
        self.out.write(payload)

    def close(self) -> None:
        self.out.flush()

    def abort(self) -> None:
        """Nothing to stop: the rows written so far stay written."""


# -- Parquet ---------------------------------------------------------------------------------


def _specs(table: str) -> list[ColumnSpec]:
    cols = ENTRY_COLUMNS if table == "entries" else STEP_COLUMNS
    return [(c.name, c.kind, c.nullable, c.description) for c in cols]


_SPECS = {t: _specs(t) for t in ("entries", "steps")}


def arrow_schema(table: str) -> Any:
    """The Arrow schema of the ``entries`` or ``steps`` table, with its metadata."""
    return parquet.arrow_schema(_SPECS[table], table, PARQUET_SCHEMA_VERSION)


def parquet_payload(reports: list[ReplayReport], phases: dict[str, str]) -> bytes:
    """The entries and steps of ``reports`` as a payload for `ParquetSink` (pickled column
    lists: built without pyarrow, cheap to send to another process)."""
    entries = parquet.columns(
        [row for r in reports for row in entry_rows(r, phases)], _SPECS["entries"]
    )
    steps = parquet.columns([row for r in reports for row in step_rows(r, phases)], _SPECS["steps"])
    return pickle.dumps((entries, steps), protocol=pickle.HIGHEST_PROTOCOL)


def steps_path(entries_path: str | Path) -> Path:
    """Where the steps table goes beside ``entries_path``: ``x.parquet`` → ``x.steps.parquet``."""
    path = Path(entries_path)
    return path.with_name(path.name.removesuffix(".parquet") + ".steps.parquet")


_TABLES = ("entries", "steps")


class ParquetSink:
    """Two Parquet files, entries at ``path`` and steps beside it (`steps_path`), written in
    this process (pyarrow loaded here) or, with ``child=True``, by a child process
    (`parquet.ParquetChild`: this process never loads pyarrow)."""

    def __init__(self, path: str | Path, *, child: bool = False) -> None:
        self.paths = (Path(path), steps_path(path))
        self.child: parquet.ParquetChild | None = None
        self.writers: list[parquet.TableWriter] = []
        if child:
            self.child = parquet.ParquetChild(
                self.paths, [_SPECS[t] for t in _TABLES], _TABLES, PARQUET_SCHEMA_VERSION
            )
        else:
            for p, t in zip(self.paths, _TABLES, strict=True):
                self.writers.append(parquet.TableWriter(p, _SPECS[t], t, PARQUET_SCHEMA_VERSION))

    def write(self, payload: bytes) -> None:
        """Append one `parquet_payload`."""
        if self.child is not None:
            self.child.write(payload)
            return
        for writer, cols in zip(self.writers, pickle.loads(payload), strict=True):
            writer.write(cols)

    def close(self) -> None:
        """Write the last row groups and the footers (raises `ParquetWriteError`)."""
        if self.child is not None:
            self.child.close()
            return
        for writer in self.writers:
            writer.close()

    def abort(self) -> None:
        """Stop without waiting for the files to be complete (after an error elsewhere)."""
        if self.child is not None:
            self.child.abort()
            return
        for writer in self.writers:
            writer.writer.close()
