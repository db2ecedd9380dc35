"""`etatmachine.intake.adopt`: a live dossier brought in mid-flow, checked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from etatmachine import Actor, Role, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.dossier import HistoryEntry
from etatmachine.intake import IntakeError, adopt

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=PARIS)
DUE = datetime(2024, 3, 6, 9, 0, tzinfo=PARIS)


OPEN = "open", None, "etude_devis"


def entry(kind: str, source: str | None, target: str, minutes: int, due: Any = DUE) -> HistoryEntry:
    return HistoryEntry(
        kind=kind,  # type: ignore[arg-type]
        source=source,
        target=target,
        at=T0 + timedelta(minutes=minutes),
        actor=HANDLER,
        due_at=due,
    )


def test_adopt_keeps_the_recorded_due_date_not_the_computed_one() -> None:
    recorded = datetime(2024, 3, 20, 9, 0, tzinfo=PARIS)  # not etude_devis's 48h
    d = adopt(WF, "D-1", "etude_devis", due_at=recorded, at=T0, actor=HANDLER, channel="SINAPPS")
    assert d.due_at == recorded and d.history[0].due_at == recorded
    assert d.channel == "sinapps" and d.version == 0
    moved = WF.move(d, "devis_demande_info", actor=HANDLER, at=T0 + timedelta(hours=1))
    assert moved.dossier.version == 1  # a live dossier the workflow moves on


def test_adopt_a_trail_derives_the_wait_and_the_contact_attempts() -> None:
    history = [
        entry("open", None, "etude_devis", 0),
        entry("move", "etude_devis", "client_injoignable", 10),
        entry("contact_attempt", "client_injoignable", "client_injoignable", 20),
        entry("contact_attempt", "client_injoignable", "client_injoignable", 30),
    ]
    d = adopt(WF, "D-2", "client_injoignable", due_at=DUE, history=history, insurer="maif")
    assert d.version == 3 and d.interrupted == "etude_devis" and d.contact_attempts == 2
    assert d.history == tuple(history) and d.insurer == "MAIF"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"state": "nowhere"}, "state", "unknown state"),
        ({"due_at": datetime(2024, 3, 6, 9)}, "due_at", "timezone-aware"),
        ({"at": datetime(2024, 3, 4, 9)}, "at", "timezone-aware"),
        ({"due_at": None}, "due_at", "runs with a due date"),
        ({"state": "dossier_annule"}, "due_at", "closing state"),
        ({"actor": None}, "history", "give at and actor"),
        ({"insurer": 12}, "insurer", "string"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"version": 3}, "file_attributes", "multiple values"),
    ],
)
def test_adopt_refuses_bad_input_naming_the_field(
    kwargs: dict[str, Any], field: str, message: str
) -> None:
    args: dict[str, Any] = {"state": "etude_devis", "due_at": DUE, "at": T0, "actor": HANDLER}
    args.update(kwargs)
    state = args.pop("state")
    with pytest.raises(IntakeError, match=message) as caught:
        adopt(WF, "D-3", state, **args)
    assert caught.value.field == field and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("history", "index", "message"),
    [
        ([entry("move", "etude_devis", "etude_devis", 0)], 0, "starts with 'open'"),
        ([entry(*OPEN, 0), entry(*OPEN, 1)], 1, "only the first"),
        ([entry(*OPEN, 5), entry("move", "etude_devis", "devis_demande_info", 1)], 1, "earlier"),
        (
            [entry(*OPEN, 0), entry("move", "devis_reponse_metreur", "devis_demande_info", 1)],
            1,
            "left the file in 'etude_devis'",
        ),
        ([entry("open", None, "nowhere", 0)], 0, "not a state code"),
        ([entry("open", None, "devis_demande_info", 0)], 0, "must end in 'etude_devis'"),
        ([entry("open", None, "etude_devis", 0, due=T0)], 0, "must set the due date"),
        (
            [entry(*OPEN, 0), entry("reschedule", "etude_devis", "devis_demande_info", 1)],
            1,
            "keeps the state",
        ),
    ],
)  # fmt: skip
def test_adopt_refuses_an_inconsistent_trail_naming_the_entry(
    history: list[HistoryEntry], index: int, message: str
) -> None:
    with pytest.raises(IntakeError, match=message) as caught:
        adopt(WF, "D-4", "etude_devis", due_at=DUE, history=history)
    assert caught.value.index == index


def test_adopt_refuses_an_intake_before_the_trails_end() -> None:
    with pytest.raises(IntakeError, match="earlier than the trail's last entry"):
        adopt(WF, "D-5", "etude_devis", due_at=DUE, at=T0 - timedelta(days=1),
              history=[entry("open", None, "etude_devis", 0)])  # fmt: skip
