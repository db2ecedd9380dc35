"""A claim file (dossier) as an immutable value, with its audit trail.

A move never changes a dossier: the workflow returns a new one with
``version + 1`` and one more history entry. That makes dossiers safe to share
between threads and easy to store with an optimistic lock (compare the version).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal, NoReturn

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from etatmachine.roles import Role

__all__ = ["Actor", "Dossier", "EntryKind", "FrozenData", "HistoryEntry", "JsonValue"]

JsonValue = str | int | float | bool | None
"""What a history entry's data holds: datetimes are stored as ISO 8601 strings."""


class FrozenData(dict[str, JsonValue]):
    """A history entry's data: a dict that refuses every change (and still pickles)."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("history entry data is immutable")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self) -> tuple[type[FrozenData], tuple[dict[str, JsonValue]]]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenData:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> FrozenData:
        return self


_Data = Annotated[
    Mapping[str, JsonValue],
    AfterValidator(FrozenData),
    PlainSerializer(dict, return_type=dict[str, JsonValue]),
]


class Actor(BaseModel):
    """Who makes a move: a role and an id (and a name, for reports)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    id: str
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.role.value}:{self.id}"


EntryKind = Literal["open", "move", "reschedule", "contact_attempt"]


class HistoryEntry(BaseModel):
    """One accepted change of a dossier; never edited once written."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EntryKind
    source: str | None
    """The state before (None when the dossier is opened)."""
    target: str
    """The state after (equal to ``source`` for a reschedule or a contact attempt)."""
    at: AwareDatetime
    actor: Actor
    comment: str | None = None
    due_at: AwareDatetime | None = None
    """The due date set by this entry (the dossier's due date after it)."""
    data: _Data = Field(default_factory=FrozenData)


class Dossier(BaseModel):
    """A claim file: its current action date and everything the rules read.

    Attributes the rules read: ``insurer`` (upper-case code such as ``BPCE``,
    ``ALLIANZ``), ``channel`` (``sinapps``, ``darva``…), ``flags`` (``ren_expert``),
    ``contact_attempts`` for the current step, ``subdivision`` for the calendar
    (``57`` for Moselle…), and ``contractor`` for lateness reports.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    state: str
    due_at: AwareDatetime | None
    version: int = Field(default=0, ge=0)
    insurer: str | None = None
    channel: str | None = None
    subdivision: str | None = None
    contractor: str | None = None
    flags: frozenset[str] = frozenset()
    contact_attempts: int = Field(default=0, ge=0)
    interrupted: str | None = None
    """The operational state a wait interrupted, where a resume goes back to."""
    history: tuple[HistoryEntry, ...] = ()

    @field_validator("insurer")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if value else None

    @field_validator("channel")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else None

    @property
    def last_at(self) -> datetime | None:
        """When the dossier last changed."""
        return self.history[-1].at if self.history else None

    def to_json(self) -> str:
        """JSON that `from_json` reads back to an equal dossier."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Dossier:
        return cls.model_validate_json(text)
