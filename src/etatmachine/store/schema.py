"""The store's tables (SQLAlchemy Core), created and versioned by the library.

``etm_dossier``
    One row per dossier: its current state and the columns worklists filter on (owner
    role, assignee, contractor, UTC due date, the instant 50 % of the step ran), the
    catalogue name and version it lives under, the version (compare-and-set), the digest
    of its trail (descent check) and its JSON body without history.
``etm_trail``
    Append-only, primary key ``(dossier_id, seq)``: every history entry as the dossier
    holds it (open, moves, reschedules, contact attempts), ``seq`` from 0. Triggers make
    the database refuse an UPDATE or DELETE of it (`append_only_ddl`).
``etm_outbox``
    The effects accepted writes owe, written in their transaction; ``dedup_key`` is
    unique; a relay claims messages with a lease and marks them done.
``etm_idempotency``
    The result of each change sent with an idempotency key.
``etm_meta``
    ``schema_version`` and the mark of the last sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "SCHEMA_VERSION",
    "UtcDateTime",
    "append_only_ddl",
    "dossier",
    "idempotency",
    "meta",
    "metadata",
    "outbox",
    "trail",
]

SCHEMA_VERSION = "1"
"""Bumped on any change of the tables; a database of another version is refused."""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant stored in UTC (SQLite keeps text that sorts in time order)."""

    impl = DateTime(timezone=True)
    cache_ok = True
    """The conversion depends on nothing but the dialect: statements may be cached."""

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """An aware instant in UTC (naive for SQLite, which keeps no offset)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """The stored instant, aware, in UTC."""
        if value is None:
            return None
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(when, datetime)
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


metadata = MetaData()

dossier = Table(
    "etm_dossier",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("catalogue_name", String(200), nullable=False),
    Column("catalogue_version", String(100), nullable=False),
    Column("state", String(100), nullable=False),
    Column("phase", String(100), nullable=False),
    Column("owner_role", String(50)),
    Column("assignee", String(200)),
    Column("assignees", Text, nullable=False),
    Column("contractor", String(200)),
    Column("insurer", String(100)),
    Column("channel", String(100)),
    Column("subdivision", String(20)),
    Column("flags", Text, nullable=False),
    Column("due_at", UtcDateTime),
    Column("step_started_at", UtcDateTime),
    Column("step_due_at", UtcDateTime),
    Column("step_seq", Integer, nullable=False),
    Column("attention_at", UtcDateTime),
    Column("terminal", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("trail_len", Integer, nullable=False),
    Column("trail_digest", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("etm_dossier_due", "due_at"),
    Index("etm_dossier_attention", "attention_at"),
    Index("etm_dossier_role_due", "owner_role", "due_at"),
    Index("etm_dossier_assignee_due", "assignee", "due_at"),
    Index("etm_dossier_contractor_due", "contractor", "due_at"),
)

trail = Table(
    "etm_trail",
    metadata,
    Column("dossier_id", String(200), ForeignKey("etm_dossier.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(30), nullable=False),
    Column("source", String(100)),
    Column("target", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_role", String(50), nullable=False),
    Column("actor_id", String(200), nullable=False),
    Column("due_at", UtcDateTime),
    Column("entry", Text, nullable=False),
)

outbox = Table(
    "etm_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("dedup_key", String(300), nullable=False, unique=True),
    Column("dossier_id", String(200), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(200)),
    Column("lease_until", UtcDateTime),
    Column("done_at", UtcDateTime),
    Index("etm_outbox_pending", "done_at", "id"),
)

idempotency = Table(
    "etm_idempotency",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("dossier_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),  # the dossier it produced, history included
    Column("effects", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


def append_only_ddl(dialect: str) -> list[str]:
    """Triggers that make the database itself refuse an UPDATE or DELETE of the trail
    (the library never issues one; a purge must drop them knowingly)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS etm_trail_append_only_{op.lower()} "
            f"BEFORE {op} ON etm_trail "
            "BEGIN SELECT RAISE(ABORT, 'etm_trail is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    return [
        "CREATE OR REPLACE FUNCTION etm_trail_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'etm_trail is append-only'; END $$",
        "CREATE OR REPLACE TRIGGER etm_trail_append_only BEFORE UPDATE OR DELETE ON etm_trail "
        "FOR EACH ROW EXECUTE FUNCTION etm_trail_append_only()",
    ]


meta = Table(
    "etm_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
