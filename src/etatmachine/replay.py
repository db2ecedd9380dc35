"""Replay a legacy history through the machine: a verdict and a lateness for every entry.

A history already happened, so a replay never stops at a breach. Each ``ETAT:`` entry is
applied as a move (by the actor its signature names, at the time it was signed) with
`Workflow.record`, which applies the move and returns the rules it broke. The dossier
carries the due date the history recorded, so the lateness of each step is measured
against what the people at the time were given.

Besides the machine's rules, a replay sees what only a history shows: a locked due date
changed by a later entry for the same state (``due_date_locked``), a label the catalogue
does not know (``unknown_label``).

The JSON output is versioned (`SCHEMA_VERSION`); `ReplayReport.model_json_schema()`
gives its JSON Schema.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from etatmachine.business_calendar import PARIS
from etatmachine.catalogue import DeadlineKind, StateSpec
from etatmachine.deadlines import compute_due
from etatmachine.dossier import Actor, Dossier, HistoryEntry, evolve
from etatmachine.errors import MoveRefused, UnknownStateError
from etatmachine.lateness import LatenessReport, Step, lateness_report, step_lateness
from etatmachine.legacy import (
    ActionRecord,
    Author,
    ContactRecord,
    EtatRecord,
    OpeningRecord,
    Record,
    RoleMap,
    SubAssignmentRecord,
    UnrecognisedRecord,
    iter_file,
)
from etatmachine.roles import Role
from etatmachine.violations import Violation
from etatmachine.workflow import Workflow

__all__ = [
    "SCHEMA_VERSION",
    "ReplayEntry",
    "ReplayReport",
    "ReplaySummary",
    "ReplayViolation",
    "UnrecognisedLines",
    "iter_replays",
    "replay_file",
    "replay_records",
]

SCHEMA_VERSION = "1"
"""Bumped on any incompatible change of the JSON output."""

_UNKNOWN_ACTOR_ID = "unknown"
_MIDNIGHT = datetime.min.time()
_ZERO = timedelta()
_COUNTED = frozenset(
    {DeadlineKind.BUSINESS_HOURS, DeadlineKind.BUSINESS_DAYS, DeadlineKind.CALENDAR_DAYS}
)  # deadlines computed from the start and the calendar alone


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReplayViolation(_Out):
    """A broken rule, as the replay output gives it."""

    rule: str
    state: str | None
    message: str
    message_fr: str


class ReplayEntry(_Out):
    """One ``ETAT:`` entry of the history with its verdict."""

    line: int
    """First source line of the entry (1-based)."""
    last_line: int
    label: str
    """The label as the history writes it."""
    state: str | None
    """The catalogue state it resolves to (None when unknown)."""
    set_at: AwareDatetime
    """When the entry was made (its signature; else its set date)."""
    due_at: AwareDatetime
    """The due date the history recorded."""
    computed_due_at: AwareDatetime | None
    """The due date the catalogue's deadline gives for the same start."""
    author: str | None
    author_id: str | None
    role: Role | None
    comment: str | None
    verdict: Literal["accepted", "refused", "unresolved"]
    violations: tuple[ReplayViolation, ...]
    closes: str | None
    """The state this entry ends (the previous entry's state)."""
    closes_owner: Role | None
    contractor_clock: bool
    """Whether the closed step was on the contractor's clock."""
    late: bool
    """Whether the closed step ended after its recorded due date."""
    lateness: float
    """How late the closed step was, in business seconds (0 when on time)."""


class UnrecognisedLines(_Out):
    """Source lines the parser could not read, verbatim."""

    line: int
    last_line: int
    text: str
    message: str


class ReplaySummary(_Out):
    """Counts and lateness over one history (or, combined, many)."""

    entries: int
    accepted: int
    refused: int
    unresolved: int
    violations_by_rule: dict[str, int]
    contractor_lateness: float
    """Total business seconds the contractor was late over the closed steps."""
    lateness: LatenessReport


class ReplayReport(_Out):
    """A history replayed: its entries, what could not be read, and a summary."""

    schema_version: Literal["1"] = "1"
    source: str
    dossier_id: str
    contractor: str | None
    entries: tuple[ReplayEntry, ...]
    unrecognised: tuple[UnrecognisedLines, ...]
    summary: ReplaySummary

    @property
    def breaches(self) -> int:
        """How many entries broke a rule or could not be resolved."""
        return self.summary.refused + self.summary.unresolved


# Trusted construction. The replay builds its output models (and lateness steps) from values
# it already holds in their final types (ints, floats, bools, aware datetimes, Role members,
# str or None, tuples of built models), so pydantic validation would only copy them. `_trusted`
# sets them as `BaseModel.model_construct` does, without its per-field loop: ``values`` holds
# every field in declaration order and ``fields_set`` the fields validation would have been
# given. tests/test_trusted_models.py checks that validating a dump gives back an equal model.

_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def _trusted(cls: type[_M], values: dict[str, Any], fields_set: set[str] | None = None) -> _M:
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


_REPORT_FIELDS_SET = frozenset(
    {"source", "dossier_id", "contractor", "entries", "unrecognised", "summary"}
)  # validation would not be given schema_version: it is the default


def _violation(v: Violation) -> ReplayViolation:
    return _trusted(
        ReplayViolation,
        {"rule": v.rule, "state": v.state, "message": v.message_en, "message_fr": v.message_fr},
    )


_CACHE_MAX = 4096  # labels and actors remembered per workflow: bounded, memory stays flat


class _Shared:
    """What every replay on one workflow can reuse: labels resolved, states by code, actors.

    Resolving a label is a pure function of the label and the workflow's catalogue (which
    never changes), so its answer, or the message of its `UnknownStateError`, is remembered.
    """

    def __init__(self, workflow: Workflow) -> None:
        self.states: dict[str, StateSpec] = {s.code: s for s in workflow.catalogue}
        self.labels: dict[str, StateSpec | str] = {}
        self.actors: dict[tuple[Role, str | None, str | None], Actor] = {}

    def state(self, wf: Workflow, label: str) -> StateSpec | str:
        """``wf.state(label)``, remembered; an unknown label gives the error's message."""
        found = self.labels.get(label)
        if found is None:
            try:
                found = wf.state(label)
            except UnknownStateError as exc:
                found = str(exc)
            if len(self.labels) >= _CACHE_MAX:
                self.labels.clear()
            self.labels[label] = found
        return found

    def actor(self, author: Author | None) -> Actor:
        """Who made an entry: its signature's role, id and name (unsigned: a case handler)."""
        if author is None:
            key: tuple[Role, str | None, str | None] = (Role.CASE_HANDLER, None, None)
        else:
            key = (author.role, author.user_id, author.name)
        actor = self.actors.get(key)
        if actor is None:
            if author is None:
                actor = Actor(role=Role.CASE_HANDLER, id=_UNKNOWN_ACTOR_ID)
            else:
                actor = Actor(
                    role=author.role, id=author.user_id or _UNKNOWN_ACTOR_ID, name=author.name
                )
            if len(self.actors) >= _CACHE_MAX:
                self.actors.clear()
            self.actors[key] = actor
        return actor


_SHARED: weakref.WeakKeyDictionary[Workflow, _Shared] = weakref.WeakKeyDictionary()


def _shared(workflow: Workflow) -> _Shared:
    shared = _SHARED.get(workflow)
    if shared is None:
        shared = _SHARED[workflow] = _Shared(workflow)
    return shared


class _Replayer:
    """Replays the records of one dossier; `feed` one record at a time, then `report`."""

    def __init__(
        self, workflow: Workflow, dossier_id: str, source: str, attributes: dict[str, Any]
    ) -> None:
        self.wf = workflow
        self.shared = _shared(workflow)
        self.dossier_id = dossier_id
        self.source = source
        self.attributes = attributes
        self.calendar = workflow.calendar(attributes.get("subdivision"))
        self.dossier: Dossier | None = None
        self.contractor: str | None = None
        self.pending_attempts: list[datetime] = []
        self.entries: list[ReplayEntry] = []
        self.unrecognised: list[UnrecognisedLines] = []
        self.steps: list[Step] = []
        self.last_set_at: datetime | None = None
        self.set_due: datetime | None = None  # the due date the workflow set with the last move

    def feed(self, record: Record) -> None:
        if isinstance(record, EtatRecord):
            self._etat(record)
        elif isinstance(record, UnrecognisedRecord):
            self.unrecognised.append(
                UnrecognisedLines(
                    line=record.first_line,
                    last_line=record.last_line,
                    text=record.text,
                    message=record.message,
                )
            )
        elif isinstance(record, SubAssignmentRecord):
            self._set_contractor(record.contractor_name or record.contractor_id)
        elif isinstance(record, ActionRecord) and record.contractor_name:
            if self.contractor is None:
                self._set_contractor(record.contractor_name)
        elif isinstance(record, ContactRecord):
            when = record.contacted_at or (record.author.at if record.author else None)
            if when is not None:
                self._attempt(when, record.author)

    def _set_contractor(self, name: str) -> None:
        self.contractor = name
        if self.dossier is not None:
            self.dossier = evolve(self.dossier, {"contractor": name})

    def _attempt(self, when: datetime, author: Author | None) -> None:
        if self.dossier is None:
            self.pending_attempts.append(when)
            return
        last = self.dossier.last_at
        when = max(when, last) if last is not None else when
        self.dossier = self.wf.record_contact_attempt(
            self.dossier, actor=self.shared.actor(author), at=when
        ).dossier

    def _etat(self, record: EtatRecord) -> None:
        author = record.author
        if author is not None:
            set_at = author.at
        elif record.set_on is not None:
            set_at = datetime.combine(record.set_on, _MIDNIGHT, tzinfo=PARIS)
        else:
            set_at = self.last_set_at or record.due_at
        self.last_set_at = set_at
        closes, closes_owner, contractor_clock, late, lateness = self._close(set_at)
        spec = self.shared.state(self.wf, record.label)
        if isinstance(spec, str):  # the message of the UnknownStateError
            state = computed = None
            verdict = "unresolved"
            replayed: tuple[ReplayViolation, ...] = (
                _trusted(
                    ReplayViolation,
                    {
                        "rule": "unknown_label",
                        "state": None,
                        "message": spec,
                        "message_fr": f"libellé inconnu : {record.label!r}",
                    },
                ),
            )
        else:
            data, due = self._inputs(spec, record)
            current_due = self.dossier.due_at if self.dossier is not None else None
            violations = self._history_checks(spec, record)
            self.set_due = None
            violations.extend(
                self._move(spec, self.shared.actor(author), set_at, record, due, data)
            )
            if due is None and spec.deadline.kind in _COUNTED and self.set_due is not None:
                # The move computed this very due date: same deadline, start, calendar and
                # no due given (a counted deadline reads nothing else). Don't count it twice.
                computed = self.set_due
            else:
                computed = compute_due(
                    spec.deadline, set_at, self.calendar, current_due=current_due, data=data
                )
            state = spec.code
            verdict = "refused" if violations else "accepted"
            replayed = tuple(_violation(v) for v in violations)
        self.entries.append(
            _trusted(
                ReplayEntry,
                {
                    "line": record.first_line,
                    "last_line": record.last_line,
                    "label": record.label,
                    "state": state,
                    "set_at": set_at,
                    "due_at": record.due_at,
                    "computed_due_at": computed,
                    "author": author.name if author else None,
                    "author_id": author.user_id if author else None,
                    "role": author.role if author else None,
                    "comment": record.comment,
                    "verdict": verdict,
                    "violations": replayed,
                    "closes": closes,
                    "closes_owner": closes_owner,
                    "contractor_clock": contractor_clock,
                    "late": late,
                    "lateness": lateness,
                },
            )
        )

    def _inputs(self, spec: StateSpec, record: EtatRecord) -> tuple[dict[str, Any], Any]:
        """The move's data and due as the history gives them."""
        data: dict[str, Any] = {}
        if record.humidity is not None:
            data["humidity"] = record.humidity
        if record.week is not None:
            data["delivery_week"] = record.week
        deadline = spec.deadline
        if deadline.kind is DeadlineKind.GIVEN and deadline.data_key:
            data[deadline.data_key] = record.due_at  # the recorded due is the appointment
        given = deadline.overridable or (
            deadline.kind is DeadlineKind.GIVEN and deadline.data_key is None
        )
        return data, (record.due_at if given else None)

    def _history_checks(self, spec: StateSpec, record: EtatRecord) -> list[Violation]:
        d = self.dossier
        if (
            d is not None
            and d.state == spec.code
            and spec.rule("due_date_locked") is not None
            and d.due_at is not None
            and d.due_at != record.due_at
        ):
            return [
                Violation(
                    rule="due_date_locked",
                    state=spec.code,
                    message_fr=f"Échéance verrouillée de « {spec.label} » changée par une entrée "
                    f"ultérieure : {d.due_at.isoformat()} → {record.due_at.isoformat()}.",
                    message_en=f"the locked due date of '{spec.code}' was changed by a later "
                    f"entry: {d.due_at.isoformat()} -> {record.due_at.isoformat()}.",
                )
            ]
        return []

    def _move(
        self,
        spec: StateSpec,
        actor: Actor,
        at: datetime,
        record: EtatRecord,
        due: Any,
        data: dict[str, Any],
    ) -> list[Violation]:
        if self.dossier is None:
            return self._open(spec, actor, at, record, due, data)
        moved, violations = self.wf.record(
            self.dossier, spec.code, actor=actor, at=at, comment=record.comment, due=due, data=data
        )
        self.set_due = moved.dossier.due_at
        self.dossier = self._with_recorded_due(moved.dossier, record.due_at)
        return list(violations)

    def _open(
        self,
        spec: StateSpec,
        actor: Actor,
        at: datetime,
        record: EtatRecord,
        due: Any,
        data: dict[str, Any],
    ) -> list[Violation]:
        attributes = {**self.attributes, "contractor": self.contractor}
        violations: list[Violation] = []
        try:
            dossier = self.wf.open(
                self.dossier_id,
                spec.code,
                actor=actor,
                at=at,
                comment=record.comment,
                due=due,
                data=data,
                mid_flow=True,
                **attributes,
            ).dossier
            self.set_due = dossier.due_at
        except MoveRefused as exc:  # the history opened it anyway
            violations = list(exc.violations)
            entry = HistoryEntry(
                kind="open",
                source=None,
                target=spec.code,
                at=at,
                actor=actor,
                comment=record.comment,
                due_at=record.due_at,
            )
            dossier = Dossier(
                id=self.dossier_id,
                state=spec.code,
                due_at=record.due_at,
                history=(entry,),
                **attributes,
            )
        self.dossier = self._with_recorded_due(dossier, record.due_at)
        for when in self.pending_attempts:
            self._attempt(when, None)
        self.pending_attempts.clear()
        return violations

    @staticmethod
    def _with_recorded_due(dossier: Dossier, due_at: datetime) -> Dossier:
        if dossier.due_at == due_at:
            return dossier
        last = evolve(dossier.history[-1], {"due_at": due_at})
        return evolve(dossier, {"due_at": due_at, "history": (*dossier.history[:-1], last)})

    def _close(self, ended_at: datetime) -> tuple[str | None, Role | None, bool, bool, float]:
        """The step the current entry ends: its state, owner, whether on the contractor's
        clock, whether late, and how late (business seconds)."""
        d = self.dossier
        if d is None:
            return None, None, False, False, 0.0
        spec = self.shared.states.get(d.state) or self.wf.catalogue.state(d.state)
        due_at = d.due_at
        if due_at is None or ended_at <= due_at:
            lateness = _ZERO
        else:
            lateness = step_lateness(self.calendar, due_at, ended_at)
        late = lateness > _ZERO
        contractor_clock = spec.clock == "contractor"
        self.steps.append(
            _trusted(
                Step,
                {
                    "state": d.state,
                    "owner": spec.owner,
                    "contractor_clock": contractor_clock,
                    "entered_at": d.history[-1].at if d.history else ended_at,
                    "due_at": due_at,
                    "left_at": ended_at,
                    "late": late,
                    "lateness": lateness,
                    "contractor": self.contractor,
                },
            )
        )
        return d.state, spec.owner, contractor_clock, late, lateness.total_seconds()

    def report(self) -> ReplayReport:
        by_rule: dict[str, int] = {}
        for e in self.entries:
            for v in e.violations:
                by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
        verdicts = [e.verdict for e in self.entries]
        summary = _trusted(
            ReplaySummary,
            {
                "entries": len(self.entries),
                "accepted": verdicts.count("accepted"),
                "refused": verdicts.count("refused"),
                "unresolved": verdicts.count("unresolved"),
                "violations_by_rule": dict(sorted(by_rule.items())),
                "contractor_lateness": float(
                    sum(s.lateness_seconds for s in self.steps if s.contractor_clock)
                ),
                "lateness": lateness_report(self.steps),
            },
        )
        return _trusted(
            ReplayReport,
            {
                "schema_version": SCHEMA_VERSION,
                "source": self.source,
                "dossier_id": self.dossier_id,
                "contractor": self.contractor,
                "entries": tuple(self.entries),
                "unrecognised": tuple(self.unrecognised),
                "summary": summary,
            },
            set(_REPORT_FIELDS_SET),
        )


def replay_records(
    records: Iterable[Record],
    workflow: Workflow | None = None,
    *,
    dossier_id: str = "dossier",
    source: str = "<records>",
    insurer: str | None = None,
    channel: str | None = None,
    subdivision: str | None = None,
    flags: Iterable[str] = (),
) -> ReplayReport:
    """Replay the records of one dossier (the attributes are the file's: rules read them)."""
    replayer = _Replayer(
        workflow or Workflow.default(),
        dossier_id,
        source,
        {
            "insurer": insurer,
            "channel": channel,
            "subdivision": subdivision,
            "flags": frozenset(flags),
        },
    )
    for record in records:
        replayer.feed(record)
    return replayer.report()


def replay_file(
    path: str | Path,
    workflow: Workflow | None = None,
    *,
    roles: RoleMap | None = None,
    **attributes: Any,
) -> ReplayReport:
    """Replay one history file as one dossier (its id: the file name without suffix)."""
    path = Path(path)
    return replay_records(
        iter_file(path, roles=roles), workflow, dossier_id=path.stem, source=str(path), **attributes
    )


def iter_replays(
    records: Iterable[Record],
    workflow: Workflow | None = None,
    *,
    source: str = "<archive>",
    **attributes: Any,
) -> Iterator[ReplayReport]:
    """Replay an archive of many dossiers, each starting at an ``OUVERTURE`` record.

    Streams: one dossier is held at a time, so memory stays flat over any archive size.
    Records before the first opening form a dossier of their own.
    """
    wf = workflow or Workflow.default()
    attrs: dict[str, Any] = {
        "insurer": None,
        "channel": None,
        "subdivision": None,
        "flags": frozenset(),
    }
    attrs.update(attributes)
    count = 0
    replayer: _Replayer | None = None
    for record in records:
        if isinstance(record, OpeningRecord) or replayer is None:
            if replayer is not None and (replayer.entries or replayer.unrecognised):
                yield replayer.report()
            count += 1
            replayer = _Replayer(wf, f"{source}#{count}", source, attrs)
        replayer.feed(record)
    if replayer is not None and (replayer.entries or replayer.unrecognised):
        yield replayer.report()


def combined_summary(reports: Iterable[ReplayReport]) -> tuple[int, ReplaySummary]:
    """A summary over many replays (for a directory): how many files, and their totals."""
    count = 0
    by_rule: dict[str, int] = {}
    totals = {"entries": 0, "accepted": 0, "refused": 0, "unresolved": 0}
    contractor = 0.0
    steps: list[Step] = []
    for report in reports:
        count += 1
        s = report.summary
        for key in totals:
            totals[key] += getattr(s, key)
        for rule, n in s.violations_by_rule.items():
            by_rule[rule] = by_rule.get(rule, 0) + n
        contractor += s.contractor_lateness
        steps.extend(_steps_of(report))
    return count, ReplaySummary(
        **totals,
        violations_by_rule=dict(sorted(by_rule.items())),
        contractor_lateness=contractor,
        lateness=lateness_report(steps),
    )


def _steps_of(report: ReplayReport) -> Iterator[Step]:
    """The closed steps of a report, rebuilt from its entries (for combined statistics)."""
    for e in report.entries:
        if e.closes is None:
            continue
        yield Step(
            state=e.closes,
            owner=e.closes_owner,
            contractor_clock=e.contractor_clock,
            entered_at=e.set_at,
            due_at=None,
            left_at=e.set_at,
            late=e.late,
            lateness=timedelta(seconds=e.lateness),
            contractor=report.contractor,
        )
