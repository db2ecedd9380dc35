"""The judge: a catalogue compiled into move tables, and the verdict of every move.

`etatmachine.workflow.Workflow` is the public face: it checks what callers pass (raising
the library's argument errors, naming the argument) and hands the checked values to its
`Judge`, which builds the tables once and judges, applies and records moves. Every value a
`Judge` method receives is already checked; that is what lets the optional compiled core
(mypyc) compile this module whole, its annotations enforced, without changing an error a
caller sees.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple, cast

from pydantic import ValidationError

from etatmachine.build_info import runs_compiled
from etatmachine.business_calendar import PARIS, BusinessCalendar, CalendarConfig
from etatmachine.catalogue import Catalogue, DeadlineKind, StateKind, StateSpec
from etatmachine.deadlines import compute_due
from etatmachine.dossier import (
    EMPTY_DATA,
    NO_FLAGS,
    Actor,
    Dossier,
    EntryKind,
    FrozenData,
    HistoryEntry,
    JsonValue,
    evolve,
    trusted_dossier,
    trusted_entry,
)
from etatmachine.effects import ComplaintToOpen, Effect, SinappsAnomaly, SurveyorRelaunch
from etatmachine.errors import ArgumentValueError, MoveRefused
from etatmachine.labels import label_twins, resolve
from etatmachine.roles import Role
from etatmachine.rules import (
    LEAVE_CHECKS,
    RULES,
    Check,
    MoveContext,
    actor_may_enter,
    actor_may_leave,
    as_amount,
    run_check,
    violation,
)
from etatmachine.violations import Violation
from etatmachine.working import DossierView, WorkingDossier

__all__ = [
    "INPUT_RULES",
    "NO_DATA",
    "PLANS_MAX",
    "Change",
    "Judge",
    "Opening",
    "finish",
    "finish_in_place",
    "last_change",
    "out_of_order",
]


# The enum members the judge compares with, as constants: compiled, a constant is a C static
# where ``DeadlineKind.GIVEN`` is a lookup of the imported name and then of its member.
_GIVEN: Final = DeadlineKind.GIVEN
_NO_DEADLINE: Final = DeadlineKind.NONE
_TERMINAL: Final = StateKind.TERMINAL
_WAIT: Final = StateKind.WAIT
_OPERATIONAL: Final = StateKind.OPERATIONAL
_ENTRY_CLASS: Final = HistoryEntry


def _trusted_entry(
    kind: EntryKind,
    source: str | None,
    target: str,
    at: datetime,
    actor: Actor,
    comment: str | None,
    due_at: datetime | None,
    data: Mapping[str, JsonValue],
) -> HistoryEntry:
    """`etatmachine.dossier.trusted_entry` of the values the judge checked. Compiled, the
    slots are set here by ``object.__setattr__``, a direct C call (the frozen class refuses
    ``setattr``), where the interpreted function calls eight descriptor method wrappers:
    a judged move's entry costs 40 % less."""
    if not _COMPILED:
        return trusted_entry(kind, source, target, at, actor, comment, due_at, data)
    entry = _new(_ENTRY_CLASS)
    object.__setattr__(entry, "kind", kind)
    object.__setattr__(entry, "source", source)
    object.__setattr__(entry, "target", target)
    object.__setattr__(entry, "at", at)
    object.__setattr__(entry, "actor", actor)
    object.__setattr__(entry, "comment", comment)
    object.__setattr__(entry, "due_at", due_at)
    object.__setattr__(entry, "data", data)
    return entry


_new: Final = object.__new__
_COMPILED: Final = runs_compiled(_trusted_entry)


def last_change(dossier: DossierView) -> datetime | None:
    """``dossier.last_at``, read from its trail: for compiled callers, which would otherwise
    call the property through Python on every move."""
    history = dossier.history
    return history[-1].at if history else None


def _adopted_due(
    target: StateSpec, due: datetime | None, recorded_due: datetime | None
) -> datetime | None:
    """The due date of a refused opening brought in anyway: the one given, else the one the
    history recorded (a state that runs with a due date needs one of them)."""
    terminal = target.kind is _TERMINAL  # (``terminal`` is a property: read once)
    due_at = None if terminal else due if due is not None else recorded_due
    if due_at is None and not terminal:
        raise ArgumentValueError(
            "recorded_due", None, f"{target.code!r} runs with a due date: give the recorded one"
        )
    return due_at


class Opening(NamedTuple):
    """An opening judged: what `Workflow.open` raises on or applies, and `record_open`
    brings in either way."""

    target: StateSpec
    dossier: Dossier
    """The file being opened, before its opening entry."""
    violations: list[Violation]
    due_at: datetime | None
    values: Mapping[str, Any]
    comment: str | None


Change = tuple[dict[str, Any], HistoryEntry]
"""A change of a file: the fields it sets (not the history) and the entry it appends."""


def finish(dossier: Dossier, change: Change) -> Dossier:
    """The dossier after ``change``: a new value, the trail one entry longer."""
    updates, entry = change
    updates["history"] = (*dossier.history, entry)
    return evolve(dossier, updates)


def finish_in_place(work: WorkingDossier, change: Change) -> None:
    """Apply ``change`` to a working copy: set its fields, append the entry."""
    updates, entry = change
    for name, value in updates.items():
        setattr(work, name, value)
    work.history.append(entry)


def _plain(text: str | None) -> str | None:
    """Checked text as a plain ``str`` (a subclass's value, as validation would give it)."""
    return text if text is None or type(text) is str else str.__str__(text)


def _in_order(entry: HistoryEntry, last: datetime | None) -> HistoryEntry:
    """``entry`` as the trail keeps it: an entry dated before the file's last change (the
    judge reported it ``out_of_order``) is kept at that change's time, its own time in
    ``data["recorded_at"]``; a trail is in time order, whatever a history says."""
    if last is None or entry.at >= last:
        return entry
    data = {**entry.data, "recorded_at": entry.at.isoformat()}
    return _trusted_entry(
        entry.kind,
        entry.source,
        entry.target,
        last,
        entry.actor,
        entry.comment,
        entry.due_at,
        FrozenData(data),
    )


NO_DATA: Final[Mapping[str, Any]] = MappingProxyType({})
"""The data of a move given none."""
INPUT_RULES: Final = frozenset({"comment_required", "data_required", "appointment_too_far"})
"""Rules that depend on what the caller passes with a move, not on the file:
`Workflow.allowed_moves` reports them as needs rather than refusals."""

_RESOLVED_MAX = 4096
"""How many distinct codes and labels a workflow remembers `resolve`'s answer for."""
_RESOLVED_LABEL_MAX = 200
"""The longest label remembered: a 10 MB label is resolved, never kept."""
PLANS_MAX: Final = 4096
"""How many plans (a move's or allowed_moves' static verdicts, per key) a workflow keeps."""
_STATIC_CHECKS: Final[frozenset[Check]] = frozenset(
    {LEAVE_CHECKS["role_reserved"], actor_may_enter, actor_may_leave}
    | {
        check
        for code in (
            "role_reserved",
            "insurer_restricted",
            "flag_required",
            "channel_restricted",
            "contact_attempts_required",
        )
        if (check := RULES[code].check) is not None
    }
)
"""Checks that read only a plan key (never ``at``): judged once per key."""

_JudgeKey = tuple[str | None, str | None, str, Role, str | None, str | None, frozenset[str], int]
"""A move's plan key: source (None: an opening), interrupted, target, and what the static
checks read (the actor's role, insurer, channel, flags, failed contact attempts)."""
_JudgePlan = tuple[tuple[Violation, ...], tuple[Violation | tuple[Check, Any], ...]]
"""A move's graph violations, and in rule order the static checks' violations (found once
per key; the checks that passed are gone) and the checks to run per move."""


def out_of_order(target: StateSpec, at: datetime, last: datetime) -> Violation:
    """The violation of a move dated before the file's last change."""
    return violation(
        "out_of_order",
        target.code,
        f"Date {at.isoformat()} antérieure au dernier changement ({last.isoformat()}).",
        f"at {at.isoformat()} is earlier than the file's last change ({last.isoformat()}).",
    )


def _due_in_past(state: StateSpec, due: datetime, at: datetime) -> Violation:
    return violation(
        "due_in_past",
        state.code,
        f"L'échéance de « {state.label} » ({due.isoformat()}) doit être postérieure au "
        f"passage ({at.isoformat()}).",
        f"the due date of '{state.code}' ({due.isoformat()}) must come after the move "
        f"({at.isoformat()}).",
    )


def _json_value(value: Any) -> JsonValue:
    """How a move's datum is kept in history: JSON-exact (datetimes and NaN as text)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return cast("JsonValue", value)  # the common data first, by identity
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        # JSON has no NaN/inf: keep it as text so a round-trip is exact
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str | int):
        return value
    return str(value)


def _entry_data(values: Mapping[str, Any]) -> FrozenData:
    """A move's (or an opening's) data as its history entry keeps it."""
    return FrozenData({k: _json_value(v) for k, v in values.items()}) if values else EMPTY_DATA


_OUTCOMES = {
    "failed": FrozenData({"outcome": "failed"}),
    "reached": FrozenData({"outcome": "reached"}),
}


class Judge:
    """A catalogue's move tables and the verdicts of moves, for one `Workflow`.

    Built once per workflow; its caches (resolved labels, move plans, calendars) only grow,
    bounded, so it is safe to share between threads as the workflow is.
    """

    def __init__(self, catalogue: Catalogue, calendar: CalendarConfig) -> None:
        self.catalogue = catalogue
        self.calendar_config = calendar
        self.calendars: dict[str | None, BusinessCalendar] = {}
        self.calendar_lock = threading.Lock()
        # The move table: explicit targets, a wait's resumes (the step it interrupted) and its
        # onward moves (what that step could do next).
        self.explicit: dict[str, frozenset[str]] = {}
        self.resume: dict[str, frozenset[str]] = {}
        self.onward: dict[str, frozenset[str]] = {}
        for state in catalogue:
            explicit = frozenset(catalogue.moves_from(state.code))
            resume = catalogue.resume_targets(state.code) - explicit
            self.explicit[state.code] = explicit
            self.resume[state.code] = resume
            self.onward[state.code] = catalogue.onward_targets(state.code) - explicit - resume
        self.checks: dict[tuple[str | None, str | None, str], tuple[tuple[Check, Any], ...]] = {}
        for state in catalogue:
            self.checks[(None, None, state.code)] = self.bind_checks(None, state)
            for target in self.explicit[state.code] | self.resume[state.code]:
                self.checks[(state.code, None, target)] = self.bind_checks(
                    state, catalogue.state(target)
                )
        # Hot-path tables: states by code, resume moves, sorted targets, whether entering a
        # state resets the wait bookkeeping, and what `resolve` answered (codes, labels).
        self.states: dict[str, StateSpec] = {s.code: s for s in catalogue}
        self.target_sets = {
            code: self.explicit[code] | self.resume[code] | self.onward[code]
            for code in self.states
        }
        self.sorted_targets = {code: tuple(sorted(self.target_sets[code])) for code in self.states}
        self.resolved: dict[str, StateSpec] = {}
        self.twins = label_twins(catalogue)
        self.judged: dict[_JudgeKey, _JudgePlan] = {}
        self.locked = frozenset(s.code for s in catalogue if s.rule("due_date_locked"))
        self.first_initial = next(s for s in catalogue if s.initial)  # checked: one exists

    def bind_checks(
        self, source: StateSpec | None, target: StateSpec, via: StateSpec | None = None
    ) -> tuple[tuple[Check, Any], ...]:
        """The checks of one move, in a fixed order: who may leave and who may enter, the
        rules of leaving, the move's own (``via``: the interrupted step whose move a wait
        takes onward), entering. A `role_reserved` rule stands for the authority it covers."""
        checks: list[tuple[Check, Any]] = []
        authority = self.catalogue.authority
        if source is not None:
            reserved = source.rule("role_reserved")
            if not target.interrupts and not (reserved is not None and reserved.leave):
                checks.append((actor_may_leave, authority(source.code)))
        if target.rule("role_reserved") is None:
            checks.append((actor_may_enter, authority(target.code)))
        if source is not None:
            for ref in source.rules:
                leave = LEAVE_CHECKS.get(ref.code)
                if leave is not None and getattr(ref, "leave", False):
                    checks.append((leave, ref))
            move = self.catalogue.moves_from(source.code).get(target.code)
            if move is None and via is not None:
                move = self.catalogue.moves_from(via.code).get(target.code)
            for ref in move.rules if move else ():
                check = RULES[ref.code].check
                if check is not None:
                    checks.append((check, ref))
        for ref in target.rules:
            if ref.code == "deadline_passed" and source is None:
                continue  # a chase needs a running deadline to be judged against
            check = RULES[ref.code].check
            if check is not None:
                checks.append((check, ref))
        return tuple(checks)

    def state(self, code_or_label: str, role: Role | None = None) -> StateSpec:
        """`Workflow.state` once its argument is checked text: the state a code or a label
        names, remembered; with ``role``, the twin state that role may set."""
        state = self.resolved.get(code_or_label)
        if state is None:
            state = resolve(code_or_label, self.catalogue)
            if len(self.resolved) < _RESOLVED_MAX and len(code_or_label) <= _RESOLVED_LABEL_MAX:
                self.resolved[code_or_label] = state
        if role is not None and state.code in self.twins:
            authority = self.catalogue.authority
            if role not in authority(state.code).enter:
                for twin in self.twins[state.code]:
                    if role in authority(twin).enter:
                        return self.states[twin]
        return state

    def calendar(self, subdivision: str | None) -> BusinessCalendar:
        """The business calendar of a subdivision (None: the default), built once; an
        unknown subdivision is an `ArgumentValueError` naming it."""
        cal = self.calendars.get(subdivision)
        if cal is None:
            with self.calendar_lock:
                cal = self.calendars.get(subdivision)
                if cal is None:
                    config = self.calendar_config
                    if subdivision is not None:
                        config = config.model_copy(update={"subdivision": subdivision})
                        try:
                            config = CalendarConfig.model_validate(config.model_dump())
                        except ValidationError as exc:
                            reason = exc.errors(include_url=False)[0]["msg"]
                            raise ArgumentValueError("subdivision", subdivision, reason) from None
                    cal = self.calendars[subdivision] = BusinessCalendar(config)
        return cal

    def insurer_code(self, name: str | None) -> str | None:
        """The catalogue's code of an insurer name (``AZ``, ``Allianz`` -> ``ALLIANZ``);
        a name the catalogue does not know is kept, upper-cased."""
        if name is None or not name.strip():
            return None
        known = self.catalogue.insurer(name)
        return known.code if known is not None else name.strip().upper()

    def channel_code(self, name: str | None) -> str | None:
        """The catalogue's code of a channel name (``Sinapps`` -> ``sinapps``)."""
        if name is None or not name.strip():
            return None
        known = self.catalogue.channel(name)
        return known.code if known is not None else name.strip().lower()

    @staticmethod
    def quote_amount(target: StateSpec, data: Mapping[str, Any]) -> Decimal | None:
        """The quote amount a move into ``target`` carries (None if none or not valid:
        the judge reports an invalid one)."""
        if "quote_amount" not in target.carries or "quote_amount" not in data:
            return None
        amount = as_amount(data["quote_amount"])
        return None if isinstance(amount, str) else amount

    def graph(
        self, dossier: DossierView, source: StateSpec, target: StateSpec
    ) -> tuple[tuple[tuple[Check, Any], ...], list[Violation]]:
        """The checks of a move from ``source``, and its graph violations (not in the
        catalogue, file closed, or a wait leaving for a step the interrupted one could not
        take)."""
        code = target.code
        checks = self.checks.get((source.code, None, code))
        if checks is not None and code in self.explicit[source.code]:
            return checks, []
        back_to = dossier.interrupted
        if checks is not None and (back_to is None or back_to == code):
            return checks, []  # a resume (to the interrupted step, or any when unknown)
        if code in self.resume[source.code] or code in self.onward[source.code]:
            if back_to is None:  # opened mid-flow in the wait: any step it may interrupt
                via = min(
                    i
                    for i in self.catalogue.resume_targets(source.code)
                    if code in self.explicit[i]
                )
            elif code in self.explicit.get(back_to, ()):
                via = back_to
            else:
                return self.checks[(None, None, code)], [
                    violation(
                        "move_not_allowed",
                        source.code,
                        f"« {source.label} » reprend l'étape interrompue ({back_to}) ou l'un "
                        f"de ses passages, pas « {target.label} ».",
                        f"'{source.code}' resumes the step it interrupted ('{back_to}') or "
                        f"takes one of its moves, not '{code}'.",
                    )
                ]
            key = (source.code, via, code)
            checks = self.checks.get(key)
            if checks is None:
                checks = self.checks[key] = self.bind_checks(source, target, self.states[via])
            return checks, []
        checks = self.checks[(None, None, code)]  # still report the target's rules
        if source.kind is _TERMINAL:
            return checks, [
                violation(
                    "move_not_allowed",
                    source.code,
                    f"Le dossier est clos (« {source.label} ») : aucun passage possible.",
                    f"the file is closed ('{source.code}'): no move is possible.",
                )
            ]
        return checks, [
            violation(
                "move_not_allowed",
                source.code,
                f"Passage non prévu : « {source.label} » → « {target.label} ».",
                f"no move from '{source.code}' to '{code}' in the catalogue.",
            )
        ]

    def judge(
        self,
        dossier: DossierView,
        target: StateSpec,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        data: Mapping[str, Any],
        *,
        opening: bool = False,
        inputs: bool = True,
    ) -> tuple[list[Violation], datetime | None, list[Effect]]:
        """Every violation of a move, the due date it would set, and refusal effects."""
        refusal_effects: list[Effect] = []
        if opening:
            source = None
            key: _JudgeKey = (
                None,
                None,
                target.code,
                actor.role,
                dossier.insurer,
                dossier.channel,
                dossier.flags,
                dossier.contact_attempts,
            )
        else:
            state = dossier.state
            source = self.states.get(state)
            if source is None:
                source = self.catalogue.state(state)  # raises UnknownStateError
                state = source.code
            key = (
                state,
                dossier.interrupted,
                target.code,
                actor.role,
                dossier.insurer,
                dossier.channel,
                dossier.flags,
                dossier.contact_attempts,
            )
        plan = self.judged.get(key)
        if plan is None:
            plan = self.judge_plan(dossier, source, target, actor, at)
            if len(self.judged) >= PLANS_MAX:
                self.judged.clear()
            self.judged[key] = plan
        head, slots = plan
        violations = list(head)
        last = last_change(dossier)
        if last is not None and at < last:
            violations.append(out_of_order(target, at, last))
        ctx: MoveContext | None = None
        for slot in slots:
            if type(slot) is not tuple:  # a violation the plan found (`judge_plan`)
                violations.append(slot)  # type: ignore[arg-type]
                continue
            check, ref = slot
            if not inputs and ref.code in INPUT_RULES:
                continue
            if ctx is None:
                local_day = at.astimezone(PARIS).date()
                ctx = MoveContext(dossier, source, target, actor, at, local_day, comment, due, data)
            found = run_check(check, ref, ctx)
            if found is not None:
                violations.append(found)
                if found.rule == "deadline_passed" and getattr(ref, "complaint", False):
                    assert dossier.due_at is not None
                    refusal_effects.append(
                        ComplaintToOpen(
                            dossier_id=dossier.id,
                            state=dossier.state,
                            at=at,
                            overdue_since=dossier.due_at,
                            reason=found.message_en,
                        )
                    )
        deadline = target.deadline
        if due is not None:
            violations.extend(self.due_given(target, due, at, reschedule=False))
        if "quote_amount" in data and "quote_amount" in target.carries:
            amount = as_amount(data["quote_amount"])
            if isinstance(amount, str):
                violations.append(
                    violation(
                        "data_required",
                        target.code,
                        f"« {target.label} » : donnée quote_amount invalide ({amount}).",
                        f"'{target.code}': data field quote_amount is invalid: {amount}.",
                    )
                )
        calendar = self.calendars.get(dossier.subdivision)
        if calendar is None:
            calendar = self.calendar(dossier.subdivision)
        due_at = compute_due(
            deadline,
            at,
            calendar,
            current_due=dossier.due_at,
            given=due,
            data=data,
        )
        if (
            due_at is None
            and deadline.kind is _GIVEN
            and inputs
            and not any(v.rule == "data_required" for v in violations)
        ):
            field = deadline.data_key or "due"
            violations.append(
                violation(
                    "data_required",
                    target.code,
                    f"« {target.label} » exige une échéance ({field}).",
                    f"'{target.code}' needs its due date given ({field}).",
                )
            )
        elif (
            due is None
            and due_at is not None
            and deadline.kind is _GIVEN
            and due_at <= at
            and inputs
        ):
            violations.append(_due_in_past(target, due_at, at))
        return violations, due_at, refusal_effects

    def judge_plan(
        self,
        dossier: DossierView,
        source: StateSpec | None,
        target: StateSpec,
        actor: Actor,
        at: datetime,
    ) -> _JudgePlan:
        """The part of a move's verdict that only its plan key decides (`_JudgeKey`)."""
        if source is None:
            checks = self.checks[(None, None, target.code)]
            head: list[Violation] = []
        else:
            checks, head = self.graph(dossier, source, target)
        local_day = at.astimezone(PARIS).date()
        ctx = MoveContext(dossier, source, target, actor, at, local_day, None, None, NO_DATA)
        slots: list[Violation | tuple[Check, Any]] = []
        for check, ref in checks:
            if check in _STATIC_CHECKS:
                found = check(ref, ctx)
                if found is not None:
                    slots.append(found)
            else:
                slots.append((check, ref))
        return tuple(head), tuple(slots)

    def due_given(
        self, state: StateSpec, due: datetime, at: datetime, *, reschedule: bool
    ) -> list[Violation]:
        """What is wrong with giving ``due`` to ``state`` at ``at``: at a move (``due=``) or as
        a reschedule, where a locked due date may not change at all."""
        deadline = state.deadline
        locked = state.code in self.locked
        if deadline.kind is _NO_DEADLINE:
            return [
                violation(
                    "due_not_overridable",
                    state.code,
                    f"« {state.label} » est un état final : pas d'échéance.",
                    f"'{state.code}' is a closing state: it takes no due date.",
                )
            ]
        out: list[Violation] = []
        if reschedule and locked:
            out.append(
                violation(
                    "due_date_locked",
                    state.code,
                    f"Il ne faut pas changer l'échéance de « {state.label} » : elle sert à "
                    "suivre le retard.",
                    f"the due date of '{state.code}' is locked: it is the reference for lateness.",
                )
            )
        elif not (deadline.overridable or deadline.kind is _GIVEN):
            code = "due_date_locked" if locked else "due_not_overridable"
            out.append(
                violation(
                    code,
                    state.code,
                    f"L'échéance de « {state.label} » est calculée ({deadline.figure}) "
                    "et ne se saisit pas.",
                    f"the due date of '{state.code}' is computed ({deadline.figure}); "
                    "none may be given.",
                )
            )
        if due <= at:
            out.append(_due_in_past(state, due, at))
        return out

    def effects(
        self,
        dossier: DossierView,
        target: StateSpec,
        at: datetime,
        comment: str | None,
        due_at: datetime | None,
    ) -> tuple[Effect, ...]:
        """What entering ``target`` owes the world (a surveyor relaunch, a Sinapps anomaly)."""
        out: list[Effect] = []
        for effect in target.effects:
            if effect.kind == "relaunch_surveyor":
                out.append(
                    SurveyorRelaunch(dossier_id=dossier.id, state=target.code, at=at, due_at=due_at)
                )
            elif effect.kind == "sinapps_anomaly" and dossier.channel == "sinapps":
                out.append(
                    SinappsAnomaly(dossier_id=dossier.id, state=target.code, at=at, comment=comment)
                )
        return tuple(out)

    def opening(
        self,
        dossier_id: str,
        target: StateSpec,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        values: Mapping[str, Any],
        insurer: str | None,
        channel: str | None,
        subdivision: str | None,
        contractor: str | None,
        flags: frozenset[str],
        limit: Decimal | None,
        mid_flow: bool,
    ) -> Opening:
        """An opening judged, its arguments checked (`Workflow.open` and `record_open`)."""
        # every value is checked (check_open, check_texts, as_amount, the codes): the
        # dossier and its opening entry are built as the move path builds them
        dossier = trusted_dossier(
            self._opening_fields(
                dossier_id, target, values, insurer, channel, subdivision, contractor, flags, limit
            )
        )
        violations, due_at = self._judge_opening(
            dossier, target, actor, at, comment, due, values, mid_flow
        )
        return Opening(target, dossier, violations, due_at, values, comment)

    def _opening_fields(
        self,
        dossier_id: str,
        target: StateSpec,
        values: Mapping[str, Any],
        insurer: str | None,
        channel: str | None,
        subdivision: str | None,
        contractor: str | None,
        flags: frozenset[str],
        limit: Decimal | None,
    ) -> dict[str, Any]:
        """The fields of a file about to be opened in ``target`` (every one, in order)."""
        return {
            "id": _plain(dossier_id),
            "state": target.code,
            "due_at": None,
            "version": 0,
            "insurer": self.insurer_code(insurer),
            "channel": self.channel_code(channel),
            "subdivision": _plain(subdivision),
            "contractor": _plain(contractor),
            "flags": frozenset([_plain(f) for f in flags]) if flags else NO_FLAGS,
            "contact_attempts": 0,
            "autonomy_limit": limit,
            "quote_amount": self.quote_amount(target, values) if target.carries else None,
            "interrupted": None,
            "history": (),
        }

    def _judge_opening(
        self,
        dossier: DossierView,
        target: StateSpec,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        values: Mapping[str, Any],
        mid_flow: bool,
    ) -> tuple[list[Violation], datetime | None]:
        """The rules an opening of ``dossier`` breaks, and the due date it sets."""
        violations, due_at, _ = self.judge(
            dossier, target, actor, at, comment, due, values, opening=True
        )
        if not (target.initial or mid_flow):
            initial = ", ".join(s.code for s in self.catalogue if s.initial)
            violations.insert(
                0,
                violation(
                    "move_not_allowed",
                    target.code,
                    f"Un dossier ne s'ouvre pas en « {target.label} » (ouvertures : {initial}).",
                    f"a file cannot be opened in '{target.code}' (initial states: {initial}).",
                ),
            )
        return violations, due_at

    def opened(
        self, opening: Opening, actor: Actor, at: datetime
    ) -> tuple[Dossier, tuple[Effect, ...]]:
        """The dossier an accepted opening gives, and its effects."""
        target, dossier, _, due_at, values, comment = opening
        entry = _trusted_entry(
            "open", None, target.code, at, actor, comment, due_at, _entry_data(values)
        )
        opened = evolve(dossier, {"due_at": due_at, "history": (entry,)})
        return opened, self.effects(opened, target, at, comment, due_at)

    def recorded_opening(
        self,
        opening: Opening,
        actor: Actor,
        at: datetime,
        due: datetime | None,
        recorded_due: datetime | None,
    ) -> tuple[Dossier, tuple[Effect, ...], tuple[Violation, ...]]:
        """An opening that already happened, its arguments checked (`Workflow.record_open`):
        the dossier, its effects and the rules the opening broke. Where it broke some, the file
        comes in as the history has it: due ``due`` (else ``recorded_due``, the date the
        history wrote), without the refused opening's data, owing nothing."""
        if not opening.violations:
            dossier, effects = self.opened(opening, actor, at)
            return dossier, effects, ()
        target = opening.target
        due_at = _adopted_due(target, due, recorded_due)
        entry = _trusted_entry(
            "open", None, target.code, at, actor, opening.comment, due_at, EMPTY_DATA
        )
        adopted = evolve(
            opening.dossier, {"due_at": due_at, "quote_amount": None, "history": (entry,)}
        )
        return adopted, (), tuple(opening.violations)

    def opened_in_place(
        self,
        dossier_id: str,
        target: StateSpec,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        values: Mapping[str, Any],
        recorded_due: datetime | None,
        insurer: str | None,
        channel: str | None,
        subdivision: str | None,
        contractor: str | None,
        flags: frozenset[str],
        limit: Decimal | None,
        mid_flow: bool,
    ) -> tuple[WorkingDossier, tuple[Violation, ...], datetime | None]:
        """`opening` then `recorded_opening` (the same verdict, the same file), made as a
        working copy: no immutable dossier is built on the way (the replay opens a file per
        dossier of an archive); the effects are not built (the replay performs none). Also
        the due date the procedure gives the opening, which a refused one does not keep."""
        work = WorkingDossier.from_fields(
            self._opening_fields(
                dossier_id, target, values, insurer, channel, subdivision, contractor, flags, limit
            )
        )
        violations, judged = self._judge_opening(
            work, target, actor, at, comment, due, values, mid_flow
        )
        due_at = judged
        if violations:
            due_at = _adopted_due(target, due, recorded_due)
            work.quote_amount = None
            data = EMPTY_DATA
        else:
            data = _entry_data(values)
        work.due_at = due_at
        work.history = [_trusted_entry("open", None, target.code, at, actor, comment, due_at, data)]
        return work, tuple(violations), judged

    def recorded(
        self,
        dossier: DossierView,
        to: str,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        data: Mapping[str, Any] | None,
    ) -> tuple[Change, tuple[Effect, ...], tuple[Violation, ...]]:
        """A move that already happened, its arguments checked: the change it makes (applied
        whatever it broke), the effects it owes and the rules it broke (`Workflow.record`)."""
        target = self.state(to)
        values = data if data is not None else NO_DATA
        code = target.code  # (each attribute of a pydantic model read once: three type lookups)
        deadline = target.deadline
        if code == dossier.state and code not in self.explicit[code]:
            # the same action date set again: the step goes on, maybe with another due date
            # (a given one: an appointment or a delivery the data carries)
            if due is None and deadline.kind is _GIVEN:
                due = compute_due(deadline, at, self.calendar(dossier.subdivision), data=values)
            changed = due if due is not None and due != dossier.due_at else None
            found = self.reschedule_violations(dossier, changed, actor, at, None)
            new_due = changed or dossier.due_at
            updates, entry = self.rescheduled(dossier, new_due, actor, at, comment)
            return (updates, _in_order(entry, last_change(dossier))), (), tuple(found)
        violations, due_at, owed = self.judge(dossier, target, actor, at, comment, due, values)
        if due_at is None and deadline.kind is not _NO_DEADLINE:
            due_at = due
        (updates, entry), effects = self.apply(dossier, target, actor, at, comment, due_at, values)
        change = updates, _in_order(entry, last_change(dossier))
        if owed:  # what the refusal would have asked (a complaint to open) is owed all the same
            effects = (*effects, *owed)
        return change, effects, tuple(violations)

    def apply(
        self,
        dossier: DossierView,
        target: StateSpec,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due_at: datetime | None,
        values: Mapping[str, Any],
    ) -> tuple[Change, tuple[Effect, ...]]:
        """The change an accepted (or recorded) move makes: the fields it sets and its entry,
        and the effects it owes."""
        source = dossier.state
        code = target.code
        if target.kind is _WAIT:
            interrupted = (
                source if self.states[source].kind is _OPERATIONAL else dossier.interrupted
            )
            attempts = dossier.contact_attempts
        else:
            interrupted = None
            attempts = 0
        entry = _trusted_entry(
            "move", source, code, at, actor, comment, due_at, _entry_data(values)
        )
        updates: dict[str, Any] = {
            "state": code,
            "due_at": due_at,
            "version": dossier.version + 1,
            "interrupted": interrupted,
            "contact_attempts": attempts,
        }
        if values and target.carries:
            amount = self.quote_amount(target, values)
            if amount is not None:
                updates["quote_amount"] = amount
        if not target.effects:  # the effects read the file's id and channel: a move keeps them
            return (updates, entry), ()
        return (updates, entry), self.effects(dossier, target, at, comment, due_at)

    def reschedule_violations(
        self,
        dossier: DossierView,
        due: datetime | None,
        actor: Actor,
        at: datetime,
        comment: str | None,
    ) -> list[Violation]:
        """What is wrong with changing the current due date to ``due`` at ``at`` (None: the
        same state set again without one)."""
        state = self.states.get(dossier.state) or self.catalogue.state(dossier.state)
        violations: list[Violation] = []
        if state.kind is _TERMINAL:
            return [
                violation(
                    "move_not_allowed",
                    state.code,
                    "Le dossier est clos.",
                    "the file is closed: nothing to reschedule.",
                )
            ]
        local_day = at.astimezone(PARIS).date()
        ctx = MoveContext(dossier, state, state, actor, at, local_day, comment, due, NO_DATA)
        reserved = state.rule("role_reserved")
        if reserved is not None:  # the same check as leaving the state: touching it at all
            found = LEAVE_CHECKS["role_reserved"](reserved, ctx)
        else:
            found = actor_may_leave(self.catalogue.authority(state.code), ctx)
        if found is not None:
            violations.append(found)
        if due is not None:
            violations.extend(self.due_given(state, due, at, reschedule=True))
        last = last_change(dossier)
        if last is not None and at < last:
            violations.append(out_of_order(state, at, last))
        return violations

    def rescheduled(
        self,
        dossier: DossierView,
        due: datetime | None,
        actor: Actor,
        at: datetime,
        comment: str | None,
    ) -> Change:
        """The change a reschedule makes: the new due date, one more version, its entry."""
        entry = _trusted_entry(
            "reschedule", dossier.state, dossier.state, at, actor, comment, due, EMPTY_DATA
        )
        return {"due_at": due, "version": dossier.version + 1}, entry

    def contact(
        self,
        dossier: DossierView,
        actor: Actor,
        at: datetime,
        comment: str | None,
        outcome: Literal["failed", "reached"],
    ) -> Change:
        """The change a call to the insured makes, its arguments checked: a failed one counts
        towards « Client injoignable », a reached one starts the count again."""
        state = self.states.get(dossier.state) or self.catalogue.state(dossier.state)
        last = last_change(dossier)
        if last is not None and at < last:
            raise MoveRefused(
                dossier.id, dossier.state, dossier.state, [out_of_order(state, at, last)]
            )
        entry = _trusted_entry(
            "contact_attempt",
            dossier.state,
            dossier.state,
            at,
            actor,
            comment,
            dossier.due_at,
            _OUTCOMES[outcome],
        )
        attempts = dossier.contact_attempts + 1 if outcome == "failed" else 0
        return {"contact_attempts": attempts, "version": dossier.version + 1}, entry
