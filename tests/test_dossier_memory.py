"""What a dossier holds, idle: slots entries, compact data, shared empties, and a
key-sharing ``__dict__`` for the dossiers the workflow opens and moves and `from_json`
reads -- with every value unchanged.

The figures are benchmarks/bench_memory.py's; these tests check the mechanisms and that
nothing a caller sees differs (equality, field order, JSON, pickling).
"""

from __future__ import annotations

import copy
import pickle
import sys
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from etatmachine import Actor, Dossier, Role, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.dossier import NO_FLAGS, evolve
from etatmachine.testing import dossiers

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
AT = datetime(2024, 3, 4, 9, tzinfo=PARIS)


def _key_sharing_available() -> bool:
    """Whether this interpreter gives a dossier filled key by key a smaller dict."""
    probe = Dossier.__new__(Dossier)
    probe.__dict__.update((name, None) for name in Dossier.model_fields)
    return sys.getsizeof(probe.__dict__) < sys.getsizeof(dict.fromkeys(Dossier.model_fields))


def _moved() -> Dossier:
    d = WF.open("D-1", actor=HANDLER, at=AT).dossier
    d = WF.record_contact_attempt(d, actor=HANDLER, at=AT + timedelta(hours=1)).dossier
    return WF.move(
        d,
        "attente_cie",
        actor=HANDLER,
        at=AT + timedelta(hours=2),
        comment="c",
        due=AT + timedelta(days=3),
    ).dossier


@pytest.mark.skipif(not _key_sharing_available(), reason="no key-sharing dicts here")
def test_moved_dossiers_hold_a_key_sharing_dict() -> None:
    d = _moved()
    assert sys.getsizeof(d.__dict__) < sys.getsizeof(dict(d.__dict__))
    again = WF.move(d, "etude_devis", actor=HANDLER, at=AT + timedelta(hours=3)).dossier
    assert sys.getsizeof(again.__dict__) < sys.getsizeof(dict(again.__dict__))
    read = Dossier.from_json(d.to_json())  # what a store reads back
    assert sys.getsizeof(read.__dict__) < sys.getsizeof(dict(read.__dict__))
    assert Dossier.from_json(d.to_json()) == d


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dossiers(max_moves=6))
def test_evolved_dossiers_are_the_same_values(d: Dossier) -> None:
    """Whatever dict holds them: equal, same field order, same JSON, pickles, copies."""
    read = Dossier.from_json(d.to_json())
    for source in (d, read):
        moved = evolve(source, {"version": source.version})
        assert moved == source and type(moved) is Dossier
        assert list(moved.__dict__) == list(Dossier.model_fields)
        assert moved.to_json() == source.to_json()
        assert moved.model_fields_set == source.model_fields_set
        assert pickle.loads(pickle.dumps(moved)) == moved
        assert copy.deepcopy(moved) == moved and copy.copy(moved) == moved
        changed = evolve(moved, {"contractor": "ACME"})
        assert changed.contractor == "ACME" and moved.contractor == source.contractor


def test_dossiers_without_flags_share_one_empty_set() -> None:
    text = Dossier(id="D", state="etude_devis", due_at=None).to_json()
    assert Dossier.from_json(text).flags is NO_FLAGS
    assert (
        Dossier.model_validate({"id": "D", "state": "x", "due_at": None, "flags": []}).flags
        is NO_FLAGS
    )
    flagged = Dossier.model_validate({"id": "D", "state": "x", "due_at": None, "flags": ["b", "a"]})
    assert flagged.flags == {"a", "b"} and '"flags":["a","b"]' in flagged.to_json()
