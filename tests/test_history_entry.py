"""`HistoryEntry` as a slots value: the JSON, the errors and the API of the pydantic model
it replaced, kept.

The golden file (tests/golden/history_json.jsonl, see tests/entry_golden.py) holds the JSON
texts, trail digests and reprs the pydantic model wrote before the change: every dossier
read back writes them byte for byte. Entries the workflow builds (trusted, unvalidated) are
compared with an oracle: a pydantic model declared as the old one was, dumping the same
values.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import entry_golden
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    WrapSerializer,
)

from etatmachine import Actor, Dossier, HistoryEntry, Role
from etatmachine.business_calendar import PARIS
from etatmachine.dossier import EMPTY_DATA, FrozenData, evolve, trusted_entry
from etatmachine.store.derive import chain, entry_json
from etatmachine.testing import dossiers

REGEN = os.environ.get("ETATMACHINE_REGEN") == "1"
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
AT = datetime(2024, 3, 4, 9, tzinfo=PARIS)


def _entry(**changes: Any) -> HistoryEntry:
    fields: dict[str, Any] = {
        "kind": "move",
        "source": "etude_devis",
        "target": "attente_cie",
        "at": AT,
        "actor": HANDLER,
        "comment": "c",
        "due_at": AT + timedelta(days=2),
        "data": {"humidity": 12.5},
    }
    fields.update(changes)
    return HistoryEntry(**fields)


# --- byte for byte: the golden file ---------------------------------------------------------


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    if REGEN:
        entry_golden.write()
    assert entry_golden.GOLDEN.exists(), (
        "run ETATMACHINE_REGEN=1 pytest tests/test_history_entry.py"
    )
    return entry_golden.read()


def test_the_golden_file_covers_odd_values(golden: list[dict[str, Any]]) -> None:
    texts = "".join(g["dossier"] for g in golden)
    assert len(golden) > 100 and texts.count('"kind"') > 500
    for needle in ("+00:09:21", "-03:30", "Z", "1e+300", '"z":-0.0', '"data":{}'):
        assert needle in texts, needle


def test_dossiers_read_back_write_the_golden_bytes(golden: list[dict[str, Any]]) -> None:
    """Every dossier JSON, entry JSON (`entry_json`, `model_dump_json`) and trail digest the
    pydantic entries wrote is written again, byte for byte, by slots entries read back."""
    for g in golden:
        text = g["dossier"]
        d = Dossier.from_json(text)
        assert d.to_json() == text
        assert Dossier.model_validate_json(text).to_json() == text
        assert chain(d.history) == g["chain"]
        entries = [entry_json(e) for e in d.history]
        assert text.endswith(',"history":[' + ",".join(entries) + "]}")
        for e, e_text in zip(d.history, entries, strict=True):
            assert type(e) is HistoryEntry
            assert e.model_dump_json() == e_text
            back = HistoryEntry.model_validate_json(e_text)
            assert back == e and back.model_dump_json() == e_text
            assert e.model_dump(mode="json") == json.loads(e_text)
        assert d.model_dump(mode="json") == json.loads(text)
        if "repr" in g:
            assert [repr(e) for e in d.history] == g["repr"]
            assert [repr(e.model_dump()) for e in d.history] == g["python"]


# --- byte for byte: trusted entries against the old model -----------------------------------


def _write_instant(value: datetime, handler: SerializerFunctionWrapHandler) -> Any:
    offset = value.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        return value.isoformat()
    return handler(value)


_OldInstant = Annotated[AwareDatetime, WrapSerializer(_write_instant, when_used="json")]


class _OldEntry(BaseModel):
    """The serialisation of the pydantic `HistoryEntry` this module replaced, as declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    source: str | None
    target: str
    at: _OldInstant
    actor: Actor
    comment: str | None = None
    due_at: _OldInstant | None = None
    data: Annotated[Any, PlainSerializer(dict, return_type=dict[str, Any])]


def _old_json(e: HistoryEntry) -> str:
    return _OldEntry.model_construct(
        **{name: getattr(e, name) for name in e.model_fields}
    ).model_dump_json()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dossiers(max_moves=10))
def test_workflow_entries_dump_as_the_old_model_did(d: Dossier) -> None:
    olds = [_old_json(e) for e in d.history]
    assert [e.model_dump_json() for e in d.history] == olds
    assert d.to_json().endswith(',"history":[' + ",".join(olds) + "]}")
    for e, old in zip(d.history, olds, strict=True):
        assert HistoryEntry.model_validate_json(old) == e


# --- the pydantic API, kept ------------------------------------------------------------------


def test_construction_validates_with_pydantic_errors() -> None:
    with pytest.raises(ValidationError) as info:
        _entry(kind="nope")
    assert info.value.title == "HistoryEntry"
    assert info.value.errors()[0]["loc"] == ("kind",)
    with pytest.raises(ValidationError) as info:
        HistoryEntry()  # type: ignore[call-arg]
    assert {e["loc"][0] for e in info.value.errors()} == {"kind", "source", "target", "at", "actor"}
    for bad in (
        {"at": datetime(2024, 3, 4, 9)},  # naive
        {"extra": 1},
        {"target": 3},
        {"comment": "\ud800"},
        {"data": {"x": float("nan")}},
        {"data": {"x": 2**63}},
    ):
        with pytest.raises(ValidationError):
            _entry(**bad)


def test_values_are_normalised_as_before() -> None:
    e = _entry(
        at="1905-03-06T09:00:00+00:09:21", data={}, actor={"role": "case_handler", "id": "7"}
    )
    assert e.at.tzinfo is PARIS and e.data is EMPTY_DATA
    assert e.actor is _entry(actor={"role": "case_handler", "id": "7"}).actor  # shared
    assert e.kind is sys.intern("move") and e.target is sys.intern("attente_cie")
    assert isinstance(_entry().data, FrozenData)
    plain = HistoryEntry(kind="open", source=None, target="x", at=AT, actor=HANDLER)
    assert (plain.comment, plain.due_at, plain.data) == (None, None, EMPTY_DATA)


def test_entries_are_frozen_values() -> None:
    e = _entry()
    with pytest.raises(ValidationError) as info:
        e.kind = "open"  # type: ignore[misc]
    assert info.value.errors()[0]["type"] == "frozen_instance"
    with pytest.raises(ValidationError):
        del e.comment
    with pytest.raises(ValidationError):
        e.other = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        e.model_fields_set.add("poison")
    assert not hasattr(e, "__dict__")
    twin = _entry()
    assert twin == e and hash(twin) == hash(e) and twin is not e
    assert _entry(comment="other") != e
    assert e != e.model_dump() and e != object()
    assert len({e, twin, _entry(comment="x")}) == 2


def test_dump_options_are_pydantic_s() -> None:
    e = _entry()
    assert e.model_dump(exclude={"data", "actor"}, mode="json")["at"] == "2024-03-04T09:00:00+01:00"
    assert "comment" not in e.model_dump(include={"kind"})
    assert e.model_dump(exclude_unset=True) == e.model_dump()  # every field is set
    assert json.loads(e.model_dump_json(indent=2)) == json.loads(e.model_dump_json())
    assert "due_at" not in _entry(due_at=None).model_dump(exclude_none=True)


def test_repr_str_iteration_match_a_model() -> None:
    e = _entry()
    assert repr(e).startswith("HistoryEntry(kind='move', source='etude_devis', target=")
    assert str(e).startswith("kind='move' source='etude_devis' ")
    assert dict(e) == {name: getattr(e, name) for name in HistoryEntry.model_fields}
    assert list(HistoryEntry.model_fields) == list(dict(e))


def test_pickle_copy_and_deepcopy_keep_the_value() -> None:
    e = _entry()
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(e, protocol))
        assert (
            type(back) is HistoryEntry
            and back == e
            and back.model_dump_json() == e.model_dump_json()
        )
    assert copy.copy(e) == e and copy.deepcopy(e) == e
    d = Dossier(
        id="D",
        state="attente_cie",
        due_at=e.due_at,
        version=0,
        history=(e.model_copy(update={"kind": "open", "source": None}),),
    )
    assert pickle.loads(pickle.dumps(d)) == d and copy.deepcopy(d) == d


def test_entries_pickled_as_pydantic_models_load() -> None:
    """tests/golden/history_entry_pydantic.pickle: `_entry()` pickled (protocol 4) by the
    pydantic model this class replaced."""
    old = (entry_golden.GOLDEN.parent / "history_entry_pydantic.pickle").read_bytes()
    back = pickle.loads(old)
    assert type(back) is HistoryEntry and back == _entry()
    assert back.model_dump_json() == _entry().model_dump_json()


def test_model_copy_and_evolve_change_only_what_they_name() -> None:
    e = _entry()
    c = e.model_copy(update={"comment": "x"})
    assert c.comment == "x" and e.comment == "c" and c.at is e.at and type(c) is HistoryEntry
    assert evolve(e, {"target": "y"}).target == "y"
    assert e.model_copy() == e and e.model_copy(deep=True) == e
    with pytest.raises(ValueError, match="not a field"):
        e.model_copy(update={"colour": "red"})


def test_model_validate_passes_entries_and_validates_mappings() -> None:
    e = _entry()
    assert HistoryEntry.model_validate(e) is e
    assert HistoryEntry.model_validate(e.model_dump()) == e
    assert HistoryEntry.model_validate(json.loads(e.model_dump_json())) == e
    with pytest.raises(ValidationError):
        HistoryEntry.model_validate({"kind": "open"})
    with pytest.raises(ValidationError):
        HistoryEntry.model_validate_json("[]")
    assert HistoryEntry.model_construct(**dict(e)) == e


def test_as_a_pydantic_field() -> None:
    """Entries pass through a model unchanged (no revalidation); mappings and JSON are
    validated with the old errors and locations; the schema names HistoryEntry."""
    e = _entry(kind="open", source=None)
    d = Dossier(id="D", state="attente_cie", due_at=e.due_at, history=(e,))
    assert d.history[0] is e
    from_dict = Dossier.model_validate({**d.model_dump(), "history": [e.model_dump()]})
    assert from_dict == d and type(from_dict.history[0]) is HistoryEntry
    with pytest.raises(ValidationError) as info:
        Dossier.model_validate(
            {"id": "D", "state": "x", "due_at": None, "history": [{"kind": "open"}]}
        )
    assert {err["loc"] for err in info.value.errors()} >= {("history", 0, "source")}
    adapter = TypeAdapter(tuple[HistoryEntry, ...])
    assert adapter.validate_json(adapter.dump_json((e,))) == (e,)
    for mode in ("validation", "serialization"):
        schema = Dossier.model_json_schema(mode=mode)  # type: ignore[arg-type]
        assert schema["properties"]["history"]["items"] == {"$ref": "#/$defs/HistoryEntry"}
        assert schema["$defs"]["HistoryEntry"]["title"] == "HistoryEntry"
    assert HistoryEntry.model_json_schema()["title"] == "HistoryEntry"


def test_trusted_entries_equal_validated_ones() -> None:
    e = _entry()
    built = trusted_entry(e.kind, e.source, e.target, e.at, e.actor, e.comment, e.due_at, e.data)
    assert (
        type(built) is HistoryEntry
        and built == e
        and built.model_dump_json() == e.model_dump_json()
    )
    utc = trusted_entry(
        "open", None, "x", datetime(2024, 1, 1, tzinfo=UTC), HANDLER, None, None, EMPTY_DATA
    )
    assert utc.model_dump(mode="json")["at"] == "2024-01-01T00:00:00Z"


# --- FrozenData: a compact read-only mapping --------------------------------------------------


def test_frozen_data_is_a_read_only_mapping() -> None:
    data = FrozenData({"a": 1, "b": "x", "c": None})
    assert dict(data) == data.as_dict() == {"a": 1, "b": "x", "c": None}
    assert list(data) == ["a", "b", "c"] and len(data) == 3
    assert data["b"] == "x" and "c" in data and "z" not in data
    assert data.get("a") == 1 and data.get("z", 5) == 5 and data.get("c", 5) is None
    assert list(data.items()) == [("a", 1), ("b", "x"), ("c", None)]
    with pytest.raises(KeyError):
        data["z"]
    with pytest.raises(TypeError):
        data[["unhashable"]]  # type: ignore[index]
    with pytest.raises(TypeError):
        data["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        data._values = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        dict.update(data, {"x": 1})  # type: ignore[arg-type]
    assert repr(data) == "FrozenData({'a': 1, 'b': 'x', 'c': None})"
    assert not hasattr(data, "__dict__")


def test_frozen_data_equality_and_hash_ignore_key_order() -> None:
    one = FrozenData({"a": 1, "b": 2})
    other = FrozenData({"b": 2, "a": 1})
    assert one == other == {"a": 1, "b": 2} and hash(one) == hash(other)
    assert hash(one) == hash(frozenset({"a": 1, "b": 2}.items()))  # as before the change
    assert one != FrozenData({"a": 1, "b": 3}) and one != FrozenData({"a": 1})
    assert one != [("a", 1), ("b", 2)]
    assert FrozenData() == FrozenData({}) == EMPTY_DATA == {} and not EMPTY_DATA
    assert FrozenData.adopt({"a": 1, "b": 2}) == one
    # data with the same keys share their index: one tuple of values each
    assert one._index is FrozenData({"a": 5, "b": 6})._index


def test_frozen_data_pickles_and_copies_as_itself() -> None:
    data = FrozenData({"a": 1.5, "when": "2024-03-04T09:00:00+01:00"})
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(data, protocol))
        assert type(back) is FrozenData and back == data and list(back) == list(data)
    assert copy.copy(data) is data and copy.deepcopy(data) is data


def test_data_keys_keep_their_order_in_json() -> None:
    e = _entry(data={"z": 1, "a": 2, "m": 3})
    assert e.model_dump_json().endswith('"data":{"z":1,"a":2,"m":3}}')
    assert list(HistoryEntry.model_validate_json(e.model_dump_json()).data) == ["z", "a", "m"]
