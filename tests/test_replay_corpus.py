"""Every replay path says exactly what the snapshot of the corpus holds (tests/replay_corpus.py).

The snapshot was written by the replay as it stood before it was made fast (a mutable working
copy instead of a dossier copied per move); any change in what a replay says of one of these
hundreds of real and mutated histories fails here. Regenerate only for a change of verdicts
you mean: ``ETATMACHINE_REGEN=1 pytest tests/test_replay_corpus.py``, and review the diff.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
from replay_corpus import archive, corpus

from etatmachine.legacy import iter_records, parse_text, split_lines
from etatmachine.replay import iter_replays, replay_records

GOLDEN = Path(__file__).parent / "golden" / "replay" / "corpus.json.gz"
REGEN = os.environ.get("ETATMACHINE_REGEN") == "1"


def _replays() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, text in corpus():
        report = replay_records(parse_text(text).records, dossier_id=name, source=name)
        out[name] = json.loads(report.model_dump_json())
    reports = iter_replays(iter_records(split_lines(archive())), source="archive")
    out["archive"] = [json.loads(r.model_dump_json()) for r in reports]
    return out


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    if REGEN:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(_replays(), ensure_ascii=False, sort_keys=True)
        GOLDEN.write_bytes(gzip.compress(text.encode(), mtime=0))
    assert GOLDEN.exists(), f"missing {GOLDEN}: run ETATMACHINE_REGEN=1 pytest {__file__}"
    loaded: dict[str, Any] = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    return loaded


def test_the_corpus_is_varied(golden: dict[str, Any]) -> None:
    """The snapshot exercises what it claims to: refusals of many rules, segments, effects."""
    rules: set[str] = set()
    segments = 0
    for name, report in golden.items():
        if name == "archive":
            continue
        rules.update(report["summary"]["violations_by_rule"])
        segments = max(segments, report["summary"]["segments"])
    assert len(golden) > 200
    assert {"move_not_allowed", "actor_not_allowed", "unknown_label", "due_in_past"} <= rules
    assert len(rules) >= 8
    assert segments >= 3
    assert len(golden["archive"]) >= 50


def test_every_history_replays_as_the_snapshot_says(golden: dict[str, Any]) -> None:
    now = _replays()
    assert sorted(now) == sorted(golden)
    for name in golden:
        assert now[name] == golden[name], name
