"""Hypothesis strategies and a ready state machine for testing workflows (yours or ours).

A back office that writes its own catalogue wants the same guarantees the bundled one
has: every move a user can make is either accepted with one more history entry, or
refused with named violations and nothing changed. These helpers build *valid* inputs
for a move (so random walks reach deep states instead of bouncing off rules) and a
`WorkflowStateMachine` that mixes allowed and forbidden moves and checks the invariants.
Hypothesis is only needed by code that imports this module (the ``test`` extra).

>>> from hypothesis import given, settings
>>> from etatmachine.testing import dossiers
>>> @settings(max_examples=5, database=None)
... @given(dossiers(max_moves=3))
... def test_version_counts_changes(d):
...     assert len(d.history) == d.version + 1
>>> test_version_counts_changes()
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from etatmachine.binding import Binder, Change, binder_of, dossier_of
from etatmachine.business_calendar import PARIS, BusinessCalendar
from etatmachine.catalogue import DeadlineKind, StateKind, StateSpec
from etatmachine.dossier import Actor, Dossier
from etatmachine.errors import MoveRefused
from etatmachine.roles import Role
from etatmachine.rules import RULES
from etatmachine.workflow import Moved, Workflow

__all__ = [
    "BoundFile",
    "LegacyEtat",
    "LegacyHistory",
    "MoveInputs",
    "Walk",
    "WalkRefusedError",
    "WorkflowStateMachine",
    "actors",
    "allowed_targets",
    "bound_copy",
    "business_instants",
    "dossiers",
    "label_spellings",
    "legacy_histories",
    "legacy_history_text",
    "move_inputs",
    "move_sequences",
    "roles_for",
]

INSURERS: tuple[str | None, ...] = ("BPCE", "ALLIANZ", "MAIF", None)
CHANNELS: tuple[str | None, ...] = ("sinapps", "darva", None)
FLAGS: tuple[str, ...] = ("ren_expert",)
SUBDIVISIONS: tuple[str | None, ...] = (None, "57")
_START = date(2019, 1, 1)
_END = date(2030, 12, 31)
_COUNTED = frozenset({DeadlineKind.BUSINESS_HOURS, DeadlineKind.BUSINESS_DAYS})


def _wf(workflow: Workflow | None) -> Workflow:
    return workflow if workflow is not None else Workflow.default()


# --- actors and instants ------------------------------------------------------------------

_USER_IDS = ("995", "996", "007", "1002688", "3995", "102123", "72a3181")


def actors(role: Role | None = None) -> st.SearchStrategy[Actor]:
    """Actors of ``role`` (any role when None), with ids as the legacy histories write them."""
    roles = st.just(role) if role is not None else st.sampled_from(list(Role))
    return st.builds(
        Actor,
        role=roles,
        id=st.sampled_from(_USER_IDS),
        name=st.none() | st.sampled_from(["INTERNET", "TANGUY TELLIER", "SANDRINE SUTOR"]),
    )


def business_instants(
    start: date = _START, end: date = _END, calendar: BusinessCalendar | None = None
) -> st.SearchStrategy[datetime]:
    """Aware instants on business days of ``calendar`` (default: the default workflow's).

    Times fall inside the calendar's business window (the whole day when it has none),
    in the calendar's timezone (Europe/Paris by default).
    """
    cal = calendar if calendar is not None else Workflow.default().calendar()
    tz = ZoneInfo(cal.config.timezone)
    first = start.date() if isinstance(start, datetime) else start
    last = end.date() if isinstance(end, datetime) else end
    open_ = cal.config.work_start
    close = cal.config.work_end
    lo = open_.hour * 60 + open_.minute
    hi = (close.hour * 60 + close.minute - 1) if close is not None else 24 * 60 - 1

    def build(day: date, minute: int) -> datetime:
        local = datetime.combine(cal.roll_forward(day), time(minute // 60, minute % 60), tz)
        return local.astimezone(UTC).astimezone(tz)  # a wall time in a gap moves forward

    last_day = cal.previous_business_day(last + timedelta(days=1))
    return st.builds(build, st.dates(first, max(first, last_day)), st.integers(lo, max(lo, hi)))


def _after(at: datetime, gap: timedelta) -> datetime:
    """``gap`` of real time after ``at``, in Paris time (no wall-clock arithmetic)."""
    return (at.astimezone(UTC) + gap).astimezone(PARIS)


def _gaps() -> st.SearchStrategy[timedelta]:
    """Time between two changes: mostly minutes or hours (chases within 24h), some days."""
    return st.one_of(
        st.integers(0, 180).map(lambda m: timedelta(minutes=m)),
        st.integers(1, 60).map(lambda h: timedelta(hours=h)),
        st.integers(1, 40).map(lambda d: timedelta(days=d, minutes=17)),
    )


# --- valid inputs for a move --------------------------------------------------------------


@dataclass(frozen=True)
class MoveInputs:
    """Everything one call needs: a move to ``target``, or a contact attempt."""

    target: str
    actor: Actor
    at: datetime
    comment: str | None = None
    due: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    kind: Literal["move", "contact_attempt"] = "move"

    def apply(self, workflow: Workflow, dossier: Dossier) -> Moved:
        """Make the move (or record the attempt) on ``dossier``; may raise `MoveRefused`."""
        if self.kind == "contact_attempt":
            return workflow.record_contact_attempt(
                dossier, actor=self.actor, at=self.at, comment=self.comment
            )
        return workflow.move(
            dossier,
            self.target,
            actor=self.actor,
            at=self.at,
            comment=self.comment,
            due=self.due,
            data=self.data,
        )

    def apply_bound(self, obj: Any) -> Change:
        """The same call on a bound object (`etatmachine.binding`, synchronous binder)."""
        binder = binder_of(obj)
        if self.kind == "contact_attempt":
            change: Change = binder.record_contact_attempt(
                obj, actor=self.actor, at=self.at, comment=self.comment
            )
            return change
        moved: Change = binder.trigger(
            obj,
            self.target,
            actor=self.actor,
            at=self.at,
            comment=self.comment,
            due=self.due,
            data=self.data,
        )
        return moved

    def with_actor(self, actor: Actor) -> MoveInputs:
        return replace(self, actor=actor)


class BoundFile:
    """A service's own mutable file (an ORM row stand-in) with the default attribute names."""

    id: str
    state: str


def bound_copy(workflow: Workflow | None, dossier: Dossier) -> BoundFile:
    """A `BoundFile` holding ``dossier``'s values, bound to the workflow's shared machine."""
    return Binder.cached(_wf(workflow)).load(BoundFile(), dossier)


def _attributes_of(obj: Any) -> dict[str, Any]:
    return dict(vars(obj))


def roles_for(workflow: Workflow | None, source: str | None, target: str) -> tuple[Role, ...]:
    """The roles that may make the move: who may enter the target and (unless it
    interrupts) leave the source, and ``role_reserved`` on entering and leaving."""
    wf = _wf(workflow)
    authority = wf.catalogue.authority
    target_spec = wf.catalogue.state(target)
    allowed = set(authority(target).enter)
    if source is not None and not target_spec.interrupts:
        allowed &= authority(source).leave
    refs: list[Any] = list(target_spec.rules)
    if source is not None:
        refs += [r for r in wf.catalogue.state(source).rules if getattr(r, "leave", False)]
        move = wf.catalogue.moves_from(source).get(target)
        refs += list(move.rules) if move is not None else []
    for ref in refs:
        if ref.code == "role_reserved":
            allowed &= set(ref.roles)
    return tuple(r for r in Role if r in allowed)


_WORDS = (
    "Bonjour,",
    "RDV",
    "pris",
    "avec",
    "l'assuré",
    "le",
    "05/04",
    "entre",
    "11h",
    "et",
    "12h",
    "TH",
    "60",
    "Message",
    "laissé",
    "sur",
    "répondeur",
    "Devis",
    "WEB",
    "attente",
    "fourniture",
    "sup",
    "expert",
    "POSE",
    "VOLET",
    "client",
    "absent",
    "vacances",
    "cause",
    "non",
    "réparée",
)


def _comments() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8).map(" ".join)


def _later(at: datetime, lo: timedelta, hi: timedelta) -> st.SearchStrategy[datetime]:
    span = int((hi - lo).total_seconds() // 60)
    return st.integers(0, max(span, 0)).map(lambda m: _after(at, lo + timedelta(minutes=m)))


def _instant_value(when: st.SearchStrategy[datetime]) -> st.SearchStrategy[Any]:
    """A datetime field as callers pass it: an aware datetime or its ISO 8601 text."""
    return st.one_of(when, when.map(datetime.isoformat))


@st.composite
def _inputs(
    draw: st.DrawFn, workflow: Workflow, source: str | None, target: str, at: datetime
) -> MoveInputs:
    wf = workflow
    spec = wf.catalogue.state(target)
    refs: list[Any] = list(spec.rules)
    if source is not None:
        move = wf.catalogue.moves_from(source).get(target)
        refs += list(move.rules) if move is not None else []
    roles = roles_for(wf, source, target) or tuple(Role)
    actor = draw(actors(draw(st.sampled_from(roles))))
    too_far = {r.field: r.days for r in refs if r.code == "appointment_too_far"}
    data: dict[str, Any] = {}
    comment = draw(st.none() | _comments())
    due: datetime | None = None
    for ref in refs:
        if ref.code == "comment_required" and comment is None:
            comment = draw(_comments())
        elif ref.code == "data_required":
            data.update(draw(_datum(ref, at, too_far.get(ref.field))))
    deadline = spec.deadline
    if deadline.kind is DeadlineKind.GIVEN:
        if deadline.data_key is None:
            due = draw(_later(at, timedelta(hours=1), timedelta(days=60)))
        elif deadline.data_key not in data and not (
            deadline.data_key == "delivery_at" and "delivery_week" in data
        ):
            days = too_far.get(deadline.data_key, 30)
            data[deadline.data_key] = draw(
                _later(at, timedelta(minutes=1), timedelta(days=days, hours=-1))
            )
    elif deadline.overridable and draw(st.booleans()):
        due = draw(_later(at, timedelta(hours=1), timedelta(days=90)))
    return MoveInputs(target, actor, at, comment, due, MappingProxyType(data))


def _keyed(name: str) -> Callable[[Any], dict[str, Any]]:
    return lambda value: {name: value}


def _datum(ref: Any, at: datetime, within_days: int | None) -> st.SearchStrategy[dict[str, Any]]:
    name: str = ref.field
    if ref.type == "datetime":
        # an hour short of the limit: the rule counts wall-clock days (see the tests' xfail)
        hi = (
            timedelta(days=within_days, hours=-1) if within_days is not None else timedelta(days=30)
        )
        return _instant_value(_later(at, timedelta(minutes=1), hi)).map(lambda v: {name: v})
    if ref.type == "percent":
        number = st.integers(0, 100) | st.floats(0, 100, allow_nan=False)
        return number.map(lambda v: {name: v})
    if ref.type == "week_or_datetime":
        when = _instant_value(_later(at, timedelta(hours=1), timedelta(days=60)))
        choices = [when.map(lambda v: {name: v})]
        for alt in ref.alternatives:
            # weeks 1-52 exist in every ISO year (53 does not: see the tests' xfail)
            week = st.integers(1, 52) | st.integers(1, 52).map(
                lambda w: f"{at.astimezone(PARIS).year + 1}-W{w:02d}"
            )
            choices.append(week.map(_keyed(alt)))
        return st.one_of(choices)
    if ref.type == "int":
        return st.integers(0, 100).map(lambda v: {name: v})
    return st.just({name: True})


def move_inputs(
    workflow: Workflow | None, dossier: Dossier, target: str, at: datetime
) -> st.SearchStrategy[MoveInputs]:
    """Inputs that satisfy every rule of moving ``dossier`` to ``target`` at ``at`` that
    depends on the inputs: comment, data (appointment within the limit, humidity 0-100,
    delivery, confirmation), due date, and an actor of a permitted role. Contact attempts
    are facts of the trail: record them with `Workflow.record_contact_attempt` first.

    The rest (the move table, dossier attributes, seasons, deadlines, time order) depends on
    the file and the instant: ask `Workflow.allowed_moves` first.
    """
    wf = _wf(workflow)
    return _inputs(wf, dossier.state, wf.state(target).code, at)


# --- walks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Walk:
    """A file opened then moved by accepted steps: replayable, with every version kept."""

    opening: MoveInputs
    attributes: Mapping[str, Any]
    steps: tuple[MoveInputs, ...]
    dossiers: tuple[Dossier, ...]
    """The opened dossier, then the dossier after each step."""

    @property
    def end(self) -> Dossier:
        return self.dossiers[-1]

    def replay(self, workflow: Workflow | None = None) -> Dossier:
        """Open and apply every step again: the same dossier comes out."""
        wf = _wf(workflow)
        o = self.opening
        d = wf.open(
            self.dossiers[0].id,
            o.target,
            actor=o.actor,
            at=o.at,
            comment=o.comment,
            due=o.due,
            data=o.data,
            **self.attributes,
        ).dossier
        for step in self.steps:
            d = step.apply(wf, d).dossier
        return d


def _attributes(spec: StateSpec) -> st.SearchStrategy[dict[str, Any]]:
    insurers: Sequence[str | None] = INSURERS
    channels: Sequence[str | None] = CHANNELS
    must: set[str] = set()
    for ref in spec.rules:
        if ref.code == "insurer_restricted":
            insurers = ref.insurers
        elif ref.code == "channel_restricted":
            channels = ref.channels
        elif ref.code == "flag_required":
            must.add(ref.flag)
    return st.fixed_dictionaries(
        {
            "insurer": st.sampled_from(list(insurers)),
            "channel": st.sampled_from(list(channels)),
            "subdivision": st.sampled_from(list(SUBDIVISIONS)),
            "flags": st.sets(st.sampled_from(FLAGS)).map(lambda f: frozenset(f | must)),
        }
    )


def allowed_targets(workflow: Workflow, dossier: Dossier, at: datetime) -> list[str]:
    """Targets some actor may move ``dossier`` to at ``at`` (given the right inputs)."""
    verdicts: dict[Role, dict[str, bool]] = {}
    out: list[str] = []
    for target in sorted(workflow.targets(dossier.state)):
        roles = roles_for(workflow, dossier.state, target)
        if not roles:
            continue
        if roles[0] not in verdicts:
            probe = Actor(role=roles[0], id="probe")
            verdicts[roles[0]] = {
                v.target: v.allowed for v in workflow.allowed_moves(dossier, actor=probe, at=at)
            }
        if verdicts[roles[0]][target]:
            out.append(target)
    return out


def _calls_needed(workflow: Workflow, target: str) -> int:
    refs = workflow.catalogue.state(target).rules
    return max((r.minimum for r in refs if r.code == "contact_attempts_required"), default=0)


def _pick(workflow: Workflow, targets: Sequence[str]) -> st.SearchStrategy[str]:
    """A target, three times in four an operational one: walks go deep, not to waits."""
    forward = [t for t in targets if workflow.catalogue.state(t).kind is StateKind.OPERATIONAL]
    if not forward:
        return st.sampled_from(targets)
    return st.integers(0, 3).flatmap(
        lambda roll: st.sampled_from(forward if roll else list(targets))
    )


class WalkRefusedError(AssertionError):
    """A move `allowed_moves` allowed, made with inputs built for it, was refused."""


@st.composite
def _walk(draw: st.DrawFn, workflow: Workflow, max_moves: int, start: date, end: date) -> Walk:
    wf = workflow
    initial = [s for s in wf.catalogue if s.initial]
    spec = draw(st.sampled_from(initial))
    attributes = draw(_attributes(spec))
    at = draw(business_instants(start, end, wf.calendar(attributes["subdivision"])))
    opening = draw(_inputs(wf, None, spec.code, at))
    dossier_id = draw(st.from_regex(r"\A[0-9]{6,9}\Z"))
    try:
        d = wf.open(
            dossier_id,
            spec.code,
            actor=opening.actor,
            at=at,
            comment=opening.comment,
            due=opening.due,
            data=opening.data,
            **attributes,
        ).dossier
    except MoveRefused as exc:
        raise WalkRefusedError(f"opening with built inputs refused: {exc}") from exc
    versions = [d]
    steps: list[MoveInputs] = []
    for _ in range(draw(st.integers(0, max_moves))):
        if wf.catalogue.state(d.state).terminal:
            break
        assert d.last_at is not None
        at = _after(d.last_at, draw(_gaps()))
        targets = allowed_targets(wf, d, at)
        # now and then one more call to the insured; often where a target needs calls
        calls = any(_calls_needed(wf, t) > d.contact_attempts for t in wf.targets(d.state))
        attempt = draw(st.integers(0, 2 if calls else 9)) == 0
        if attempt or not targets:
            step = MoveInputs(
                d.state, draw(actors()), at, draw(st.none() | _comments()), kind="contact_attempt"
            )
        else:
            step = draw(_inputs(wf, d.state, draw(_pick(wf, targets)), at))
        try:
            d = step.apply(wf, d).dossier
        except MoveRefused as exc:
            raise WalkRefusedError(
                f"{step.kind} {d.state} -> {step.target} was allowed by allowed_moves but "
                f"refused with inputs built for it: {exc}"
            ) from exc
        steps.append(step)
        versions.append(d)
    return Walk(opening, MappingProxyType(attributes), tuple(steps), tuple(versions))


def move_sequences(
    workflow: Workflow | None = None,
    max_moves: int = 10,
    *,
    start: date = _START,
    end: date = _END,
) -> st.SearchStrategy[Walk]:
    """Walks of up to ``max_moves`` accepted steps from an initial state.

    Each step is a move to a target `Workflow.allowed_moves` allows at a later instant,
    made with `move_inputs`, or now and then a contact attempt. A step that is refused
    anyway raises `WalkRefusedError`: a bug in the catalogue, the engine, or here.
    """
    return _walk(_wf(workflow), max_moves, start, end)


def dossiers(
    workflow: Workflow | None = None,
    max_moves: int = 10,
    *,
    start: date = _START,
    end: date = _END,
) -> st.SearchStrategy[Dossier]:
    """Dossiers in reachable states with a consistent history (the end of a walk).

    Attributes: insurer in BPCE, ALLIANZ, MAIF or None; channel sinapps, darva or None;
    flags from {ren_expert}; subdivision None or 57 (Moselle's calendar).
    """
    return move_sequences(workflow, max_moves, start=start, end=end).map(lambda w: w.end)


# --- the state machine --------------------------------------------------------------------

_DATA_KEYS = (
    "appointment_at",
    "humidity",
    "delivery_at",
    "delivery_week",
    "attempts",
    "confirmed",
    "note",
)


def _junk_values() -> st.SearchStrategy[Any]:
    aware = st.datetimes(datetime(2018, 1, 1), datetime(2032, 1, 1), timezones=st.just(PARIS))
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 200).filter(lambda n: n != 53),
        st.floats(-10, 200, allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
        aware,
        aware.map(datetime.isoformat),
        st.datetimes(datetime(2018, 1, 1), datetime(2032, 1, 1)),  # naive: refused
    )


def _on_business_time(calendar: BusinessCalendar, due: datetime) -> bool:
    """Inside a business day, or at the very end of one (24:00 of a whole-day window)."""
    local = due.astimezone(ZoneInfo(calendar.config.timezone))
    if calendar.is_business_day(local.date()):
        return True
    end = calendar.config.work_end
    return (
        end is None
        and local.time() == time(0)
        and calendar.is_business_day(local.date() - timedelta(days=1))
    )


class WorkflowStateMachine(RuleBasedStateMachine):
    """Drives one dossier with random allowed and forbidden moves; checks the invariants.

    Subclass it with your catalogue (``workflow = Workflow.from_file(...)``) and add
    ``@invariant()`` methods; run it with ``TestMine = MyMachine.TestCase``. Every change is
    also made on a bound copy (`BoundFile`, see `etatmachine.binding`): both paths must end
    in the same file, or refuse with the same violations and leave the copy untouched
    (``bound = False`` turns the copy off).
    """

    workflow: ClassVar[Workflow | None] = None
    """The workflow under test (None: the bundled one)."""
    max_walk: ClassVar[int] = 4
    """How many allowed moves the starting dossier may already have made."""
    bound: ClassVar[bool] = True
    """Also make every change on a bound copy (`etatmachine.binding`) and check that both
    paths agree: same state, due date, history, effects; same violations when refused."""

    def __init__(self) -> None:
        super().__init__()
        self.wf = _wf(type(self).workflow)
        self.dossier: Dossier | None = None
        self.obj: BoundFile | None = None
        self.due_given = False
        self.locked_due: tuple[str, datetime | None] | None = None

    @property
    def d(self) -> Dossier:
        assert self.dossier is not None
        return self.dossier

    # -- the bound copy -------------------------------------------------------------------

    def _both(self, value: Callable[[], Moved], bound: Callable[[Any], Change]) -> Moved:
        """Make a change on the value and the same on the bound copy: same outcome."""
        try:
            moved = value()
        except Exception as exc:
            if self.obj is not None:
                self._mirror_refusal(exc, bound)
            raise
        if self.obj is not None:
            change = bound(self.obj)
            assert dossier_of(self.obj) == moved.dossier, "the bound object and the value differ"
            assert change.effects == moved.effects and change.dossier == moved.dossier
        return moved

    def _mirror_refusal(self, refused: Exception, bound: Callable[[Any], Change]) -> None:
        assert self.obj is not None
        snapshot = _attributes_of(self.obj)
        mirrored: Exception | None = None
        try:
            bound(self.obj)
        except type(refused) as exc:
            mirrored = exc
        assert mirrored is not None, (
            f"the bound path accepted what the value path refused: {refused}"
        )
        if isinstance(refused, MoveRefused):
            assert isinstance(mirrored, MoveRefused)
            assert mirrored.violations == refused.violations, "bound and value verdicts differ"
            assert mirrored.effects == refused.effects
        assert _attributes_of(self.obj) == snapshot, "a bound refusal changed the object"

    # -- bookkeeping for the invariants --------------------------------------------------

    def _accepted(self, before: Dossier, after: Dossier, due_given: bool, move: bool) -> None:
        assert after.version == before.version + 1, (before.version, after.version)
        assert len(after.history) == len(before.history) + 1
        assert after.history[: len(before.history)] == before.history
        assert after.id == before.id
        if not move:
            assert after.state == before.state
        self.dossier = after
        self._track(due_given or (not move and self.due_given))

    def _track(self, due_given: bool) -> None:
        self.due_given = due_given
        spec = self.wf.catalogue.state(self.d.state)
        if spec.rule("due_date_locked") is None:
            self.locked_due = None
        elif self.locked_due is None or self.d.history[-1].kind in ("open", "move"):
            self.locked_due = (self.d.state, self.d.due_at)

    def _refused(
        self, before: Dossier, snapshot: str, exc: MoveRefused, explained: Any = None
    ) -> None:
        assert self.d == before and self.d.to_json() == snapshot, "a refusal changed the file"
        assert len(self.d.history) == len(before.history)
        assert exc.violations, "a refusal without violations"
        unknown = [v.rule for v in exc.violations if v.rule not in RULES]
        assert not unknown, f"unknown rule codes {unknown}"
        assert exc.dossier_id == before.id
        if explained is not None:
            assert exc.violations == explained, "explain and move disagree"

    # -- rules ---------------------------------------------------------------------------

    @initialize(data=st.data())
    def open_file(self, data: st.DataObject) -> None:
        walk = data.draw(move_sequences(self.wf, type(self).max_walk), label="start")
        self.dossier = walk.end
        self.obj = bound_copy(self.wf, walk.end) if type(self).bound else None
        moves = [s for s in (walk.opening, *walk.steps) if s.kind == "move"]
        self.locked_due = None
        self._track(moves[-1].due is not None)

    @rule(data=st.data())
    def allowed_move(self, data: st.DataObject) -> None:
        """A move allowed_moves allows, with inputs built for it: must be accepted."""
        before = self.d
        if self.wf.catalogue.state(before.state).terminal:
            return
        assert before.last_at is not None
        at = _after(before.last_at, data.draw(_gaps(), label="gap"))
        targets = allowed_targets(self.wf, before, at)
        if not targets:
            return
        step = data.draw(_inputs(self.wf, before.state, data.draw(_pick(self.wf, targets)), at))
        assert (
            self.wf.explain(
                before,
                step.target,
                actor=step.actor,
                at=at,
                comment=step.comment,
                due=step.due,
                data=step.data,
            )
            == ()
        )
        after = self._both(lambda: step.apply(self.wf, before), step.apply_bound).dossier
        assert after.state == step.target
        self._accepted(before, after, step.due is not None, move=True)

    @rule(data=st.data())
    def any_move(self, data: st.DataObject) -> None:
        """Any target, actor, instant and inputs: accepted iff `explain` finds nothing."""
        before = self.d
        snapshot = before.to_json()
        assert before.last_at is not None
        target = data.draw(st.sampled_from([s.code for s in self.wf.catalogue]), label="to")
        gap = data.draw(st.one_of(_gaps(), _gaps().map(lambda g: -g - timedelta(minutes=1))))
        at = _after(before.last_at, gap)
        if data.draw(st.booleans(), label="valid inputs"):
            step = data.draw(_inputs(self.wf, before.state, target, at))
        else:
            step = MoveInputs(
                target,
                data.draw(actors()),
                at,
                data.draw(st.none() | st.sampled_from(["", "  "]) | _comments()),
                data.draw(
                    st.none()
                    | st.datetimes(
                        datetime(2018, 1, 1), datetime(2032, 1, 1), timezones=st.just(PARIS)
                    )
                ),
                data.draw(st.dictionaries(st.sampled_from(_DATA_KEYS), _junk_values())),
            )
        found = self.wf.explain(
            before,
            target,
            actor=step.actor,
            at=at,
            comment=step.comment,
            due=step.due,
            data=step.data,
        )
        try:
            after = self._both(lambda: step.apply(self.wf, before), step.apply_bound).dossier
        except MoveRefused as exc:
            self._refused(before, snapshot, exc, found)
            return
        assert found == (), f"explain found {found} but the move was accepted"
        self._accepted(before, after, step.due is not None, move=True)

    @rule(data=st.data())
    def reschedule(self, data: st.DataObject) -> None:
        """A reschedule: refused on closed files, locked due dates and reserved states."""
        before = self.d
        snapshot = before.to_json()
        assert before.last_at is not None
        at = _after(before.last_at, data.draw(_gaps()))
        due = data.draw(_later(at, timedelta(hours=1), timedelta(days=60)))
        spec = self.wf.catalogue.state(before.state)
        actor = data.draw(actors())
        try:
            after = self._both(
                lambda: self.wf.reschedule(before, due, actor=actor, at=at),
                lambda obj: binder_of(obj).reschedule(obj, due, actor=actor, at=at),
            ).dossier
        except MoveRefused as exc:
            self._refused(before, snapshot, exc)
            return
        assert spec.rule("due_date_locked") is None, "a locked due date was rescheduled"
        assert after.due_at == due
        self._accepted(before, after, True, move=False)

    @rule(data=st.data())
    def contact_attempt(self, data: st.DataObject) -> None:
        before = self.d
        assert before.last_at is not None
        at = _after(before.last_at, data.draw(_gaps()))
        step = MoveInputs(before.state, data.draw(actors()), at, kind="contact_attempt")
        after = self._both(lambda: step.apply(self.wf, before), step.apply_bound).dossier
        assert after.contact_attempts == before.contact_attempts + 1
        assert after.due_at == before.due_at
        self._accepted(before, after, False, move=False)

    @rule(data=st.data())
    def new_file(self, data: st.DataObject) -> None:
        """Start over on a fresh file (a closed one only gets refusals)."""
        if self.wf.catalogue.state(self.d.state).terminal:
            self.open_file(data)

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def state_is_in_catalogue(self) -> None:
        if self.dossier is not None:
            assert self.d.state in self.wf.catalogue
            assert all(e.target in self.wf.catalogue for e in self.d.history)

    @invariant()
    def version_counts_changes(self) -> None:
        if self.dossier is not None:
            assert len(self.d.history) == self.d.version + 1
            assert self.d.history[-1].target == self.d.state
            assert self.d.history[-1].due_at == self.d.due_at
            ats = [e.at for e in self.d.history]
            assert ats == sorted(ats), "history out of time order"

    @invariant()
    def bound_copy_agrees(self) -> None:
        """The bound copy holds the value's file; ``may_`` answers as allowed_moves."""
        if self.obj is None or self.dossier is None:
            return
        assert dossier_of(self.obj) == self.d, "the bound copy drifted from the value"
        if self.d.last_at is not None:
            probe = Actor(role=Role.CASE_HANDLER, id="probe")
            at = _after(self.d.last_at, timedelta(minutes=5))
            verdicts = self.wf.allowed_moves(self.d, actor=probe, at=at)
            assert binder_of(self.obj).allowed_moves(self.obj, actor=probe, at=at) == verdicts
            for v in verdicts:
                assert getattr(self.obj, f"may_to_{v.target}")(actor=probe, at=at) == v.allowed

    @invariant()
    def json_round_trip(self) -> None:
        if self.dossier is not None:
            assert Dossier.from_json(self.d.to_json()) == self.d

    @invariant()
    def counted_due_on_business_day(self) -> None:
        if self.dossier is None or self.d.due_at is None or self.due_given:
            return
        spec = self.wf.catalogue.state(self.d.state)
        if spec.deadline.kind in _COUNTED:
            cal = self.wf.calendar(self.d.subdivision)
            assert _on_business_time(cal, self.d.due_at), (spec.code, self.d.due_at)

    @invariant()
    def locked_due_never_moves(self) -> None:
        if self.dossier is not None and self.locked_due is not None:
            state, due = self.locked_due
            if state == self.d.state:
                assert self.d.due_at == due, "a locked due date moved"


# --- legacy H2000 history text ------------------------------------------------------------


@dataclass(frozen=True)
class LegacyEtat:
    """What one generated ``ETAT:`` entry says, to compare with a parser's reading."""

    label: str
    """The label as written (a history spelling), without ``(n)`` or extras."""
    state: str
    """The state code the label resolves to."""
    n: int | None
    due_at: datetime
    comment: str | None
    set_on: date
    set_number: int
    author_id: str
    humidity: int | None = None
    week: int | None = None


@dataclass(frozen=True)
class LegacyHistory:
    """Generated history text and the ETAT entries it holds (in order)."""

    text: str
    etats: tuple[LegacyEtat, ...]
    noisy: bool


def _spellings(label: str, spec: StateSpec) -> list[str]:
    dashed = label.replace("–", "-").replace("’", "'")
    out = [label, label + ".", label.lower(), dashed]
    if spec.phase == "devis":
        out.append(f"PT - {dashed}")
        if dashed.startswith("Devis - "):
            rest = dashed.removeprefix("Devis - ")
            out.append(f"DEVIS - {rest[:1].upper()}{rest[1:]}")
    return out


@cache
def label_spellings(workflow: Workflow) -> tuple[tuple[str, str], ...]:
    """(spelling, state code) for every resolvable label and alias, as histories write them.

    Only spellings the workflow resolves back to their state are kept.
    """
    out: list[tuple[str, str]] = []
    for spec in workflow.catalogue:
        if not spec.resolvable:
            continue
        for label in (spec.label, *spec.aliases):
            for spelling in _spellings(label, spec):
                if _resolves(workflow, spelling) == spec.code:
                    out.append((spelling, spec.code))
    return tuple(dict.fromkeys(out))


def _resolves(workflow: Workflow, spelling: str) -> str | None:
    try:
        return workflow.state(spelling).code
    except LookupError:
        return None


_NAMES = (
    "(995) INTERNET",
    "(996) ASIGNACIÓN AUTOMÁTICA ZONAL",
    "(007) PROCESSUS INFORMATIQUES",
    "(1002688) TANGUY TELLIER",
    "(3995) SANDRINE SUTOR .",
    "(102123) LAURA MORILLO",
)


def _dmy(at: datetime) -> str:
    return at.strftime("%d/%m/%Y %H:%M")


def _stamp(at: datetime, who: str | None) -> str:
    return at.strftime("%d.%m.%Y-%H:%M") + (f"-{who}" if who else "")


@st.composite
def _etat(draw: st.DrawFn, workflow: Workflow, at: datetime) -> tuple[list[str], LegacyEtat]:
    spelling, code = draw(st.sampled_from(label_spellings(workflow)))
    who = draw(st.sampled_from(_NAMES))
    n = draw(st.none() | st.integers(1, 60))
    due = draw(_later(at, timedelta(hours=1), timedelta(days=60)))
    due = due.replace(second=0, microsecond=0)
    comment = draw(st.none() | _comments())
    k = draw(st.integers(1, 4))
    humidity = week = None
    extra = ""
    if code == "attente_sechage" and draw(st.booleans()):
        humidity = draw(st.integers(0, 100))
        extra = f". % d'humidité {humidity}."
    elif code == "attente_fourniture" and draw(st.booleans()):
        week = draw(st.integers(1, 52))
        extra = f". Semaine: {week}."
    head = f"ETAT: {spelling}" + (f" ({n})" if n is not None else "") + extra
    body = f"{head} {_dmy(due)}" + (f" {comment}" if comment else "")
    body += f" ({at.strftime('%d/%m/%Y')}-N°{k})"
    etat = LegacyEtat(
        spelling, code, n, due, comment, at.date(), k, who.split(")")[0][1:], humidity, week
    )
    return [body, _stamp(at, who)], etat


@st.composite
def _other(draw: st.DrawFn, at: datetime) -> list[str]:
    who = draw(st.sampled_from(_NAMES))
    sign = _stamp(at, who)
    contractor = draw(st.sampled_from(["NYCO DECO", "WAKENSON MENUISERIES"]))
    kinds: list[list[str]] = [
        [f"OUVERTURE: -{sign}"],
        [
            "La limite maximum d'autonomie de MA pour ce SINISTRE est de :",
            "1550,00 (ATTENTION : Pour RC,FAIENCE,BRIS DE GLACE ET VOL, la",
            "limite pourra être inférieur, VOIR LES AIDES)",
            sign,
        ],
        [f"REALISATION: PREMIERE DATE DE REALISATION:{at.strftime('%d.%m.%Y')}", sign],
        ["ASSIGNER: -(71a0918) xxxxxxxxxxxx xxxxxxxxxxxx", sign],
        [f"Intervention sous-assignée à: - [47269] {contractor} {_dmy(at)}", sign],
        ["Action réalisée: Sms et Email Information assignation envoyé au prestataire", sign],
        [
            f"Action réalisée: Le professionnel {contractor} (48629), accepte cette intervention "
            f"le {at.strftime('%d/%m/%Y')} a {at.strftime('%H:%M')}.",
            _stamp(at, None),
        ],
        [f"NTACT 1: -Date du contact avec le client: {_dmy(at)}", sign],
        ["Dossier contrôlé - client contacté par le prestataire", sign],
        ["Mensaje de 72a3135#79 Bonjour, L'assuré n'a plus de problème, il annule", sign],
        [
            sign,
            "MESSAGE DE .(3995) SANDRINE SUTOR .(M.A.)",
            "POUR:(72a3181) XXXXXXXXXXXX (PRESTATAIRE)",
            f"REMIS DE:{_stamp(at, '(995) INTERNET')}",
            "Contact client (1)",
        ],
        ["allo ass//nrp lm//suite a votre message au prest nous vous confirmons", sign],
    ]
    return draw(st.sampled_from(kinds))


def _wrap(line: str, cut: int) -> list[str]:
    spaces = [i for i, c in enumerate(line) if c == " "]
    if not spaces:
        return [line]
    i = spaces[cut % len(spaces)]
    return [line[:i], line[i + 1 :]]


@st.composite
def _legacy(draw: st.DrawFn, workflow: Workflow, noisy: bool, max_records: int) -> LegacyHistory:
    at = draw(business_instants(calendar=workflow.calendar()))
    blocks: list[list[str]] = []
    etats: list[LegacyEtat] = []
    for _ in range(draw(st.integers(1, max_records))):
        at = _after(at, draw(_gaps())).replace(second=0, microsecond=0)
        if draw(st.integers(0, 2)) > 0:
            lines, etat = draw(_etat(workflow, at))
            etats.append(etat)
        else:
            lines = draw(_other(at))
        if noisy:
            lines = draw(_noise(lines))
        blocks.append(lines)
    sep = "\r\n" if noisy and draw(st.booleans()) else "\n"
    text = sep.join(sep.join(b) + sep for b in blocks)
    if noisy and draw(st.booleans()):
        nbsp = draw(st.sampled_from(["\u00a0", "\u202f"]))
        text = text.replace(" ", nbsp, draw(st.integers(1, 5)))
    return LegacyHistory(text, tuple(etats), noisy)


_JUNK = st.one_of(
    st.sampled_from(
        [
            "\x00\x01\x02",
            "\ufffd\ufffd",
            "############",
            "ETAT:",
            "ETAT: (3)",
            "32.13.2023-25:61-(995) INTERNET",
            "Date d'action d'attente",
        ]
    ),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40).map(
        lambda s: s.replace("\r", " ").replace("\n", " ")
    ),
)


@st.composite
def _noise(draw: st.DrawFn, lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        roll = draw(st.integers(0, 5))
        if roll == 0:
            out.extend(_wrap(line, draw(st.integers(0, 50))))
        elif roll == 1 and line.startswith("ETAT"):
            bad = draw(
                st.sampled_from(["31/02/2023 10:00", "00/13/2023 09:00", "12/05/2023 25:61"])
            )
            out.append(re.sub(r"\d\d/\d\d/\d{4} \d\d:\d\d", bad, line, count=1))
        else:
            out.append(line)
        if draw(st.integers(0, 7)) == 0:
            out.append(draw(_JUNK))
    return out


def legacy_histories(
    workflow: Workflow | None = None, *, noisy: bool = False, max_records: int = 8
) -> st.SearchStrategy[LegacyHistory]:
    """Histories in the legacy H2000 format, with the ETAT entries they hold.

    Valid ones (the default) have one ETAT line plus its author line per entry, labels as
    histories spell them, and the other record kinds. ``noisy=True`` adds wrapped lines,
    CRLF, NBSP, impossible dates and junk lines: the ``etats`` are then only a hint.
    """
    return _legacy(_wf(workflow), noisy, max_records)


def legacy_history_text(
    workflow: Workflow | None = None, *, noisy: bool = False, max_records: int = 8
) -> st.SearchStrategy[str]:
    """The text of `legacy_histories`, for parsers that only need input."""
    return legacy_histories(workflow, noisy=noisy, max_records=max_records).map(lambda h: h.text)
