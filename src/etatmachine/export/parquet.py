"""Parquet files of replays, written in row groups of bounded size, in this or a child process.

pyarrow costs about 50 MB of RSS once imported (its libraries, NumPy); the replay engine
about 40 MB. In one process the two leave little room under 100 MB, so the command line
writes Parquet in a child process of its own (`ParquetChild`: ``python -m
etatmachine.export.parquet``), which imports pyarrow and nothing of the engine (this module
imports only the standard library), and the replaying process never imports pyarrow. The
replay sends each piece's rows as a `columns` payload (pickled column lists, timestamps as
integer microseconds since the epoch, UTC) through a pipe; the child turns them into Arrow
arrays and writes a row group every `ROW_GROUP` rows: the memory of each process stays
flat whatever the input size. `TableWriter` is the in-process writer (Dask workers use it).

The columns are given as `ColumnSpec` tuples (name, kind, nullable, description), from
`etatmachine.export.schema`; every file carries ``etatmachine.schema_version``, its table
name and the column descriptions in its metadata.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import pickle
import struct
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from etatmachine.errors import EtatmachineError

__all__ = [
    "ROW_GROUP",
    "ROW_GROUP_BYTES",
    "STAGE_BYTES",
    "STAGE_ROWS",
    "ColumnSpec",
    "MissingExtraError",
    "ParquetChild",
    "ParquetWriteError",
    "TableWriter",
    "arrow_schema",
    "columns",
    "require_pyarrow",
]

ROW_GROUP = 8_192
"""Rows buffered (as Arrow arrays) before a Parquet row group is written."""
STAGE_ROWS = 1_024
"""Rows of small payloads joined (as Python lists) before they become one Arrow batch."""
STAGE_BYTES = 1 << 20
"""... or about this many bytes of them, whichever comes first."""
ROW_GROUP_BYTES = 4 << 20
"""Bytes of Arrow arrays buffered before a row group is written, whatever the rows hold
(long comments): writing a row group costs a few times its size in buffers."""

ColumnSpec = tuple[str, str, bool, str]
"""(name, kind, nullable, description); kind: int, float, bool, str, timestamp, list."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FRAME = struct.Struct("<Q")  # a frame's length, then its pickled bytes


class MissingExtraError(EtatmachineError, ImportError):
    """An optional dependency is not installed; names the extra that brings it."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"{package} is not installed: pip install 'etatmachine[{extra}]'")


class ParquetWriteError(EtatmachineError, OSError):
    """The Parquet files could not be written; names the file and says why."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}")


def require_pyarrow() -> None:
    """Raise `MissingExtraError` unless pyarrow is installed (without importing it)."""
    if "pyarrow" not in sys.modules and importlib.util.find_spec("pyarrow") is None:
        raise MissingExtraError("pyarrow", "parquet")


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # pa.parquet below
    except ImportError:
        raise MissingExtraError("pyarrow", "parquet") from None
    return pa


# -- rows to columns (where the replay runs: no pyarrow) ----------------------------------------


def _micros(value: datetime | None) -> int | None:
    if value is None:
        return None
    return (value - _EPOCH) // _MICROSECOND


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH


def columns(rows: Sequence[Sequence[Any]], specs: Sequence[ColumnSpec]) -> list[list[Any]]:
    """``rows`` as one list per column of ``specs`` (timestamps as microseconds, UTC)."""
    out: list[list[Any]] = [[] for _ in specs]
    stamps = [i for i, spec in enumerate(specs) if spec[1] == "timestamp"]
    for row in rows:
        for i, value in enumerate(row):
            out[i].append(value)
    for i in stamps:
        out[i] = [_micros(v) for v in out[i]]
    return out


# -- columns to Parquet (where pyarrow is) ------------------------------------------------------


def _arrow_type(pa: Any, kind: str) -> Any:
    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "str": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list": pa.list_(pa.string()),
    }[kind]


def arrow_schema(specs: Sequence[ColumnSpec], table: str, version: str) -> Any:
    """The Arrow schema of a table of ``specs``, with the metadata every file carries."""
    pa = _pyarrow()
    fields = [
        pa.field(name, _arrow_type(pa, kind), nullable=nullable, metadata={"description": text})
        for name, kind, nullable, text in specs
    ]
    return pa.schema(
        fields,
        metadata={
            "etatmachine.schema_version": version,
            "etatmachine.table": table,
            "etatmachine.columns": json.dumps({name: text for name, _, _, text in specs}),
        },
    )


class TableWriter:
    """One Parquet file of one table: column payloads in, a row group every `ROW_GROUP` rows
    or `ROW_GROUP_BYTES` bytes, whichever comes first.

    Holds at most one row group's Arrow arrays (a few MB) at a time."""

    def __init__(
        self, path: str | Path, specs: Sequence[ColumnSpec], table: str, version: str
    ) -> None:
        self.pa = _pyarrow()
        self.path = Path(path)
        self.schema = arrow_schema(specs, table, version)
        try:
            self.writer = self.pa.parquet.ParquetWriter(self.path, self.schema, compression="zstd")
        except OSError as exc:
            raise ParquetWriteError(str(self.path), exc.strerror or str(exc)) from None
        self.staged: list[list[Any]] = []
        self.staged_bytes = 0  # about (strings counted by their length)
        self.texts = [i for i, spec in enumerate(specs) if spec[1] == "str"]
        self.pending: list[Any] = []
        self.rows = 0
        self.bytes = 0

    def write(self, cols: list[list[Any]]) -> None:
        """Append one payload's columns (as `columns` gives them)."""
        if not cols or not cols[0]:
            return
        if not self.staged:
            self.staged = [[] for _ in cols]
        for staged, col in zip(self.staged, cols, strict=True):
            staged.extend(col)
        self.staged_bytes += 8 * len(cols) * len(cols[0]) + sum(
            len(v) for i in self.texts for v in cols[i] if v
        )
        if len(self.staged[0]) >= STAGE_ROWS or self.staged_bytes >= STAGE_BYTES:
            self._convert()
        if self.rows >= ROW_GROUP or self.bytes >= ROW_GROUP_BYTES:
            self.flush()

    def _convert(self) -> None:
        """The staged rows as one Arrow batch (small payloads, a file of 10 entries each,
        are joined first: a batch per payload costs more than its rows)."""
        if not self.staged:
            return
        pa = self.pa
        arrays = [pa.array(c, type=f.type) for c, f in zip(self.staged, self.schema, strict=True)]
        self.staged, self.staged_bytes = [], 0
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self.pending.append(batch)
        self.rows += batch.num_rows
        self.bytes += batch.nbytes

    def flush(self) -> None:
        """Write what is pending as one row group."""
        self._convert()
        if self.pending:
            table = self.pa.Table.from_batches(self.pending, schema=self.schema)
            self.pending = []
            try:
                self.writer.write_table(table, row_group_size=table.num_rows)
            except OSError as exc:
                raise ParquetWriteError(str(self.path), exc.strerror or str(exc)) from None
        self.rows = self.bytes = 0

    def close(self) -> None:
        """Write the last row group and the file's footer."""
        try:
            self.flush()
        finally:
            self.writer.close()


class _Tables:
    """The entries and steps files of one replay (what the child process holds)."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.writers: list[TableWriter] = []
        for path, specs, table in zip(
            header["paths"], header["specs"], header["tables"], strict=True
        ):
            self.writers.append(TableWriter(path, specs, table, header["version"]))

    def write(self, payload: bytes) -> None:
        for writer, cols in zip(self.writers, pickle.loads(payload), strict=True):
            writer.write(cols)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


# -- the child process --------------------------------------------------------------------------


def _send(stream: IO[bytes], data: bytes) -> None:
    stream.write(_FRAME.pack(len(data)))
    stream.write(data)


def _receive(stream: IO[bytes]) -> bytes | None:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


class ParquetChild:
    """Writes Parquet files in a child process (see the module notes): `write` payloads
    from `columns`, pickled, then `close`. Errors in the child come back as
    `ParquetWriteError`."""

    def __init__(
        self,
        paths: Sequence[str | Path],
        specs: Sequence[Sequence[ColumnSpec]],
        tables: Sequence[str],
        version: str,
    ) -> None:
        require_pyarrow()
        self.path = str(paths[0])
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "etatmachine.export.parquet"],
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise ParquetWriteError(self.path, f"cannot start the writer process: {exc}") from None
        assert self.process.stdin is not None
        self.stdin = self.process.stdin
        header = {
            "paths": [str(p) for p in paths],
            "specs": [list(s) for s in specs],
            "tables": list(tables),
            "version": version,
        }
        self._send(pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL))

    def _send(self, data: bytes) -> None:
        try:
            _send(self.stdin, data)
        except OSError:  # the child stopped (a broken pipe): its message says why
            self._finish()
            raise ParquetWriteError(self.path, "the writer process stopped") from None

    def write(self, payload: bytes) -> None:
        """Send one payload (pickled `columns` of each table, in order)."""
        self._send(payload)

    def close(self) -> None:
        """Send the end, wait for the child to write the footers; raise if it failed."""
        try:
            _send(self.stdin, b"")
            self.stdin.close()
        except OSError:  # it stopped: _finish says why
            pass
        self._finish()

    def _finish(self) -> None:
        """Wait for the child; raise `ParquetWriteError` with its message if it failed."""
        assert self.process.stderr is not None
        message = self.process.stderr.read().decode("utf-8", "replace").strip()
        code = self.process.wait()
        if code != 0:
            last = message.splitlines()[-1] if message else f"\tthe writer process exited {code}"
            path, _, reason = last.rpartition("\t")
            raise ParquetWriteError(path or self.path, reason)

    def abort(self) -> None:
        """Stop the child without waiting for the files (after an error elsewhere)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class _NoNumpy(importlib.abc.MetaPathFinder):
    """Fails ``import numpy`` and ``import pandas`` in the child: it converts neither, and
    pyarrow without NumPy costs 10 MB less."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.split(".")[0] in ("numpy", "pandas"):
            raise ImportError(f"{fullname} left out of the Parquet writer process")
        return


def _child() -> int:
    """The child process: a header frame, payload frames, an empty frame (the end)."""
    sys.meta_path.insert(0, _NoNumpy())
    stream = sys.stdin.buffer
    header = _receive(stream)
    if header is None:
        return 1
    try:
        tables = _Tables(pickle.loads(header))
        try:
            while (frame := _receive(stream)) is not None and frame:
                tables.write(frame)
        finally:
            tables.close()
    except Exception as exc:  # one line for the parent's message, never a traceback
        if isinstance(exc, ParquetWriteError):
            sys.stderr.write(f"{exc.path}\t{exc.reason}\n")
        else:
            sys.stderr.write(f"\t{type(exc).__name__}: {exc}\n")
        return 1
    return 0 if frame == b"" else 1  # no end frame: the parent stopped; the files are cut


if __name__ == "__main__":  # pragma: no cover - run as the child process
    sys.exit(_child())
