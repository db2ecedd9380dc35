"""Replays as tables: the column schema of entries and steps, and the CSV/Parquet writers.

`etatmachine.export.schema` derives the columns from the replay's output models (so a field
added to `ReplayEntry` becomes a column); `etatmachine.export.columnar` builds the rows and
writes CSV and Parquet; `etatmachine.export.parquet` writes Parquet (pyarrow, the optional
``[parquet]`` extra), in this process or in a child that loads nothing of the engine. The
names below load on first use, so that child imports none of the replay.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - what the lazy names resolve to
    from etatmachine.export.schema import (
        ENTRY_COLUMNS,
        PARQUET_SCHEMA_VERSION,
        STEP_COLUMNS,
        Column,
        entry_rows,
        step_rows,
    )

__all__ = [
    "ENTRY_COLUMNS",
    "PARQUET_SCHEMA_VERSION",
    "STEP_COLUMNS",
    "Column",
    "entry_rows",
    "step_rows",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("etatmachine.export.schema"), name)
    raise AttributeError(f"module 'etatmachine.export' has no attribute {name!r}")
