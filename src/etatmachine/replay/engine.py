"""The replay engine: one dossier's records in, its `ReplayReport` out.

Its callers check what they pass (`etatmachine.replay.api`: the public functions, whose
errors name the argument); the engine takes its arguments as they are.

This is the hot path of every archive replay (`iter_replays`), written so that mypyc can
compile it (the optional compiled core): it defines no pydantic model (those are in
`etatmachine.replay.output`) and keeps its state in plain typed classes.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Any, Final, Literal, get_args

from etatmachine.arguments import check_comment, check_data, check_optional_text
from etatmachine.business_calendar import FIRST_YEAR, LAST_YEAR, PARIS
from etatmachine.catalogue import DeadlineKind, StateKind, StateSpec
from etatmachine.deadlines import compute_due
from etatmachine.dossier import NO_FLAGS, Actor
from etatmachine.errors import UnknownStateError
from etatmachine.evidence import (
    channels_named,
    failed_call,
    insurers_named,
    names_in,
    quote_amount_in,
)
from etatmachine.judge import finish_in_place, last_change
from etatmachine.lateness import StepFigures, lateness_report_of, measure_step
from etatmachine.legacy import (
    ActionRecord,
    AssignmentRecord,
    Author,
    AuthorRecord,
    AutonomyLimitRecord,
    ContactRecord,
    ControlRecord,
    EtatRecord,
    MensajeRecord,
    MessageRecord,
    NoteRecord,
    OpeningRecord,
    RealisationRecord,
    Record,
    SubAssignmentRecord,
    UnrecognisedRecord,
)
from etatmachine.replay.output import (
    ENTRY_FIELDS,
    REPORT_FIELDS,
    SCHEMA_VERSION,
    SUMMARY_FIELDS,
    UNRECOGNISED_FIELDS,
    VIOLATION_FIELDS,
    ReplayEntry,
    ReplayReport,
    ReplaySummary,
    ReplayViolation,
    UnrecognisedLines,
)
from etatmachine.roles import Role
from etatmachine.trusted import trusted
from etatmachine.violations import Violation
from etatmachine.workflow import FileAttributes, Workflow
from etatmachine.working import WorkingDossier

__all__ = ["replay_many", "replay_one"]

_UNKNOWN_ACTOR_ID: Final = "unknown"
_MIDNIGHT: Final = datetime.min.time()
_COUNTED = frozenset(
    {DeadlineKind.BUSINESS_HOURS, DeadlineKind.BUSINESS_DAYS, DeadlineKind.CALENDAR_DAYS}
)  # deadlines computed from the start and the calendar alone


def _violation(v: Violation) -> ReplayViolation:
    return trusted(
        ReplayViolation,
        {"rule": v.rule, "state": v.state, "message": v.message_en, "message_fr": v.message_fr},
        VIOLATION_FIELDS,
    )


_Closing = tuple[str | None, str | None, bool, datetime | None, datetime | None, float, float]
"""The step an entry ends: its state, owner (the role's value), whether on the contractor's
clock, its original and last agreed due dates, and how late it was against each (business
seconds)."""
_NOT_CLOSED: Final[_Closing] = (None, None, False, None, None, 0.0, 0.0)


def _out_of_range(set_at: datetime, due_at: datetime) -> ReplayViolation:
    """Why an entry's dates are outside the calendar's supported years (one of them is)."""
    for what, quoi, instant in (("date", "date", set_at), ("due date", "échéance", due_at)):
        year = instant.year
        if not FIRST_YEAR <= year <= LAST_YEAR:
            return trusted(
                ReplayViolation,
                {
                    "rule": "date_out_of_range",
                    "state": None,
                    "message": f"the entry's {what} is in {year}, outside the supported years "
                    f"{FIRST_YEAR}-{LAST_YEAR}: the entry is not replayed",
                    "message_fr": f"{quoi} de l'entrée en {year}, hors des années prises en "
                    f"charge ({FIRST_YEAR}-{LAST_YEAR}) : l'entrée n'est pas rejouée",
                },
                VIOLATION_FIELDS,
            )
    raise AssertionError("both dates are in the supported years")


_ROLES: Final[dict[str | None, Role | None]] = {None: None, **{r.value: r for r in Role}}
"""Each role by its value. What a replay keeps of each entry and step until `report` holds
a role's value, not the member: a dict or tuple of plain values leaves the garbage
collector's watch, so one long history's thousands of kept entries cost it nothing."""
_VALUES: Final[dict[Role | None, str | None]] = {role: value for value, role in _ROLES.items()}
"""Each role's value (``Role.value`` is a property: read once, here)."""

_SILENT: Final[frozenset[type[Any]]] = frozenset(
    {OpeningRecord, AuthorRecord, RealisationRecord, AssignmentRecord, ControlRecord}
)
"""The parser's record types that say nothing the replay reads (an opening only splits)."""
_PARSED: Final[frozenset[type[Any]]] = frozenset(get_args(get_args(Record)[0]))
"""Every record type the parser makes (the members of `Record`)."""


# The parser's record types and the output's, as constants: compiled, a constant is a C
# static, an imported name a dict lookup at every use.
_ETAT: Final = EtatRecord
_NOTE: Final = NoteRecord
_ACTION: Final = ActionRecord
_MESSAGE: Final = MessageRecord
_MENSAJE: Final = MensajeRecord
_CONTACT: Final = ContactRecord
_AUTONOMY_LIMIT: Final = AutonomyLimitRecord
_SUB_ASSIGNMENT: Final = SubAssignmentRecord
_UNRECOGNISED: Final = UnrecognisedRecord
_ENTRY: Final = ReplayEntry
_ENTRY_FIELDS: Final = ENTRY_FIELDS


def _sorted(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` by key (a copy: most have one key or none)."""
    return dict(sorted(counts.items())) if len(counts) > 1 else dict(counts)


def _opens(record: Record) -> bool:
    """Whether ``record`` opens a dossier (an ``OUVERTURE``): by identity first (see
    `_Replayer.feed`)."""
    kind = type(record)
    return kind is OpeningRecord or (kind not in _PARSED and isinstance(record, OpeningRecord))


_CACHE_MAX: Final = 4096  # labels and actors remembered per workflow: bounded, memory stays flat
_NO_NAMES: Final[frozenset[str]] = frozenset()


class _StatePlan:
    """What the replay reads of a state's deadline and rules, read once."""

    __slots__ = (
        "carries_quote",
        "code",
        "contractor_clock",
        "counted",
        "data_key",
        "given",
        "initial",
        "locked_counted",
        "owner",
        "spec",
        "terminal",
        "within_procedure",
    )

    def __init__(self, spec: StateSpec) -> None:
        deadline = spec.deadline
        self.spec = spec
        self.code = spec.code
        self.initial = spec.initial
        self.terminal = spec.kind is StateKind.TERMINAL
        self.owner = _VALUES[spec.owner]  # the owner's value (see `_ROLES`)
        self.contractor_clock = spec.clock == "contractor"
        self.carries_quote = "quote_amount" in spec.carries
        # computed from the start and the calendar alone
        self.counted = deadline.kind in _COUNTED
        # a given deadline read from data: the recorded due is the appointment
        self.data_key = deadline.data_key if deadline.kind is DeadlineKind.GIVEN else None
        # the recorded due date is the move's (else the procedure computes it)
        self.given = deadline.overridable or (
            deadline.kind is DeadlineKind.GIVEN and deadline.data_key is None
        )
        # a locked due date the procedure counts: a later entry may not change it
        self.locked_counted = self.counted and spec.rule("due_date_locked") is not None
        # ... and may not be recorded later than the procedure's deadline
        self.within_procedure = self.locked_counted and not deadline.overridable


class _Who:
    """Who signed an entry: the actor the judge is given and what the entry reports."""

    __slots__ = ("actor", "name", "role", "user_id")

    def __init__(
        self, actor: Actor, user_id: str | None, name: str | None, role: str | None
    ) -> None:
        self.actor = actor
        self.user_id = user_id
        self.name = name
        self.role = role  # the role's value (see `_ROLES`)


class _Shared:
    """What every replay on one workflow can reuse: labels resolved, states by code, actors.

    Resolving a label is a pure function of the label and the workflow's catalogue (which
    never changes), so its answer, or the message of its `UnknownStateError`, is remembered.
    """

    def __init__(self, workflow: Workflow) -> None:
        self.states: dict[str, StateSpec] = {s.code: s for s in workflow.catalogue}
        # per state: what `_Replayer._inputs` and `_history_checks` read of its deadline
        self.plans: dict[str, _StatePlan] = {s.code: _StatePlan(s) for s in workflow.catalogue}
        self.labels: dict[tuple[str, Role], StateSpec | str] = {}
        self._names: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self.actors: dict[tuple[Role, str | None, str | None], Actor] = {}
        self.signers: dict[tuple[Role, str | None, str | None], _Who] = {}
        self.unsigned = _Who(self.actor(None), None, None, None)  # an entry with no signature

    def names(self, label: str) -> tuple[frozenset[str], frozenset[str]]:
        """The insurers and channels a label names, remembered (labels repeat)."""
        found = self._names.get(label)
        if found is None:
            found = names_in(label)
            if len(self._names) >= _CACHE_MAX:
                self._names.clear()
            self._names[label] = found
        return found

    def state(self, wf: Workflow, label: str, role: Role) -> StateSpec | str:
        """``wf.state(label, role=role)``, remembered; an unknown label gives the error's
        message."""
        key = (label, role)
        found = self.labels.get(key)
        if found is None:
            try:
                found = wf.state(label, role=role)
            except UnknownStateError as exc:
                found = str(exc)
            if len(self.labels) >= _CACHE_MAX:
                self.labels.clear()
            self.labels[key] = found
        return found

    def signer(self, author: Author) -> _Who:
        """Who signed an entry (its author's role, id and name, read once), remembered."""
        key = (author.role, author.user_id, author.name)
        who = self.signers.get(key)
        if who is None:
            role, user_id, name = key
            who = _Who(self.actor(author), user_id, name, _VALUES[role])
            if len(self.signers) >= _CACHE_MAX:
                self.signers.clear()
            self.signers[key] = who
        return who

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


_DUE_TOLERANCE = timedelta(hours=1)
"""How much later than the procedure's deadline a recorded due date may fall before the
replay flags it ``due_beyond_deadline``: the back office rounds due times to its slots."""


class _Step:
    """The step in progress: what its lateness will be measured against."""

    __slots__ = ("due", "entered", "last_due", "met_at", "plan")

    def __init__(self, plan: _StatePlan, entered: datetime, due: datetime | None) -> None:
        self.plan = plan  # the state's (``plan.spec``)
        self.entered = entered
        self.due = due
        self.last_due = due
        self.met_at: datetime | None = None


class _Setup:
    """What every dossier of one replay call shares: the workflow's caches, the attributes
    given (never read from the history), checked once as `Workflow.open` checks them, and
    the calendar."""

    __slots__ = ("attributes", "calendar", "core", "given", "shared")

    def __init__(self, workflow: Workflow, attributes: FileAttributes) -> None:
        self.shared = _shared(workflow)
        self.core = workflow.core  # every value handed to it is built or checked here
        self.attributes: dict[str, Any] = attributes._asdict()
        self.given = frozenset(
            k for k, v in self.attributes.items() if v is not None and v != NO_FLAGS
        )
        self.calendar = workflow.calendar(self.attributes["subdivision"])


class _Replayer:
    """Replays the records of one dossier; `feed` one record at a time, then `report`.

    A history excerpt can hold several files (the seed does): a new *segment* starts when
    time goes back, when an entry can only open a file (an initial state the current one
    cannot move to), or when another contractor accepts the intervention. Lateness and time
    order are never measured across segments; each segment's steps are its contractor's.
    """

    def __init__(
        self,
        workflow: Workflow,
        dossier_id: str,
        source: str,
        setup: _Setup,
    ) -> None:
        self.wf = workflow
        self.core = setup.core
        self.shared = setup.shared
        self.dossier_id = dossier_id
        self.source = source
        self.given = setup.given
        self.attributes = dict(setup.attributes)
        self.calendar = setup.calendar
        self.dossier: WorkingDossier | None = None  # the file, changed in place
        self.step: _Step | None = None
        self.segment = 1
        self.segment_contractor: dict[int, str | None] = {1: None}
        self.segment_accepted: set[int] = set()
        self.pending: list[tuple[datetime, Author | None, Literal["failed", "reached"]]] = []
        self.seen_calls: set[tuple[str, str, datetime | None]] = set()
        # the entries' field values: each becomes a `ReplayEntry` in `report`, once its
        # segment's contractor is known
        self.entries: list[dict[str, Any]] = []
        self.verdicts = {"accepted": 0, "refused": 0, "unresolved": 0}
        self.by_rule: dict[str, int] = {}
        self.by_effect: dict[str, int] = {}
        self.unrecognised: list[UnrecognisedLines] = []
        self.steps: list[tuple[int, str | None, bool, float]] = []  # segment, figures
        self.last_set_at: datetime | None = None
        self.recorded_due: datetime | None = None  # the due date the last entry recorded
        self.attributes_read = self._known()

    # -- records ------------------------------------------------------------------------

    def feed(self, record: Record) -> None:
        """Read one record. The parser's own types are told apart by identity (``isinstance``
        on a pydantic model class goes through its ABC metaclass: several times slower); a
        record of any other class goes to `_feed_subclass`."""
        if type(record) is _ETAT:
            self._etat(record)
        elif type(record) is _NOTE:
            self._on_note(record)
        elif type(record) is _ACTION:
            self._on_action(record)
        elif type(record) is _MESSAGE or type(record) is _MENSAJE:
            self._on_message(record)
        elif type(record) is _CONTACT:
            self._on_contact(record)
        elif type(record) is _AUTONOMY_LIMIT:
            self._on_autonomy_limit(record)
        elif type(record) is _SUB_ASSIGNMENT:
            self._on_sub_assignment(record)
        elif type(record) is _UNRECOGNISED:
            self._on_unrecognised(record)
        elif type(record) not in _SILENT:
            self._feed_subclass(record)

    def _feed_subclass(self, record: Record) -> None:
        """A record of a subclass goes to its nearest handled base, in `feed`'s order."""
        if isinstance(record, EtatRecord):
            self._etat(record)
        elif isinstance(record, UnrecognisedRecord):
            self._on_unrecognised(record)
        elif isinstance(record, SubAssignmentRecord):
            self._on_sub_assignment(record)
        elif isinstance(record, ActionRecord):
            self._on_action(record)
        elif isinstance(record, AutonomyLimitRecord):
            self._on_autonomy_limit(record)
        elif isinstance(record, ContactRecord):
            self._on_contact(record)
        elif isinstance(record, NoteRecord):
            self._on_note(record)
        elif isinstance(record, MessageRecord | MensajeRecord):
            self._on_message(record)

    def _on_unrecognised(self, record: UnrecognisedRecord) -> None:
        self.unrecognised.append(
            trusted(
                UnrecognisedLines,
                {
                    "line": record.first_line,
                    "last_line": record.last_line,
                    "text": record.text,
                    "message": record.message,
                },
                UNRECOGNISED_FIELDS,
            )
        )

    def _on_sub_assignment(self, record: SubAssignmentRecord) -> None:
        self._contractor(record.contractor_name or record.contractor_id, accepted=False)

    def _on_action(self, record: ActionRecord) -> None:
        if record.contractor_name:
            self._contractor(record.contractor_name, accepted=True)

    def _on_autonomy_limit(self, record: AutonomyLimitRecord) -> None:
        self._attribute("autonomy_limit", record.amount)

    def _on_contact(self, record: ContactRecord) -> None:
        # « NTACT 1: -Date du contact avec le client »: the insured was reached
        when = record.contacted_at or (record.author.at if record.author else None)
        if when is not None and self._first_time("contact", record.text, when):
            self._call(when, record.author, "reached")

    def _on_note(self, record: NoteRecord) -> None:
        when = record.author.at if record.author else None
        if failed_call(record.text) and self._first_time("note", record.text, when):
            self._call(when or self.last_set_at, record.author, "failed")

    def _on_message(self, record: MessageRecord | MensajeRecord) -> None:
        if not self.attributes_read:
            self._read_attributes(record.raw)

    def _first_time(self, kind: str, text: str, when: datetime | None) -> bool:
        """A duplicated line (the same text at the same time) counts once."""
        key = (kind, " ".join(text.split()).casefold(), when)
        if key in self.seen_calls:
            return False
        self.seen_calls.add(key)
        return True

    def _read_attributes(self, text: str, label: str | None = None) -> None:
        """The insurer and channel a history names (« AZ: », Allianz, BPCE; Sinapps…) in
        ``text`` and in ``label`` (an entry's label: names read once per label)."""
        if self.attributes_read:
            return
        insurers: AbstractSet[str] = _NO_NAMES
        channels: AbstractSet[str] = _NO_NAMES
        if text:  # only what is still unknown is looked for
            attributes = self.attributes
            if attributes["insurer"] is not None:
                channels = channels_named(text)
            elif attributes["channel"] is not None:
                insurers = insurers_named(text)
            else:
                insurers, channels = names_in(text)
        if label is not None:  # a name never spans the label and the text: no space in one
            in_label = self.shared.names(label)
            insurers = insurers | in_label[0] if in_label[0] else insurers
            channels = channels | in_label[1] if in_label[1] else channels
        if not insurers and not channels:
            return  # the common case: nothing named
        attributes = self.attributes
        if insurers and attributes["insurer"] is None:
            for name in sorted(insurers):
                code = self.wf.insurer_code(name)
                if code is not None and self.wf.catalogue.insurer(code) is not None:
                    self._attribute("insurer", code)
                    break
        if channels and attributes["channel"] is None:
            for name in sorted(channels):
                self._attribute("channel", self.wf.channel_code(name))
                break
        self.attributes_read = self._known()

    def _known(self) -> bool:
        """The insurer and the channel both known (given, or read): nothing more to read.
        A given one is never None (`self.attributes` starts from the checked ones given)."""
        attributes = self.attributes
        return attributes["insurer"] is not None and attributes["channel"] is not None

    def _attribute(self, name: str, value: Any) -> None:
        if name in self.given:
            return
        if name == "autonomy_limit" and value is not None:  # as `open` checks one (rare)
            value = self.wf.file_attributes(autonomy_limit=value).autonomy_limit
        self.attributes[name] = value
        if self.dossier is not None:
            setattr(self.dossier, name, value)

    def _contractor(self, name: str, *, accepted: bool) -> None:
        check_optional_text(name, "contractor")
        current = self.segment_contractor[self.segment]
        if (
            accepted
            and current is not None
            and current != name
            and self.segment in self.segment_accepted
        ):
            self._new_segment()  # another contractor accepts: another file or a reassignment
        if accepted:
            self.segment_accepted.add(self.segment)
        self.segment_contractor[self.segment] = name
        if self.dossier is not None:
            self.dossier.contractor = name

    def _new_segment(self) -> None:
        self.segment += 1
        self.segment_contractor[self.segment] = None  # another excerpt: its own contractor
        self.segment_accepted.discard(self.segment)
        self.dossier = None  # the next entry opens the segment mid-flow
        self.step = None  # the step in progress is cut: never measured across segments
        self.recorded_due = None
        self.pending.clear()

    def _call(
        self, when: datetime | None, author: Author | None, outcome: Literal["failed", "reached"]
    ) -> None:
        if when is None or not FIRST_YEAR <= when.year <= LAST_YEAR:
            return  # no call: a date no calendar reads says nothing of the insured
        step = self.step
        if (
            outcome == "reached"
            and step is not None
            and step.met_at is None
            and step.plan.spec.met_by_contact
            and when >= step.entered
        ):
            step.met_at = when
        if self.dossier is None:
            self.pending.append((when, author, outcome))
            return
        work = self.dossier
        last = last_change(work)
        at = max(when, last) if last is not None else when  # never out of order
        # as `Workflow.record_contact_attempt_in_place`: ``at`` is an aware instant in the
        # years (checked by the caller), the actor one the replay built
        finish_in_place(work, self.core.contact(work, self.shared.actor(author), at, None, outcome))

    # -- entries ------------------------------------------------------------------------

    def _etat(self, record: EtatRecord) -> None:
        # each field of the record read once (a pydantic model's attribute costs three type
        # lookups: BaseModel defines ``__getattr__``)
        author = record.author
        due_at = record.due_at
        label = record.label
        comment = record.comment
        if not self.attributes_read:
            self._read_attributes(comment or "", label)
        if author is not None:
            set_at = author.at
            who = self.shared.signer(author)
        else:
            if record.set_on is not None:
                set_at = datetime.combine(record.set_on, _MIDNIGHT, tzinfo=PARIS)
            else:
                set_at = self.last_set_at or due_at
            who = self.shared.unsigned
        if not (
            FIRST_YEAR <= set_at.year <= LAST_YEAR and FIRST_YEAR <= due_at.year <= LAST_YEAR
        ):  # no calendar reads such a date: the entry changes nothing
            problem = _out_of_range(set_at, due_at)
            self._unresolved(record, who, label, comment, due_at, set_at, problem, _NOT_CLOSED)
            return
        if self.last_set_at is not None and set_at < self.last_set_at:
            self._new_segment()  # time goes back: another excerpt
        self.last_set_at = set_at
        actor = who.actor
        spec = self.shared.state(self.wf, label, actor.role)
        prior = self.dossier
        if isinstance(spec, str):  # the message of the UnknownStateError
            closing = self._close(set_at)
            problem = trusted(
                ReplayViolation,
                {
                    "rule": "unknown_label",
                    "state": None,
                    "message": spec,
                    "message_fr": f"libellé inconnu : {label!r}",
                },
                VIOLATION_FIELDS,
            )
            self._unresolved(record, who, label, comment, due_at, set_at, problem, closing)
            return
        plan = self.shared.plans[spec.code]
        code = plan.code
        if (
            prior is not None
            and plan.initial
            and code != prior.state
            and code not in self.core.target_sets[prior.state]
        ):
            self._new_segment()  # an entry that can only open a file: another excerpt
            prior = None
        closing = self._close(set_at)
        data, due = self._inputs(plan, record, comment, due_at)
        if prior is not None:
            prior_state: str | None = prior.state
            prior_due = prior.due_at
        else:
            prior_state = prior_due = None
        found, effects, kind, judged = self._move(plan, actor, set_at, comment, due_at, due, data)
        if due is None and plan.counted and kind != "reschedule":
            # the move or opening computed this very due date: same deadline, start and
            # calendar, and a counted deadline reads nothing else
            computed = judged
        else:
            computed = compute_due(
                spec.deadline, set_at, self.calendar, current_due=prior_due, data=data
            )
        checked = (
            self._history_checks(plan, due_at, computed, prior_state)
            if plan.locked_counted
            else None
        )
        self.recorded_due = due_at
        if checked is not None:
            replayed = (_violation(checked), *[_violation(v) for v in found])
        elif found:
            replayed = tuple([_violation(v) for v in found])
        else:
            replayed = ()
        if effects:
            by_effect = self.by_effect
            for kind in effects:
                by_effect[kind] = by_effect.get(kind, 0) + 1
        verdict = "refused" if replayed else "accepted"
        self._entry(
            record,
            who,
            label,
            comment,
            due_at,
            set_at,
            code,
            computed,
            verdict,
            replayed,
            effects,
            closing,
        )

    def _unresolved(
        self,
        record: EtatRecord,
        who: _Who,
        label: str,
        comment: str | None,
        due_at: datetime,
        set_at: datetime,
        problem: ReplayViolation,
        closing: _Closing,
    ) -> None:
        """Keep an entry the replay cannot judge (``problem`` says why): it changes nothing."""
        self._entry(
            record,
            who,
            label,
            comment,
            due_at,
            set_at,
            None,
            None,
            "unresolved",
            (problem,),
            (),
            closing,
        )

    def _entry(
        self,
        record: EtatRecord,
        who: _Who,
        label: str,
        comment: str | None,
        due_at: datetime,
        set_at: datetime,
        state: str | None,
        computed: datetime | None,
        verdict: str,
        replayed: tuple[ReplayViolation, ...],
        effects: tuple[str, ...],
        closing: _Closing,
    ) -> None:
        """Count the entry's verdict and rules, and keep its fields for `report` (``who``
        signed it; ``label``, ``comment`` and ``due_at``: the record's, read once by the
        caller)."""
        if replayed:
            by_rule = self.by_rule
            for v in replayed:
                rule = v.rule
                by_rule[rule] = by_rule.get(rule, 0) + 1
        self.verdicts[verdict] += 1
        closes, closes_owner, contractor_clock, closed_due, closed_last, late, late_last = closing
        self.entries.append(
            {
                "line": record.first_line,
                "last_line": record.last_line,
                "segment": self.segment,
                "contractor": None,
                "label": label,
                "n": record.n,
                "state": state,
                "set_at": set_at,
                "due_at": due_at,
                "computed_due_at": computed,
                "author": who.name,
                "author_id": who.user_id,
                "role": who.role,  # see `_ROLES`
                "comment": comment,
                "verdict": verdict,
                "violations": replayed,
                "effects": effects,
                "closes": closes,
                "closes_owner": closes_owner,
                "contractor_clock": contractor_clock,
                "closes_due_at": closed_due,
                "closes_last_due_at": closed_last,
                "late": late > 0,
                "lateness_business_seconds": late,
                "lateness_last_agreed_business_seconds": late_last,
            }
        )

    def _inputs(
        self, plan: _StatePlan, record: EtatRecord, comment: str | None, due_at: datetime
    ) -> tuple[dict[str, Any], datetime | None]:
        """The move's data and due as the history gives them: the recorded due date where the
        state takes a given one; where the procedure computes it, the procedure's."""
        data: dict[str, Any] = {}
        humidity = record.humidity
        if humidity is not None:
            data["humidity"] = humidity
        week = record.week
        if week is not None:
            data["delivery_week"] = week
        if plan.carries_quote and comment:
            amount = quote_amount_in(comment)
            if amount is not None:
                data["quote_amount"] = amount
        if plan.data_key:
            data[plan.data_key] = due_at  # the recorded due is the appointment
        return data, (due_at if plan.given else None)

    def _history_checks(
        self,
        plan: _StatePlan,
        due_at: datetime,
        computed: datetime | None,
        prior_state: str | None,
    ) -> Violation | None:
        """What only a history shows of a state whose locked due date the procedure counts
        (``plan.locked_counted``; ``prior_state``: the file's state before the entry, and
        ``due_at`` the entry's recorded due date): a locked due date changed by a later entry,
        or set later than the procedure's deadline allows."""
        spec = plan.spec
        deadline = spec.deadline
        if (
            prior_state == spec.code
            and self.recorded_due is not None
            and due_at != self.recorded_due
        ):
            return Violation(
                rule="due_date_locked",
                state=spec.code,
                message_fr=f"Échéance verrouillée de « {spec.label} » changée par une entrée "
                f"ultérieure : {self.recorded_due.isoformat()} → {due_at.isoformat()}.",
                message_en=f"the locked due date of '{spec.code}' was changed by a later "
                f"entry: {self.recorded_due.isoformat()} -> {due_at.isoformat()}.",
            )
        if computed is not None and plan.within_procedure and due_at > computed + _DUE_TOLERANCE:
            return Violation(
                rule="due_beyond_deadline",
                state=spec.code,
                message_fr=f"Échéance de « {spec.label} » saisie au {due_at.isoformat()}"
                f", au-delà du délai de la procédure ({deadline.figure} : "
                f"{computed.isoformat()}) ; le retard se mesure sur ce délai.",
                message_en=f"the due date of '{spec.code}' was recorded as "
                f"{due_at.isoformat()}, later than the procedure's deadline "
                f"({deadline.figure}: {computed.isoformat()}); lateness is measured "
                "against the procedure's.",
            )
        return None

    def _move(
        self,
        plan: _StatePlan,
        actor: Actor,
        at: datetime,
        comment: str | None,
        recorded_due: datetime,
        due: datetime | None,
        data: dict[str, Any],
    ) -> tuple[Sequence[Violation], tuple[str, ...], str, datetime | None]:
        """Apply the entry (its comment and recorded due date); its violations, the kinds of
        the effects it owes, the kind of change it was (``open``, ``move``, or ``reschedule``:
        the same state again) and the due date the judge gave it (a refused opening's: the
        procedure's, not the one it keeps)."""
        work = self.dossier
        comment = check_comment(comment)
        if data:
            check_data(data)
        if work is None:
            opened, judged = self._open(plan, actor, at, comment, recorded_due, due, data)
            return opened, (), "open", judged
        change, effects, violations = self.core.recorded(
            work, plan.code, actor, at, comment, due, data
        )
        finish_in_place(work, change)
        entry = change[1]
        if entry.kind == "reschedule":  # the same action date set again
            if self.step is not None:
                self.step.last_due = work.due_at
        else:
            self.step = _Step(plan, at, work.due_at)
        kinds = tuple([e.kind for e in effects]) if effects else ()
        return violations, kinds, entry.kind, work.due_at

    def _open(
        self,
        plan: _StatePlan,
        actor: Actor,
        at: datetime,
        comment: str | None,
        recorded_due: datetime,
        due: datetime | None,
        data: dict[str, Any],
    ) -> tuple[Sequence[Violation], datetime | None]:
        """Bring the file in at its first entry (mid-flow: a history excerpt starts anywhere),
        as `Workflow.record_open` does; its violations, and the due date the procedure gives
        the opening."""
        attributes = self.attributes
        spec = plan.spec
        # where the opening breaks rules, the history opened it anyway, with the due it recorded
        work, violations, judged = self.core.opened_in_place(
            self.dossier_id,
            spec,
            actor,
            at,
            comment,
            due,
            data,
            None if plan.terminal else recorded_due,
            attributes["insurer"],
            attributes["channel"],
            attributes["subdivision"],
            self.segment_contractor[self.segment],
            attributes["flags"],
            attributes["autonomy_limit"],
            True,
        )
        self.dossier = work
        self.step = _Step(plan, at, work.due_at)
        pending, self.pending = self.pending, []
        for when, author, outcome in pending:
            self._call(when, author, outcome)
        return violations, judged

    def _close(self, ended_at: datetime) -> _Closing:
        """The step the current entry ends: its state, owner, whether on the contractor's
        clock, its original and last agreed due dates, and how late it was against each
        (business seconds)."""
        step = self.step
        if step is None:
            return _NOT_CLOSED
        plan = step.plan
        end = step.met_at or ended_at
        lateness, last_lateness = measure_step(
            self.calendar, plan.spec, step.due, step.last_due, end
        )
        contractor_clock = plan.contractor_clock
        last_due = step.last_due if step.last_due != step.due else None
        # most steps are on time: a zero needs no method call (``total_seconds`` of zero is 0.0)
        seconds = lateness.total_seconds() if lateness else 0.0
        self.steps.append((self.segment, plan.owner, contractor_clock, seconds))
        return (
            plan.code,
            plan.owner,
            contractor_clock,
            step.due,
            last_due,
            seconds,
            last_lateness.total_seconds() if last_lateness else 0.0,
        )

    def report(self) -> ReplayReport:
        contractor_of = self.segment_contractor
        entries = []
        roles = _ROLES
        for values in self.entries:
            values["contractor"] = contractor_of.get(values["segment"])
            values["role"] = roles[values["role"]]
            values["closes_owner"] = roles[values["closes_owner"]]
            entries.append(trusted(_ENTRY, values, _ENTRY_FIELDS))
        figures: list[StepFigures] = []
        contractor_seconds = 0.0  # summed in the steps' order, as `sum` would
        for segment, owner, clock, seconds in self.steps:
            figures.append((_ROLES[owner], clock, contractor_of.get(segment), seconds))
            if clock:
                contractor_seconds += seconds
        verdicts = self.verdicts
        summary = trusted(
            ReplaySummary,
            {
                "entries": len(entries),
                "accepted": verdicts["accepted"],
                "refused": verdicts["refused"],
                "unresolved": verdicts["unresolved"],
                "segments": self.segment,
                "violations_by_rule": _sorted(self.by_rule),
                "effects_by_kind": _sorted(self.by_effect),
                "contractor_lateness_business_seconds": contractor_seconds,
                "lateness": lateness_report_of(figures),
            },
            SUMMARY_FIELDS,
        )
        contractors = [c for c in self.segment_contractor.values() if c is not None]
        return trusted(
            ReplayReport,
            {
                "schema_version": SCHEMA_VERSION,
                "source": self.source,
                "dossier_id": self.dossier_id,
                "contractor": contractors[-1] if contractors else None,
                "insurer": self.attributes.get("insurer"),
                "channel": self.attributes.get("channel"),
                "autonomy_limit": self.attributes.get("autonomy_limit"),
                "entries": tuple(entries),
                "unrecognised": tuple(self.unrecognised),
                "summary": summary,
            },
            REPORT_FIELDS,
        )


def replay_one(
    records: Iterable[Record],
    workflow: Workflow,
    dossier_id: str,
    source: str,
    attributes: FileAttributes,
) -> ReplayReport:
    """`etatmachine.replay.replay_records` once its arguments are checked (it checks them):
    this one takes them as they are."""
    replayer = _Replayer(workflow, dossier_id, source, _Setup(workflow, attributes))
    for record in records:
        replayer.feed(record)
    return replayer.report()


def replay_many(
    records: Iterable[Record], workflow: Workflow, source: str, attributes: FileAttributes
) -> Iterator[ReplayReport]:
    """`etatmachine.replay.iter_replays` once its arguments are checked (it checks them):
    one dossier per ``OUVERTURE`` record, held one at a time."""
    count = 0
    replayer: _Replayer | None = None
    setup = _Setup(workflow, attributes)
    for record in records:
        if replayer is None or _opens(record):
            if replayer is not None and (replayer.entries or replayer.unrecognised):
                yield replayer.report()
            count += 1
            replayer = _Replayer(workflow, f"{source}#{count}", source, setup)
        replayer.feed(record)
    if replayer is not None and (replayer.entries or replayer.unrecognised):
        yield replayer.report()
