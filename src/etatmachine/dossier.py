"""A claim file (dossier) as an immutable value, with its audit trail.

A move never changes a dossier: the workflow returns a new one with
``version + 1`` and one more history entry. That makes dossiers safe to share
between threads and easy to store with an optimistic lock (compare the version).

A dossier read back (``model_validate``, ``from_json``) is checked as strictly as the
workflow builds one: strict integers (``version`` is never ``"7"``, ``7.0`` or ``true``),
text without lone surrogates, and the invariants of the trail -- the version counts the
entries after the opening, entries are in time order and chained (each starts where the
previous ended), the last one ends in ``state`` with ``due_at``, ``interrupted`` is a
state the file was in, ``contact_attempts`` never exceeds the attempts recorded.
`Dossier.from_json` also refuses duplicate keys and, given a catalogue, unknown states and
terminal states with a due date; it raises `DossierInvalid` naming the field.
`to_json` is canonical (``flags`` sorted) and exact (UTC offsets with seconds kept).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    WrapSerializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from etatmachine.errors import DossierInvalid
from etatmachine.roles import Role
from etatmachine.trusted import trusted

if TYPE_CHECKING:
    from etatmachine.catalogue import Catalogue

__all__ = [
    "EMPTY_DATA",
    "MAX_CONTACT_ATTEMPTS",
    "MAX_DATA_INT",
    "Actor",
    "Dossier",
    "EntryKind",
    "FrozenData",
    "HistoryEntry",
    "JsonValue",
    "evolve",
    "text_problem",
    "trusted_dossier",
    "trusted_entry",
]

_object_setattr = object.__setattr__

JsonValue = str | int | float | bool | None
"""What a history entry's data holds: datetimes are stored as ISO 8601 strings."""


MAX_DATA_INT = 2**63 - 1
"""Integers in a move's data stay within a signed 64-bit range (any store can hold them)."""
MAX_CONTACT_ATTEMPTS = 10_000
"""A bound on ``contact_attempts``: far above any real file, far below a corrupt count."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a lone surrogate: UTF-8 cannot encode it), or None."""
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"lone surrogate {found.group()!r} at index {found.start()} (not encodable as UTF-8)"


def _clean_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError("text_invalid", "{problem}", {"problem": problem})
    return value


_Text = Annotated[str, Strict(), AfterValidator(_clean_text)]


class FrozenData(Mapping[str, JsonValue]):
    """A history entry's data: a read-only mapping (not a dict: ``dict.update`` cannot reach
    it), hashable by content, that pickles and copies as itself."""

    __slots__ = ("_items",)
    _items: dict[str, JsonValue]

    def __init__(self, values: Mapping[str, JsonValue] | None = None) -> None:
        _object_setattr(self, "_items", dict(values) if values else {})

    @classmethod
    def adopt(cls, values: dict[str, JsonValue]) -> FrozenData:
        """Wrap a dict nobody else holds (the workflow's freshly built data), without a copy."""
        obj = cls.__new__(cls)
        _object_setattr(obj, "_items", values)
        return obj

    def __getitem__(self, key: str) -> JsonValue:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenData):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenData({self._items!r})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise TypeError("history entry data is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise TypeError("history entry data is immutable")

    def __reduce__(self) -> tuple[type[FrozenData], tuple[dict[str, JsonValue]]]:
        return (type(self), (dict(self._items),))

    def __copy__(self) -> FrozenData:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> FrozenData:
        return self


class _FieldsSet(frozenset[str]):
    """A fields-set values can share: a frozenset (``.add`` does not exist), whose copy is a
    plain set, so pydantic's ``model_copy`` still gets one it may update."""

    __slots__ = ()

    def __copy__(self) -> set[str]:
        return set(self)


_FIELDS_SETS: dict[frozenset[str], _FieldsSet] = {}


def _shared_fields_set(fields: set[str] | frozenset[str]) -> set[str]:
    """One immutable fields-set per distinct set of names, shared by every value that has
    it: saves ~700 B a value, and nobody can poison it (`_FieldsSet`)."""
    if type(fields) is _FieldsSet:
        return fields  # type: ignore[return-value]
    key = frozenset(fields)
    shared = _FIELDS_SETS.get(key)
    if shared is None:
        shared = _FIELDS_SETS.setdefault(key, _FieldsSet(key))
    return shared  # type: ignore[return-value]


EMPTY_DATA = FrozenData()
"""The one empty data mapping every history entry without data shares (it cannot change)."""


def _check_datum(key: object, value: object) -> str | None:
    """Why one datum cannot be stored exactly in JSON, or None."""
    if not isinstance(key, str):
        return f"key {key!r} is not text"
    problem = text_problem(key)
    if problem is None and isinstance(value, str):
        problem = text_problem(value)
    elif type(value) is int and not -MAX_DATA_INT <= value <= MAX_DATA_INT:
        problem = "integer out of the 64-bit range"
    elif type(value) is float and not math.isfinite(value):
        problem = f"{value!r} has no exact JSON form"
    return None if problem is None else f"{key!r}: {problem}"


def _freeze(value: Mapping[str, JsonValue]) -> FrozenData:
    if not value:
        return EMPTY_DATA
    for key, datum in value.items():
        problem = _check_datum(key, datum)
        if problem is not None:
            raise PydanticCustomError("data_invalid", "{problem}", {"problem": problem})
    return value if type(value) is FrozenData else FrozenData(value)


_Data = Annotated[
    Mapping[str, JsonValue],
    AfterValidator(_freeze),
    PlainSerializer(dict, return_type=dict[str, JsonValue]),
]

_PARIS = ZoneInfo("Europe/Paris")


def _read_instant(value: Any) -> Any:
    """ISO text read with `datetime.fromisoformat` (pydantic cuts offsets with seconds, such
    as Paris before 1911, ``+00:09:21``), in Europe/Paris when the offset is Paris's at that
    instant: JSON keeps the offset, not the zone, and Python compares an ambiguous wall time
    (the autumn fold) of two zones as unequal, so a dossier read back in a fixed offset
    would differ from the one written. Anything else is left to pydantic."""
    if not isinstance(value, str):
        return value
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = when.utcoffset()
    if offset is None:
        return when  # naive: AwareDatetime refuses it
    if not _MIN_INSTANT <= when.replace(tzinfo=None) - offset <= _MAX_INSTANT:
        return when  # astimezone would overflow at the ends of the datetime range
    local = when.astimezone(_PARIS)
    return local if local.utcoffset() == offset else when


_MIN_INSTANT = datetime(1, 1, 2)
_MAX_INSTANT = datetime(9999, 12, 30)


def _write_instant(value: datetime, handler: SerializerFunctionWrapHandler) -> Any:
    """pydantic's text, except for offsets with seconds, which it cuts to the minute."""
    offset = value.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        return value.isoformat()
    return handler(value)


_Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_read_instant),
    WrapSerializer(_write_instant, when_used="json"),
]
_Flags = Annotated[
    frozenset[_Text],
    PlainSerializer(sorted, return_type=list[str], when_used="json"),
]
_Count = Annotated[int, Strict(), Field(ge=0)]


_ACTORS: dict[tuple[Role, str, str | None, frozenset[str]], Actor] = {}
_ACTORS_MAX = 10_000


class Actor(BaseModel):
    """Who makes a move: a role and an id (and a name, for reports)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    id: _Text
    name: _Text | None = None

    def __str__(self) -> str:
        return f"{self.role.value}:{self.id}"

    @model_validator(mode="after")
    def _share_fields_set(self) -> Actor:
        _object_setattr(self, "__pydantic_fields_set__", _shared_fields_set(self.model_fields_set))
        return self


EntryKind = Literal["open", "move", "reschedule", "contact_attempt"]
"""``contact_attempt`` entries carry ``data["outcome"]``: ``failed`` (a call unanswered) or
``reached`` (the insured was reached: a contact step is met)."""


class HistoryEntry(BaseModel):
    """One accepted change of a dossier; never edited once written."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EntryKind
    source: _Text | None
    """The state before (None when the dossier is opened)."""
    target: _Text
    """The state after (equal to ``source`` for a reschedule or a contact attempt)."""
    at: _Instant
    actor: Actor
    comment: _Text | None = None
    due_at: _Instant | None = None
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

    id: _Text = Field(min_length=1)
    state: _Text
    due_at: _Instant | None
    version: _Count = 0
    insurer: _Text | None = None
    channel: _Text | None = None
    subdivision: _Text | None = None
    contractor: _Text | None = None
    flags: _Flags = frozenset()
    contact_attempts: Annotated[_Count, Field(le=MAX_CONTACT_ATTEMPTS)] = 0
    """Failed attempts to reach the insured during the current step (facts of the trail)."""
    autonomy_limit: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    """« La limite maximum d'autonomie de MA pour ce SINISTRE »: above it, the insurer agrees."""
    quote_amount: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    """The amount of the file's latest quote (move data ``quote_amount``)."""
    interrupted: _Text | None = None
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
    def _check_invariants(self, info: ValidationInfo) -> Dossier:
        problem = _invariant_problem(self)
        catalogue = info.context.get("catalogue") if isinstance(info.context, dict) else None
        if problem is None and catalogue is not None:
            problem = _catalogue_problem(self, catalogue)
        if problem is not None:
            field, reason = problem
            raise PydanticCustomError(
                "dossier_invalid", "{field}: {reason}", {"field": field, "reason": reason}
            )
        _object_setattr(self, "__pydantic_fields_set__", _shared_fields_set(self.model_fields_set))
        return self

    @property
    def last_at(self) -> datetime | None:
        """When the dossier last changed."""
        return self.history[-1].at if self.history else None

    def to_json(self) -> str:
        """Canonical JSON (flags sorted, exact offsets) that `from_json` reads back equal."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes, *, catalogue: Catalogue | None = None) -> Dossier:
        """The dossier ``text`` holds, checked (see the module); `DossierInvalid` if it lies.

        With ``catalogue``, its state and ``interrupted`` must be states of it, and a
        terminal state has no due date.
        """
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            raise DossierInvalid(exc.key, "duplicate key in the JSON text") from None
        except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise DossierInvalid("(text)", f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise DossierInvalid("(text)", "the JSON text must hold an object")
        try:
            return cls.model_validate(data, context={"catalogue": catalogue})
        except ValidationError as exc:
            raise _invalid(exc, data) from None

    @classmethod
    def from_values(
        cls, values: Mapping[str, Any], *, catalogue: Catalogue | None = None
    ) -> Dossier:
        """The dossier these field values make, checked as `from_json` checks one."""
        try:
            return cls.model_validate(dict(values), context={"catalogue": catalogue})
        except ValidationError as exc:
            raise _invalid(exc, values) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _invalid(exc: ValidationError, data: Mapping[str, Any]) -> DossierInvalid:
    """The first problem of a failed validation as `DossierInvalid` naming its field."""
    err = exc.errors(include_url=False)[0]
    ctx = err.get("ctx") or {}
    loc = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in err["loc"])
    loc = loc.replace(".[", "[")
    if err["type"] == "dossier_invalid":
        field, reason = str(ctx["field"]), str(ctx["reason"])
        if loc:
            field = f"{loc}.{field}"
    else:
        field, reason = loc or "(dossier)", err["msg"]
    dossier_id = data.get("id")
    return DossierInvalid(
        field, reason, dossier_id=dossier_id if isinstance(dossier_id, str) else None
    )


def _invariant_problem(d: Dossier) -> tuple[str, str] | None:
    """The first broken invariant of a dossier's trail, as (field, reason), or None.

    Written over the trail only, so a new optional field of the dossier needs no change.
    """
    history = d.history
    if not history:
        if d.contact_attempts:
            return "contact_attempts", "attempts without a history that records them"
        return None
    if d.version != len(history) - 1:
        return "version", (
            f"{d.version} does not count the history's {len(history)} entries "
            f"(expected {len(history) - 1})"
        )
    first = history[0]
    if first.kind != "open" or first.source is not None:
        return "history[0]", "the first entry must be the opening (kind 'open', no source)"
    previous = first
    attempts = 0
    visited = {first.target}
    for i, entry in enumerate(history[1:], start=1):
        if entry.kind == "open":
            return f"history[{i}].kind", "only the first entry opens the dossier"
        if entry.source != previous.target:
            return f"history[{i}].source", (
                f"{entry.source!r} is not where the previous entry ended ({previous.target!r})"
            )
        if entry.kind != "move" and entry.target != entry.source:
            return f"history[{i}].target", f"a {entry.kind} does not change the state"
        if entry.at < previous.at:
            return f"history[{i}].at", (
                f"{entry.at.isoformat()} is earlier than the entry before "
                f"({previous.at.isoformat()})"
            )
        attempts += entry.kind == "contact_attempt"
        visited.add(entry.target)
        previous = entry
    if previous.target != d.state:
        return "state", f"{d.state!r} is not where the history ends ({previous.target!r})"
    if previous.due_at != d.due_at:
        shown = None if d.due_at is None else d.due_at.isoformat()
        return "due_at", f"{shown} is not the due date the last entry set"
    if d.interrupted is not None and d.interrupted not in visited:
        return "interrupted", f"{d.interrupted!r} is a state the file never was in"
    if d.contact_attempts > attempts:
        return "contact_attempts", (
            f"{d.contact_attempts} exceeds the {attempts} attempts the history records"
        )
    return None


def _catalogue_problem(d: Dossier, catalogue: Catalogue) -> tuple[str, str] | None:
    """What a dossier says that its catalogue contradicts, as (field, reason), or None."""
    if d.state not in catalogue:
        return "state", f"{d.state!r} is not a state of catalogue {catalogue.name!r}"
    if d.interrupted is not None and d.interrupted not in catalogue:
        return "interrupted", f"{d.interrupted!r} is not a state of catalogue {catalogue.name!r}"
    if catalogue.state(d.state).terminal and d.due_at is not None:
        return "due_at", f"{d.state!r} is a closing state: it has no due date"
    return None


# --- trusted construction: the workflow's hot path ------------------------------------
# The workflow builds entries and moved dossiers from values it has already checked, so it
# skips validation (as `model_construct` / `model_copy` do) and their per-call overhead.
# Every entry shares one fields-set: frozen models never add to it (`model_copy` copies it).

_M = TypeVar("_M", bound=BaseModel)
_ENTRY_FIELDS: set[str] = _shared_fields_set(set(HistoryEntry.model_fields))


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
    return trusted(
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


_DOSSIER_FIELDS = tuple(Dossier.model_fields)


_DOSSIER_FIELDS_SET = _shared_fields_set(set(_DOSSIER_FIELDS))


def trusted_dossier(values: dict[str, Any]) -> Dossier:
    """A dossier from checked values in their final types (every field, in declaration
    order; an empty or valid trail), without validation: the workflow's `open`, after its
    own checks."""
    return trusted(Dossier, values, _DOSSIER_FIELDS_SET)


def evolve(model: _M, updates: dict[str, Any]) -> _M:
    """``model.model_copy(update=updates)`` for a dossier or an entry: same values and
    fields-set, less overhead (the fields-set stays shared)."""
    values = model.__dict__.copy()
    values.update(updates)
    fields_set = model.__pydantic_fields_set__
    if not fields_set.issuperset(updates):
        fields_set = _shared_fields_set(fields_set | updates.keys())
    return trusted(type(model), values, fields_set)
