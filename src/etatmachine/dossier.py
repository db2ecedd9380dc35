"""A claim file (dossier) as an immutable value, with its audit trail.

A move never changes a dossier: the workflow returns a new one with
``version + 1`` and one more history entry. That makes dossiers safe to share
between threads and easy to store with an optimistic lock (compare the version).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NoReturn, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from etatmachine.roles import Role

__all__ = [
    "EMPTY_DATA",
    "Actor",
    "Dossier",
    "EntryKind",
    "FrozenData",
    "HistoryEntry",
    "JsonValue",
    "evolve",
    "trusted_entry",
]

_object_setattr = object.__setattr__

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


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def _shared_fields_set(fields: set[str] | frozenset[str]) -> set[str]:
    """One set object per distinct fields-set: frozen models never add to theirs
    (`model_copy` copies it first), so values can share it. Saves ~700 B a value."""
    key = frozenset(fields)
    shared = _FIELDS_SETS.get(key)
    if shared is None:
        shared = _FIELDS_SETS.setdefault(key, set(key))
    return shared


EMPTY_DATA = FrozenData()
"""The one empty data dict every history entry without data shares (it cannot change)."""


def _freeze(value: Mapping[str, JsonValue]) -> FrozenData:
    if not value:
        return EMPTY_DATA
    return value if type(value) is FrozenData else FrozenData(value)


_Data = Annotated[
    Mapping[str, JsonValue],
    AfterValidator(_freeze),
    PlainSerializer(dict, return_type=dict[str, JsonValue]),
]


_ACTORS: dict[tuple[Role, str, str | None, frozenset[str]], Actor] = {}
_ACTORS_MAX = 10_000


class Actor(BaseModel):
    """Who makes a move: a role and an id (and a name, for reports)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    id: str
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.role.value}:{self.id}"


EntryKind = Literal["open", "move", "reschedule", "contact_attempt"]
"""``contact_attempt`` entries carry ``data["outcome"]``: ``failed`` (a call unanswered) or
``reached`` (the insured was reached: a contact step is met)."""


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
    data: _Data = Field(default_factory=lambda: EMPTY_DATA)

    @field_validator("kind", "source", "target")
    @classmethod
    def _intern(cls, value: str | None) -> str | None:
        return None if value is None else sys.intern(value)

    @field_validator("actor")
    @classmethod
    def _share_actor(cls, actor: Actor) -> Actor:
        """Equal actors read from JSON become one object (a history repeats a few)."""
        if type(actor) is not Actor:
            return actor
        key = (actor.role, actor.id, actor.name, frozenset(actor.model_fields_set))
        shared = _ACTORS.get(key)
        if shared is None:
            if len(_ACTORS) >= _ACTORS_MAX:
                _ACTORS.clear()
            shared = _ACTORS.setdefault(key, actor)
        return shared

    @model_validator(mode="after")
    def _share_fields_set(self) -> HistoryEntry:
        _object_setattr(self, "__pydantic_fields_set__", _shared_fields_set(self.model_fields_set))
        return self


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
    """Failed attempts to reach the insured during the current step (facts of the trail)."""
    autonomy_limit: Decimal | None = Field(default=None, ge=0)
    """« La limite maximum d'autonomie de MA pour ce SINISTRE »: above it, the insurer agrees."""
    quote_amount: Decimal | None = Field(default=None, ge=0)
    """The amount of the file's latest quote (move data ``quote_amount``)."""
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

    @model_validator(mode="after")
    def _share_fields_set(self) -> Dossier:
        _object_setattr(self, "__pydantic_fields_set__", _shared_fields_set(self.model_fields_set))
        return self

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


# --- trusted construction: the workflow's hot path ------------------------------------
# The workflow builds entries and moved dossiers from values it has already checked, so it
# skips validation (as `model_construct` / `model_copy` do) and their per-call overhead.
# Every entry shares one fields-set: frozen models never add to it (`model_copy` copies it).

_M = TypeVar("_M", bound=BaseModel)
_ENTRY_FIELDS: set[str] = _shared_fields_set(set(HistoryEntry.model_fields))


def _trusted(cls: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    obj = cls.__new__(cls)
    _object_setattr(obj, "__dict__", values)
    _object_setattr(obj, "__pydantic_fields_set__", fields_set)
    _object_setattr(obj, "__pydantic_extra__", None)
    _object_setattr(obj, "__pydantic_private__", None)
    return obj


def trusted_entry(
    kind: EntryKind,
    source: str | None,
    target: str,
    at: datetime,
    actor: Actor,
    comment: str | None,
    due_at: datetime | None,
    data: Mapping[str, JsonValue],
) -> HistoryEntry:
    """A history entry from checked values (``at``/``due_at`` aware), without validation."""
    return _trusted(
        HistoryEntry,
        {
            "kind": kind,
            "source": source,
            "target": target,
            "at": at,
            "actor": actor,
            "comment": comment,
            "due_at": due_at,
            "data": data,
        },
        _ENTRY_FIELDS,
    )


def evolve(model: _M, updates: dict[str, Any]) -> _M:
    """``model.model_copy(update=updates)`` for a dossier or an entry: same values and
    fields-set, less overhead (the fields-set stays shared)."""
    values = model.__dict__.copy()
    values.update(updates)
    fields_set = model.__pydantic_fields_set__
    if not fields_set.issuperset(updates):
        fields_set = _shared_fields_set(fields_set | updates.keys())
    return _trusted(type(model), values, fields_set)
