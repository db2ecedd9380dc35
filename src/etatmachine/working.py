"""A dossier's mutable working copy, for replaying histories of any length in linear time.

A `Dossier` is immutable: each move returns a new one whose history tuple holds every
entry before it, so a move costs the length of the trail and a history of *n* entries costs
*n²*. A replay never shares the file it rebuilds, so it works on a `WorkingDossier`
instead: `Workflow.record_in_place` judges the move exactly as `Workflow.record` does (the
same code reads the same fields: both types are `DossierView`), then sets the fields and
appends the one new entry. `freeze` gives back an immutable `Dossier`, validated: whatever
was done to the copy, a dossier that breaks the trail's invariants never comes out of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from etatmachine.dossier import Dossier, HistoryEntry

__all__ = ["DossierView", "WorkingDossier"]


class DossierView(Protocol):
    """What the rules and the judge read of a file: a `Dossier` or a `WorkingDossier`."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def version(self) -> int: ...
    @property
    def insurer(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def subdivision(self) -> str | None: ...
    @property
    def contractor(self) -> str | None: ...
    @property
    def flags(self) -> frozenset[str]: ...
    @property
    def contact_attempts(self) -> int: ...
    @property
    def autonomy_limit(self) -> Decimal | None: ...
    @property
    def quote_amount(self) -> Decimal | None: ...
    @property
    def interrupted(self) -> str | None: ...
    @property
    def history(self) -> Sequence[HistoryEntry]: ...
    @property
    def last_at(self) -> datetime | None: ...


_FIELDS = tuple(Dossier.model_fields)
# `WorkingDossier._fill` sets each by name: a field the dossier gains must be added there
# (tests/test_working.py checks the two agree)


class WorkingDossier:
    """The fields of a `Dossier`, mutable, with the history as a list.

    Made from a dossier (``WorkingDossier(d)``); moved with `Workflow.record_in_place` and
    `Workflow.record_contact_attempt_in_place`. Attributes the history reveals later (the
    insurer, the contractor) may be set directly; `freeze` checks everything.
    """

    __slots__ = _FIELDS

    id: str
    state: str
    due_at: datetime | None
    version: int
    insurer: str | None
    channel: str | None
    subdivision: str | None
    contractor: str | None
    flags: frozenset[str]
    contact_attempts: int
    autonomy_limit: Decimal | None
    quote_amount: Decimal | None
    interrupted: str | None
    history: list[HistoryEntry]

    def __init__(self, dossier: Dossier) -> None:
        if not isinstance(dossier, Dossier):
            from etatmachine.errors import ArgumentTypeError

            raise ArgumentTypeError("dossier", dossier, "a Dossier")
        self._fill(dossier.__dict__)

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> WorkingDossier:
        """A working copy holding ``fields`` (every field of a `Dossier`; the history copied
        as a list). Unchecked, as every working copy is until `freeze`: for code that builds
        a file's fields itself (the judge opens a replayed file this way, without an
        immutable dossier in between)."""
        work = cls.__new__(cls)
        work._fill(fields)
        return work

    def _fill(self, fields: Mapping[str, Any]) -> None:
        """Set every field from ``fields`` (the history copied as a list): one statement a
        field, which the interpreter runs faster than a loop of ``setattr`` calls."""
        self.id = fields["id"]
        self.state = fields["state"]
        self.due_at = fields["due_at"]
        self.version = fields["version"]
        self.insurer = fields["insurer"]
        self.channel = fields["channel"]
        self.subdivision = fields["subdivision"]
        self.contractor = fields["contractor"]
        self.flags = fields["flags"]
        self.contact_attempts = fields["contact_attempts"]
        self.autonomy_limit = fields["autonomy_limit"]
        self.quote_amount = fields["quote_amount"]
        self.interrupted = fields["interrupted"]
        self.history = list(fields["history"])

    @property
    def last_at(self) -> datetime | None:
        """When the file last changed."""
        history = self.history
        return history[-1].at if history else None

    def freeze(self) -> Dossier:
        """The immutable dossier this copy holds, validated (`DossierInvalid` if it lies)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in _FIELDS}
        values["history"] = tuple(self.history)
        return Dossier.from_values(values)

    def __repr__(self) -> str:
        return (
            f"WorkingDossier(id={self.id!r}, state={self.state!r}, due_at={self.due_at!r}, "
            f"version={self.version}, entries={len(self.history)})"
        )
