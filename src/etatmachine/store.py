"""A thread-safe in-memory dossier store with an optimistic lock: the reference pattern.

Dossiers are values: a move returns a new dossier with ``version + 1``. A service reads a
dossier, moves it, and stores the result only if nobody stored another version meanwhile;
``put(dossier, expected_version)`` is a compare-and-set on the version. A database-backed
store does the same in one statement and checks the row count::

    UPDATE dossier SET body = :json, version = :new_version
     WHERE id = :id AND version = :expected      -- 0 rows updated: VersionConflict

The loser of a race gets `VersionConflict` (never a silently lost move): it reloads the
dossier and replays its move on the fresh value.

>>> from datetime import datetime
>>> from etatmachine import Actor, Role, VersionConflict, Workflow
>>> from etatmachine.business_calendar import PARIS
>>> wf, store = Workflow.default(), DossierStore()
>>> handler = Actor(role=Role.CASE_HANDLER, id="7")
>>> opened = wf.open("D-9", "etude_devis", actor=handler, mid_flow=True,
...                  at=datetime(2024, 3, 4, 9, tzinfo=PARIS)).dossier
>>> store.add(opened)
>>> read = store.get("D-9")
>>> moved = wf.move(read, "devis_demande_info", actor=handler,
...                 at=datetime(2024, 3, 4, 10, tzinfo=PARIS)).dossier
>>> store.put(moved, expected_version=read.version)
>>> stale = wf.move(read, "dossier_annule", actor=handler,
...                 at=datetime(2024, 3, 4, 11, tzinfo=PARIS)).dossier
>>> store.put(stale, expected_version=read.version)  # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
etatmachine.errors.VersionConflict: dossier D-9: expected version 0, store has 1; reload it...
>>> store.get("D-9").state
'devis_demande_info'
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from etatmachine.dossier import Dossier
from etatmachine.errors import VersionConflict

__all__ = ["DossierStore"]


class DossierStore:
    """Dossiers by id; every write is a compare-and-set on the version, under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dossiers: dict[str, Dossier] = {}

    def get(self, dossier_id: str) -> Dossier:
        """The stored dossier (raises `KeyError` for an unknown id)."""
        return self._dossiers[dossier_id]

    def add(self, dossier: Dossier) -> None:
        """Store a new dossier; `VersionConflict` if the id is already taken."""
        with self._lock:
            current = self._dossiers.get(dossier.id)
            if current is not None:
                raise VersionConflict(dossier.id, -1, current.version)
            self._dossiers[dossier.id] = dossier

    def put(self, dossier: Dossier, expected_version: int) -> None:
        """Store ``dossier`` if the stored one still has ``expected_version``.

        Raises `VersionConflict(dossier_id, expected, actual)` otherwise (actual is -1 for
        an id the store does not hold), and when ``dossier`` is not a newer version.
        """
        with self._lock:
            current = self._dossiers.get(dossier.id)
            actual = -1 if current is None else current.version
            if actual != expected_version or dossier.version <= actual:
                raise VersionConflict(dossier.id, expected_version, actual)
            self._dossiers[dossier.id] = dossier

    def __len__(self) -> int:
        return len(self._dossiers)

    def __iter__(self) -> Iterator[Dossier]:
        with self._lock:
            return iter(list(self._dossiers.values()))
