"""The catalogue of action dates: declarative data, validated when loaded.

The catalogue knows nothing of the engine. It says which states exist, what
each one means, who owes the next step, how its due date is computed, which
rules apply and which moves leave it. `load_catalogue` reads a TOML or JSON
file into frozen pydantic models and checks the whole graph, raising
`CatalogueError` naming the file, the state and the field at fault (``problems``
lists every problem found, not only the first).

Loading is bounded: a regular file of at most ``max_bytes`` (default
``MAX_CATALOGUE_BYTES``, 4 MiB), nesting at most ``MAX_DEPTH`` levels, integers within
``±MAX_INT``; numbers and booleans must be written as such (``initial = "yes"`` and
``amount = "24"`` are refused, not coerced); amounts are bounded so no due date can
overflow; group expansion is linear and a cycle of groups is an error.

>>> cat = default_catalogue()
>>> cat.state("etude_devis").label
'Etude de devis'
>>> cat.state("etude_devis").deadline.figure
'48h'
"""

from __future__ import annotations

import difflib
import json
import os
import stat
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from etatmachine.errors import CatalogueError, UnknownStateError
from etatmachine.roles import Role

__all__ = [
    "MAX_CATALOGUE_BYTES",
    "MAX_DEPTH",
    "MAX_INT",
    "Authority",
    "Catalogue",
    "Channel",
    "Deadline",
    "DeadlineKind",
    "Delegation",
    "Insurer",
    "Move",
    "Phase",
    "RuleRef",
    "StateKind",
    "StateSpec",
    "default_catalogue",
    "load_catalogue",
    "parse_catalogue",
]

_CODE = r"^[a-z][a-z0-9_]*$"

MAX_CATALOGUE_BYTES = 4 * 1024 * 1024
"""The largest catalogue file `load_catalogue` reads (the bundled one is ~100 KB);
pass ``max_bytes=`` to read a bigger one."""
MAX_DEPTH = 32
"""The deepest nesting of tables/arrays a catalogue may have (the schema needs 5)."""
MAX_INT = 2**53
"""The largest integer (in absolute value) a catalogue may write."""
_MAX_AMOUNT = {"business_hours": 24 * 366, "business_days": 366, "calendar_days": 3660}
"""Deadline amounts: at most about ten years, so a due date never overflows the calendar."""


def _strict_kinds(annotation: Any) -> tuple[type, ...] | None:
    """For a field typed ``bool``/``int`` (or ``X | None``): the input types it takes."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        if len(kinds) != 1:
            return None
        annotation = kinds[0]
    elif typing.get_origin(annotation) is Annotated:
        annotation = args[0]
    if annotation is bool:
        return (bool,)
    if annotation is int:
        return (int,)
    return None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Numbers and booleans as written: every ``bool``/``int`` field is strict, so
        ``"yes"``, ``"24"``, ``1.0`` or ``true`` for a number are refused (pydantic's lax
        mode would coerce them); the rest stays lax (TOML arrays still make tuples)."""
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for field in cls.model_fields.values():
            if _strict_kinds(field.annotation) and not any(
                isinstance(m, Strict) for m in field.metadata
            ):
                field.metadata.append(Strict())
                changed = True
        if changed:
            cls.model_rebuild(force=True)


class DeadlineKind(StrEnum):
    """How a state's due date is computed from the instant it is set."""

    BUSINESS_HOURS = "business_hours"
    """``amount`` hours of business time (24h, 48h)."""
    BUSINESS_DAYS = "business_days"
    """``amount`` business days, same wall-clock time (5 jours ouvrés)."""
    CALENDAR_DAYS = "calendar_days"
    """``amount`` calendar days rolled forward onto a business day (15 jours)."""
    GIVEN = "given"
    """Given at the move: ``due=`` or the ``data_key`` field (an appointment, a delivery)."""
    INHERIT = "inherit"
    """Keeps the due date of the state it comes from (a chase does not buy time)."""
    NONE = "none"
    """No due date: terminal states only."""


class StateKind(StrEnum):
    """Operational states carry the file forward; waits interrupt it; terminals end it."""

    OPERATIONAL = "operational"
    WAIT = "wait"
    TERMINAL = "terminal"


class Deadline(_Frozen):
    """A state's deadline policy, with the figure as the procedure (or a history) writes it."""

    kind: DeadlineKind
    amount: int | None = Field(default=None, ge=1)
    figure: str | None = None
    """The seed's words ("24h", "5 jours ouvrés") or a history's ``(n)``."""
    source: Literal["procedure", "history", "addition"] = "procedure"
    """Where the figure comes from: the procedure text, observed histories, or our design."""
    data_key: str | None = None
    """For ``given``: the move data field that carries the date (``due=`` also works)."""
    overridable: bool = False
    """Whether ``due=`` may replace the computed date at the move (waits: yes)."""
    appointment: bool = False
    """The due date is an appointment (an event), not a step owed by then: the time after a
    kept appointment is not lateness; only moving it later is."""

    @model_validator(mode="after")
    def _amount_fits_kind(self) -> Deadline:
        counted = {
            DeadlineKind.BUSINESS_HOURS,
            DeadlineKind.BUSINESS_DAYS,
            DeadlineKind.CALENDAR_DAYS,
        }
        if self.kind in counted and self.amount is None:
            raise ValueError(f"deadline kind {self.kind.value!r} needs an amount")
        most = _MAX_AMOUNT.get(self.kind.value)
        if most is not None and self.amount is not None and self.amount > most:
            raise ValueError(
                f"amount {self.amount} is too large for {self.kind.value!r} (at most {most})"
            )
        if self.kind not in counted and self.amount is not None:
            raise ValueError(f"deadline kind {self.kind.value!r} takes no amount")
        if self.data_key is not None and self.kind is not DeadlineKind.GIVEN:
            raise ValueError("data_key only goes with deadline kind 'given'")
        if self.appointment and self.kind is not DeadlineKind.GIVEN:
            raise ValueError("an appointment deadline is of kind 'given'")
        return self


# --- rule references: the parameters of each rule, as data ------------------------------


class _Rule(_Frozen):
    why: str | None = None
    """The procedure's words or our reason, shown in docs."""


class DueDateLocked(_Rule):
    """The due date set on entry is the reference: no reschedule, no ``due=`` override."""

    code: Literal["due_date_locked"]


class CommentRequired(_Rule):
    """« Il faut toujours justifier l'attente avec un commentaire »."""

    code: Literal["comment_required"]


class RoleReserved(_Rule):
    """Only these roles may set the state, and (``leave``) move the file out of it."""

    code: Literal["role_reserved"]
    roles: tuple[Role, ...] = Field(min_length=1)
    leave: bool = True


class InsurerRestricted(_Rule):
    """The state belongs to these insurers' files (upper-case insurer codes)."""

    code: Literal["insurer_restricted"]
    insurers: tuple[str, ...] = Field(min_length=1)


class FlagRequired(_Rule):
    """The file must carry this flag (e.g. ``ren_expert``)."""

    code: Literal["flag_required"]
    flag: str


class ChannelRestricted(_Rule):
    """The state belongs to files that came through these channels (``sinapps``, ``darva``)."""

    code: Literal["channel_restricted"]
    channels: tuple[str, ...] = Field(min_length=1)


class SeasonRestricted(_Rule):
    """The state may only be entered between ``start`` and ``end`` (``MM-DD``, inclusive)."""

    code: Literal["season_restricted"]
    start: str = Field(pattern=r"^\d\d-\d\d$")
    end: str = Field(pattern=r"^\d\d-\d\d$")

    @field_validator("start", "end")
    @classmethod
    def _real_day(cls, value: str) -> str:
        month, day = int(value[:2]), int(value[3:])
        try:
            date(2000, month, day)  # a leap year: 02-29 is a day
        except ValueError:
            raise ValueError(f"{value!r} is not a month-day (MM-DD)") from None
        return value


class DataRequired(_Rule):
    """The move must carry this data field, of this type (and range)."""

    code: Literal["data_required"]
    field: str
    type: Literal["datetime", "percent", "int", "week_or_datetime", "bool"]
    alternatives: tuple[str, ...] = ()
    """Other fields that satisfy the requirement (``delivery_week`` for ``delivery_at``)."""


class ContactAttemptsRequired(_Rule):
    """« Client injoignable » only after at least ``minimum`` contact attempts."""

    code: Literal["contact_attempts_required"]
    minimum: int = Field(ge=1, le=1000)


class DeadlinePassed(_Rule):
    """Entering is allowed only while the current state's due date still runs."""

    code: Literal["deadline_passed"]
    complaint: bool = True
    """Whether a refusal asks the caller to open a complaint (réclamation) instead."""


class AppointmentTooFar(_Rule):
    """An appointment more than ``days`` calendar days out needs the ``instead`` state."""

    code: Literal["appointment_too_far"]
    field: str = "appointment_at"
    days: int = Field(ge=1, le=3660)
    instead: str = Field(pattern=_CODE)


class AutonomyLimit(_Rule):
    """A quote above the file's autonomy limit reaches this state only after the insurer's
    agreement was asked for since that quote (one of the ``via`` states)."""

    code: Literal["autonomy_limit_exceeded"]
    via: tuple[str, ...] = Field(min_length=1)
    """The states that ask the insurer's agreement (« Devis transmis en attente accord CIE »…)."""


RuleRef = Annotated[
    AutonomyLimit
    | DueDateLocked
    | CommentRequired
    | RoleReserved
    | InsurerRestricted
    | FlagRequired
    | ChannelRestricted
    | SeasonRestricted
    | DataRequired
    | ContactAttemptsRequired
    | DeadlinePassed
    | AppointmentTooFar,
    Field(discriminator="code"),
]


class Effect(_Frozen):
    """An effect a state asks for on entry; the engine returns it, never performs it."""

    kind: Literal["relaunch_surveyor", "sinapps_anomaly"]
    why: str | None = None


class Move(_Frozen):
    """An explicit move to ``to``; ``why`` explains any move that is not obvious."""

    to: str
    why: str | None = None
    rules: tuple[RuleRef, ...] = ()


class Phase(_Frozen):
    """One of the procedure's phases (plus our closing phase, marked as an addition)."""

    code: str = Field(pattern=_CODE)
    label: str
    description: str
    quote: str | None = None
    """The procedure's own words about the whole phase."""
    columns: tuple[str, ...] = ()
    addition: bool = False


class StateSpec(_Frozen):
    """One action date (date d'action)."""

    code: str = Field(pattern=_CODE)
    """Stable ASCII identifier: a public contract."""
    label: str
    """French label exactly as the procedure writes it."""
    phase: str
    kind: StateKind = StateKind.OPERATIONAL
    column: str | None = None
    owner: Role | None = None
    """Who owes the next step while the file is in this state (None for terminal states)."""
    meaning: str
    """What the state means (the procedure's words)."""
    meaning_en: str
    deadline: Deadline
    clock: Literal["contractor", "stopped", "other"] = "other"
    """Whether the contractor's delay runs here: ``contractor`` (their step), ``stopped`` (a
    wait not of their doing), ``other`` (another side owes the step)."""
    clock_why: str | None = None
    initial: bool = False
    """A file may be opened in this state."""
    resume: bool = False
    """A wait may be left by going back to the state it interrupted."""
    source: Literal["procedure", "history", "addition"] = "procedure"
    aliases: tuple[str, ...] = ()
    """Other spellings seen in histories, resolved to this state."""
    resolvable: bool = True
    """False when the label is shared with another state: a history entry resolves to it only
    when its author may set it and may not set the twin (see `Catalogue.twin_for`)."""
    enter: tuple[Role, ...] = ()
    """Who may set this action date (besides the desks `Catalogue.delegations` name);
    undeclared: the owner alone (any role for a closing state)."""
    leave: tuple[Role, ...] = ()
    """Who may move the file out of it or change its due date (besides delegated desks);
    undeclared: the owner alone."""
    authority_why: str | None = None
    """Why these roles: the procedure's words where it names who acts."""
    interrupts: bool = False
    """Set from outside the current step (a chase, a complaint, a message): who may set it
    need not be allowed to leave the step it interrupts."""
    met_by_contact: bool = False
    """The step is owed until the contractor reaches the insured: a recorded contact with the
    insured meets it (its lateness stops there)."""
    carries: tuple[Literal["quote_amount"], ...] = ()
    """Move data this state's entries may carry (the quote's amount), read from histories."""
    rules: tuple[RuleRef, ...] = ()
    effects: tuple[Effect, ...] = ()
    moves: tuple[Move, ...] = ()

    @property
    def terminal(self) -> bool:
        return self.kind is StateKind.TERMINAL

    def rule(self, code: str) -> Any | None:
        """The first rule of this state with ``code``, or None."""
        return next((r for r in self.rules if r.code == code), None)


class GroupMove(_Frozen):
    """A move declared once for a group of states: ``from``/``to`` are codes or ``@group``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: tuple[str, ...] = Field(alias="from", min_length=1)
    to: tuple[str, ...] = Field(min_length=1)
    why: str


class Delegation(_Frozen):
    """A desk that may act on anyone's behalf: set and leave the states of its scope.

    An empty scope is every state. A delegation never opens a `role_reserved` state.
    """

    role: Role
    phases: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    why: str


class Insurer(_Frozen):
    """An insurer the rules name: its code (upper case) and the spellings files use."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    label: str
    aliases: tuple[str, ...] = ()


class Channel(_Frozen):
    """A channel a file comes through (``sinapps``, ``darva``)."""

    code: str = Field(pattern=_CODE)
    label: str


class Authority(NamedTuple):
    """Who may set a state and who may leave it, delegated desks included."""

    enter: frozenset[Role]
    leave: frozenset[Role]
    why: str | None

    @property
    def code(self) -> str:
        """The rule code a breach of this authority reports."""
        return "actor_not_allowed"


class RawCatalogue(_Frozen):
    """The file as written, before groups are expanded and the graph is checked."""

    name: str
    version: str
    description: str = ""
    phases: tuple[Phase, ...]
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    states: tuple[StateSpec, ...]
    group_moves: tuple[GroupMove, ...] = ()
    delegations: tuple[Delegation, ...] = ()
    insurers: tuple[Insurer, ...] = ()
    channels: tuple[Channel, ...] = ()


class Catalogue:
    """A checked catalogue: states by code, expanded moves, phases. Immutable.

    Build it with `load_catalogue` / `parse_catalogue`; constructing it checks the
    graph (codes, targets, reachability, ways out).
    """

    __slots__ = (
        "__weakref__",
        "_authority",
        "_channels",
        "_groups",
        "_insurers",
        "_moves",
        "_onward",
        "_phases",
        "_problems",
        "_raw",
        "_raw_groups",
        "_resume",
        "_states",
        "description",
        "file",
        "name",
        "version",
    )

    def __init__(self, raw: RawCatalogue, *, file: str | None = None) -> None:
        self.name = raw.name
        self.version = raw.version
        self.description = raw.description
        self.file = file
        self._problems: list[CatalogueError] = []
        self._phases: dict[str, Phase] = {}
        for i, phase in enumerate(raw.phases):
            if phase.code in self._phases:
                self._problem(f"duplicate phase code {phase.code!r}", f"phases[{i}]", "code")
            self._phases.setdefault(phase.code, phase)
        self._states: dict[str, StateSpec] = {}
        for s in raw.states:
            if s.code in self._states:
                self._problem("duplicate state code", s.code, "code")
                continue
            self._states[s.code] = s
        self._groups = self._expand_groups(raw.groups)
        self._moves = self._expand(raw)
        self._raw = raw
        self._check()
        self._check_authority()
        self._check_labels()
        problems, self._problems = self._problems, []
        if problems:
            first = problems[0]
            raise CatalogueError(
                first.reason,
                file=file,
                state=first.state,
                field=first.field,
                problems=problems,
            )
        self._resume = self._resume_targets()
        self._onward = {
            code: frozenset(t for i in back for t in self._moves[i] if t != code)
            for code, back in self._resume.items()
        }
        self._authority = {code: self._effective_authority(s) for code, s in self._states.items()}
        self._insurers = {
            spelling.casefold(): insurer
            for insurer in raw.insurers
            for spelling in (insurer.code, insurer.label, *insurer.aliases)
        }
        self._channels = {
            spelling.casefold(): channel
            for channel in raw.channels
            for spelling in (channel.code, channel.label)
        }

    # -- construction -----------------------------------------------------------------

    def _problem(self, message: str, state: str | None = None, field: str | None = None) -> None:
        self._problems.append(CatalogueError(message, file=self.file, state=state, field=field))

    def _expand_groups(self, groups: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """Every group's states, each group expanded once (linear time, duplicates dropped);
        unknown names and cycles of groups are problems, whether the group is used or not."""
        done: dict[str, tuple[str, ...]] = {}
        for root in groups:
            if root in done:
                continue
            # iterative depth-first walk: a deep chain of groups cannot overflow the stack
            stack: list[tuple[str, int]] = [(root, 0)]
            on_path = {root}
            partial: dict[str, dict[str, None]] = {root: {}}
            while stack:
                name, index = stack[-1]
                members = groups[name]
                if index == len(members):
                    stack.pop()
                    on_path.discard(name)
                    done[name] = tuple(partial.pop(name))
                    if stack:
                        partial[stack[-1][0]].update(dict.fromkeys(done[name]))
                    continue
                stack[-1] = (name, index + 1)
                member = members[index]
                where = f"groups.{name}"
                if not member.startswith("@"):
                    if member in self._states:
                        partial[name][member] = None
                    else:
                        self._problem(f"unknown state {member!r}", where, f"[{index}]")
                    continue
                inner = member[1:]
                if inner in done:
                    partial[name].update(dict.fromkeys(done[inner]))
                elif inner in on_path:
                    self._problem(f"group cycle through {member!r}", where, f"[{index}]")
                elif inner not in groups:
                    self._problem(f"unknown group {member!r}", where, f"[{index}]")
                else:
                    stack.append((inner, 0))
                    on_path.add(inner)
                    partial[inner] = {}
        return done

    def _expand_names(self, names: tuple[str, ...], *, where: str, field: str) -> list[str]:
        out: dict[str, None] = {}
        for name in names:
            if name.startswith("@"):
                group = self._groups.get(name[1:])
                if group is None:
                    if name[1:] not in self._raw_groups:
                        self._problem(f"unknown group {name!r}", where, field)
                    continue  # a broken group: reported where it is defined
                out.update(dict.fromkeys(group))
            elif name in self._states:
                out[name] = None
            else:
                self._problem(f"unknown state {name!r}", where, field)
        return list(out)

    def _expand(self, raw: RawCatalogue) -> dict[str, dict[str, Move]]:
        self._raw_groups = raw.groups
        moves: dict[str, dict[str, Move]] = {code: {} for code in self._states}
        for code, s in self._states.items():
            for i, m in enumerate(s.moves):
                for target in self._expand_names((m.to,), where=code, field=f"moves[{i}].to"):
                    if target == code and m.to.startswith("@"):
                        continue  # a group never makes a self-move: write that one by its code
                    moves[code].setdefault(target, m.model_copy(update={"to": target}))
        for i, gm in enumerate(raw.group_moves):
            where = f"group_moves[{i}]"
            sources = self._expand_names(gm.from_, where=where, field="from")
            targets = self._expand_names(gm.to, where=where, field="to")
            for src in sources:
                for target in targets:
                    if target != src:
                        moves[src].setdefault(target, Move(to=target, why=gm.why))
        return moves

    def _check(self) -> None:
        structural = len(self._problems)
        for code, s in self._states.items():
            if s.phase not in self._phases:
                self._problem(f"unknown phase {s.phase!r}", code, "phase")
            else:
                phase = self._phases[s.phase]
                if s.column is not None and s.column not in phase.columns:
                    self._problem(
                        f"column {s.column!r} is not one of phase {phase.code!r}'s columns "
                        f"{list(phase.columns)}",
                        code,
                        "column",
                    )
            if s.terminal:
                not_waits = sorted(
                    t for t in self._moves[code] if self._states[t].kind is not StateKind.WAIT
                )
                if not_waits:
                    self._problem(
                        f"a terminal state may only be reopened into a wait; it has exits "
                        f"{not_waits}",
                        code,
                        "moves",
                    )
                if s.deadline.kind is not DeadlineKind.NONE:
                    self._problem("a terminal state has no deadline", code, "deadline")
            else:
                if not self._moves[code] and not self._broken_moves(code):
                    self._problem("no way out of a non-terminal state", code, "moves")
                if s.deadline.kind is DeadlineKind.NONE:
                    self._problem("only terminal states may have no deadline", code, "deadline")
                if s.owner is None:
                    self._problem("a non-terminal state needs an owner", code, "owner")
            for rule in s.rules:
                if rule.code == "appointment_too_far" and rule.instead not in self._states:
                    self._problem(f"unknown state {rule.instead!r}", code, "rules.instead")
                if rule.code == "autonomy_limit_exceeded":
                    for via in rule.via:
                        if via not in self._states:
                            self._problem(f"unknown state {via!r}", code, "rules.via")
                known = {
                    "insurer_restricted": ("insurers", {i.code for i in self._raw.insurers}),
                    "channel_restricted": ("channels", {c.code for c in self._raw.channels}),
                }.get(rule.code)
                if known is not None:
                    names, declared = known
                    for name in getattr(rule, names):
                        if name not in declared:
                            self._problem(
                                f"{name!r} is not one of the catalogue's {names} "
                                f"{sorted(declared)}",
                                code,
                                f"rules.{names}",
                            )
        initial = [c for c, s in self._states.items() if s.initial]
        if not initial:
            self._problem("no initial state", None, "initial")
        terminals = {c for c, s in self._states.items() if s.terminal}
        if not terminals:
            self._problem("no terminal state", None, "kind")
        if len(self._problems) > structural or not initial:
            return  # the graph is broken already: reachability would only echo it
        seen = set(initial)
        todo = list(initial)
        while todo:
            for target in self._moves[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        for code in self._states:
            if code not in seen:
                self._problem("unreachable from any initial state", code, "moves")
        # every state must be able to reach a terminal state (no trap cycles)
        reverse: dict[str, set[str]] = {c: set() for c in self._states}
        for src, targets in self._moves.items():
            for t in targets:
                reverse[t].add(src)
        can_end = set(terminals)
        todo = list(terminals)
        while todo:
            for src in reverse[todo.pop()]:
                if src not in can_end:
                    can_end.add(src)
                    todo.append(src)
        for code in self._states:
            if code not in can_end:
                self._problem("a cycle with no way to a terminal state", code, "moves")

    def _broken_moves(self, code: str) -> bool:
        """Whether a problem was reported on ``code``'s moves (no echo of it then)."""
        return any(p.state == code and (p.field or "").startswith("moves[") for p in self._problems)

    def _check_labels(self) -> None:
        """What `etatmachine.labels.resolve` would trip on later, found now: two resolvable
        states whose labels or aliases share a normal form, and a label with no word left
        once normalised (``"!!!"``: every label made of nothing would resolve to it)."""
        from etatmachine.labels import label_key  # labels builds on this module

        owner: dict[str, str] = {}
        for code, s in self._states.items():
            if not s.resolvable:
                continue
            for i, spelling in enumerate((s.label, *s.aliases)):
                field = "label" if i == 0 else f"aliases[{i - 1}]"
                key = label_key(spelling)
                if not key:
                    self._problem(
                        f"label {spelling!r} has no word once normalised (only stop-words "
                        "or punctuation): it would match any such text",
                        code,
                        field,
                    )
                    continue
                other = owner.setdefault(key, code)
                if other != code:
                    self._problem(
                        f"label {spelling!r} resolves to both {other!r} and {code!r}; "
                        "mark one `resolvable = false`",
                        code,
                        field,
                    )

    def _check_authority(self) -> None:
        """Delegations name known phases, columns and states."""
        columns = {c for p in self._phases.values() for c in p.columns}
        for i, d in enumerate(self._raw.delegations):
            where = f"delegations[{i}]"
            for phase in d.phases:
                if phase not in self._phases:
                    self._problem(f"unknown phase {phase!r}", where, "phases")
            for column in d.columns:
                if column not in columns:
                    self._problem(f"unknown column {column!r}", where, "columns")
            for state in d.states:
                if state not in self._states:
                    self._problem(f"unknown state {state!r}", where, "states")

    def _delegated(self, s: StateSpec) -> frozenset[Role]:
        out: set[Role] = set()
        for d in self._raw.delegations:
            scoped = d.phases or d.columns or d.states
            if (
                not scoped
                or s.code in d.states
                or s.phase in d.phases
                or (s.column is not None and s.column in d.columns)
            ):
                out.add(d.role)
        return frozenset(out)

    def _effective_authority(self, s: StateSpec) -> Authority:
        delegated = self._delegated(s)
        reserved = s.rule("role_reserved")
        if reserved is not None:
            enter = frozenset(reserved.roles)
            leave = frozenset(reserved.roles) if reserved.leave else set(s.leave) | delegated
        else:
            # Undeclared: the step's owner alone (a closing state: whoever may leave the
            # step before it). The bundled procedure declares every state.
            enter = frozenset(s.enter or ((s.owner,) if s.owner else tuple(Role))) | delegated
            leave = frozenset(s.leave or ((s.owner,) if s.owner else ())) | delegated
        why = s.authority_why or (reserved.why if reserved is not None else None)
        return Authority(frozenset(enter), frozenset(leave), why)

    def _resume_targets(self) -> dict[str, frozenset[str]]:
        """For each resumable wait: the operational states it can have interrupted.

        Walks back from the wait through other waits (a wait can turn into another) to
        the operational states that lead into the chain.
        """
        reverse: dict[str, set[str]] = {c: set() for c in self._states}
        for src, targets in self._moves.items():
            for t in targets:
                reverse[t].add(src)
        out: dict[str, frozenset[str]] = {}
        for code, s in self._states.items():
            if not s.resume:
                continue
            found: set[str] = set()
            seen = {code}
            todo = [code]
            while todo:
                for src in reverse[todo.pop()]:
                    if src in seen:
                        continue
                    seen.add(src)
                    if self._states[src].kind is StateKind.OPERATIONAL:
                        found.add(src)
                    elif self._states[src].kind is StateKind.WAIT:
                        todo.append(src)
            out[code] = frozenset(found)
        return out

    # -- reading ----------------------------------------------------------------------

    def __iter__(self) -> Iterator[StateSpec]:
        return iter(self._states.values())

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, code: object) -> bool:
        return code in self._states

    def __repr__(self) -> str:
        return (
            f"<Catalogue {self.name} {self.version}: {len(self)} states, {self.move_count} moves>"
        )

    @property
    def states(self) -> tuple[StateSpec, ...]:
        return tuple(self._states.values())

    @property
    def phases(self) -> tuple[Phase, ...]:
        return tuple(self._phases.values())

    @property
    def move_count(self) -> int:
        return sum(len(t) for t in self._moves.values())

    def phase(self, code: str) -> Phase:
        return self._phases[code]

    def state(self, code: str) -> StateSpec:
        """The state with this exact code (see `etatmachine.labels.resolve` for labels)."""
        try:
            return self._states[code]
        except KeyError:
            close = difflib.get_close_matches(str(code), self._states, n=3, cutoff=0.5)
            raise UnknownStateError(str(code), close) from None

    def moves_from(self, code: str) -> Mapping[str, Move]:
        """The explicit moves out of ``code``, by target code."""
        return self._moves[code]

    def resume_targets(self, code: str) -> frozenset[str]:
        """The states a resumable wait may go back to (the one it interrupted, at run time)."""
        return self._resume.get(code, frozenset())

    def onward_targets(self, code: str) -> frozenset[str]:
        """Where a resumable wait may go on to: any move a step it may have interrupted could
        take (at run time, only the interrupted step's own moves)."""
        return self._onward.get(code, frozenset())

    def authority(self, code: str) -> Authority:
        """Who may set ``code`` and who may leave it (or change its due date): the state's own
        roles, the desks delegated on it, or the roles of its `role_reserved` rule."""
        try:
            return self._authority[code]
        except KeyError:
            raise UnknownStateError(str(code), ()) from None

    @property
    def delegations(self) -> tuple[Delegation, ...]:
        """The desks that may act on anyone's behalf, with their scope and reason."""
        return self._raw.delegations

    @property
    def insurers(self) -> tuple[Insurer, ...]:
        """The insurers the catalogue's rules know."""
        return self._raw.insurers

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels the catalogue's rules know."""
        return self._raw.channels

    def insurer(self, name: str) -> Insurer | None:
        """The insurer a code, label or alias names (any case: ``AZ`` is Allianz), or None."""
        return self._insurers.get(name.strip().casefold())

    def channel(self, name: str) -> Channel | None:
        """The channel a code or label names (any case), or None."""
        return self._channels.get(name.strip().casefold())

    @property
    def groups(self) -> Mapping[str, tuple[str, ...]]:
        """The named state groups of the file (for diagrams and docs)."""
        return self._raw.groups

    @property
    def group_moves(self) -> tuple[GroupMove, ...]:
        """The moves declared once for groups of states, with their reasons."""
        return self._raw.group_moves

    def to_dict(self) -> dict[str, Any]:
        """An export that `parse_catalogue` reads back to an equal catalogue (groups expanded)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "delegations": [d.model_dump(mode="json") for d in self.delegations],
            "insurers": [i.model_dump(mode="json") for i in self.insurers],
            "channels": [c.model_dump(mode="json") for c in self.channels],
            "phases": [p.model_dump(mode="json", exclude_defaults=True) for p in self.phases],
            "states": [
                s.model_dump(mode="json", exclude_defaults=True)
                | {
                    "moves": [
                        m.model_dump(mode="json", exclude_defaults=True)
                        for m in self._moves[s.code].values()
                    ]
                }
                for s in self.states
            ],
        }


def _problem_from(err: Any, data: Any, file: str | None) -> CatalogueError:
    loc = err["loc"]
    state: str | None = None
    if len(loc) >= 2 and loc[0] == "states" and isinstance(loc[1], int):
        try:
            state = str(data["states"][loc[1]].get("code", f"states[{loc[1]}]"))
        except (KeyError, IndexError, TypeError, AttributeError):
            state = f"states[{loc[1]}]"
        field = ".".join(str(p) for p in loc[2:]) or None
    else:
        field = ".".join(str(p) for p in loc) or None
    return CatalogueError(
        str(err["msg"]).removeprefix("Value error, "), file=file, state=state, field=field
    )


def _error_from_validation(exc: ValidationError, data: Any, file: str | None) -> CatalogueError:
    problems = [_problem_from(err, data, file) for err in exc.errors(include_url=False)]
    first = problems[0]
    return CatalogueError(
        first.reason, file=file, state=first.state, field=first.field, problems=problems
    )


def _check_shape(data: Any, file: str | None) -> None:
    """Bounded nesting and integers, walked without recursion (before pydantic sees it)."""
    todo: list[tuple[Any, int, str]] = [(data, 0, "")]
    while todo:
        value, depth, where = todo.pop()
        if depth > MAX_DEPTH:
            raise CatalogueError(f"nested deeper than {MAX_DEPTH} levels", file=file, field=where)
        if isinstance(value, dict):
            todo.extend(
                (v, depth + 1, f"{where}.{k}" if where else str(k)) for k, v in value.items()
            )
        elif isinstance(value, list | tuple):
            todo.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise CatalogueError(
                f"integer too large (more than {MAX_INT} in absolute value)", file=file, field=where
            )
        elif isinstance(value, float) and value != value:
            raise CatalogueError("not a number (nan)", file=file, field=where)


def parse_catalogue(data: Mapping[str, Any], *, file: str | None = None) -> Catalogue:
    """Validate already-decoded catalogue data (a dict as TOML/JSON give it)."""
    if not isinstance(data, Mapping):
        raise CatalogueError("the top level must be a table/object", file=file)
    _check_shape(data, file)
    try:
        raw = RawCatalogue.model_validate(data)
    except ValidationError as exc:
        raise _error_from_validation(exc, data, file) from None
    return Catalogue(raw, file=file)


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, or CatalogueError.

    Opened without blocking (a FIFO would wait for a writer forever) and checked with
    ``fstat`` on the open file, then read to at most ``max_bytes + 1`` bytes (``/dev/zero``
    never ends).
    """
    name = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise CatalogueError(f"cannot read: {exc.strerror}", file=name) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CatalogueError("not a regular file", file=name)
        if info.st_size > max_bytes:
            raise CatalogueError(
                f"file too large ({info.st_size} bytes; the limit is {max_bytes}, "
                "see load_catalogue's max_bytes)",
                file=name,
            )
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise CatalogueError(
                f"file too large (more than {max_bytes} bytes, see load_catalogue's max_bytes)",
                file=name,
            )
        return b"".join(chunks)
    except OSError as exc:
        raise CatalogueError(f"cannot read: {exc.strerror}", file=name) from None
    finally:
        os.close(fd)


def load_catalogue(path: str | Path, *, max_bytes: int = MAX_CATALOGUE_BYTES) -> Catalogue:
    """Read a catalogue file (``.toml`` or ``.json``) with safe, bounded decoders and check it.

    ``max_bytes`` bounds the file's size (default `MAX_CATALOGUE_BYTES`).
    """
    path = Path(path)
    name = str(path)
    raw_bytes = _read_bounded(path, max_bytes)
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"not UTF-8 text (byte {exc.start})", file=name) from None
    kind = "JSON" if path.suffix == ".json" else "TOML"
    try:
        data = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"invalid {kind}: {exc}", file=name) from None
    except RecursionError:
        raise CatalogueError(f"invalid {kind}: nested too deeply", file=name) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise CatalogueError(f"invalid {kind}: {exc}", file=name) from None
    if not isinstance(data, dict):
        raise CatalogueError("the top level must be a table/object", file=name)
    return parse_catalogue(data, file=name)


@cache
def default_catalogue() -> Catalogue:
    """The bundled procedure (MA's « Déroulement dossier »), loaded once."""
    ref = resources.files("etatmachine") / "data" / "procedure.toml"
    with resources.as_file(ref) as path:
        return load_catalogue(path)
