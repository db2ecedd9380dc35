"""Bind a service's own mutable objects (an ORM row, a dataclass) to the shared machine.

The value API (`Workflow.move` on immutable dossiers) stays the judge: a bound move reads
the object's attributes into a `Dossier` view, and the move's only condition in the
`transitions` machine calls `Workflow.move` on that view. The rules therefore run as the
move's condition, a refusal raises the very `MoveRefused` the value API raises (same
violations, same order, same effects) before anything is written, and an accepted move
writes the moved dossier's values back to the object. Both paths cannot disagree.

This is the only module that imports `transitions`. One `Machine` per workflow
(``model_override=True``, ``auto_transitions=False``, one trigger per target named by its
code) is built on the first bind and shared by every bound object; objects are not
``add_model``-ed (that keeps every object alive in ``machine.models`` and binds ~100
partials per object): the transitions interface is installed once on the object's class,
and each object holds one reference to its `Binder`.

>>> from dataclasses import dataclass
>>> from datetime import datetime
>>> from etatmachine import Actor, Role, Workflow
>>> from etatmachine.business_calendar import PARIS
>>> @dataclass
... class Row:
...     id: str
...     state: str
>>> wf = Workflow.default()
>>> handler = Actor(role=Role.CASE_HANDLER, id="7")
>>> row = wf.bind(Row("D-1", "etude_devis"))
>>> row.may_to_devis_demande_info(actor=handler, at=datetime(2024, 3, 4, 10, tzinfo=PARIS))
True
>>> change = row.to_devis_demande_info(actor=handler, at=datetime(2024, 3, 4, 10, tzinfo=PARIS))
>>> row.state, row.version, [e.target for e in row.history]
('devis_demande_info', 1, ['devis_demande_info'])
"""

from __future__ import annotations

import dataclasses
import inspect
import operator
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from transitions import EventData, Machine

from etatmachine.dossier import Actor, Dossier, EntryKind, HistoryEntry, evolve
from etatmachine.effects import Effect
from etatmachine.errors import EtatmachineError, VersionConflict

if TYPE_CHECKING:
    import asyncio

    from transitions.extensions.asyncio import AsyncMachine

    from etatmachine.workflow import Moved, Verdict, Workflow

__all__ = [
    "Binder",
    "BindingError",
    "BoundValueError",
    "Change",
    "Hook",
    "Names",
    "binder_of",
    "dossier_of",
    "machine_of",
    "markup",
    "transition_table",
]

T = TypeVar("T")

MODEL_ATTRIBUTE = "etatmachine_state"
"""The class property through which `transitions` reads and writes a bound object's state:
it forwards to the attribute `Names.state` names, so each binder picks its own column."""
_BINDER_ATTR = "_etatmachine_binder"
"""The one instance attribute a bind adds: the object's `Binder`."""
_CLASSES_MAX = 1024
"""How many classes' hook names are remembered (classes made on the fly: tests)."""
_VIEWS_MAX = 1024
"""How many objects' last views a binder remembers (keyed by identity, checked each use)."""
_IMMUTABLE: frozenset[type] = frozenset({str, int, bool, type(None), datetime, tuple, frozenset})
"""Attribute types a remembered view may rely on: values that cannot change in place."""


class BindingError(EtatmachineError, TypeError):
    """An object cannot be bound (frozen, no room for the binder, a name taken), is not
    bound, or a hook does not fit the binder (a coroutine on a synchronous binder)."""

    def __init__(self, obj_type: type, message: str) -> None:
        self.obj_type = obj_type
        super().__init__(f"{obj_type.__name__}: {message}")


class BoundValueError(EtatmachineError, ValueError):
    """A bound object's attribute holds a value a dossier cannot (a naive due date...)."""

    def __init__(self, obj_type: type, attribute: str, value: Any, reason: str) -> None:
        self.obj_type = obj_type
        self.attribute = attribute
        self.value = value
        super().__init__(f"{obj_type.__name__}.{attribute} = {value!r}: {reason}")


@dataclass(frozen=True, slots=True)
class Names:
    """Which attribute of the object holds each part of the file (an ORM row's columns).

    ``state``, ``due_at``, ``version``, ``history`` (a tuple of `HistoryEntry`),
    ``contact_attempts`` and ``interrupted`` are written by every accepted change; a bind
    sets the missing ones to a fresh file's values. ``id`` and ``state`` must exist. The
    attributes the rules only read (insurer, channel, subdivision, contractor, flags) may be
    ``None``: the object does not keep them, the rules see no insurer, no flags...
    """

    id: str = "id"
    state: str = "state"
    due_at: str = "due_at"
    version: str = "version"
    history: str = "history"
    contact_attempts: str = "contact_attempts"
    interrupted: str = "interrupted"
    insurer: str | None = "insurer"
    channel: str | None = "channel"
    subdivision: str | None = "subdivision"
    contractor: str | None = "contractor"
    flags: str | None = "flags"


_WRITTEN = ("version", "state", "due_at", "history", "contact_attempts", "interrupted")
"""Read in this order (the version first), written in the reverse one (the version last):
a view that saw version n saw every value of version n or later, so a compare-and-set on
the version catches any view read while another thread or task was writing."""
_WRITTEN_DEFAULTS: dict[str, Any] = {
    "due_at": None,
    "version": 0,
    "history": (),
    "contact_attempts": 0,
    "interrupted": None,
}
_ENTRY_TYPE = frozenset({HistoryEntry})
_READ = ("insurer", "channel", "subdivision", "contractor", "flags")
_READ_DEFAULTS: dict[str, Any] = {
    "insurer": None,
    "channel": None,
    "subdivision": None,
    "contractor": None,
    "flags": frozenset(),
}


@dataclass(frozen=True, slots=True)
class Change:
    """What one accepted change of a bound object was: what hooks receive, what a bound
    trigger returns. ``effects`` are the effects the value API returns with the move."""

    obj: Any
    kind: EntryKind
    source: str | None
    """The state before (None for an opening)."""
    target: str
    entry: HistoryEntry
    effects: tuple[Effect, ...]
    dossier: Dossier
    """The file after the change, as a value (what `Workflow.move` returned)."""


Hook = Callable[[Change], Any]
"""An ``after`` hook: called with every accepted `Change` (a coroutine function on an
asynchronous binder is awaited)."""


# --- the shared machines --------------------------------------------------------------


@dataclass(slots=True)
class _Call:
    """One bound move in flight: what the machine's callbacks read from ``args[0]``."""

    binder: Binder
    obj: Any
    view: Dossier
    target: str
    actor: Actor
    at: datetime
    comment: str | None
    due: datetime | None
    data: Mapping[str, Any] | None
    moved: Moved | None = None
    change: Change | None = None


def _call(event_data: EventData) -> _Call:
    args = event_data.args
    call = args[0] if isinstance(args, tuple) and args else None
    if not isinstance(call, _Call):
        raise BindingError(
            type(event_data.model),
            "the shared machine's triggers run through bound triggers (obj.to_<code>(...), "
            "obj.trigger(...)), not directly",
        )
    return call


_HOOKS: dict[type, frozenset[str]] = {}


def _hooks_of(cls: type) -> frozenset[str]:
    """The ``on_enter_*`` / ``on_exit_*`` names a class defines (read once per class)."""
    hooks = _HOOKS.get(cls)
    if hooks is None:
        if len(_HOOKS) >= _CLASSES_MAX:
            _HOOKS.clear()
        hooks = _HOOKS[cls] = frozenset(
            name for name in dir(cls) if name.startswith(("on_enter_", "on_exit_"))
        )
    return hooks


def _judge(event_data: EventData) -> bool:
    """The condition of every move: the value API judges the view (raises MoveRefused)."""
    call = _call(event_data)
    call.moved = call.binder.workflow.move(
        call.view,
        call.target,
        actor=call.actor,
        at=call.at,
        comment=call.comment,
        due=call.due,
        data=call.data,
    )
    return True


def _write(event_data: EventData) -> None:
    """Before the state changes: write every moved value to the object at once."""
    call = _call(event_data)
    assert call.moved is not None
    moved = call.moved.dossier
    call.binder.write(call.obj, moved, call.view.version)
    call.change = Change(
        call.obj,
        "move",
        call.view.state,
        moved.state,
        moved.history[-1],
        call.moved.effects,
        moved,
    )


def _state_hook(prefix: str) -> Callable[[EventData], Any]:
    def hook(event_data: EventData) -> Any:
        call = _call(event_data)
        assert call.change is not None
        code = call.change.source if prefix == "on_exit_" else call.change.target
        name = prefix + str(code)
        if name not in _hooks_of(type(call.obj)):
            return None
        return call.binder.check_hook(call.obj, getattr(call.obj, name)(call.change))

    hook.__name__ = f"_{prefix}hook"
    return hook


_entered = _state_hook("on_enter_")
_left = _state_hook("on_exit_")


def _after(event_data: EventData) -> Any:
    call = _call(event_data)
    assert call.change is not None
    return call.binder.run_hooks(call.change)


def _build(workflow: Workflow, cls: type[Machine]) -> Machine:
    """The shared machine of a workflow, from its public API (states, targets)."""
    catalogue = workflow.catalogue
    machine = cls(
        model=None,
        states=[{"name": s.code, "on_enter": [_entered], "on_exit": [_left]} for s in catalogue],
        initial=next(s.code for s in catalogue if s.initial),
        auto_transitions=False,
        model_override=True,
        ignore_invalid_triggers=False,
        send_event=True,
        model_attribute=MODEL_ATTRIBUTE,
        before_state_change=[_write],
        after_state_change=[_after],
        name="etatmachine",
    )
    for state in catalogue:
        for target in sorted(workflow.targets(state.code)):
            machine.add_transition(target, state.code, target, conditions=[_judge])
    return machine


class _Shared:
    """What binding keeps per workflow: its machines (built on first use) and binders."""

    __slots__ = ("asynchronous", "binders", "lock", "machine")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.machine: Machine | None = None
        self.asynchronous: AsyncMachine | None = None
        self.binders: dict[tuple[Names, tuple[Hook, ...], bool], Binder] = {}


_BINDERS_MAX = 256
"""How many (names, hooks, asynchronous) binders `Binder.cached` keeps per workflow."""
# Weak keys: a workflow only ever given to machine_of or to Binder(...) can go away. One
# whose binders `Binder.cached` keeps (Workflow.bind) is kept by them, like Workflow.default():
# workflows are built once per catalogue and shared.
_SHARED: weakref.WeakKeyDictionary[Workflow, _Shared] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _shared(workflow: Workflow) -> _Shared:
    shared = _SHARED.get(workflow)
    if shared is None:
        with _SHARED_LOCK:
            shared = _SHARED.get(workflow)
            if shared is None:
                shared = _SHARED[workflow] = _Shared()
    return shared


def machine_of(workflow: Workflow) -> Machine:
    """The one `transitions.Machine` a workflow's bound objects share (built on first use).

    States are the catalogue's codes, one trigger per target named by its code, one
    transition per move (explicit and resume), nothing else: ``auto_transitions=False``.
    """
    shared = _shared(workflow)
    if shared.machine is None:
        with shared.lock:
            if shared.machine is None:
                shared.machine = _build(workflow, Machine)
    return shared.machine


def _async_machine_of(workflow: Workflow) -> AsyncMachine:
    """The shared `AsyncMachine` of the workflow's asynchronous binders."""
    shared = _shared(workflow)
    if shared.asynchronous is None:
        from transitions.extensions.asyncio import AsyncMachine

        with shared.lock:
            if shared.asynchronous is None:
                shared.asynchronous = _build(workflow, AsyncMachine)  # type: ignore[assignment]
    assert shared.asynchronous is not None
    return shared.asynchronous


def transition_table(machine: Machine) -> frozenset[tuple[str, str]]:
    """Every (source, target) the machine can move, read from transitions' own events."""
    return frozenset(
        (t.source, t.dest)
        for event in machine.events.values()
        for transitions in event.transitions.values()
        for t in transitions
        if t.dest is not None
    )


def markup(workflow: Workflow) -> dict[str, Any]:
    """transitions' `MarkupMachine` view of the shared machine (states, transitions), for
    cross-checking the diagrams and for transitions' own tooling (GraphMachine...)."""
    from transitions.extensions.markup import MarkupMachine

    machine = machine_of(workflow)
    return dict(
        MarkupMachine(
            model=None,
            states=list(machine.states),
            transitions=[
                {"trigger": target, "source": source, "dest": target}
                for source, target in sorted(transition_table(machine))
            ],
            initial=machine.initial,
            auto_transitions=False,
        ).markup
    )


# --- the interface installed on a bound object's class -------------------------------

_INTERFACE_MARK = "_etatmachine_interface"
_INSTALLED: weakref.WeakKeyDictionary[type, set[str]] = weakref.WeakKeyDictionary()
_INSTALL_LOCK = threading.Lock()
_METHODS: dict[str, Any] = {}


def _mark(func: T, name: str, doc: str) -> T:
    func.__name__ = func.__qualname__ = name  # type: ignore[attr-defined]
    func.__doc__ = doc
    setattr(func, _INTERFACE_MARK, True)
    return func


def _to(code: str) -> Callable[..., Any]:
    def move(
        self: Any,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        return binder_of(self).trigger(
            self, code, actor=actor, at=at, comment=comment, due=due, data=data
        )

    return _mark(move, f"to_{code}", f"Move to {code!r} (see `Binder.trigger`).")


def _may(code: str) -> Callable[..., bool]:
    def may(self: Any, *, actor: Actor, at: datetime) -> bool:
        return binder_of(self).may(self, code, actor=actor, at=at)

    return _mark(may, f"may_to_{code}", f"Whether allowed_moves allows {code!r} now.")


def _is(code: str) -> Callable[[Any], bool]:
    def is_(self: Any) -> bool:
        return bool(getattr(self, binder_of(self).names.state) == code)

    return _mark(is_, f"is_{code}", f"Whether the object is in {code!r}.")


def _generic() -> dict[str, Any]:
    def trigger(self: Any, name: str, **kwargs: Any) -> Any:
        return binder_of(self).trigger(self, name, **kwargs)

    def may_trigger(self: Any, name: str, *, actor: Actor, at: datetime) -> bool:
        return binder_of(self).may(self, name, actor=actor, at=at)

    def allowed_moves(self: Any, *, actor: Actor, at: datetime) -> list[Verdict]:
        return binder_of(self).allowed_moves(self, actor=actor, at=at)

    def reschedule(self: Any, due: datetime, **kwargs: Any) -> Any:
        return binder_of(self).reschedule(self, due, **kwargs)

    def record_contact_attempt(self: Any, **kwargs: Any) -> Any:
        return binder_of(self).record_contact_attempt(self, **kwargs)

    def get_state(self: Any) -> Any:
        return getattr(self, binder_of(self).names.state)

    def set_state(self: Any, value: Any) -> None:
        name = binder_of(self).names.state
        if getattr(self, name, None) != value:
            setattr(self, name, value)

    methods: dict[str, Any] = {
        "trigger": _mark(trigger, "trigger", "Move to a target by code or label."),
        "may_trigger": _mark(may_trigger, "may_trigger", "Whether a target is allowed now."),
        "allowed_moves": _mark(allowed_moves, "allowed_moves", "Workflow.allowed_moves."),
        "reschedule": _mark(reschedule, "reschedule", "Workflow.reschedule, bound."),
        "record_contact_attempt": _mark(
            record_contact_attempt, "record_contact_attempt", "A contact attempt, bound."
        ),
    }
    prop = property(get_state, set_state, doc="The state, for transitions (see Names.state).")
    setattr(prop.fget, _INTERFACE_MARK, True)
    methods[MODEL_ATTRIBUTE] = prop
    return methods


_GENERIC = _generic()


def _ours(value: Any) -> bool:
    target = value.fget if isinstance(value, property) else value
    return bool(getattr(target, _INTERFACE_MARK, False))


def _install(cls: type, codes: Iterable[str]) -> None:
    """Give ``cls`` the interface for ``codes`` once: names the class defines are its own."""
    with _INSTALL_LOCK:
        done = _INSTALLED.get(cls)
        if done is None:
            done = _INSTALLED[cls] = set()
        wanted: dict[str, Any] = {}
        if not done:
            wanted.update(_GENERIC)
        for code in codes:
            if code in done:
                continue
            for make in (_to, _may, _is):
                func = _METHODS.get(make.__name__ + code)
                if func is None:
                    func = _METHODS[make.__name__ + code] = make(code)
                wanted[func.__name__] = func
            done.add(code)
        for name, value in wanted.items():
            current = getattr(cls, name, None)
            if current is None or _ours(current):
                setattr(cls, name, value)
            elif name == MODEL_ATTRIBUTE:
                raise BindingError(cls, f"the class defines {MODEL_ATTRIBUTE!r} itself")


def binder_of(obj: Any) -> Binder:
    """The binder of a bound object (`BindingError` if it is not bound)."""
    binder = getattr(obj, _BINDER_ATTR, None)
    if not isinstance(binder, Binder):
        raise BindingError(type(obj), "the object is not bound: call workflow.bind(obj) first")
    return binder


def dossier_of(obj: Any) -> Dossier:
    """A bound object's file as a value (to store, compare, or judge with the value API)."""
    return binder_of(obj).dossier(obj)


# --- the binder -----------------------------------------------------------------------


class Binder:
    """Binds objects to a workflow's shared machine with one attribute mapping and hooks.

    Build it once (or let `Workflow.bind` build and cache it); binding an object then
    costs one attribute. Hooks: the object's own ``on_exit_<code>(change)`` and
    ``on_enter_<code>(change)`` methods, then each ``after`` hook, all called once the
    object holds the moved values. ``asynchronous=True`` makes triggers, `open`,
    `reschedule` and `record_contact_attempt` coroutines (on transitions' AsyncMachine),
    and awaits hooks that are coroutine functions.
    """

    def __init__(
        self,
        workflow: Workflow,
        *,
        names: Names | None = None,
        after: Hook | Sequence[Hook] = (),
        asynchronous: bool = False,
    ) -> None:
        self.workflow = workflow
        self.names = names or Names()
        self.after: tuple[Hook, ...] = (after,) if callable(after) else tuple(after)
        self.asynchronous = asynchronous
        if not asynchronous:
            for hook in self.after:
                if inspect.iscoroutinefunction(hook):
                    raise BindingError(type(hook), "an async after hook: use asynchronous=True")
        self.machine: Machine = (
            _async_machine_of(workflow) if asynchronous else machine_of(workflow)
        )
        self._codes = frozenset(s.code for s in workflow.catalogue)
        n = self.names
        self._reads = tuple(
            (field, getattr(n, field), _READ_DEFAULTS[field])
            for field in _READ
            if getattr(n, field) is not None
        )
        self._defaults = {
            field: _READ_DEFAULTS[field] for field in _READ if getattr(n, field) is None
        }
        self._writes = tuple((field, getattr(n, field)) for field in _WRITTEN)
        self._lock = threading.Lock()
        self._turns: dict[int, _Turn] = {}
        self._views: dict[int, tuple[tuple[Any, ...], Dossier]] = {}
        # one C call reads every attribute (the slow path supplies defaults, names errors)
        self._fields = ("id", *(f for f, _ in self._writes), *(f for f, _, _ in self._reads))
        self._get = operator.attrgetter(
            n.id, *(name for _, name in self._writes), *(name for _, name, _ in self._reads)
        )

    def __copy__(self) -> Binder:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Binder:
        """A copied object is bound by the same binder (a binder is a shared service)."""
        return self

    @classmethod
    def cached(
        cls,
        workflow: Workflow,
        *,
        names: Names | None = None,
        after: Hook | Sequence[Hook] = (),
        asynchronous: bool = False,
    ) -> Binder:
        """The workflow's binder for these options (built once, then shared)."""
        hooks = (after,) if callable(after) else tuple(after)
        key = (names or Names(), hooks, asynchronous)
        try:
            hash(key)
        except TypeError:  # an unhashable hook: a binder of its own
            return cls(workflow, names=key[0], after=hooks, asynchronous=asynchronous)
        shared = _shared(workflow)
        binder = shared.binders.get(key)
        if binder is None:
            with shared.lock:
                binder = shared.binders.get(key)
            if binder is None:
                binder = cls(workflow, names=key[0], after=hooks, asynchronous=asynchronous)
                with shared.lock:
                    if len(shared.binders) < _BINDERS_MAX:  # hooks kept alive: cap the cache
                        binder = shared.binders.setdefault(key, binder)
        return binder

    # -- binding ------------------------------------------------------------------------

    def bind(self, obj: T) -> T:
        """Attach ``obj``: check its attributes, fill the missing written ones with a fresh
        file's values, give its class the interface. Returns ``obj``."""
        cls = type(obj)
        if isinstance(obj, Dossier):
            raise BindingError(cls, "a Dossier is a value: move it with Workflow.move")
        if dataclasses.is_dataclass(obj) and cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise BindingError(cls, "a frozen dataclass cannot be moved in place")
        config = getattr(cls, "model_config", None)
        if isinstance(config, Mapping) and config.get("frozen"):
            raise BindingError(cls, "a frozen model cannot be moved in place")
        if not self.asynchronous:
            for name in _hooks_of(cls):
                if inspect.iscoroutinefunction(getattr(cls, name, None)):
                    raise BindingError(cls, f"{name} is async: bind with asynchronous=True")
        for field, name in self._writes:
            if field in _WRITTEN_DEFAULTS and not hasattr(obj, name):
                try:
                    setattr(obj, name, _WRITTEN_DEFAULTS[field])
                except AttributeError as exc:
                    raise BindingError(cls, f"cannot set attribute {name!r}: {exc}") from exc
        self._view(obj, remember=False)  # every attribute readable and valid, state known
        try:
            object.__setattr__(obj, _BINDER_ATTR, self)
        except AttributeError as exc:
            raise BindingError(
                cls, f"no room for {_BINDER_ATTR!r} (add it to __slots__): {exc}"
            ) from exc
        if cls not in _INSTALLED or not self._codes <= _INSTALLED[cls]:
            _install(cls, sorted(self._codes))
        return obj

    def load(self, obj: T, dossier: Dossier) -> T:
        """Write a dossier's values into ``obj`` (its id and the attributes the object
        keeps) and bind it: a stored value becomes a bound object."""
        if dossier.id != getattr(obj, self.names.id, dossier.id):
            raise BoundValueError(
                type(obj), self.names.id, getattr(obj, self.names.id), f"not {dossier.id!r}"
            )
        setattr(obj, self.names.id, dossier.id)
        for field, name, _ in self._reads:
            setattr(obj, name, getattr(dossier, field))
        for field, name in self._writes:
            setattr(obj, name, getattr(dossier, field))
        return self.bind(obj)

    # -- reading and writing the object -------------------------------------------------

    def dossier(self, obj: Any) -> Dossier:
        """The object's file as a validated `Dossier` (read fresh from its attributes).

        The last view of an object is remembered with the attribute values it was built
        from: when every attribute still holds the very same (immutable) objects, it is
        reused; any change to any attribute makes a new, validated view.
        """
        return self._view(obj, remember=True)

    def _view(self, obj: Any, *, remember: bool) -> Dossier:
        try:
            raw: tuple[Any, ...] | None = self._get(obj)
        except AttributeError:
            raw = None
        if raw is not None:
            cached = self._views.get(id(obj))
            if cached is not None and all(map(operator.is_, raw, cached[0])):
                return cached[1]
            values: dict[str, Any] = dict(zip(self._fields, raw, strict=True))
        else:
            values = self._slow_read(obj)
        view = self._validate(type(obj), values)
        if raw is not None and remember:
            self._remember(obj, raw, view)
        return view

    def _remember(self, obj: Any, raw: tuple[Any, ...], view: Dossier) -> None:
        if set(map(type, raw)) <= _IMMUTABLE:
            if len(self._views) >= _VIEWS_MAX:
                self._views.clear()
            self._views[id(obj)] = (raw, view)

    def _validate(self, cls: type, values: dict[str, Any]) -> Dossier:
        values.update(self._defaults)
        history = values["history"]
        if history is not None and not isinstance(history, tuple):
            history = values["history"] = tuple(history)
        # Entries are immutable validated values: when the history holds only entries, the
        # view validates the rest and takes the tuple as it is (validating it again would
        # only re-run each entry's after-validator: O(history) per move for nothing).
        entries = type(history) is tuple and set(map(type, history)) <= _ENTRY_TYPE
        attempts = values.get("contact_attempts")
        if entries and history:
            # validated without the trail, whose invariants the trail alone states
            values["history"] = ()
            values["contact_attempts"] = 0
        try:
            view = Dossier.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else "id"
            name = getattr(self.names, field, field) or field
            raise BoundValueError(cls, name, values.get(field), error["msg"]) from exc
        if entries and history:
            view = evolve(view, {"history": history, "contact_attempts": attempts})
        if view.state not in self._codes:
            self.workflow.catalogue.state(view.state)  # raises UnknownStateError
        return view

    def _slow_read(self, obj: Any) -> dict[str, Any]:
        names = self.names
        values: dict[str, Any] = {}
        try:
            values["id"] = getattr(obj, names.id)
            for field, name in self._writes:
                values[field] = getattr(obj, name)
        except AttributeError as exc:
            raise BindingError(type(obj), f"missing attribute: {exc}") from exc
        for field, name, default in self._reads:
            values[field] = getattr(obj, name, default)
        return values

    def write(self, obj: Any, moved: Dossier, expected_version: int) -> None:
        """Write a moved dossier's values to the object, all or none, if the object still
        has ``expected_version`` (the version its view was read at): a compare-and-set, so
        two threads or tasks moving one object never lose a move (`VersionConflict`)."""
        before: list[tuple[str, Any]] = []
        with self._lock:
            current = getattr(obj, self.names.version)
            if current != expected_version:
                raise VersionConflict(moved.id, expected_version, current)
            try:
                for field, name in reversed(self._writes):
                    value = getattr(moved, field)
                    old = getattr(obj, name)
                    if old is not value and old != value:
                        before.append((name, old))
                        setattr(obj, name, value)
            except BaseException:
                for name, old in reversed(before):
                    setattr(obj, name, old)
                raise
            with suppress(AttributeError):
                self._remember(obj, self._get(obj), moved)

    # -- hooks --------------------------------------------------------------------------

    def check_hook(self, obj: Any, result: Any) -> Any:
        """A hook's result: awaited by an asynchronous machine, refused by a synchronous one."""
        if not self.asynchronous and isinstance(result, Awaitable):
            close = getattr(result, "close", None)
            if close is not None:
                close()  # no "never awaited" warning on top of the error
            raise BindingError(
                type(obj), "a hook returned a coroutine: bind with asynchronous=True"
            )
        return result

    def run_hooks(self, change: Change) -> Any:
        """Call the ``after`` hooks in order (a coroutine awaiting them, when asynchronous)."""
        if not self.after:
            return None
        if not self.asynchronous:
            for hook in self.after:
                self.check_hook(change.obj, hook(change))
            return None

        async def in_order() -> None:
            for hook in self.after:
                result = hook(change)
                if isinstance(result, Awaitable):
                    await result

        return in_order()

    def _enter_hook(self, change: Change) -> Any:
        name = f"on_enter_{change.target}"
        if name not in _hooks_of(type(change.obj)):
            return None
        return self.check_hook(change.obj, getattr(change.obj, name)(change))

    async def _hooks_async(self, change: Change, enter: bool) -> None:
        if enter:
            result = self._enter_hook(change)
            if isinstance(result, Awaitable):
                await result
        after = self.run_hooks(change)
        if after is not None:
            await after

    @asynccontextmanager
    async def _turn(self, obj: Any) -> AsyncIterator[None]:
        """One change of an object at a time on an asynchronous binder (AsyncMachine would
        otherwise cancel the hooks of a move still running when the next one passes)."""
        import asyncio

        task = asyncio.current_task()
        key = id(obj)
        turn = self._turns.get(key)
        if turn is not None and task is not None and turn.owner is task:
            yield  # a hook of this change changing the object again: still its turn
            return
        if turn is None:
            turn = self._turns[key] = _Turn(asyncio.Lock())
        turn.users += 1
        try:
            async with turn.lock:
                turn.owner = task
                try:
                    yield
                finally:
                    turn.owner = None
        finally:
            turn.users -= 1
            if not turn.users:
                del self._turns[key]

    # -- the operations -----------------------------------------------------------------

    def _check_bound(self, obj: Any) -> None:
        if getattr(obj, _BINDER_ATTR, None) is not self:
            binder_of(obj)  # raises when not bound at all
            raise BindingError(type(obj), "the object is bound by another binder")

    def _prepare(
        self,
        obj: Any,
        name: str,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        data: Mapping[str, Any] | None,
    ) -> tuple[Any, _Call]:
        self._check_bound(obj)
        view = self.dossier(obj)
        if name.startswith("to_") and name[3:] in self._codes:
            name = name[3:]
        target = self.workflow.state(name).code
        event = self.machine.events.get(target)
        if event is None or view.state not in event.transitions:
            # not a move of the catalogue: the value API says why (and raises)
            self.workflow.move(
                view, target, actor=actor, at=at, comment=comment, due=due, data=data
            )
            raise AssertionError(
                f"the workflow accepted {view.state} -> {target}; the machine has no such move"
            )
        return event, _Call(self, obj, view, target, actor, at, comment, due, data)

    def trigger(
        self,
        obj: Any,
        name: str,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        """Move ``obj`` to ``name`` (a code, ``to_<code>`` or a label) through the shared
        machine; returns the `Change` (a coroutine of it when asynchronous). A refusal
        raises `MoveRefused` exactly as `Workflow.move` would, and leaves ``obj`` untouched."""
        if self.asynchronous:
            return self._trigger_async(obj, name, actor, at, comment, due, data)
        event, call = self._prepare(obj, name, actor, at, comment, due, data)
        event.trigger(obj, call)
        assert call.change is not None
        return call.change

    async def _trigger_async(
        self,
        obj: Any,
        name: str,
        actor: Actor,
        at: datetime,
        comment: str | None,
        due: datetime | None,
        data: Mapping[str, Any] | None,
    ) -> Change:
        async with self._turn(obj):
            event, call = self._prepare(obj, name, actor, at, comment, due, data)
            await event.trigger(obj, call)
        if call.change is None:  # cancelled before the rules passed: nothing was written
            raise BindingError(type(obj), "the move was cancelled before it was judged")
        return call.change

    def may(self, obj: Any, name: str, *, actor: Actor, at: datetime) -> bool:
        """Whether `Workflow.allowed_moves` allows the target now (inputs not counted)."""
        view = self.dossier(obj)
        if name.startswith("to_") and name[3:] in self._codes:
            name = name[3:]
        target = self.workflow.state(name).code
        return any(
            v.target == target and v.allowed
            for v in self.workflow.allowed_moves(view, actor=actor, at=at)
        )

    def allowed_moves(self, obj: Any, *, actor: Actor, at: datetime) -> list[Verdict]:
        """`Workflow.allowed_moves` of the object's file."""
        return self.workflow.allowed_moves(self.dossier(obj), actor=actor, at=at)

    def _change(self, obj: Any, kind: EntryKind, source: str | None, moved: Moved) -> Change:
        d = moved.dossier
        return Change(obj, kind, source, d.state, d.history[-1], moved.effects, d)

    def _run(self, make: Callable[[], Change], obj: Any, enter: bool) -> Any:
        """Make a change outside the machine (open, reschedule, contact attempt) and run its
        hooks: now, or in a coroutine taking the object's turn when asynchronous."""
        if not self.asynchronous:
            change = make()
            if enter:
                self._enter_hook(change)
            self.run_hooks(change)
            return change

        async def run() -> Change:
            async with self._turn(obj):
                change = make()
                await self._hooks_async(change, enter)
            return change

        return run()

    def open(
        self,
        obj: Any,
        state: str | None = None,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
        due: datetime | None = None,
        data: Mapping[str, Any] | None = None,
        mid_flow: bool = False,
    ) -> Any:
        """Open the object's file (`Workflow.open` with its id and the attributes it keeps),
        write it, bind it; runs ``on_enter_<state>`` and the ``after`` hooks."""

        def make() -> Change:
            try:
                dossier_id = getattr(obj, self.names.id)
            except AttributeError as exc:
                raise BindingError(type(obj), f"missing attribute: {exc}") from exc
            attributes = {f: getattr(obj, name, default) for f, name, default in self._reads}
            moved = self.workflow.open(
                dossier_id,
                state,
                actor=actor,
                at=at,
                comment=comment,
                due=due,
                data=data,
                mid_flow=mid_flow,
                **attributes,
            )
            self.load(obj, moved.dossier)
            return self._change(obj, "open", None, moved)

        return self._run(make, obj, enter=True)

    def reschedule(
        self,
        obj: Any,
        due: datetime,
        *,
        actor: Actor,
        at: datetime,
        comment: str | None = None,
    ) -> Any:
        """`Workflow.reschedule` on the object (a refusal leaves it untouched); then the
        ``after`` hooks."""

        def make() -> Change:
            self._check_bound(obj)
            view = self.dossier(obj)
            moved = self.workflow.reschedule(view, due, actor=actor, at=at, comment=comment)
            self.write(obj, moved.dossier, view.version)
            return self._change(obj, "reschedule", view.state, moved)

        return self._run(make, obj, enter=False)

    def record_contact_attempt(
        self, obj: Any, *, actor: Actor, at: datetime, comment: str | None = None
    ) -> Any:
        """`Workflow.record_contact_attempt` on the object; then the ``after`` hooks."""

        def make() -> Change:
            self._check_bound(obj)
            view = self.dossier(obj)
            moved = self.workflow.record_contact_attempt(view, actor=actor, at=at, comment=comment)
            self.write(obj, moved.dossier, view.version)
            return self._change(obj, "contact_attempt", view.state, moved)

        return self._run(make, obj, enter=False)


@dataclass(slots=True)
class _Turn:
    """Whose turn it is to change one object on an asynchronous binder."""

    lock: asyncio.Lock
    owner: asyncio.Task[Any] | None = None
    users: int = 0
