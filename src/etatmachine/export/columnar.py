"""CSV and Parquet output of replays: rows built where the replay runs, written streaming.

A replay worker turns each dossier into a small payload (`csv_payload`: CSV text;
`arrow_payload`: two Arrow record batches, entries and steps) and the main process appends
payloads in input order to a sink (`CsvSink`, `ParquetSink`). Sinks hold at most one row
group (`ROW_GROUP` rows) at a time, so memory stays flat whatever the input size.

Parquet needs pyarrow (``pip install 'etatmachine[parquet]'``). Every Parquet file carries
``etatmachine.schema_version`` (`PARQUET_SCHEMA_VERSION`) and the column descriptions in
its metadata; timestamps are UTC (microseconds), lists are lists of strings.
"""

from __future__ import annotations

import csv
import importlib.abc
import io
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from etatmachine.errors import EtatmachineError
from etatmachine.export.schema import (
    ENTRY_COLUMNS,
    PARQUET_SCHEMA_VERSION,
    STEP_COLUMNS,
    Column,
    entry_rows,
    step_rows,
)
from etatmachine.replay import ReplayReport

__all__ = [
    "ROW_GROUP",
    "CsvSink",
    "MissingExtraError",
    "ParquetSink",
    "arrow_payload",
    "arrow_schema",
    "csv_header",
    "csv_payload",
    "skip_pandas",
    "steps_path",
]

ROW_GROUP = 16_384
"""Rows buffered before a Parquet row group is written."""


class MissingExtraError(EtatmachineError, ImportError):
    """An optional dependency is not installed; names the extra that brings it."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"{package} is not installed: pip install 'etatmachine[{extra}]'")


def skip_pandas() -> None:
    """Make pyarrow treat pandas as absent in this process, unless it is already loaded.

    ``pa.array`` on Python values imports pandas when it is installed (to recognise its
    types): 50 MB of RSS a command line writing Parquet never uses. pyarrow tries that
    import once and remembers the answer, so one conversion while ``import pandas`` fails
    keeps it out. For processes that never call pyarrow's pandas conversions.
    """
    if "pandas" in sys.modules:
        return
    pa = _pyarrow()
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)


class _NoPandas(importlib.abc.MetaPathFinder):
    """Fails ``import pandas`` (for `skip_pandas`)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ImportError(f"{fullname} left out (etatmachine.export.columnar.skip_pandas)")
        return


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        raise MissingExtraError("pyarrow", "parquet") from None
    return pa


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


# -- Parquet -----------------------------------------------------------------------------------


def _arrow_type(pa: Any, column: Column) -> Any:
    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "str": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list": pa.list_(pa.string()),
    }[column.kind]


def arrow_schema(table: str) -> Any:
    """The Arrow schema of the ``entries`` or ``steps`` table, with its metadata."""
    pa = _pyarrow()
    columns = ENTRY_COLUMNS if table == "entries" else STEP_COLUMNS
    fields = [
        pa.field(
            c.name,
            _arrow_type(pa, c),
            nullable=c.nullable,
            metadata={"description": c.description},
        )
        for c in columns
    ]
    return pa.schema(
        fields,
        metadata={
            "etatmachine.schema_version": PARQUET_SCHEMA_VERSION,
            "etatmachine.table": table,
            "etatmachine.columns": json.dumps({c.name: c.description for c in columns}),
        },
    )


def _batch(pa: Any, schema: Any, rows: list[list[Any]]) -> Any:
    arrays = [pa.array([row[i] for row in rows], type=field.type) for i, field in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


_SCHEMAS: dict[str, Any] = {}


def _schema(table: str) -> Any:
    schema = _SCHEMAS.get(table)
    if schema is None:
        schema = _SCHEMAS[table] = arrow_schema(table)
    return schema


def arrow_payload(reports: list[ReplayReport], phases: dict[str, str]) -> tuple[Any, Any]:
    """The entries and steps of ``reports`` as two Arrow record batches."""
    pa = _pyarrow()
    entries = [row for r in reports for row in entry_rows(r, phases)]
    steps = [row for r in reports for row in step_rows(r, phases)]
    return _batch(pa, _schema("entries"), entries), _batch(pa, _schema("steps"), steps)


def steps_path(entries_path: str | Path) -> Path:
    """Where the steps table goes beside ``entries_path``: ``x.parquet`` → ``x.steps.parquet``."""
    path = Path(entries_path)
    return path.with_name(path.name.removesuffix(".parquet") + ".steps.parquet")


class ParquetSink:
    """Two Parquet files, entries at ``path`` and steps beside it (`steps_path`)."""

    def __init__(self, path: str | Path) -> None:
        self.pa = _pyarrow()
        import pyarrow.parquet as pq

        self.paths = (Path(path), steps_path(path))
        self.writers = [
            pq.ParquetWriter(p, _schema(t), compression="zstd")
            for p, t in zip(self.paths, ("entries", "steps"), strict=True)
        ]
        self.pending: list[list[Any]] = [[], []]
        self.rows = [0, 0]

    def write(self, payload: tuple[Any, Any]) -> None:
        for i, batch in enumerate(payload):
            if batch.num_rows:
                self.pending[i].append(batch)
                self.rows[i] += batch.num_rows
                if self.rows[i] >= ROW_GROUP:
                    self._flush(i)

    def _flush(self, i: int) -> None:
        if self.pending[i]:
            table = self.pa.Table.from_batches(self.pending[i])
            self.writers[i].write_table(table, row_group_size=max(ROW_GROUP, table.num_rows))
        self.pending[i] = []
        self.rows[i] = 0

    def close(self) -> None:
        for i, writer in enumerate(self.writers):
            self._flush(i)
            writer.close()
