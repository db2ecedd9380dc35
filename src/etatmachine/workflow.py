"""The machine: a catalogue compiled once into move tables with bound rule checks.

Dossiers are immutable values: a move returns a new dossier (``version + 1``, one more
history entry) plus the effects the caller should perform. Every move the catalogue
declares (explicit and group moves, a wait's resume and onward moves) is judged with each
move's checks bound once: who may act (``actor_not_allowed``), then the rules of the state
left, of the move and of the state entered. `Workflow` checks what callers pass (errors
naming the argument) and hands the checked values to its `etatmachine.judge.Judge`, which
holds the tables and judges. `etatmachine.binding` puts the same
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

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from etatmachine.arguments import check_flags, check_label, check_move, check_open, check_texts
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
    StateSpec,
    default_catalogue,
    load_catalogue,
)
from etatmachine.dossier import (
    Actor,
    Dossier,
    HistoryEntry,
)
from etatmachine.effects import Effect
from etatmachine.errors import ArgumentTypeError, ArgumentValueError, MoveRefused
from etatmachine.judge import (
    INPUT_RULES,
    NO_DATA,
    PLANS_MAX,
    Change,
    Judge,
    Opening,
    finish,
    finish_in_place,
    last_change,
    out_of_order,
)
from etatmachine.lateness import DossierLateness, dossier_lateness
from etatmachine.roles import Role
from etatmachine.rules import Check, MoveContext, as_amount
from etatmachine.violations import Violation
from etatmachine.working import DossierView, WorkingDossier

__all__ = ["FileAttributes", "Moved", "Recorded", "Verdict", "Workflow"]


class Moved(NamedTuple):
    """What an accepted move returns: the new dossier and the effects to perform."""

    dossier: Dossier
    effects: tuple[Effect, ...]


class FileAttributes(NamedTuple):
    """A file's attributes checked as `Workflow.open` checks them (`Workflow.file_attributes`):
    what an opening stores besides its state, and what the rules read."""

    insurer: str | None
    channel: str | None
    subdivision: str | None
    contractor: str | None
    flags: frozenset[str]
    autonomy_limit: Decimal | None


class Recorded(NamedTuple):
    """What `Workflow.record_in_place` did to a working copy: the entry it appended (a
    ``move``, or a ``reschedule`` for the same state set again), the effects the move owes
    and the rules it broke."""

    entry: HistoryEntry
    effects: tuple[Effect, ...]
    violations: tuple[Violation, ...]


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


_PlanKey = tuple[str, str | None, Role, str | None, str | None, frozenset[str], int]


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


class Workflow:
    """A compiled catalogue: judges, applies and explains moves on dossiers.

    Immutable and thread-safe once built; build one per catalogue and share it. It checks
    what callers pass and hands the checked values to its `etatmachine.judge.Judge`.
    """

    def __init__(self, catalogue: Catalogue, *, calendar: CalendarConfig | None = None) -> None:
        self.catalogue = catalogue
        self.calendar_config = calendar or CalendarConfig()
        self._core = Judge(catalogue, self.calendar_config)
        self._states = self._core.states  # by code: what check_move checks targets against
        self._plans: dict[_PlanKey, tuple[_TargetPlan, ...]] = {}

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

    # -- lookups ----------------------------------------------------------------------

    def state(self, code_or_label: str, *, role: Role | None = None) -> StateSpec:
        """The state a code or a label names (see `etatmachine.labels.resolve`).

        ``role``: who sets it. Where two states share a label (« En attente de fourniture »
        is also customer service's complaint state), the one this role may set.
        """
        if role is not None and type(role) is not Role:  # a role's code is one too
            if not isinstance(role, str):
                raise ArgumentTypeError("role", role, "a Role")
            try:
                role = Role(role)
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise ArgumentValueError("role", role, f"not a role ({known})") from None
        return self._core.state(check_label(code_or_label, "label"), role)

    def calendar(self, subdivision: str | None = None) -> BusinessCalendar:
        """The business calendar of a subdivision (None: the workflow's default)."""
        if subdivision is not None:
            check_texts(subdivision=subdivision)
        return self._core.calendar(subdivision)

    def insurer_code(self, name: str | None) -> str | None:
        """The catalogue's code of an insurer name (``AZ``, ``Allianz`` -> ``ALLIANZ``);
        a name the catalogue does not know is kept, upper-cased."""
        if name is not None:
            check_texts(insurer=name)
        return self._core.insurer_code(name)

    def channel_code(self, name: str | None) -> str | None:
        """The catalogue's code of a channel name (``Sinapps`` -> ``sinapps``)."""
        if name is not None:
            check_texts(channel=name)
        return self._core.channel_code(name)

    def targets(self, code: str) -> frozenset[str]:
        """Every state a file in ``code`` may move to: explicit moves, and for a wait the
        steps it may have interrupted and their moves (at run time, only the interrupted
        step's)."""
        return self._core.target_sets[code]

    @property
    def core(self) -> Judge:
        """The judge this workflow hands checked values to. It checks nothing: it is for code
        that builds every value it passes (the replay resolves the states, builds the actors,
        checks instants and attributes once) and calls it in bulk. Everyone else calls the
        workflow, whose errors name the argument."""
        return self._core

    def file_attributes(
        self,
        *,
        insurer: str | None = None,
        channel: str | None = None,
        subdivision: str | None = None,
        contractor: str | None = None,
        flags: Iterable[str] = (),
        autonomy_limit: Decimal | int | str | None = None,
    ) -> FileAttributes:
        """A file's attributes checked as `open` checks them (the same errors naming each):
        once, for a caller that opens many files with them."""
        return self._attributes(
            insurer, channel, subdivision, contractor, check_flags(flags), autonomy_limit
        )

    def _attributes(
        self,
        insurer: Any,
        channel: Any,
        subdivision: Any,
        contractor: Any,
        flags: frozenset[str],
        autonomy_limit: Any,
    ) -> FileAttributes:
        if insurer is not None or channel is not None or contractor is not None:
            check_texts(insurer=insurer, channel=channel, contractor=contractor)
        if subdivision is not None:  # an unknown one: ArgumentValueError naming it
            self.calendar(subdivision)
        limit = None
        if autonomy_limit is not None:
            parsed = as_amount(autonomy_limit)
            if isinstance(parsed, str):
                raise ArgumentValueError("autonomy_limit", autonomy_limit, parsed)
            limit = parsed
        return FileAttributes(insurer, channel, subdivision, contractor, flags, limit)

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
        return Moved(*self._core.opened(opening, actor, at))

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
        dossier, effects, violations = self._core.recorded_opening(
            opening, actor, at, due, recorded_due
        )
        return Moved(dossier, effects), violations

    def _opening(
        self,
        dossier_id: Any,
        state: Any,
        actor: Any,
        at: Any,
        comment: Any,
        due: Any,
        data: Any,
        insurer: Any,
        channel: Any,
        subdivision: Any,
        contractor: Any,
        flags: Any,
        autonomy_limit: Any,
        mid_flow: Any,
    ) -> Opening:
        """Check an opening's arguments and have it judged: what `open` and `record_open`
        share."""
        # check_open checks ``at`` and ``due`` are aware instants in the supported years
        comment, flags = check_open(dossier_id, state, actor, at, comment, due, data, flags)
        attributes = self._attributes(
            insurer, channel, subdivision, contractor, flags, autonomy_limit
        )
        target = self.state(state) if state else self._core.first_initial
        values = data if data is not None else NO_DATA
        return self._core.opening(
            dossier_id,
            target,
            actor,
            at,
            comment,
            due,
            values,
            *attributes,
            bool(mid_flow),
        )

    def _inputs(
        self, to: str, data: Mapping[str, Any] | None
    ) -> tuple[StateSpec, Mapping[str, Any]]:
        """Resolve a move's target: what move and explain share (after check_move)."""
        return self.state(to), data if data is not None else NO_DATA

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
        violations, due_at, refusal_effects = self._core.judge(
            dossier, target, actor, at, comment, due, values
        )
        if violations:
            raise MoveRefused(dossier.id, dossier.state, target.code, violations, refusal_effects)
        change, effects = self._core.apply(dossier, target, actor, at, comment, due_at, values)
        return Moved(finish(dossier, change), effects)

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
        comment = check_move(self._states, dossier, to, actor, at, comment, due, data)
        change, effects, violations = self._core.recorded(
            dossier, check_label(to, "to"), actor, at, comment, due, data
        )
        return Moved(finish(dossier, change), effects), violations

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
        work = _working(work)
        comment = check_move(self._states, work, to, actor, at, comment, due, data)
        change, effects, violations = self._core.recorded(
            work, check_label(to, "to"), actor, at, comment, due, data
        )
        finish_in_place(work, change)
        return Recorded(change[1], effects, violations)

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
        violations, _, _ = self._core.judge(dossier, target, actor, at, comment, due, values)
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
            if len(self._plans) >= PLANS_MAX:
                self._plans.clear()
            self._plans[key] = plans
        last = last_change(dossier)
        late = last is not None and at < last
        out: list[Verdict] = []
        for plan in plans:
            if plan.verdict is not None and not late:
                out.append(plan.verdict)
                continue
            violations = list(plan.head)
            if late:
                assert last is not None
                violations.append(out_of_order(plan.target, at, last))
            ctx: MoveContext | None = None
            for slot in plan.slots:
                if isinstance(slot, Violation):
                    violations.append(slot)
                    continue
                if ctx is None:
                    local_day = at.astimezone(PARIS).date()
                    source = self._states[dossier.state]
                    ctx = MoveContext(
                        dossier, source, plan.target, actor, at, local_day, None, None, NO_DATA
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
        plans: list[_TargetPlan] = []
        for code in self._core.sorted_targets[dossier.state]:
            target = self._states[code]
            head, judged_slots = self._core.judge_plan(dossier, source, target, actor, at)
            # the rules on the move's inputs become needs (input rules are never static)
            slots = tuple(
                slot
                for slot in judged_slots
                if isinstance(slot, Violation) or slot[1].code not in INPUT_RULES
            )
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
            plans.append(_TargetPlan(code, target, head, slots, tuple(needs), verdict))
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
        violations = self._core.reschedule_violations(dossier, due, actor, at, comment)
        if violations:
            raise MoveRefused(dossier.id, dossier.state, dossier.state, violations)
        return Moved(finish(dossier, self._core.rescheduled(dossier, due, actor, at, comment)), ())

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
        return Moved(finish(dossier, self._contact(dossier, actor, at, comment, outcome)), ())

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
        finish_in_place(work, change)
        return change[1]

    def _contact(
        self,
        dossier: DossierView,
        actor: Actor,
        at: datetime,
        comment: str | None,
        outcome: Literal["failed", "reached"],
    ) -> Change:
        comment = check_move(self._states, dossier, "", actor, at, comment, None, None)
        require_aware(at, "at")
        if outcome not in ("failed", "reached"):
            raise ArgumentValueError("outcome", outcome, "must be 'failed' or 'reached'")
        return self._core.contact(dossier, actor, at, comment, outcome)

    # -- binding your own objects (etatmachine.binding) --------------------------------

    def bind(
        self, obj: Any, *, names: Any = None, after: Any = (), asynchronous: bool = False
    ) -> Any:
        """Attach a mutable object of yours (an ORM row...) to this workflow's shared
        `transitions` machine; returns ``obj``. See `etatmachine.binding.Binder`."""
        from etatmachine.binding import Binder  # transitions is imported on first bind only

        binder = Binder.cached(self, names=names, after=after, asynchronous=asynchronous)
        return binder.bind(obj)


_DEFAULTS: dict[CalendarConfig, Workflow] = {}
_DEFAULT_LOCK = threading.Lock()
