"""What changed between two catalogues: states, moves, rules and deadlines.

Before a new catalogue version goes live over stored dossiers, its diff says which states
disappear (a dossier there needs a declared migration), which moves open or close, and
which rules and deadlines change. ``etatmachine diff OLD NEW`` prints it.

>>> from etatmachine.catalogue import default_catalogue
>>> d = diff_catalogues(default_catalogue(), default_catalogue())
>>> d.empty, d.to_text().splitlines()[0]
(True, 'ma-deroulement-dossier 2023.1 -> ma-deroulement-dossier 2023.1: no change')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etatmachine.catalogue import Catalogue, StateSpec

__all__ = ["CatalogueDiff", "StateChange", "diff_catalogues"]

_COMPARED = ("label", "phase", "kind", "owner", "clock", "initial", "resume", "effects")
"""State fields a diff reports besides deadlines and rules (wording fields are left out)."""


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_defaults=True, exclude={"why"})
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return getattr(value, "value", value)


@dataclass(frozen=True, slots=True)
class StateChange:
    """One field of a state that differs: its value in the old and the new catalogue."""

    state: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class CatalogueDiff:
    old: tuple[str, str]
    new: tuple[str, str]
    states_added: tuple[str, ...] = ()
    states_removed: tuple[str, ...] = ()
    moves_added: tuple[tuple[str, str], ...] = ()
    moves_removed: tuple[tuple[str, str], ...] = ()
    rules_changed: tuple[StateChange, ...] = ()
    deadlines_changed: tuple[StateChange, ...] = ()
    states_changed: tuple[StateChange, ...] = ()
    unmapped: tuple[str, ...] = field(default=())
    """Removed states the new catalogue's migration from the old version does not map."""

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.states_added,
                self.states_removed,
                self.moves_added,
                self.moves_removed,
                self.rules_changed,
                self.deadlines_changed,
                self.states_changed,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        def changes(items: tuple[StateChange, ...]) -> list[dict[str, Any]]:
            return [{"state": c.state, "field": c.field, "old": c.old, "new": c.new} for c in items]

        return {
            "old": {"name": self.old[0], "version": self.old[1]},
            "new": {"name": self.new[0], "version": self.new[1]},
            "states_added": list(self.states_added),
            "states_removed": list(self.states_removed),
            "moves_added": [list(m) for m in self.moves_added],
            "moves_removed": [list(m) for m in self.moves_removed],
            "rules_changed": changes(self.rules_changed),
            "deadlines_changed": changes(self.deadlines_changed),
            "states_changed": changes(self.states_changed),
            "unmapped": list(self.unmapped),
        }

    def to_text(self) -> str:
        head = f"{self.old[0]} {self.old[1]} -> {self.new[0]} {self.new[1]}"
        if self.empty:
            return f"{head}: no change\n"
        lines = [head]
        for title, codes in (
            ("states added", self.states_added),
            ("states removed", self.states_removed),
        ):
            if codes:
                lines.append(f"{title} ({len(codes)}):")
                lines += [f"  {'+' if 'added' in title else '-'} {c}" for c in codes]
        for title, moves, sign in (
            ("moves added", self.moves_added, "+"),
            ("moves removed", self.moves_removed, "-"),
        ):
            if moves:
                lines.append(f"{title} ({len(moves)}):")
                lines += [f"  {sign} {a} -> {b}" for a, b in moves]
        for title, items in (
            ("deadlines changed", self.deadlines_changed),
            ("rules changed", self.rules_changed),
            ("states changed", self.states_changed),
        ):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  ~ {c.state}.{c.field}: {c.old} -> {c.new}" for c in items]
        if self.unmapped:
            lines.append(
                "removed states without a migration (dossiers there cannot be loaded): "
                + ", ".join(self.unmapped)
            )
        return "\n".join(lines) + "\n"


def _moves(cat: Catalogue) -> set[tuple[str, str]]:
    return {(s.code, t) for s in cat for t in cat.moves_from(s.code)}


def _rules(state: StateSpec) -> Any:
    return sorted((_dump(r) for r in state.rules), key=lambda r: str(sorted(r.items())))


def diff_catalogues(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    """The differences from ``old`` to ``new`` (explicit moves, groups expanded)."""
    old_codes = {s.code for s in old}
    new_codes = {s.code for s in new}
    rules: list[StateChange] = []
    deadlines: list[StateChange] = []
    states: list[StateChange] = []
    for code in sorted(old_codes & new_codes):
        a, b = old.state(code), new.state(code)
        if _dump(a.deadline) != _dump(b.deadline):
            deadlines.append(StateChange(code, "deadline", _dump(a.deadline), _dump(b.deadline)))
        if _rules(a) != _rules(b):
            rules.append(StateChange(code, "rules", _rules(a), _rules(b)))
        for name in _COMPARED:
            va, vb = _dump(getattr(a, name)), _dump(getattr(b, name))
            if va != vb:
                states.append(StateChange(code, name, va, vb))
    removed = tuple(sorted(old_codes - new_codes))
    mapping = new.migration(old.version) if old.version != new.version else None
    unmapped = tuple(c for c in removed if mapping is None or c not in mapping)
    old_moves, new_moves = _moves(old), _moves(new)
    return CatalogueDiff(
        old=(old.name, old.version),
        new=(new.name, new.version),
        states_added=tuple(sorted(new_codes - old_codes)),
        states_removed=removed,
        moves_added=tuple(sorted(new_moves - old_moves)),
        moves_removed=tuple(sorted(old_moves - new_moves)),
        rules_changed=tuple(rules),
        deadlines_changed=tuple(deadlines),
        states_changed=tuple(states),
        unmapped=unmapped,
    )
