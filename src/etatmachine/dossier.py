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

A dossier keeps one entry per move, so entries are small: `HistoryEntry` is a frozen
``__slots__`` value with the pydantic API (a private model validates it and writes its
JSON, byte for byte as the model it replaced), its data a compact `FrozenData`, and the
dossiers the workflow moves hold a key-sharing ``__dict__`` (`evolve`).
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapSerializer,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from etatmachine.errors import ArgumentValueError, DossierInvalid
from etatmachine.fields_sets import FieldsSet, shared
from etatmachine.roles import Role
from etatmachine.trusted import trusted

if TYPE_CHECKING:
    from etatmachine.catalogue import Catalogue

__all__ = [
    "EMPTY_DATA",
    "MAX_CONTACT_ATTEMPTS",
    "MAX_DATA_INT",
    "NO_FLAGS",
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
    it), hashable by content, that pickles and copies as itself.

    Held compactly: a tuple of the values, and the position of each key in a dict that
    every data with the same keys (in the same order) shares -- ~100 B for one datum where
    a dict of its own costs ~230 B, and a dossier keeps one per move with data.
    """

    __slots__ = ("_index", "_values")
    _index: dict[str, int]
    _values: tuple[JsonValue, ...]

    def __init__(self, values: Mapping[str, JsonValue] | None = None) -> None:
        items = {} if not values else values if type(values) is dict else dict(values)
        _set_index(self, _shared_index(tuple(items)))
        _set_values(self, tuple(items.values()))

    @classmethod
    def adopt(cls, values: dict[str, JsonValue]) -> FrozenData:
        """The data a dict makes (kept for callers of the dict-backed version: the values
        are copied into a tuple either way)."""
        return cls(values)

    def __getitem__(self, key: str) -> JsonValue:
        return self._values[self._index[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def get(self, key: str, default: Any = None) -> Any:
        at = self._index.get(key)
        return default if at is None else self._values[at]

    def as_dict(self) -> dict[str, JsonValue]:
        """A new dict of the data (what it serialises as)."""
        return dict(zip(self._index, self._values, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenData):
            if self._index is other._index:
                return self._values == other._values
            return self.as_dict() == other.as_dict()
        if isinstance(other, Mapping):
            return self.as_dict() == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(zip(self._index, self._values, strict=True)))

    def __repr__(self) -> str:
        return f"FrozenData({self.as_dict()!r})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise TypeError("history entry data is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise TypeError("history entry data is immutable")

    def __reduce__(self) -> tuple[type[FrozenData], tuple[dict[str, JsonValue]]]:
        return (type(self), (self.as_dict(),))

    def __copy__(self) -> FrozenData:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> FrozenData:
        return self


_set_index = FrozenData._index.__set__  # type: ignore[attr-defined]
_set_values = FrozenData._values.__set__  # type: ignore[attr-defined]
_INDEXES: dict[tuple[str, ...], dict[str, int]] = {}
_INDEXES_MAX = 10_000


def _shared_index(keys: tuple[str, ...]) -> dict[str, int]:
    """The position of each key, one dict per distinct tuple of keys (nobody writes to it:
    `FrozenData` only reads it). Bounded: data read from anywhere may bring any keys."""
    index = _INDEXES.get(keys)
    if index is None:
        if len(_INDEXES) >= _INDEXES_MAX:
            _INDEXES.clear()
        index = _INDEXES.setdefault(keys, {key: i for i, key in enumerate(keys)})
    return index


def _data_dict(values: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """How data serialises: a dict, in its keys' order."""
    return values.as_dict() if type(values) is FrozenData else dict(values)


_FieldsSet = FieldsSet  # the name dossiers pickled before `etatmachine.fields_sets` refer to


def _shared_fields_set(fields: set[str] | frozenset[str]) -> set[str]:
    """One immutable fields-set per distinct set of names, shared by every value that has
    it (`etatmachine.fields_sets`)."""
    if type(fields) is FieldsSet:
        return fields  # type: ignore[return-value]
    return shared(fields)  # type: ignore[return-value]


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
    PlainSerializer(_data_dict, return_type=dict[str, JsonValue]),
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
NO_FLAGS: frozenset[str] = frozenset()
"""The one empty set of flags dossiers share (CPython makes a new ~216 B one per call)."""


def _share_no_flags(flags: frozenset[str]) -> frozenset[str]:
    return flags or NO_FLAGS


_Flags = Annotated[
    frozenset[_Text],
    AfterValidator(_share_no_flags),
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


class _Validating:
    """The home of the model that validates a history entry. It is named ``HistoryEntry``
    (its JSON schema and its errors keep the public name) and never handed out: a valid
    entry is a `HistoryEntry` value holding its fields."""

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


_EntryModel = _Validating.HistoryEntry
_ENTRY_FIELDS = ("kind", "source", "target", "at", "actor", "comment", "due_at", "data")
_ENTRY_SERIALIZER = _EntryModel.__pydantic_serializer__
_validate_entry = _EntryModel.__pydantic_validator__.validate_python


def _frozen(name: str, value: object) -> ValidationError:
    """What assigning to a frozen pydantic model raises (a `ValueError`)."""
    return ValidationError.from_exception_data(
        "HistoryEntry", [{"type": "frozen_instance", "loc": (name,), "input": value}]
    )


class HistoryEntry:
    """One accepted change of a dossier; never edited once written.

    A frozen ``__slots__`` value (~100 B where a pydantic model with its ``__dict__`` holds
    ~450 B: a dossier keeps one per move) with the pydantic API the code base and its users
    call: ``HistoryEntry(**fields)``, `model_validate` and `model_validate_json` validate
    (pydantic's `ValidationError`, as a model raises); `model_dump`, `model_dump_json`,
    `model_copy`, `model_fields`, `model_json_schema`; equal and hashed by value; assignment
    refused as a frozen model refuses it. As a pydantic field (``Dossier.history``) it
    validates and serialises through the validating model: the same errors, the same JSON
    bytes (the store's trail digests depend on them).
    """

    __slots__ = _ENTRY_FIELDS

    kind: EntryKind
    source: str | None
    """The state before (None when the dossier is opened)."""
    target: str
    """The state after (equal to ``source`` for a reschedule or a contact attempt)."""
    at: datetime
    actor: Actor
    comment: str | None
    due_at: datetime | None
    """The due date set by this entry (the dossier's due date after it)."""
    data: FrozenData

    model_fields: ClassVar[dict[str, FieldInfo]] = _EntryModel.model_fields

    if TYPE_CHECKING:  # the keywords pydantic's mypy plugin gives a model

        def __init__(
            self,
            *,
            kind: Any,
            source: Any,
            target: Any,
            at: Any,
            actor: Any,
            comment: Any = None,
            due_at: Any = None,
            data: Any = ...,
        ) -> None: ...

    else:

        def __init__(self, **values: Any) -> None:
            _fill(self, _validate_entry(values).__dict__)

    # --- pydantic's API ------------------------------------------------------------------

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
    ) -> HistoryEntry:
        """``obj`` (a mapping of fields) validated; an entry is returned as it is."""
        if isinstance(obj, HistoryEntry):
            return obj
        model = _EntryModel.model_validate(
            obj, strict=strict, from_attributes=from_attributes, context=context
        )
        return _of_model(model)

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *, strict: bool | None = None, context: Any = None
    ) -> HistoryEntry:
        """The entry a JSON text holds, validated."""
        return _of_model(_EntryModel.model_validate_json(json_data, strict=strict, context=context))

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> HistoryEntry:
        """An entry from trusted values, without validation (defaults filled in)."""
        values.setdefault("comment", None)
        values.setdefault("due_at", None)
        values.setdefault("data", EMPTY_DATA)
        return _of_values(values)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON schema of an entry (titled ``HistoryEntry``)."""
        return _EntryModel.model_json_schema(*args, **kwargs)

    @property
    def model_fields_set(self) -> set[str]:
        """Every field (an entry holds them all; a shared, immutable set)."""
        return _ENTRY_FIELDS_SET

    def model_dump(self, *, mode: str = "python", **options: Any) -> Any:
        """The entry's fields as a dict, as its pydantic model dumps them (pydantic's
        options; ``exclude_unset`` changes nothing: an entry holds every field)."""
        options.pop("exclude_unset", None)
        return _ENTRY_SERIALIZER.to_python(_model_of(self), mode=mode, **options)

    def model_dump_json(self, *, indent: int | None = None, **options: Any) -> str:
        """The entry's JSON, byte for byte what its pydantic model writes."""
        options.pop("exclude_unset", None)
        return _ENTRY_SERIALIZER.to_json(_model_of(self), indent=indent, **options).decode()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any:
        """A copy with ``update`` applied, without validation (as pydantic's)."""
        values = self._values()
        if update:
            for name in update:
                if name not in values:
                    raise ArgumentValueError("update", name, "not a field of a history entry")
            values.update(update)
        if deep:
            values = copy.deepcopy(values)
        return _of_values(values)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """As a field: an entry passes unchanged (pydantic does not revalidate instances);
        anything else is validated by the validating model (its errors, its locations) then
        held as an entry; serialised by the model's serialiser (its bytes, its JSON schema)."""
        model = handler(_EntryModel)
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_after_validator_function(_of_model, model),
            python_schema=core_schema.no_info_wrap_validator_function(_of_python, model),
            serialization=core_schema.plain_serializer_function_ser_schema(
                _model_of, return_schema=model
            ),
        )

    # --- a value -------------------------------------------------------------------------

    def _values(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "at": self.at,
            "actor": self.actor,
            "comment": self.comment,
            "due_at": self.due_at,
            "data": self.data,
        }

    def _key(self) -> tuple[Any, ...]:
        return (
            self.kind,
            self.source,
            self.target,
            self.at,
            self.actor,
            self.comment,
            self.due_at,
            self.data,
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self is other or self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` pairs, as a pydantic model iterates (``dict(entry)`` works)."""
        return zip(_ENTRY_FIELDS, self._key(), strict=True)

    def __repr_str(self, sep: str) -> str:
        return sep.join(f"{name}={value!r}" for name, value in self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__repr_str(', ')})"

    def __str__(self) -> str:
        return self.__repr_str(" ")

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise _frozen(name, value)

    def __delattr__(self, name: str) -> NoReturn:
        raise _frozen(name, None)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_entry, self._key())

    def __setstate__(self, state: dict[str, Any]) -> None:
        """An entry pickled when it was a pydantic model (its state holds ``__dict__``)."""
        _fill(self, state["__dict__"])

    def __copy__(self) -> HistoryEntry:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> HistoryEntry:
        return self


_new = object.__new__
# a pydantic model's own slots, set through their descriptors (as etatmachine.trusted does)
_set_model_dict = BaseModel.__dict__["__dict__"].__set__
_set_model_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_model_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_model_private = BaseModel.__dict__["__pydantic_private__"].__set__
# the slots' own setters: the frozen class refuses `setattr`, and they are the fastest way
(
    _set_kind,
    _set_source,
    _set_target,
    _set_at,
    _set_actor,
    _set_comment,
    _set_due_at,
    _set_data,
) = (getattr(HistoryEntry, name).__set__ for name in _ENTRY_FIELDS)
_ENTRY_FIELDS_SET: set[str] = _shared_fields_set(set(_ENTRY_FIELDS))


def _fill(entry: HistoryEntry, values: Mapping[str, Any]) -> None:
    _set_kind(entry, values["kind"])
    _set_source(entry, values["source"])
    _set_target(entry, values["target"])
    _set_at(entry, values["at"])
    _set_actor(entry, values["actor"])
    _set_comment(entry, values["comment"])
    _set_due_at(entry, values["due_at"])
    _set_data(entry, values["data"])


def _of_values(values: Mapping[str, Any]) -> HistoryEntry:
    entry = _new(HistoryEntry)
    _fill(entry, values)
    return entry


def _of_model(model: BaseModel) -> HistoryEntry:
    """The entry a validated model holds."""
    v = model.__dict__
    return trusted_entry(
        v["kind"],
        v["source"],
        v["target"],
        v["at"],
        v["actor"],
        v["comment"],
        v["due_at"],
        v["data"],
    )


def _of_python(value: Any, validate: ValidatorFunctionWrapHandler) -> HistoryEntry:
    """A field's python input: an entry as it is, anything else validated."""
    if isinstance(value, HistoryEntry):
        return value
    return _of_model(validate(value))


def _model_of(entry: HistoryEntry) -> BaseModel:
    """What the validating model's serialiser reads of an entry: a model instance whose
    ``__dict__`` is the entry's values (nothing else of it is set: it is only serialised,
    without ``exclude_unset``, and dropped)."""
    model = _new(_EntryModel)
    _set_model_dict(model, entry._values())
    return model


def _entry(*values: Any) -> HistoryEntry:
    """An entry unpickled (its values in field order)."""
    return trusted_entry(*values)


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
    flags: _Flags = NO_FLAGS
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
            read = cls.model_validate(data, context={"catalogue": catalogue})
        except ValidationError as exc:
            raise _invalid(exc, data) from None
        if _KEY_SHARING and type(read) is Dossier:  # a store holds what it reads: smaller
            return _sharing_keys(read.__dict__, read.__pydantic_fields_set__)
        return read

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

_M = TypeVar("_M", bound=BaseModel | HistoryEntry)


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
    """A history entry from checked values (``at``/``due_at`` aware, ``data`` a
    `FrozenData`), without validation."""
    entry = _new(HistoryEntry)
    _set_kind(entry, kind)
    _set_source(entry, source)
    _set_target(entry, target)
    _set_at(entry, at)
    _set_actor(entry, actor)
    _set_comment(entry, comment)
    _set_due_at(entry, due_at)
    _set_data(entry, data)
    return entry


_DOSSIER_FIELDS = tuple(Dossier.model_fields)


_DOSSIER_FIELDS_SET = _shared_fields_set(set(_DOSSIER_FIELDS))


def trusted_dossier(values: dict[str, Any]) -> Dossier:
    """A dossier from checked values in their final types (every field, in declaration
    order; an empty or valid trail), without validation: the workflow's `open`, after its
    own checks. Its ``__dict__`` shares its keys (see `_key_sharing`)."""
    if _KEY_SHARING:
        return _sharing_keys(values, _DOSSIER_FIELDS_SET)
    return trusted(Dossier, values, _DOSSIER_FIELDS_SET)


def evolve(model: _M, updates: dict[str, Any]) -> _M:
    """``model.model_copy(update=updates)`` for a dossier or an entry: same values and
    fields-set, less overhead (the fields-set stays shared; a key-sharing ``__dict__``'s
    copy shares its keys too)."""
    if isinstance(model, HistoryEntry):
        return model.model_copy(update=updates)  # type: ignore[no-any-return]
    values = model.__dict__.copy()
    values.update(updates)
    fields_set = model.__pydantic_fields_set__
    if not fields_set.issuperset(updates):
        fields_set = _shared_fields_set(fields_set | updates.keys())
    return trusted(type(model), values, fields_set)


def _sharing_keys(values: Mapping[str, Any], fields_set: set[str]) -> Dossier:
    """A dossier holding ``values`` (every field, in order) in a key-sharing ``__dict__``."""
    dossier = _new(Dossier)
    own = dossier.__dict__  # a new key-sharing dict: filled key by key in order, it stays one
    own.update(values.items())
    _set_model_fields_set(dossier, fields_set)
    _set_model_extra(dossier, None)
    _set_model_private(dossier, None)
    return dossier


def _key_sharing() -> bool:
    """Whether CPython gives dossiers key-sharing ``__dict__`` values (smaller).

    Pydantic sets a model's ``__dict__`` to a dict of its own (~464 B for a dossier's 14
    fields). The dict CPython makes for an instance whose ``__dict__`` is read before it has
    one shares its keys with every instance of the class and holds only the values (~270 B),
    as long as it is filled in one order; its copies share the keys too. The workflow opens
    dossiers that way (`trusted_dossier`) and moves them by copies (`evolve`), and
    `Dossier.from_json` returns one: a dossier an application or a store holds saves
    ~190 B. This probe fills the first one in the fields' order (which fixes the shared
    order) and compares."""
    probe = _new(Dossier)
    shared = probe.__dict__
    shared.update((name, None) for name in Dossier.model_fields)
    return _sizeof(shared) < _sizeof(dict.fromkeys(Dossier.model_fields))


_sizeof = sys.getsizeof
_KEY_SHARING = _key_sharing()
