"""The boundary checks of the workflow's public entry points.

The workflow's hot path stores what it is given without pydantic validation (see
`etatmachine.dossier.trusted_entry`), so every argument is checked here first, once, and a
bad one raises the library's own error naming it: `ArgumentTypeError` (a `TypeError`) for
the wrong type, `ArgumentValueError` (a `ValueError`) for an unusable value,
`NaiveDatetimeError` / `DateRangeError` for instants, `UnknownStateError` for a dossier in a
state the catalogue lacks. What passes can be stored and read back exactly.

The semantics settled here (each has a test in ``tests/test_hardening_api.py``):

* ``comment``: text without lone surrogates. A comment with no visible character (only
  spaces, controls or invisible format characters such as U+200B) says nothing: it is
  treated as no comment (None), so it never satisfies ``comment_required``.
* ``data``: a mapping with text keys; values None, bool, int (signed 64-bit), float,
  text (no lone surrogates) or datetime. Anything else (a list, a date, bytes) is refused
  rather than stored as its ``str()``; a naive datetime is left to the rules, which report
  it as a violation.
* ``flags``: an iterable of text, never one string (``"vip"`` is not ``{"v", "i", "p"}``).
* ``subdivision``: a calendar subdivision `CalendarConfig` knows, or None.
* Dates: ``at``/``due`` are aware datetimes within the calendar's supported years. A due
  date or an appointment earlier than ``at`` is accepted: moves are often entered after
  the fact, and such a file is late at once, which lateness reports.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, cast
from zoneinfo import ZoneInfo

from etatmachine.business_calendar import FIRST_YEAR, LAST_YEAR, check_instant
from etatmachine.dossier import MAX_DATA_INT, NO_FLAGS, Actor, Dossier, text_problem
from etatmachine.errors import ArgumentTypeError, ArgumentValueError, UnknownStateError
from etatmachine.working import WorkingDossier

__all__ = [
    "check_actor",
    "check_comment",
    "check_data",
    "check_dossier",
    "check_flags",
    "check_label",
    "check_move",
    "check_open",
    "check_optional_text",
    "check_text",
    "check_texts",
    "is_blank",
]

_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})
"""Categories that show nothing on their own: separators, controls, format characters
(U+200B, U+2060, U+FEFF), unassigned code points and lone combining marks."""


def is_blank(text: str) -> bool:
    """True when ``text`` has no visible character (spaces, U+200B, U+FEFF...)."""
    category = unicodedata.category
    return all(category(c) in _INVISIBLE for c in text)


def check_actor(actor: Any) -> Actor:
    """``actor`` if it is an `Actor`."""
    if type(actor) is Actor or isinstance(actor, Actor):
        return actor
    raise ArgumentTypeError("actor", actor, "an Actor")


def _text(value: Any, name: str) -> str:
    if type(value) is not str and not isinstance(value, str):
        raise ArgumentTypeError(name, value, "text (str)")
    problem = text_problem(value)
    if problem is not None:
        raise ArgumentValueError(name, value, problem)
    return value


def check_text(value: Any, name: str) -> str:
    """``value`` if it is storable text."""
    return _text(value, name)


def check_optional_text(value: Any, name: str) -> str | None:
    """``value`` if it is None or storable text."""
    return None if value is None else _text(value, name)


def check_label(value: Any, name: str) -> str:
    """A state code or label: text (resolving it is the catalogue's job)."""
    if type(value) is str:
        return value
    return _text(value, name)


def check_comment(comment: Any) -> str | None:
    """The comment to store: None for one with no visible character (see the module)."""
    if comment is None:
        return None
    if type(comment) is not str:
        _text(comment, "comment")  # raises for non-text
    if comment.isprintable():  # no control, format character, surrogate or odd space
        if comment.isascii():  # the common case: plain text
            return comment if comment.strip() else None
        visible: str = comment.lstrip(" ")  # blank only if spaces and lone combining marks
        if visible and unicodedata.category(visible[0]) not in ("Mn", "Me"):
            return cast(str, comment)
    problem = text_problem(comment)
    if problem is not None:
        raise ArgumentValueError("comment", comment, problem)
    return None if is_blank(comment) else comment


def check_data(data: Any) -> Mapping[str, Any] | None:
    """``data`` if it is None or a mapping of text keys to storable values."""
    if data is None:
        return None
    if type(data) is not dict and not isinstance(data, Mapping):
        raise ArgumentTypeError("data", data, "a mapping of field names to values")
    for key, value in data.items():
        if type(key) is not str:
            raise ArgumentTypeError("data key", key, "text (str)")
        if not key.isascii():  # ASCII text is always storable
            problem = text_problem(key)
            if problem is not None:
                raise ArgumentValueError("data key", key, problem)
        if isinstance(value, str):
            if not value.isascii():
                problem = text_problem(value)
                if problem is not None:
                    raise ArgumentValueError(f"data[{key!r}]", value, problem)
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            pass  # non-finite floats are kept as text ("nan"): exact in JSON
        elif isinstance(value, int):
            if not -MAX_DATA_INT <= value <= MAX_DATA_INT:
                raise ArgumentValueError(
                    f"data[{key!r}]", value, "integer out of the signed 64-bit range"
                )
        elif isinstance(value, datetime):
            # naive: the rules report it as a violation; a plain one in the years: no check
            if value.utcoffset() is not None and not (
                type(value) is datetime and FIRST_YEAR <= value.year <= LAST_YEAR
            ):
                check_instant(value, f"data[{key!r}]")
        else:
            raise ArgumentTypeError(
                f"data[{key!r}]", value, "None, bool, int, float, str or datetime (JSON-storable)"
            )
    return data


def check_flags(flags: Any) -> frozenset[str]:
    """The flags as a frozenset of text; one string is refused (it is not a set of letters)."""
    if not flags and (type(flags) is tuple or type(flags) is frozenset):
        return NO_FLAGS  # the common case: none
    if isinstance(flags, str | bytes):
        raise ArgumentTypeError("flags", flags, "an iterable of flags (str), not one string")
    if not isinstance(flags, Iterable):
        raise ArgumentTypeError("flags", flags, "an iterable of flags (str)")
    out = frozenset(flags)
    for flag in out:
        _text(flag, "flags item")
    return out


def check_dossier(dossier: Any, states: Mapping[str, Any]) -> Dossier | WorkingDossier:
    """``dossier`` if it is a `Dossier` (or a `WorkingDossier`) in one of ``states`` (else
    `UnknownStateError`)."""
    if not isinstance(dossier, Dossier | WorkingDossier):
        raise ArgumentTypeError("dossier", dossier, "a Dossier")
    if dossier.state not in states:
        close = difflib.get_close_matches(dossier.state, list(states), n=3, cutoff=0.5)
        raise UnknownStateError(dossier.state, close)
    return dossier


_OFFSET_ZONES = frozenset({ZoneInfo, timezone})
"""tzinfo types whose datetimes always have an offset (aware for sure)."""


def _instant(value: Any, name: str) -> None:
    if (
        type(value) is datetime
        and value.tzinfo is not None
        and FIRST_YEAR <= value.year <= LAST_YEAR
        and value.utcoffset() is not None
    ):
        return
    check_instant(value, name)  # raises the precise error


def check_move(
    states: Mapping[str, Any],
    dossier: Any,
    to: Any,
    actor: Any,
    at: Any,
    comment: Any,
    due: Any,
    data: Any,
) -> str | None:
    """Check the arguments of ``move``/``record``/``explain`` (``to`` ``""``: the calls that
    take no target); return the comment to store. ``states``: the catalogue's, by code.

    Written flat: it runs before every move, and values that pass cost a few tests.
    """
    if (type(dossier) is not Dossier and type(dossier) is not WorkingDossier) or (
        dossier.state not in states
    ):
        check_dossier(dossier, states)
    if type(to) is not str:
        check_label(to, "to")
    if type(actor) is not Actor:
        check_actor(actor)
    if not (
        type(at) is datetime
        and type(at.tzinfo) in _OFFSET_ZONES
        and FIRST_YEAR <= at.year <= LAST_YEAR
    ):
        check_instant(at, "at")
    if due is not None and not (
        type(due) is datetime
        and type(due.tzinfo) in _OFFSET_ZONES
        and FIRST_YEAR <= due.year <= LAST_YEAR
    ):
        check_instant(due, "due")
    if data is not None:
        check_data(data)
    if comment is None or (
        type(comment) is str
        and comment.isascii()
        and comment.isprintable()
        and comment
        and not comment.isspace()
    ):
        return comment  # plain visible text, the common case
    return check_comment(comment)


def check_open(
    dossier_id: Any,
    state: Any,
    actor: Any,
    at: Any,
    comment: Any,
    due: Any,
    data: Any,
    flags: Any,
) -> tuple[str | None, frozenset[str]]:
    """Check the arguments of ``open``; return the comment to store and the flags."""
    if not _text(dossier_id, "dossier_id"):
        raise ArgumentValueError("dossier_id", dossier_id, "must not be empty")
    if state is not None:
        check_label(state, "state")
    check_actor(actor)
    _instant(at, "at")
    if due is not None:
        _instant(due, "due")
    check_data(data)
    return check_comment(comment), check_flags(flags)


def check_texts(**values: Any) -> list[str | None]:
    """Each keyword's value if it is None or storable text (the error names the keyword)."""
    return [check_optional_text(value, name) for name, value in values.items()]
