"""The dossiers behind tests/golden/history_json.jsonl (the JSON texts a change of the
history entry's class must keep byte for byte: the store's trail digests depend on them).

Regenerate with ``ETATMACHINE_REGEN=1 pytest tests/test_history_entry.py`` -- only when the
JSON a dossier writes is meant to change. The file was first written by the pydantic
`HistoryEntry` model, before entries became slots values.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from etatmachine import Actor, Dossier, HistoryEntry, Role, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.store.derive import chain
from etatmachine.testing import dossiers

GOLDEN = Path(__file__).parent / "golden" / "history_json.jsonl"
WF = Workflow.default()
WALKS = 100


def _walked(n: int) -> list[Dossier]:
    """``n`` dossiers the workflow built (trusted entries), drawn reproducibly."""
    found: list[Dossier] = []

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(dossiers(max_moves=10))
    def collect(d: Dossier) -> None:
        found.append(d)

    collect()
    return found


def _handmade() -> list[Dossier]:
    """Entries validated from odd values: offsets with seconds, fixed offsets, UTC, text
    beyond ASCII, every kind of datum, named actors."""
    named = Actor(role=Role.SURVEYOR, id="é-42", name="Zoë « l'expert »")
    plain = Actor(role=Role.CASE_HANDLER, id="7")
    lmt = datetime(1905, 3, 6, 9, tzinfo=PARIS)
    fixed = timezone(timedelta(hours=-3, minutes=-30))
    entries = [
        HistoryEntry(kind="open", source=None, target="etude_devis", at=lmt, actor=plain),
        HistoryEntry(
            kind="move",
            source="etude_devis",
            target="attente_cie",
            at=datetime(1905, 3, 7, 10, 11, 12, 345678, tzinfo=PARIS),
            actor=named,
            comment='ligne 1\nligne 2 "guillemets" \\ \t ✓ 🏠',
            due_at=datetime(1905, 3, 9, 18, tzinfo=PARIS),
            data={
                "f": 0.1,
                "big": 2**63 - 1,
                "neg": -(2**63 - 1),
                "t": True,
                "n": None,
                "s": "é\u2028",
                "z": -0.0,
                "e": 1e300,
            },
        ),
        HistoryEntry(
            kind="reschedule",
            source="attente_cie",
            target="attente_cie",
            at="2024-03-04T09:00:00.5-03:30",
            actor={"role": "surveyor", "id": "x"},
            due_at=datetime(2024, 3, 8, 12, tzinfo=fixed),
            data={"when": "2024-03-05T10:00:00+01:00"},
        ),
        HistoryEntry(
            kind="contact_attempt",
            source="attente_cie",
            target="attente_cie",
            at=datetime(2024, 3, 9, tzinfo=UTC),
            actor=plain,
            comment="",
            due_at=datetime(2024, 3, 8, 12, tzinfo=fixed),
            data={"outcome": "failed"},
        ),
    ]
    return [
        Dossier(
            id="H-1",
            state="attente_cie",
            due_at=entries[-1].due_at,
            version=3,
            insurer="maif",
            flags=frozenset({"z", "a"}),
            contact_attempts=1,
            history=tuple(entries),
        ),
        Dossier(id="H-2", state="etude_devis", due_at=None),
    ]


def record(d: Dossier, full: bool) -> dict[str, Any]:
    """What the golden file keeps of one dossier: its JSON and the trail digest (the
    entries' JSON is the history array's items); with ``full``, each entry's repr and the
    repr of its python-mode dump too."""
    out: dict[str, Any] = {"dossier": d.to_json(), "chain": chain(d.history)}
    if full:
        out["python"] = [repr(e.model_dump()) for e in d.history]
        out["repr"] = [repr(e) for e in d.history]
    return out


def write() -> None:
    handmade = _handmade()
    lines = [json.dumps(record(d, True), ensure_ascii=False) for d in handmade]
    lines += [json.dumps(record(d, False), ensure_ascii=False) for d in _walked(WALKS)]
    GOLDEN.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read() -> list[dict[str, Any]]:
    text = GOLDEN.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line]
