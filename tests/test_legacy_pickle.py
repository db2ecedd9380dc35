"""Records pickled by the parser before it moved to `etatmachine.history` still load, equal to
what the parser gives today, with the same ``repr``; new pickles round-trip.

tests/golden/parse/legacy_records.pickle was written by the single-module parser (its classes
named ``etatmachine.legacy.EtatRecord`` and so on): the text it parsed, the `ParsedHistory`
and each record's ``repr``. It is never regenerated: it is the old format.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from etatmachine import legacy
from etatmachine.legacy import ParsedHistory, parse_text

GOLDEN = Path(__file__).parent / "golden" / "parse" / "legacy_records.pickle"


def test_pickles_written_by_the_old_module_load_as_todays_records() -> None:
    data = GOLDEN.read_bytes()
    assert b"etatmachine.legacy" in data and b"EtatRecord" in data  # the old class paths
    old = pickle.loads(data)
    history = old["history"]
    assert isinstance(history, ParsedHistory)
    assert {r.kind for r in history.records} >= {"etat", "message", "unrecognised", "opening"}
    assert [repr(r) for r in history.records] == old["reprs"]
    now = parse_text(old["text"], source="examples")
    assert now == history
    assert [repr(r) for r in now.records] == old["reprs"]
    assert [r.model_fields_set for r in now.records] == [
        r.model_fields_set for r in history.records
    ]


def test_records_pickle_and_load_as_themselves() -> None:
    now = parse_text(pickle.loads(GOLDEN.read_bytes())["text"])
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(now, protocol))
        assert back == now
        assert [type(r) for r in back.records] == [type(r) for r in now.records]
    assert type(now.records[0]) is getattr(legacy, type(now.records[0]).__name__)
