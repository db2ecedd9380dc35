"""The package's exceptions: one base, each subclass also the nearest builtin.

Every error keeps the bad value (and where it came from) as attributes, so a
caller can report it without parsing the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etatmachine.violations import Violation

__all__ = [
    "CatalogueError",
    "EtatmachineError",
    "MoveRefused",
    "NaiveDatetimeError",
    "UnknownStateError",
    "VersionConflict",
]


class EtatmachineError(Exception):
    """Base class of every error raised by etatmachine."""


class CatalogueError(EtatmachineError, ValueError):
    """A catalogue file or definition is broken.

    Names the file, the state and the field at fault, whichever are known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        state: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.state = state
        self.field = field
        self.reason = message
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"state {state!r}" if state else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class UnknownStateError(EtatmachineError, LookupError):
    """A state code or label matches no state of the catalogue.

    Carries the label as given and the closest candidates (codes), best first.
    """

    def __init__(self, label: str, candidates: Sequence[str] = ()) -> None:
        self.label = label
        self.candidates = tuple(candidates)
        hint = f"; closest: {', '.join(self.candidates)}" if self.candidates else ""
        super().__init__(f"unknown state {label!r}{hint}")

    def __str__(self) -> str:  # LookupError would repr() the args
        return str(self.args[0])


class NaiveDatetimeError(EtatmachineError, ValueError):
    """A datetime without a timezone was given where an instant is needed."""

    def __init__(self, value: Any, what: str = "datetime") -> None:
        self.value = value
        self.what = what
        super().__init__(f"{what} must be timezone-aware (e.g. Europe/Paris), got naive {value!r}")


class MoveRefused(EtatmachineError):
    """A move (or reschedule) broke one or more rules; nothing was changed.

    ``violations`` lists every broken rule at once; ``effects`` what the
    refusal asks the caller to do (e.g. open a complaint for a late chase).
    """

    def __init__(
        self,
        dossier_id: str,
        source: str,
        target: str,
        violations: Sequence[Violation],
        effects: Sequence[Any] = (),
    ) -> None:
        self.dossier_id = dossier_id
        self.source = source
        self.target = target
        self.violations = tuple(violations)
        self.effects = tuple(effects)
        codes = ", ".join(v.rule for v in self.violations)
        details = "; ".join(f"[{v.rule}] {v.message_en}" for v in self.violations)
        super().__init__(
            f"dossier {dossier_id}: move {source} -> {target} refused ({codes}): {details}"
        )

    @property
    def rules(self) -> tuple[str, ...]:
        """The violated rule codes, in evaluation order."""
        return tuple(v.rule for v in self.violations)


class VersionConflict(EtatmachineError):
    """A dossier was stored by someone else since it was read (optimistic lock)."""

    def __init__(self, dossier_id: str, expected: int, actual: int) -> None:
        self.dossier_id = dossier_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"dossier {dossier_id}: expected version {expected}, store has {actual}; "
            "reload it and replay the move"
        )
