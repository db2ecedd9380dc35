"""A working copy (`WorkingDossier`) is judged and changed exactly as an immutable dossier.

`Workflow.record_in_place` and `record_contact_attempt_in_place` must say what `record` and
`record_contact_attempt` say and leave the copy holding what the immutable path returns,
on any sequence of recorded moves, refused ones included; `record_open` must open as
`open` does, and bring a refused opening in as `intake.adopt` does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etatmachine import Actor, Dossier, MoveRefused, Role, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.errors import ArgumentTypeError, ArgumentValueError, DossierInvalid
from etatmachine.intake import adopt
from etatmachine.testing import actors, move_sequences
from etatmachine.working import WorkingDossier

WF = Workflow.default()
CODES = sorted(s.code for s in WF.catalogue)
HANDLER = Actor(role=Role.CASE_HANDLER, id="3995")
T0 = datetime(2024, 3, 4, 10, 0, tzinfo=PARIS)


@st.composite
def recorded_moves(draw: st.DrawFn) -> list[tuple[str, Actor, timedelta, str | None, bool]]:
    """Moves as a history records them: any target, any actor, time mostly forward."""
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(CODES),
                actors(),
                st.timedeltas(timedelta(hours=-2), timedelta(days=6)),
                st.none() | st.sampled_from(["RAS", "nrp", "client rappelé"]),
                st.booleans(),  # a contact attempt instead of a move
            ),
            max_size=25,
        )
    )


@settings(max_examples=60, deadline=None)
@given(walk=move_sequences(max_moves=4), moves=recorded_moves())
def test_in_place_says_and_holds_what_the_immutable_path_does(walk, moves) -> None:  # type: ignore[no-untyped-def]
    d: Dossier = walk.end
    work = WorkingDossier(d)
    at = d.last_at or T0
    for target, actor, gap, comment, attempt in moves:
        at = at + gap
        if attempt:
            if d.last_at is not None and at < d.last_at:  # refused on both paths, alike
                with pytest.raises(MoveRefused) as refused:
                    WF.record_contact_attempt(d, actor=actor, at=at, comment=comment)
                with pytest.raises(MoveRefused) as again:
                    WF.record_contact_attempt_in_place(work, actor=actor, at=at, comment=comment)
                assert again.value.violations == refused.value.violations
                assert work.history == list(d.history)  # a refusal changes nothing
                continue
            d = WF.record_contact_attempt(d, actor=actor, at=at, comment=comment).dossier
            entry = WF.record_contact_attempt_in_place(work, actor=actor, at=at, comment=comment)
            assert entry == d.history[-1]
        else:
            (moved, effects), violations = WF.record(d, target, actor=actor, at=at, comment=comment)
            recorded = WF.record_in_place(work, target, actor=actor, at=at, comment=comment)
            assert recorded.violations == violations
            assert recorded.effects == effects
            assert recorded.entry == moved.history[-1]
            d = moved
        assert work.history == list(d.history)
        assert (work.state, work.due_at, work.version) == (d.state, d.due_at, d.version)
        assert work.contact_attempts == d.contact_attempts
        assert work.interrupted == d.interrupted
    assert work.freeze() == d


def test_freeze_refuses_a_copy_that_breaks_the_trail() -> None:
    work = WorkingDossier(WF.open("D1", actor=HANDLER, at=T0).dossier)
    work.state = "travaux_termines"  # not where the trail ends
    with pytest.raises(DossierInvalid, match="state"):
        work.freeze()


def test_in_place_calls_want_a_working_copy() -> None:
    d = WF.open("D1", actor=HANDLER, at=T0).dossier
    with pytest.raises(ArgumentTypeError, match="WorkingDossier"):
        WF.record_in_place(d, "etude_devis", actor=HANDLER, at=T0)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError):
        WorkingDossier("D1")  # type: ignore[arg-type]


def test_record_open_opens_as_open_does() -> None:
    opened = WF.open("D1", "contact_client_devis", actor=HANDLER, at=T0, mid_flow=True)
    recorded, violations = WF.record_open(
        "D1", "contact_client_devis", actor=HANDLER, at=T0, mid_flow=True, recorded_due=T0
    )
    assert violations == ()
    assert recorded == opened


def test_record_open_brings_a_refused_opening_in_as_adopt_does() -> None:
    contractor = Actor(role=Role.CONTRACTOR, id="995")
    with pytest.raises(MoveRefused) as refused:
        WF.open("D1", "etude_devis", actor=contractor, at=T0, comment="x")
    due = T0 + timedelta(days=2)
    (dossier, effects), violations = WF.record_open(
        "D1", "etude_devis", actor=contractor, at=T0, comment="x", recorded_due=due
    )
    assert violations == tuple(refused.value.violations)
    assert effects == ()
    assert dossier == adopt(
        WF, "D1", "etude_devis", due_at=due, at=T0, actor=contractor, comment="x"
    )


def test_record_open_needs_the_recorded_due_of_a_refused_opening() -> None:
    contractor = Actor(role=Role.CONTRACTOR, id="995")
    with pytest.raises(ArgumentValueError, match="recorded_due"):
        WF.record_open("D1", "etude_devis", actor=contractor, at=T0, comment="x")
    with pytest.raises(ArgumentTypeError, match="recorded_due"):
        WF.record_open("D1", "etude_devis", actor=contractor, at=T0, recorded_due="demain")  # type: ignore[arg-type]


_DATA_VALUES = st.none() | st.integers(0, 100) | st.sampled_from(["S12", "1 250,00", "x"])


@settings(max_examples=150, deadline=None)
@given(
    state=st.sampled_from(CODES),
    actor=actors(),
    gap=st.timedeltas(timedelta(days=-3), timedelta(days=10)),
    comment=st.none() | st.sampled_from(["RAS", "Devis 1 250,00 €", "nrp"]),
    given_due=st.booleans(),
    data=st.dictionaries(
        st.sampled_from(["appointment_at", "humidity", "delivery_week", "quote_amount"]),
        _DATA_VALUES | st.just(T0 + timedelta(days=2)),
        max_size=2,
    ),
    insurer=st.none() | st.sampled_from(["ALLIANZ", "BPCE", "MAAF"]),
    channel=st.none() | st.just("sinapps"),
    flags=st.sampled_from([frozenset(), frozenset({"vip"})]),
)
def test_the_core_opens_in_place_what_record_open_opens(  # type: ignore[no-untyped-def]
    state, actor, gap, comment, given_due, data, insurer, channel, flags
) -> None:
    """`Judge.opened_in_place` (the replay's opening, no immutable dossier on the way) gives
    the verdict and the file `Workflow.record_open` gives, accepted or refused."""
    at = T0 + gap
    due = at + timedelta(days=3) if given_due else None
    recorded_due = T0 + timedelta(days=1)
    kwargs = {"insurer": insurer, "channel": channel, "flags": flags, "contractor": "NYCO"}
    (opened, _), violations = WF.record_open(
        "D1", state, actor=actor, at=at, comment=comment, due=due, data=data,
        recorded_due=recorded_due, mid_flow=True, **kwargs,
    )  # fmt: skip
    attributes = WF.file_attributes(**kwargs)
    work, found, judged = WF.core.opened_in_place(
        "D1", WF.state(state), actor, at, comment, due, data, recorded_due, *attributes, True
    )
    assert found == violations
    assert work.freeze() == opened
    assert work.history == list(opened.history)
    if not found:  # accepted: the file keeps the procedure's due date
        assert judged == opened.due_at


def test_a_working_copy_holds_every_field_of_a_dossier() -> None:
    """`WorkingDossier` sets each field by name: one the dossier gains must be set too."""
    d = WF.open("D1", actor=HANDLER, at=T0, insurer="AZ", flags=["vip"]).dossier
    for work in (WorkingDossier(d), WorkingDossier.from_fields(d.__dict__)):
        assert {name: getattr(work, name) for name in Dossier.model_fields} == {
            **d.__dict__,
            "history": list(d.history),
        }
        assert type(work.history) is list and work.history is not d.history
