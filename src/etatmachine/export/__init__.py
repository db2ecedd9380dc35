"""Replays as tables: the column schema of entries and steps, and the CSV/Parquet writers.

`etatmachine.export.schema` derives the columns from the replay's output models (so a field
added to `ReplayEntry` becomes a column); `etatmachine.export.columnar` builds the rows and
writes CSV and Parquet (pyarrow, the optional ``[parquet]`` extra).
"""

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
