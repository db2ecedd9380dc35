"""Where dossiers live: a `Store` protocol, in memory or in a SQL database.

``from etatmachine.store import SqlStore`` needs the ``sql`` extra (SQLAlchemy 2); the
rest of the package does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from etatmachine.store.memory import DossierStore, MemoryStore
from etatmachine.store.protocol import (
    Applied,
    Candidate,
    CatalogueMismatch,
    NotDescendant,
    OutboxMessage,
    SchemaVersionError,
    Store,
    UnknownDossier,
)
from etatmachine.store.sweep import Breach, SweepReport
from etatmachine.store.worklist import Urgency, WorkItem

if TYPE_CHECKING:
    from etatmachine.store.sql import SqlStore

__all__ = [
    "Applied",
    "Breach",
    "Candidate",
    "CatalogueMismatch",
    "DossierStore",
    "MemoryStore",
    "NotDescendant",
    "OutboxMessage",
    "SchemaVersionError",
    "SqlStore",
    "Store",
    "SweepReport",
    "UnknownDossier",
    "Urgency",
    "WorkItem",
    "open_store",
]


def open_store(url: str | None = None, **options: Any) -> Store:
    """A store by URL: ``memory:`` (or None) in memory, anything else `SqlStore`."""
    if url is None or url == "memory:":
        return MemoryStore(**options)
    from etatmachine.store.sql import SqlStore

    return SqlStore(url, **options)


def __getattr__(name: str) -> Any:
    if name == "SqlStore":  # imported on first use: SQLAlchemy is an optional extra
        from etatmachine.store.sql import SqlStore

        return SqlStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
