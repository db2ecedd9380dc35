"""The parser gives exactly the records it gave when the snapshot was taken.

The snapshot (tests/golden/parse/snapshot.json.xz) holds its inputs (tests/parse_corpus.py:
real histories and seeded mutations of their lines) and, for each, every record through each
public entry point. Regenerate (after a deliberate change, then review it) with
``ETATMACHINE_REGEN=1 pytest tests/test_legacy_golden.py``.
"""

from __future__ import annotations

import json
import lzma
import os
from pathlib import Path
from typing import Any

import pytest
from parse_corpus import ROLES, build_corpus, snapshot

GOLDEN = Path(__file__).parent / "golden" / "parse" / "snapshot.json.xz"
REGEN = os.environ.get("ETATMACHINE_REGEN") == "1"
VERSION = 1


def _with_roles(index: int) -> bool:
    return index % 5 == 4


def _regenerate() -> None:
    cases: list[dict[str, Any]] = []
    for index, (name, data) in enumerate(build_corpus()):
        roles = _with_roles(index)
        expected = snapshot(data, roles=ROLES if roles else None)
        cases.append(
            {"name": name, "data": data.decode("latin-1"), "roles": roles, "expected": expected}
        )
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": VERSION, "cases": cases}, ensure_ascii=True, indent=0)
    GOLDEN.write_bytes(lzma.compress(text.encode("ascii"), preset=9 | lzma.PRESET_EXTREME))


def _load() -> list[dict[str, Any]]:
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run ETATMACHINE_REGEN=1 pytest {__file__}"
    stored = json.loads(lzma.decompress(GOLDEN.read_bytes()))
    assert stored["version"] == VERSION
    cases: list[dict[str, Any]] = stored["cases"]
    return cases


def test_snapshot_is_small() -> None:
    if REGEN:
        _regenerate()
    assert GOLDEN.stat().st_size < 1_000_000


def test_parser_gives_the_snapshot_records() -> None:
    if REGEN:
        pytest.skip("regenerating the snapshot: run again without ETATMACHINE_REGEN")
    cases = _load()
    assert len(cases) > 400
    differences = []
    for case in cases:
        data = case["data"].encode("latin-1")
        got = snapshot(data, roles=ROLES if case["roles"] else None)
        for entry_point, expected in case["expected"].items():
            actual = got[entry_point]
            if actual != expected:
                at = next(
                    (i for i, (a, e) in enumerate(zip(actual, expected, strict=False)) if a != e),
                    min(len(actual), len(expected)),
                )
                differences.append(
                    f"{case['name']} via {entry_point}, record {at}:\n"
                    f"  expected {expected[at] if at < len(expected) else '<none>'}\n"
                    f"  got      {actual[at] if at < len(actual) else '<none>'}"
                )
    assert not differences, f"{len(differences)} differences; first:\n" + "\n".join(differences[:5])
