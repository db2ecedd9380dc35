"""The write hot path of `SqlStore.apply`, straight on the driver's connection.

A move's write is four statements (begin, compare-and-set, trail insert, commit); going
through SQLAlchemy's execution machinery costs several times what the database does for
them. The schema stays `etatmachine.store.schema`'s (the statements here are written from
its tables and checked against them when built); the values are converted as its column
types convert them (UTC instants; on SQLite the text SQLAlchemy's ``DATETIME`` stores).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from etatmachine.dossier import HistoryEntry
from etatmachine.store import schema
from etatmachine.store.derive import entry_json

__all__ = ["SET_COLUMNS", "TRAIL_COLUMNS", "FastWriter"]

SET_COLUMNS = tuple(c.name for c in schema.dossier.columns if c.name not in ("id", "created_at"))
"""The columns a compare-and-set writes, in statement order."""
TRAIL_COLUMNS = tuple(c.name for c in schema.trail.columns)
assert TRAIL_COLUMNS == (
    "dossier_id", "seq", "kind", "source", "target", "at", "actor_role", "actor_id", "due_at",
    "entry",
), TRAIL_COLUMNS  # fmt: skip
_OUTBOX_COLUMNS = ("dedup_key", "dossier_id", "kind", "payload", "created_at", "attempts")
_KEY_COLUMNS = tuple(c.name for c in schema.idempotency.columns)
_SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"


class FastWriter:
    """Statements and value conversion for one dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"

        def marks(n: int) -> str:
            return ", ".join([mark] * n)

        sets = ", ".join(f"{c} = {mark}" for c in SET_COLUMNS)
        self.cas = (
            f"UPDATE etm_dossier SET {sets} WHERE id = {mark} AND version = {mark} "
            f"AND trail_len = {mark} AND trail_digest = {mark}"
        )
        self.diagnose = (
            f"SELECT version, trail_len, trail_digest FROM etm_dossier WHERE id = {mark}"
            + ("" if self.sqlite else " FOR UPDATE")
        )
        columns = ", ".join(TRAIL_COLUMNS)
        self.trail = f"INSERT INTO etm_trail ({columns}) VALUES ({marks(len(TRAIL_COLUMNS))})"
        self.outbox = (
            f"INSERT INTO etm_outbox ({', '.join(_OUTBOX_COLUMNS)}) "
            f"VALUES ({marks(len(_OUTBOX_COLUMNS))}) "
            "ON CONFLICT (dedup_key) DO NOTHING RETURNING id"
        )
        self.key = (
            f"INSERT INTO etm_idempotency ({', '.join(_KEY_COLUMNS)}) "
            f"VALUES ({marks(len(_KEY_COLUMNS))})"
        )

    def instant(self, value: datetime | None) -> Any:
        """A UTC column's value as the driver takes it."""
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None).strftime(_SQLITE_INSTANT) if self.sqlite else value

    def begin(self, cursor: Any) -> None:
        if self.sqlite:  # psycopg opens its transaction with the first statement
            cursor.execute("BEGIN IMMEDIATE")

    def cas_params(
        self, values: dict[str, Any], dossier_id: str, expected: int, stored_len: int, digest: str
    ) -> list[Any]:
        out = [values[c] for c in SET_COLUMNS]
        for i, value in enumerate(out):
            if isinstance(value, datetime):
                out[i] = self.instant(value)
        return [*out, dossier_id, expected, stored_len, digest]

    def trail_tuples(
        self, dossier_id: str, start: int, entries: Sequence[HistoryEntry]
    ) -> list[tuple[Any, ...]]:
        """Trail rows for ``entries`` from seq ``start``, in `TRAIL_COLUMNS` order."""
        instant = self.instant
        return [
            (
                dossier_id,
                start + i,
                e.kind,
                e.source,
                e.target,
                instant(e.at),
                e.actor.role.value,
                e.actor.id,
                instant(e.due_at),
                entry_json(e),
            )
            for i, e in enumerate(entries)
        ]

    def outbox_params(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(self.instant(row[c]) if c == "created_at" else row[c] for c in _OUTBOX_COLUMNS)

    def key_params(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(self.instant(row[c]) if c == "created_at" else row[c] for c in _KEY_COLUMNS)
