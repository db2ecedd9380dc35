"""The machine: a catalogue compiled once into move tables with bound rule checks.

Dossiers are immutable values: a move returns a new dossier (``version + 1``, one more
history entry) plus the effects the caller should perform. Every move the catalogue
declares (explicit and group moves, a wait's resume and onward moves) is judged here, with
each move's checks bound once: who may act (``actor_not_allowed``), then the rules of the
state left, of the move and of the state entered. `etatmachine.binding` puts the same
verdicts behind a shared `transitions` machine for services that keep their own objects.

>>> from datetime import datetime
>>> from etatmachine import Actor, Role, Workflow
>>> from etatmachine.business_calendar import PARIS
>>> wf = Workflow.default()
>>> contractor = Actor(role=Role.CONTRACTOR, id="995")
>>> d, _ = wf.open("D-1", actor=contractor, at=datetime(2023, 1, 20, 15, 4, tzinfo=PARIS))
>>> d.state, d.due_at.isoformat()
('contact_client_devis', '2023-01-23T15:04:00+01:00')
>>> d, _ = wf.move(d, "Première visite", actor=contractor,
...                at=datetime(2023, 1, 21, 9, 0, tzinfo=PARIS),
...                data={"appointment_at": datetime(2023, 1, 25, 9, 0, tzinfo=PARIS)})
>>> d.state, d.version, len(d.history)
('premiere_visite', 1, 2)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from etatmachine.arguments import check_label, check_move, check_open, check_texts
from etatmachine.business_calendar import (
    PARIS,
    BusinessCalendar,
    CalendarConfig,
    check_instant,
    require_aware,
)
from etatmachine.catalogue import (
    Catalogue,
    DeadlineKind,
    StateKind,
    StateSpec,
    default_catalogue,
    load_catalogue,
)
from etatmachine.deadlines import compute_due
from etatmachine.dossier import (
    EMPTY_DATA,
    NO_FLAGS,
    Actor,
    Dossier,
    FrozenData,
    HistoryEntry,
    JsonValue,
    evolve,
    trusted_dossier,
    trusted_entry,
)
from etatmachine.effects import ComplaintToOpen, Effect, SinappsAnomaly, SurveyorRelaunch
from etatmachine.errors import ArgumentTypeError, ArgumentValueError, MoveRefused
from etatmachine.labels import label_twins, resolve
from etatmachine.lateness import DossierLateness, dossier_lateness
from etatmachine.roles import Role
from etatmachine.rules import (
    LEAVE_CHECKS,
    RULES,
    Check,
    MoveContext,
    actor_may_enter,
    actor_may_leave,
    as_amount,
    violation,
)
from etatmachine.violations import Violation
from etatmachine.working import DossierView, WorkingDossier

__all__ = ["Moved", "Recorded", "Verdict", "Workflow"]


class Moved(NamedTuple):
    """What an accepted move returns: the new dossier and the effects to perform."""

    dossier: Dossier
    effects: tuple[Effect, ...]


class Recorded(NamedTuple):
    """What `Workflow.record_in_place` did to a working copy: the entry it appended (a
    ``move``, or a ``reschedule`` for the same state set again), the effects the move owes
    and the rules it broke."""

    entry: HistoryEntry
    effects: tuple[Effect, ...]
    violations: tuple[Violation, ...]


class _Opening(NamedTuple):
    target: StateSpec
    dossier: Dossier
    """The file being opened, before its opening entry."""
    violations: list[Violation]
    due_at: datetime | None
    values: Mapping[str, Any]
    comment: str | None


_Change = tuple[dict[str, Any], HistoryEntry]
"""A change of a file: the fields it sets (not the history) and the entry it appends."""


def _finish(dossier: Dossier, change: _Change) -> Dossier:
    """The dossier after ``change``: a new value, the trail one entry longer."""
    updates, entry = change
    updates["history"] = (*dossier.history, entry)
    return evolve(dossier, updates)


def _finish_in_place(work: WorkingDossier, change: _Change) -> None:
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
    return trusted_entry(
        entry.kind,
        entry.source,
        entry.target,
        last,
        entry.actor,
        entry.comment,
        entry.due_at,
        FrozenData(data),
    )


def _working(work: Any) -> WorkingDossier:
    if type(work) is not WorkingDossier:
        raise ArgumentTypeError("work", work, "a WorkingDossier (WorkingDossier(dossier))")
    return work


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a move is allowed now, and what it still needs (comment, data fields)."""

    target: str
    allowed: bool
    violations: tuple[Violation, ...]
    needs: tuple[str, ...]
    """Inputs the move will require: ``comment``, ``due`` or data field names."""


_NO_DATA: Mapping[str, Any] = MappingProxyType({})
# Rules that depend on what the caller passes with a move, not on the file: allowed_moves
# reports them as needs rather than refusals.
_INPUT_RULES = frozenset({"comment_required", "data_required", "appointment_too_far"})


_RESOLVED_MAX = 4096
"""How many distinct codes and labels a workflow remembers `resolve`'s answer for."""
_RESOLVED_LABEL_MAX = 200
"""The longest label remembered: a 10 MB label is resolved, never kept."""
_PLANS_MAX = 4096
"""How many allowed_moves plans (state, actor role, file attributes) a workflow keeps."""
_STATIC_CHECKS: frozenset[Check] = frozenset(
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
"""Checks that read only the plan key of `Workflow.allowed_moves` (never ``at``)."""

_PlanKey = tuple[str, str | None, Role, str | None, str | None, frozenset[str], int]


_JudgeKey = tuple[str | None, str | None, str, Role, str | None, str | None, frozenset[str], int]
"""A move's plan key: source (None: an opening), interrupted, target, and what the static
checks read (the actor's role, insurer, channel, flags, failed contact attempts)."""
_JudgePlan = tuple[tuple[Violation, ...], tuple[Violation | tuple[Check, Any], ...]]
"""A move's graph violations, and in rule order the static checks' violations (found once
per key; the checks that passed are gone) and the checks to run per move."""


class _TargetPlan(NamedTuple):
    code: str
    target: StateSpec
    head: tuple[Violation, ...]
    """The graph violations (a resume to another step)."""
    slots: tuple[Violation | tuple[Check, Any], ...]
    """In rule order: a violation found once for the key, or a check to run per call."""
    needs: tuple[str, ...]
    verdict: Verdict | None
    """The whole verdict when nothing depends on ``at`` (and the move is not late)."""


def _out_of_order(target: StateSpec, at: datetime, last: datetime) -> Violation:
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
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # JSON has no NaN/inf: keep it as text so a round-trip is exact
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class Workflow:
    """A compiled catalogue: judges, applies and explains moves on dossiers.

    Immutable and thread-safe once built; build one per catalogue and share it.
    """

    def __init__(self, catalogue: Catalogue, *, calendar: CalendarConfig | None = None) -> None:
        self.catalogue = catalogue
        self.calendar_config = calendar or CalendarConfig()
        self._calendars: dict[str | None, BusinessCalendar] = {}
        self._calendar_lock = threading.Lock()
        # The move table: explicit targets, a wait's resumes (the step it interrupted) and its
        # onward moves (what that step could do next).
        self._explicit: dict[str, frozenset[str]] = {}
        self._resume: dict[str, frozenset[str]] = {}
        self._onward: dict[str, frozenset[str]] = {}
        for state in catalogue:
            explicit = frozenset(catalogue.moves_from(state.code))
            resume = catalogue.resume_targets(state.code) - explicit
            self._explicit[state.code] = explicit
            self._resume[state.code] = resume
            self._onward[state.code] = catalogue.onward_targets(state.code) - explicit - resume
        self._checks: dict[tuple[str | None, str | None, str], tuple[tuple[Check, Any], ...]] = {}
        for state in catalogue:
            self._checks[(None, None, state.code)] = self._bind(None, state)
            for target in self._explicit[state.code] | self._resume[state.code]:
                self._checks[(state.code, None, target)] = self._bind(
                    state, catalogue.state(target)
                )
        # Hot-path tables: states by code, resume moves, sorted targets, whether entering a
        # state resets the wait bookkeeping, and what `resolve` answered (codes, labels).
        self._states: dict[str, StateSpec] = {s.code: s for s in catalogue}
        self._targets = {
            code: self._explicit[code] | self._resume[code] | self._onward[code]
            for code in self._states
        }
        self._sorted_targets = {code: tuple(sorted(self._targets[code])) for code in self._states}
        self._resolved: dict[str, StateSpec] = {}
        self._twins = label_twins(catalogue)
        self._plans: dict[_PlanKey, tuple[_TargetPlan, ...]] = {}
        self._judged: dict[_JudgeKey, _JudgePlan] = {}
        self._locked = frozenset(s.code for s in catalogue if s.rule("due_date_locked"))

    # -- construction -----------------------------------------------------------------

    @classmethod
    def default(cls, *, calendar: CalendarConfig | None = None) -> Workflow:
        """The workflow of the bundled procedure (built once per calendar config)."""
        key = calendar or CalendarConfig()
        with _DEFAULT_LOCK:
            wf = _DEFAULTS.get(key)
            if wf is None:
                wf = _DEFAULTS[key] = cls(default_catalogue(), calendar=key)
        return wf

    @classmethod
    def from_file(cls, path: str | Path, *, calendar: CalendarConfig | None = None) -> Workflow:
        """A workflow from a user's catalogue file (TOML or JSON), checked when loaded."""
        return cls(load_catalogue(path), calendar=calendar)

    def _bind(
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

    # -- lookups ----------------------------------------------------------------------

    def state(self, code_or_label: str, *, role: Role | None = None) -> StateSpec:
        """The state a code or a label names (see `etatmachine.labels.resolve`).

        ``role``: who sets it. Where two states share a label (« En attente de fourniture »
        is also customer service's complaint state), the one this role may set.
        """
        state = self._resolved.get(code_or_label) if type(code_or_label) is str else None
        if state is None:
            state = resolve(check_label(code_or_label, "label"), self.catalogue)
            if len(self._resolved) < _RESOLVED_MAX and len(code_or_label) <= _RESOLVED_LABEL_MAX:
                self._resolved[code_or_label] = state
        if role is not None and state.code in self._twins:
            authority = self.catalogue.authority
            if role not in authority(state.code).enter:
                for twin in self._twins[state.code]:
                    if role in authority(twin).enter:
                        return self._states[twin]
        return state

    def calendar(self, subdivision: str | None = None) -> BusinessCalendar:
        """The business calendar of a subdivision (None: the workflow's default)."""
        cal = self._calendars.get(subdivision)
        if cal is None:
            with self._calendar_lock:
                cal = self._calendars.get(subdivision)
                if cal is None:
                    config = self.calendar_config
                    if subdivision is not None:
                        config = config.model_copy(update={"subdivision": subdivision})
                        try:
                            config = CalendarConfig.model_validate(config.model_dump())
                        except ValidationError as exc:
                            reason = exc.errors(include_url=False)[0]["msg"]
                            raise ArgumentValueError("subdivision", subdivision, reason) from None
                    cal = self._calendars[subdivision] = BusinessCalendar(config)
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
    def _quote_amount(target: StateSpec, data: Mapping[str, Any]) -> Decimal | None:
        """The quote amount a move into ``target`` carries (None if none or not valid:
        the judge reports an invalid one)."""
        if "quote_amount" not in target.carries or "quote_amount" not in data:
            return None
        amount = as_amount(data["quote_amount"])
        return None if isinstance(amount, str) else amount

    def targets(self, code: str) -> frozenset[str]:
        """Every state a file in ``code`` may move to: explicit moves, and for a wait the
        steps it may have interrupted and their moves (at run time, only the interrupted
        step's)."""
        return self._targets[code]

    # -- judging ----------------------------------------------------------------------

    def _graph(
        self, dossier: DossierView, source: StateSpec, target: StateSpec
    ) -> tuple[tuple[tuple[Check, Any], ...], list[Violation]]:
        """The checks of a move from ``source``, and its graph violations (not in the
        catalogue, file closed, or a wait leaving for a step the interrupted one could not
        take)."""
        code = target.code
        checks = self._checks.get((source.code, None, code))
        if checks is not None and code in self._explicit[source.code]:
            return checks, []
        back_to = dossier.interrupted
        if checks is not None and (back_to is None or back_to == code):
            return checks, []  # a resume (to the interrupted step, or any when unknown)
        if code in self._resume[source.code] or code in self._onward[source.code]:
            if back_to is None:  # opened mid-flow in the wait: any step it may interrupt
                via = min(
                    i
                    for i in self.catalogue.resume_targets(source.code)
                    if code in self._explicit[i]
                )
            elif code in self._explicit.get(back_to, ()):
                via = back_to
            else:
                return self._checks[(None, None, code)], [
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
            checks = self._checks.get(key)
            if checks is None:
                checks = self._checks[key] = self._bind(source, target, self._states[via])
            return checks, []
        checks = self._checks[(None, None, code)]  # still report the target's rules
        if source.terminal:
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

    def _judge(
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
            source = self._states.get(dossier.state)
            if source is None:
                source = self.catalogue.state(dossier.state)  # raises UnknownStateError
            key = (
                source.code,
                dossier.interrupted,
                target.code,
                actor.role,
                dossier.insurer,
                dossier.channel,
                dossier.flags,
                dossier.contact_attempts,
            )
        plan = self._judged.get(key)
        if plan is None:
            plan = self._judge_plan(dossier, source, target, actor, at)
            if len(self._judged) >= _PLANS_MAX:
                self._judged.clear()
            self._judged[key] = plan
        head, slots = plan
        violations = list(head)
        history = dossier.history
        if history:
            last = history[-1].at
            if at < last:
                violations.append(_out_of_order(target, at, last))
        ctx: MoveContext | None = None
        for slot in slots:
            if isinstance(slot, Violation):
                violations.append(slot)
                continue
            check, ref = slot
            if not inputs and ref.code in _INPUT_RULES:
                continue
            if ctx is None:
                local_day = at.astimezone(PARIS).date()
                ctx = MoveContext(dossier, source, target, actor, at, local_day, comment, due, data)
            found = check(ref, ctx)
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
            violations.extend(self._due_given(target, due, at, reschedule=False))
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
        calendar = self._calendars.get(dossier.subdivision)
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
            and deadline.kind is DeadlineKind.GIVEN
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
            and deadline.kind is DeadlineKind.GIVEN
            and due_at <= at
            and inputs
        ):
            violations.append(_due_in_past(target, due_at, at))
        return violations, due_at, refusal_effects

    def _judge_plan(
        self,
        dossier: DossierView,
        source: StateSpec | None,
        target: StateSpec,
        actor: Actor,
        at: datetime,
    ) -> _JudgePlan:
        """The part of a move's verdict that only its plan key decides (`_JudgeKey`)."""
        if source is None:
            checks = self._checks[(None, None, target.code)]
            head: list[Violation] = []
        else:
            checks, head = self._graph(dossier, source, target)
        local_day = at.astimezone(PARIS).date()
        ctx = MoveContext(dossier, source, target, actor, at, local_day, None, None, _NO_DATA)
        slots: list[Violation | tuple[Check, Any]] = []
        for check, ref in checks:
            if check in _STATIC_CHECKS:
                found = check(ref, ctx)
                if found is not None:
                    slots.append(found)
            else:
                slots.append((check, ref))
        return tuple(head), tuple(slots)

    def _due_given(
        self, state: StateSpec, due: datetime, at: datetime, *, reschedule: bool
    ) -> list[Violation]:
        """What is wrong with giving ``due`` to ``state`` at ``at``: at a move (``due=``) or as
        a reschedule, where a locked due date may not change at all."""
        deadline = state.deadline
        locked = state.code in self._locked
        if deadline.kind is DeadlineKind.NONE:
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
        elif not (deadline.overridable or deadline.kind is DeadlineKind.GIVEN):
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

    def _effects(
        self,
        dossier: DossierView,
        target: StateSpec,
        at: datetime,
        comment: str | None,
        due_at: datetime | None,
    ) -> tuple[Effect, ...]:
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

    # -- the API ----------------------------------------------------------------------

    def open(
        self,
        dossier_id: str,
        state: str | None = None,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
        insurer: str | None = None,
        channel: str | None = None,
        subdivision: str | None = None,
        contractor: str | None = None,
        flags: Iterable[str] = (),
        autonomy_limit: Decimal | int | str | None = None,
        mid_flow: bool = False,
    ) -> Moved:
        """Open a dossier in an initial state (the first one by default).

        ``insurer`` and ``channel`` are read as the catalogue spells them (``AZ`` is
        ``ALLIANZ``); ``autonomy_limit`` is the file's « limite maximum d'autonomie ».
        ``mid_flow=True`` opens it in any state: for replaying a history excerpt that
        starts in the middle of a file (`etatmachine.intake` brings in a live one).
        """
        opening = self._opening(
            dossier_id,
            state,
            actor,
            at,
            comment,
            due,
            data,
            insurer,
            channel,
            subdivision,
            contractor,
            flags,
            autonomy_limit,
            mid_flow,
        )
        if opening.violations:
            raise MoveRefused(dossier_id, "(new)", opening.target.code, opening.violations)
        return self._opened(opening, actor, at)

    def record_open(
        self,
        dossier_id: str,
        state: str | None = None,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
        recorded_due: datetime | None = None,
        insurer: str | None = None,
        channel: str | None = None,
        subdivision: str | None = None,
        contractor: str | None = None,
        flags: Iterable[str] = (),
        autonomy_limit: Decimal | int | str | None = None,
        mid_flow: bool = False,
    ) -> tuple[Moved, tuple[Violation, ...]]:
        """Open a file that already was (an imported history): never refuses.

        Returns the opened dossier and the rules the opening broke. Where it broke some,
        the file comes in as the history has it: in ``state``, due ``due`` (else
        ``recorded_due``, the date the history wrote), without the refused opening's
        data (as `etatmachine.intake.adopt` brings in a file).
        """
        if recorded_due is not None:
            check_instant(recorded_due, "recorded_due")
        opening = self._opening(
            dossier_id,
            state,
            actor,
            at,
            comment,
            due,
            data,
            insurer,
            channel,
            subdivision,
            contractor,
            flags,
            autonomy_limit,
            mid_flow,
        )
        if not opening.violations:
            return self._opened(opening, actor, at), ()
        target = opening.target
        due_at = None if target.terminal else due if due is not None else recorded_due
        if due_at is None and not target.terminal:
            raise ArgumentValueError(
                "recorded_due", None, f"{target.code!r} runs with a due date: give the recorded one"
            )
        entry = trusted_entry(
            "open", None, target.code, at, actor, opening.comment, due_at, EMPTY_DATA
        )
        adopted = evolve(
            opening.dossier, {"due_at": due_at, "quote_amount": None, "history": (entry,)}
        )
        return Moved(adopted, ()), tuple(opening.violations)

    def _opening(
        self,
        dossier_id: str,
        state: str | None,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        data: Mapping[str, Any] | None,
        insurer: str | None,
        channel: str | None,
        subdivision: str | None,
        contractor: str | None,
        flags: Iterable[str],
        autonomy_limit: Decimal | int | str | None,
        mid_flow: bool,
    ) -> _Opening:
        """An opening judged: what `open` and `record_open` share."""
        # check_open checks ``at`` and ``due`` are aware instants in the supported years
        comment, flags = check_open(dossier_id, state, actor, at, comment, due, data, flags)
        if insurer is not None or channel is not None or contractor is not None:
            check_texts(insurer=insurer, channel=channel, contractor=contractor)
        if subdivision is not None:  # an unknown one: ArgumentValueError naming it
            self.calendar(check_texts(subdivision=subdivision)[0])
        target = self.state(state) if state else next(s for s in self.catalogue if s.initial)
        limit = None
        if autonomy_limit is not None:
            parsed = as_amount(autonomy_limit)
            if isinstance(parsed, str):
                raise ArgumentValueError("autonomy_limit", autonomy_limit, parsed)
            limit = parsed
        values = data if data is not None else _NO_DATA
        # every value is checked above (check_open, check_texts, as_amount, the codes): the
        # dossier and its opening entry are built as the move path builds them
        dossier = trusted_dossier(
            {
                "id": _plain(dossier_id),
                "state": target.code,
                "due_at": None,
                "version": 0,
                "insurer": self.insurer_code(insurer),
                "channel": self.channel_code(channel),
                "subdivision": _plain(subdivision),
                "contractor": _plain(contractor),
                "flags": frozenset(_plain(f) for f in flags) if flags else NO_FLAGS,
                "contact_attempts": 0,
                "autonomy_limit": limit,
                "quote_amount": self._quote_amount(target, values) if target.carries else None,
                "interrupted": None,
                "history": (),
            }
        )
        violations, due_at, _ = self._judge(
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
        return _Opening(target, dossier, violations, due_at, values, comment)

    def _opened(self, opening: _Opening, actor: Actor, at: datetime) -> Moved:
        """The dossier an accepted opening gives, with its effects."""
        target, dossier, _, due_at, values, comment = opening
        data_values = (
            FrozenData({k: _json_value(v) for k, v in values.items()}) if values else EMPTY_DATA
        )
        entry = trusted_entry("open", None, target.code, at, actor, comment, due_at, data_values)
        opened = evolve(dossier, {"due_at": due_at, "history": (entry,)})
        return Moved(opened, self._effects(opened, target, at, comment, due_at))

    def _inputs(
        self, to: str, data: Mapping[str, Any] | None
    ) -> tuple[StateSpec, Mapping[str, Any]]:
        """Resolve a move's target: what move, record and explain share (after check_move)."""
        return self.state(to), data if data is not None else _NO_DATA

    def move(
        self,
        dossier: Dossier,
        to: str,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Moved:
        """Move a dossier to a new action date; raise `MoveRefused` with every broken rule.

        ``to`` is a state code or a label. The given dossier is never changed.
        """
        comment = check_move(self._states, dossier, to, actor, at, comment, due, data)
        target, values = self._inputs(to, data)
        violations, due_at, refusal_effects = self._judge(
            dossier, target, actor, at, comment, due, values
        )
        if violations:
            raise MoveRefused(dossier.id, dossier.state, target.code, violations, refusal_effects)
        change, effects = self._apply(dossier, target, actor, at, comment, due_at, values)
        return Moved(_finish(dossier, change), effects)

    def record(
        self,
        dossier: Dossier,
        to: str,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> tuple[Moved, tuple[Violation, ...]]:
        """Apply a move that already happened (an imported history): never refuses.

        Returns the moved dossier with every effect the move owes (a refused move's too,
        such as the complaint a late chase calls for) and the rules the move broke, for a
        replay to report. The same state set again is a change of its due date. A move dated
        before the file's last change is reported ``out_of_order`` and kept in the trail at
        that change's time, with its own time in the entry's ``data["recorded_at"]``.
        """
        change, effects, violations = self._recorded(dossier, to, actor, at, comment, due, data)
        return Moved(_finish(dossier, change), effects), violations

    def record_in_place(
        self,
        work: WorkingDossier,
        to: str,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Recorded:
        """`record` on a working copy: the same verdict, applied in place (no copy of the
        trail), so that replaying a history of any length costs its length."""
        change, effects, violations = self._recorded(
            _working(work), to, actor, at, comment, due, data
        )
        _finish_in_place(work, change)
        return Recorded(change[1], effects, violations)

    def _recorded(
        self,
        dossier: DossierView,
        to: str,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        data: Mapping[str, Any] | None,
    ) -> tuple[_Change, tuple[Effect, ...], tuple[Violation, ...]]:
        comment = check_move(self._states, dossier, to, actor, at, comment, due, data)
        target, values = self._inputs(to, data)
        if target.code == dossier.state and target.code not in self._explicit[target.code]:
            # the same action date set again: the step goes on, maybe with another due date
            # (a given one: an appointment or a delivery the data carries)
            if due is None and target.deadline.kind is DeadlineKind.GIVEN:
                due = compute_due(
                    target.deadline, at, self.calendar(dossier.subdivision), data=values
                )
            changed = due if due is not None and due != dossier.due_at else None
            found = self._reschedule_violations(dossier, changed, actor, at, None)
            new_due = changed or dossier.due_at
            updates, entry = self._rescheduled(dossier, new_due, actor, at, comment)
            return (updates, _in_order(entry, dossier.last_at)), (), tuple(found)
        violations, due_at, owed = self._judge(dossier, target, actor, at, comment, due, values)
        if due_at is None and target.deadline.kind is not DeadlineKind.NONE:
            due_at = due
        (updates, entry), effects = self._apply(dossier, target, actor, at, comment, due_at, values)
        change = updates, _in_order(entry, dossier.last_at)
        if owed:  # what the refusal would have asked (a complaint to open) is owed all the same
            effects = (*effects, *owed)
        return change, effects, tuple(violations)

    def _apply(
        self,
        dossier: DossierView,
        target: StateSpec,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due_at: datetime | None,
        values: Mapping[str, Any],
    ) -> tuple[_Change, tuple[Effect, ...]]:
        source = dossier.state
        if target.kind is StateKind.WAIT:
            interrupted = (
                source
                if self._states[source].kind is StateKind.OPERATIONAL
                else dossier.interrupted
            )
            attempts = dossier.contact_attempts
        else:
            interrupted = None
            attempts = 0
        data = FrozenData({k: _json_value(v) for k, v in values.items()}) if values else EMPTY_DATA
        entry = trusted_entry("move", source, target.code, at, actor, comment, due_at, data)
        updates: dict[str, Any] = {
            "state": target.code,
            "due_at": due_at,
            "version": dossier.version + 1,
            "interrupted": interrupted,
            "contact_attempts": attempts,
        }
        if values and target.carries:
            amount = self._quote_amount(target, values)
            if amount is not None:
                updates["quote_amount"] = amount
        if not target.effects:  # the effects read the file's id and channel: a move keeps them
            return (updates, entry), ()
        return (updates, entry), self._effects(dossier, target, at, comment, due_at)

    def explain(
        self,
        dossier: Dossier,
        to: str,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> tuple[Violation, ...]:
        """The violations a move would have, without raising or changing anything."""
        comment = check_move(self._states, dossier, to, actor, at, comment, due, data)
        target, values = self._inputs(to, data)
        violations, _, _ = self._judge(dossier, target, actor, at, comment, due, values)
        return tuple(violations)

    def allowed_moves(self, dossier: Dossier, *, actor: Actor, at: datetime) -> list[Verdict]:
        """Every target of the current state with its verdict for this actor at ``at``.

        Rules on the move's inputs (comment, data) are listed as ``needs``, not refusals.
        """
        check_move(self._states, dossier, "", actor, at, None, None, None)
        require_aware(at, "at")
        # What does not depend on ``at`` is judged once per kind of file and actor (the plan
        # key); only the time-dependent rules and the time order are judged per call.
        key: _PlanKey = (
            dossier.state,
            dossier.interrupted,
            actor.role,
            dossier.insurer,
            dossier.channel,
            dossier.flags,
            dossier.contact_attempts,
        )
        plans = self._plans.get(key)
        if plans is None:
            plans = self._plan(dossier, actor, at)
            if len(self._plans) >= _PLANS_MAX:
                self._plans.clear()
            self._plans[key] = plans
        history = dossier.history
        last = history[-1].at if history else None
        late = last is not None and at < last
        out: list[Verdict] = []
        for plan in plans:
            if plan.verdict is not None and not late:
                out.append(plan.verdict)
                continue
            violations = list(plan.head)
            if late:
                assert last is not None
                violations.append(_out_of_order(plan.target, at, last))
            ctx: MoveContext | None = None
            for slot in plan.slots:
                if isinstance(slot, Violation):
                    violations.append(slot)
                    continue
                if ctx is None:
                    local_day = at.astimezone(PARIS).date()
                    source = self._states[dossier.state]
                    ctx = MoveContext(
                        dossier, source, plan.target, actor, at, local_day, None, None, _NO_DATA
                    )
                found = slot[0](slot[1], ctx)
                if found is not None:
                    violations.append(found)
            out.append(Verdict(plan.code, not violations, tuple(violations), plan.needs))
        return out

    def _plan(self, dossier: Dossier, actor: Actor, at: datetime) -> tuple[_TargetPlan, ...]:
        """Per target of the dossier's state: its graph violations, the verdicts of the
        rules that depend only on the plan key, the time-dependent checks left to run."""
        source = self._states[dossier.state]
        local_day = at.astimezone(PARIS).date()
        plans: list[_TargetPlan] = []
        for code in self._sorted_targets[dossier.state]:
            target = self._states[code]
            checks, head = self._graph(dossier, source, target)
            ctx = MoveContext(dossier, source, target, actor, at, local_day, None, None, _NO_DATA)
            slots: list[Violation | tuple[Check, Any]] = []
            for check, ref in checks:
                if ref.code in _INPUT_RULES:
                    continue
                if check in _STATIC_CHECKS:
                    found = check(ref, ctx)
                    if found is not None:
                        slots.append(found)
                else:
                    slots.append((check, ref))
            needs = [ref.field for ref in target.rules if ref.code == "data_required"]
            if target.rule("comment_required") is not None:
                needs.insert(0, "comment")
            if target.deadline.kind is DeadlineKind.GIVEN and target.deadline.data_key is None:
                needs.append("due")
            judged = [slot for slot in slots if isinstance(slot, Violation)]
            verdict = None
            if len(judged) == len(slots):  # nothing left to judge per call
                found_all = (*head, *judged)
                verdict = Verdict(code, not found_all, found_all, tuple(needs))
            plans.append(
                _TargetPlan(code, target, tuple(head), tuple(slots), tuple(needs), verdict)
            )
        return tuple(plans)

    def lateness(self, dossier: Dossier, *, at: datetime) -> DossierLateness:
        """Every step of the dossier with its lateness in business time, measured at ``at``."""
        return dossier_lateness(
            dossier, catalogue=self.catalogue, calendar=self.calendar(dossier.subdivision), at=at
        )

    def reschedule(
        self,
        dossier: Dossier,
        due: datetime,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
    ) -> Moved:
        """Change the current due date, where the state allows it and the actor may.

        The same rules as a move's ``due=``, plus: only who may leave the state (its owner
        or a desk acting for it), never a locked due date, never at or before ``at``. The
        step's lateness stays measured against the due date it was first set with.
        """
        comment = check_move(self._states, dossier, "", actor, at, comment, due, None)
        require_aware(at, "at")
        require_aware(due, "due")
        violations = self._reschedule_violations(dossier, due, actor, at, comment)
        if violations:
            raise MoveRefused(dossier.id, dossier.state, dossier.state, violations)
        return Moved(_finish(dossier, self._rescheduled(dossier, due, actor, at, comment)), ())

    def _reschedule_violations(
        self,
        dossier: DossierView,
        due: datetime | None,
        actor: Actor,
        at: datetime,
        comment: str | None,
    ) -> list[Violation]:
        state = self._states.get(dossier.state) or self.catalogue.state(dossier.state)
        violations: list[Violation] = []
        if state.terminal:
            return [
                violation(
                    "move_not_allowed",
                    state.code,
                    "Le dossier est clos.",
                    "the file is closed: nothing to reschedule.",
                )
            ]
        local_day = at.astimezone(PARIS).date()
        ctx = MoveContext(dossier, state, state, actor, at, local_day, comment, due, _NO_DATA)
        reserved = state.rule("role_reserved")
        if reserved is not None:  # the same check as leaving the state: touching it at all
            found = LEAVE_CHECKS["role_reserved"](reserved, ctx)
        else:
            found = actor_may_leave(self.catalogue.authority(state.code), ctx)
        if found is not None:
            violations.append(found)
        if due is not None:
            violations.extend(self._due_given(state, due, at, reschedule=True))
        last = dossier.last_at
        if last is not None and at < last:
            violations.append(_out_of_order(state, at, last))
        return violations

    def _rescheduled(
        self,
        dossier: DossierView,
        due: datetime | None,
        actor: Actor,
        at: datetime,
        comment: str | None,
    ) -> _Change:
        entry = trusted_entry(
            "reschedule", dossier.state, dossier.state, at, actor, comment, due, EMPTY_DATA
        )
        return {"due_at": due, "version": dossier.version + 1}, entry

    def record_contact_attempt(
        self,
        dossier: Dossier,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        outcome: Literal["failed", "reached"] = "failed",
    ) -> Moved:
        """Record a call to the insured, with its outcome.

        ``failed`` (unanswered: « nrp », a message left) counts towards « Client
        injoignable », which needs 3. ``reached`` meets a contact step (« L'artisan doit
        contacter le client »: its lateness stops there) and starts the count again.
        """
        return Moved(_finish(dossier, self._contact(dossier, actor, at, comment, outcome)), ())

    def record_contact_attempt_in_place(
        self,
        work: WorkingDossier,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        outcome: Literal["failed", "reached"] = "failed",
    ) -> HistoryEntry:
        """`record_contact_attempt` on a working copy, in place; returns the entry."""
        change = self._contact(_working(work), actor, at, comment, outcome)
        _finish_in_place(work, change)
        return change[1]

    def _contact(
        self,
        dossier: DossierView,
        actor: Actor,
        at: datetime,
        comment: str | None,
        outcome: Literal["failed", "reached"],
    ) -> _Change:
        comment = check_move(self._states, dossier, "", actor, at, comment, None, None)
        require_aware(at, "at")
        if outcome not in ("failed", "reached"):
            raise ArgumentValueError("outcome", outcome, "must be 'failed' or 'reached'")
        state = self._states.get(dossier.state) or self.catalogue.state(dossier.state)
        last = dossier.last_at
        if last is not None and at < last:
            raise MoveRefused(
                dossier.id, dossier.state, dossier.state, [_out_of_order(state, at, last)]
            )
        entry = trusted_entry(
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

    # -- binding your own objects (etatmachine.binding) --------------------------------

    def bind(
        self, obj: Any, *, names: Any = None, after: Any = (), asynchronous: bool = False
    ) -> Any:
        """Attach a mutable object of yours (an ORM row...) to this workflow's shared
        `transitions` machine; returns ``obj``. See `etatmachine.binding.Binder`."""
        from etatmachine.binding import Binder  # transitions is imported on first bind only

        binder = Binder.cached(self, names=names, after=after, asynchronous=asynchronous)
        return binder.bind(obj)


_OUTCOMES = {
    "failed": FrozenData({"outcome": "failed"}),
    "reached": FrozenData({"outcome": "reached"}),
}
_DEFAULTS: dict[CalendarConfig, Workflow] = {}
_DEFAULT_LOCK = threading.Lock()
