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
    "ArgumentTypeError",
    "ArgumentValueError",
    "CatalogueError",
    "DateRangeError",
    "DossierInvalid",
    "EtatmachineError",
    "MoveRefused",
    "NaiveDatetimeError",
    "UnknownStateError",
    "VersionConflict",
]


class EtatmachineError(Exception):
    """Base class of every error raised by etatmachine."""


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters: a message never quotes 10 MB."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


class ArgumentTypeError(EtatmachineError, TypeError):
    """A public entry point got an argument of the wrong type.

    ``argument`` names it (``actor``, ``data['humidity']``), ``value`` is what was given.
    """

    def __init__(self, argument: str, value: Any, expected: str) -> None:
        self.argument = argument
        self.value = value
        self.expected = expected
        super().__init__(
            f"{argument} must be {expected}, got {type(value).__name__} {_short(value)}"
        )


class ArgumentValueError(EtatmachineError, ValueError):
    """A public entry point got an argument of the right type but an unusable value."""

    def __init__(self, argument: str, value: Any, reason: str) -> None:
        self.argument = argument
        self.value = value
        self.reason = reason
        super().__init__(f"{argument}: {reason} (got {_short(value)})")


class DateRangeError(ArgumentValueError):
    """A date outside the calendar's supported years (see `etatmachine.business_calendar`).

    ``year`` is the year at fault, ``argument`` what carried it (``at``, ``due``...).
    """

    def __init__(self, argument: str, value: Any, year: int, first: int, last: int) -> None:
        self.year = year
        self.first = first
        self.last = last
        super().__init__(
            argument, value, f"year {year} is outside the supported range {first}-{last}"
        )


class DossierInvalid(EtatmachineError, ValueError):
    """A dossier read back (``model_validate``, ``from_json``) breaks an invariant.

    ``field`` names the field at fault (``version``, ``history[3].at``), ``reason`` why.
    """

    def __init__(self, field: str, reason: str, *, dossier_id: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.dossier_id = dossier_id
        where = f"dossier {dossier_id}, " if dossier_id else ""
        super().__init__(f"{where}field {field!r}: {reason}")


class CatalogueError(EtatmachineError, ValueError):
    """A catalogue file or definition is broken.

    Names the file, the state and the field at fault, whichever are known. When a file
    has several problems, the message is the first one's and ``problems`` lists each as its
    own `CatalogueError`; `etatmachine validate` prints them all.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        state: str | None = None,
        field: str | None = None,
        problems: Sequence[CatalogueError] = (),
    ) -> None:
        self.file = file
        self.state = state
        self.field = field
        self.reason = message
        self.problems: tuple[CatalogueError, ...] = tuple(problems) or (self,)
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


class MoveRefused(EtatmachineError, ValueError):
    """A move (or reschedule) broke one or more rules; nothing was changed.

    A `ValueError`: the move asked for is not a valid value for this dossier now (as
    ``int("x")`` is for ``int``); retrying the same call gives the same refusal.

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


class VersionConflict(EtatmachineError, RuntimeError):
    """A dossier was stored by someone else since it was read (optimistic lock).

    A `RuntimeError`, not a `ValueError`: nothing the caller passed is wrong, the store
    changed under it; reloading and replaying the move may well succeed. (Code catching
    ``ValueError`` for bad input must not swallow a lost race as one.)
    """

    def __init__(self, dossier_id: str, expected: int, actual: int) -> None:
        self.dossier_id = dossier_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"dossier {dossier_id}: expected version {expected}, store has {actual}; "
            "reload it and replay the move"
        )
