"""The history parser's engine: physical lines in, typed records out, in one pass.

The rules it follows are documented in `etatmachine.legacy` (the public module, which
re-exports the entry points defined here). This module holds no pydantic model (it builds
those of `etatmachine.history.records`), so the optional compiled build compiles it with
mypyc; both builds run the same source and give the same records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final, TypeVar

from etatmachine.build_info import runs_compiled
from etatmachine.business_calendar import PARIS
from etatmachine.fields_sets import FieldsSet, shared
from etatmachine.history.reading import file_blocks, physical_lines, split_lines
from etatmachine.history.records import (
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
    ParsedHistory,
    Party,
    RealisationRecord,
    Record,
    RoleMap,
    SubAssignmentRecord,
    UnrecognisedRecord,
)
from etatmachine.roles import Role
from etatmachine.trusted import trusted

__all__ = ["is_opening_line", "iter_file", "iter_records", "parse_file", "parse_text"]

_DEFAULT_ROLES: Final = RoleMap()

# Trusted construction. The parser builds its models without pydantic validation: validating
# would only copy values the parser already produced in their final types (ints from int(),
# aware datetimes from _at with tzinfo=PARIS, dates, Decimal, Role members from RoleMap, str
# or None, Author/Party instances), and it cost 2-4 µs a model, more than reading the entry.
# `etatmachine.trusted.trusted` does what `BaseModel.model_construct` does for these plain
# frozen models (no aliases, extras, private attributes or post-init) without its per-field
# loop: ``__dict__`` holds every field in declaration order (each builder writes its record's
# dict at once, defaults included) and the fields-set is the fields validation would have been
# given: the common ones and those the builder read, one shared `FieldsSet` per shape of
# record (`etatmachine.fields_sets`). tests/test_trusted_models.py proves it, for every kind
# of record: validating a record's dump gives an equal record with the same fields-set and
# the same field order.

_COMMON: Final = ("first_line", "last_line", "raw", "author")


def _shape(*names: str) -> FieldsSet:
    """The shared fields-set of a record given the common fields and ``names``."""
    return shared((*_COMMON, *names))


_AUTHOR_SET: Final = shared(("at", "user_id", "name", "role"))
_PARTY_SET: Final = shared(("user_id", "name", "tag", "role"))
_ETAT_SET: Final = _shape("label", "due_at", "comment")
_NOTE_SET: Final = _shape("text")
_BARE_SET: Final = _shape()  # author and opening records: the common fields only
_ACTION_SETS: Final = (  # by (contractor read, contractor id read, acceptance date read)
    _shape("text"),
    _shape("text", "contractor_name"),
    _shape("text", "contractor_name", "contractor_id"),
    _shape("text", "contractor_name", "accepted_at"),
    _shape("text", "contractor_name", "contractor_id", "accepted_at"),
)
_CONTACT_SET: Final = _shape("number", "text", "contacted_at")
_CONTROL_SET: Final = _shape("text", "detail")
_MENSAJE_SET: Final = _shape("sender", "contractor_id", "text")
_AUTONOMY_SET: Final = _shape("amount", "caveat")
_REALISATION_SET: Final = _shape("what", "on")
_ASSIGN_SET: Final = _shape("assignee_id", "assignee_name")
_SUBASSIGN_SET: Final = _shape("contractor_id", "contractor_name", "at")
_MESSAGE_SET: Final = _shape("sender", "recipient", "delivered", "body")
_UNRECOGNISED_SET: Final = _shape("text", "message", "line")


def _party_of(user_id: str | None, name: str | None, tag: str | None, role: Role) -> Party:
    """``Party(user_id=..., name=..., tag=..., role=...)``, trusted."""
    values = {"user_id": user_id, "name": name, "tag": tag, "role": role}
    return trusted(Party, values, _PARTY_SET)


# ---------------------------------------------------------------------------------------------
# Line classes and patterns (all anchored or starting with a literal: linear on long lines)

_SPACES: Final = {0xA0: " ", 0x202F: " ", 0x09: " "}  # read as spaces when matching
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")  # binary garbage

# Line classes: Final ints, compiled as constants.
_TEXT: Final = 0
_AUTHOR: Final = 1
_ETAT: Final = 2
_OPENING: Final = 3
_AUTONOMY: Final = 4
_REALISATION: Final = 5
_ASSIGN: Final = 6
_SUBASSIGN: Final = 7
_ACTION: Final = 8
_MESSAGE: Final = 9
_POUR: Final = 10
_REMIS: Final = 11
_CONTACT: Final = 12
_CONTROL: Final = 13
_MENSAJE: Final = 14
_GARBAGE: Final = 15
_BAD_AUTHOR: Final = 16
_SOFT: Final = frozenset({_TEXT, _POUR, _REMIS})  # read as text outside a MESSAGE header

_MESSAGE_START_RE: Final = re.compile(r"MESSAGE DE\b")
_STARTS: Final[dict[str, tuple[tuple[re.Pattern[str], int], ...]]] = {
    "E": ((re.compile(r"ETAT ?:"), _ETAT),),
    "É": ((re.compile(r"ÉTAT ?:"), _ETAT),),
    "O": ((re.compile(r"OUVERTURE ?:"), _OPENING),),
    "L": ((re.compile(r"La limite maximum d.autonomie"), _AUTONOMY),),
    "R": ((re.compile(r"REALISATION ?:"), _REALISATION), (re.compile(r"REMIS DE ?:"), _REMIS)),
    "A": (
        (re.compile(r"ASSIGNER ?:"), _ASSIGN),
        (re.compile(r"Action r[ée]alis[ée]e ?:"), _ACTION),
    ),
    "I": ((re.compile(r"Intervention sous-assign[ée]e"), _SUBASSIGN),),
    "M": ((_MESSAGE_START_RE, _MESSAGE), (re.compile(r"Mensaje de\b"), _MENSAJE)),
    "P": ((re.compile(r"POUR ?:"), _POUR),),
    "N": ((re.compile(r"NTACT ?\d+ ?:"), _CONTACT),),
    "C": ((re.compile(r"CONTACT ?\d+ ?:"), _CONTACT),),
    "D": ((re.compile(r"Dossier contr[ôo]l[ée]"), _CONTROL),),
}


def _word_ends_at_10(s: str) -> bool:
    """``\\b`` after the 10-character word that starts ``s``: the end, or a character no word
    has (a module function, not a closure: the line loop calls it)."""
    return len(s) == 10 or not (s[10].isalnum() or s[10] == "_")


def _autonomy_at_20(s: str) -> bool:
    """``La limite maximum d.autonomie``: any character at 19, then ``autonomie``."""
    return s[20:29] == "autonomie"


def _spaced(*keys: str) -> tuple[str, ...]:
    """``KEY ?:`` as literal prefixes."""
    return tuple(p for key in keys for p in (key + ":", key + " :"))


_Start = tuple[tuple[str, ...], int, Callable[[str], object] | None]
_PREFIXES: Final[dict[str, tuple[_Start, ...]]] = {
    # `_STARTS` as str.startswith (one C call, not a regex match per line): a line starts
    # with one of the prefixes and passes the check. tests/test_legacy_properties.py checks
    # the two tables agree.
    "E": ((_spaced("ETAT"), _ETAT, None),),
    "É": ((_spaced("ÉTAT"), _ETAT, None),),
    "O": ((_spaced("OUVERTURE"), _OPENING, None),),
    "L": ((("La limite maximum d",), _AUTONOMY, _autonomy_at_20),),
    "R": ((_spaced("REALISATION"), _REALISATION, None), (_spaced("REMIS DE"), _REMIS, None)),
    "A": (
        (_spaced("ASSIGNER"), _ASSIGN, None),
        (_spaced(*(f"Action r{a}alis{b}e" for a in "ée" for b in "ée")), _ACTION, None),
    ),
    "I": ((("Intervention sous-assignée", "Intervention sous-assignee"), _SUBASSIGN, None),),
    "M": (
        (("MESSAGE DE",), _MESSAGE, _word_ends_at_10),
        (("Mensaje de",), _MENSAJE, _word_ends_at_10),
    ),
    "P": ((_spaced("POUR"), _POUR, None),),
    "N": ((("NTACT",), _CONTACT, _STARTS["N"][0][0].match),),
    "C": ((("CONTACT",), _CONTACT, _STARTS["C"][0][0].match),),
    "D": (
        (
            tuple(f"Dossier contr{a}l{b}" for a in "ôo" for b in "ée"),
            _CONTROL,
            None,
        ),
    ),
}

_PREFIXES_BY_CODE: Final = tuple(_PREFIXES.get(chr(code)) for code in range(256))
"""`_PREFIXES` by the code point of the first character (all below 256), read by index."""

_STAMP: Final = r"(\d{1,2})\.(\d{1,2})\.(\d{4}) ?- ?(\d{1,2}):(\d{2})(?: ?- ?\(([^()]*)\) *(.*))?"
_AUTHOR_RE: Final = re.compile(_STAMP + r"\Z")
_DATE_TIME: Final = r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4}) +(\d{1,2})[:hH](\d{2})(?!\d)"
_DUE_RE: Final = re.compile(_DATE_TIME[len("(?<!\\d)") :])  # see _find_due
_DUE_END_RE: Final = re.compile(_DATE_TIME + r" *\Z")
_SET_TAIL: Final = r" *- *N[^\d\s()]{0,3} *(\d+) *\)\Z"  # after the set date: "-N°k)"
_SET_END: Final = r"\( *(\d{1,2})/(\d{1,2})/(\d{4})" + _SET_TAIL
_SET_END_RE: Final = re.compile(_SET_END)
# The common ETAT entry in one match (`_Parser._etat` reads the rest as the general path
# would): "ETAT: " then a label without "/" (so the due date is the first "/" one, and the
# greedy label backtracks to it at once), the due date with two-digit fields and one space,
# anything (the comment), and the set date, which has no "(" inside, so its "(" is the last
# one, where the general path looks for it. Groups: the label, the due day and time, the
# comment, the set date and its number; read at once with ``groups()`` (a lazy comment, tried
# at each "(", was slower than backtracking from the end, measured).
_ETAT_FAST_RE: Final = re.compile(
    r"[EÉ]TAT: ([^\s/-][^/]*) ([0-9]{2}/[0-9]{2}/[0-9]{4}) ([0-9]{2}:[0-9]{2})(?!\d)(.*)"
    r"\( *(\d{1,2}/\d{1,2}/\d{4})" + _SET_TAIL
)


def _digits(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is ASCII digits (compiled: code points compared in a C
    loop, no string made)."""
    for p in range(start, end):
        c = ord(text[p])
        if c < 48 or c > 57:
            return False
    return True


def _minute_at(text: str, i: int) -> int:
    """``_MINUTE_OF.get(text[i : i + 5], -1)`` for a text whose ``text[i + 2]`` is ``:``,
    read from its code points (compiled: no slice to hash): the minute of the day that
    ``HH:MM`` (ASCII digits) names, or -1."""
    h = ord(text[i]) - 48
    h2 = ord(text[i + 1]) - 48
    m = ord(text[i + 3]) - 48
    m2 = ord(text[i + 4]) - 48
    if 0 <= h2 <= 9 and 0 <= m <= 5 and 0 <= m2 <= 9 and 0 <= h <= 2:
        hour = 10 * h + h2
        if hour < 24:
            return 60 * hour + 10 * m + m2
    return -1


def _is_day_at(text: str, p: int) -> bool:
    """Whether ``text[p : p + 10]`` is ``dd/mm/yyyy`` in ASCII digits (compiled: code points
    compared one by one, no string made; ``text`` holds the 10 characters)."""
    return (
        text[p + 2] == "/"
        and text[p + 5] == "/"
        and _digits(text, p, p + 2)
        and _digits(text, p + 3, p + 5)
        and _digits(text, p + 6, p + 10)
    )


_COMPILED: Final = runs_compiled(_minute_at)
"""Whether this module runs compiled: three readings take a path of their own in each
build. Compiled, the commonest ETAT entry is cut at fixed places (`_etat_cuts`), a
signature's time of day read from its code points (`_minute_at`) and a line with printable
ASCII at both ends taken as its own stripped text, where interpreted code takes the fast
pattern, the ``HH:MM`` slice's lookup and ``strip``, cheaper there (measured: 1.3x the
parsing time otherwise). Each build's whole test suite runs its path; the property tests check the
fixed-place readings against the patterns in both."""


def _etat_cuts(text: str) -> tuple[int, int, int]:
    """Where the commonest ETAT entry is cut, read at fixed places without a pattern:
    ``ETAT: label dd/mm/yyyy HH:MM[ comment](dd/mm/yyyy-N°k)``, ASCII digits, one space
    around the due date and none inside the set date, a possible time of day. Returns the
    places of the first ``/`` (the due day's) and of the last ``(`` (the set date's), and the
    due time's minute of the day, or (-1, -1, -1) for any other text.

    Such a text is one `_ETAT_FAST_RE` matches, with the groups these places cut (the label
    holds no ``/``, so the due day is at the first one; the set date holds no ``(``, so it
    starts at the last one): tests/test_parser_fast_paths.py checks the two agree."""
    n = len(text)
    i = text.find("/")
    if (
        i < 10  # "ETAT: ", a label of one character at least, " dd" before the "/"
        or n < i + 30  # the rest of the due date, a set date of one digit
        or not (text[0] == "E" or text[0] == "É")
        or not (text[1] == "T" and text[2] == "A" and text[3] == "T")
        or not (text[4] == ":" and text[5] == " ")
        or text[6] == "-"
        or text[6].isspace()
        or text[i - 3] != " "
        or text[i + 8] != " "
        or text[i + 11] != ":"
        or not (text[i + 14] == " " or text[i + 14] == "(")  # (?!\d) after the time
        or text[n - 1] != ")"
        or not _is_day_at(text, i - 2)
    ):
        return -1, -1, -1
    minute = _minute_at(text, i + 9)  # a time of day, its digits ASCII
    j = text.rfind("(")
    if (
        j < i + 14
        or n < j + 16  # "(dd/mm/yyyy-N°", a digit, ")"
        or not (text[j + 11] == "-" and text[j + 12] == "N" and text[j + 13] == "°")
        or not _is_day_at(text, j + 1)
        or not _digits(text, j + 14, n - 1)
        or minute < 0
    ):
        return -1, -1, -1
    return i, j, minute


_WEEK_END_RE: Final = re.compile(r"[Ss]emaine *:? *(\d{1,2}) *\.?\Z")
_HUMIDITY_END_RE: Final = re.compile(r"% *d['\u2019] *humidit[ée] *:? *(\d{1,3}) *%? *\.?\Z")
_N_END_RE: Final = re.compile(r"\((\d{1,4})\)\.?\Z")
_ID_REST_RE: Final = re.compile(r"\(([^()]*)\) *(.*)\Z")
_BRACKET_ID_RE: Final = re.compile(r"\[([^\[\]]*)\] *(.*)\Z")
_DAY_END_RE: Final = re.compile(r"(?<!\d)(\d{1,2})[./](\d{1,2})[./](\d{4})\Z")
_AMOUNT_RE: Final = re.compile(r"(\d{1,3}(?:[ .]\d{3})+|\d+)(?:,(\d+))? *(?:€|EUR)?")
_ACCEPT_AT_RE: Final = re.compile(
    r" *le +(\d{1,2})/(\d{1,2})/(\d{4}) +(?:a|à) +(\d{1,2})[:hH](\d{2})"
)
_MENSAJE_RE: Final = re.compile(r"Mensaje de +(\S+) *(.*)\Z")
_CONTACT_RE: Final = re.compile(r"(?:CO)?NTACT ?(\d+) ?: *-? *(.*)\Z")

_MAX_CONT: Final = {  # continuation lines a record may take: wrapped text, never a whole file
    _ETAT: 12,
    _TEXT: 200,
    _AUTONOMY: 6,
    _ACTION: 12,
    _MENSAJE: 40,
    _CONTROL: 6,
    _MESSAGE: 60,
}


def _clean(raw: str) -> str:
    """The line as matching reads it: stripped, U+00A0, U+202F and tabs read as spaces."""
    if "\t" in raw or "\xa0" in raw or "\u202f" in raw:
        return raw.translate(_SPACES).strip()
    return raw.strip()


def _classify(s: str) -> int:
    c = s[0]
    if "0" <= c <= "9":
        if _AUTHOR_RE.match(s):
            return _AUTHOR
    else:
        for pattern, cls in _STARTS.get(c, ()):
            if pattern.match(s):
                return cls
    if _CONTROL_RE.search(s):
        return _GARBAGE
    return _TEXT


class _BadEntryError(ValueError):
    """An entry that cannot be read; the message goes into the unrecognised record."""


# Date and time fields are 1-4 ASCII digits; the common ones read from a table (int() is
# the slower path, and the only one for other digits, Unicode ones included). Read as
# ``ints.get(x)`` on a local: faster than a bound ``get``, compiled (native dict get) or not
# (Python 3.11 specialises the method call), measured.
_INTS: Final[dict[str, int]] = {
    **{str(i): i for i in range(100)},
    **{f"{i:02d}": i for i in range(10)},
    **{str(y): y for y in range(1900, 2101)},
}
_MINUTES: Final = tuple(timedelta(minutes=k) for k in range(24 * 60))
"""Every time of day as the time since midnight, by its minute of the day: a day's midnight
(``datetime(y, m, d, 0, 0, 0, 0, PARIS)``, cached) plus one gives what ``datetime(..., PARIS)``
gives (datetime arithmetic is wall-clock: the same fields, tzinfo and fold 0), at half the
cost of ``datetime.combine`` (no arguments parsed)."""
_MINUTE_OF: Final[dict[str, int]] = {
    f"{k // 60:02d}:{k % 60:02d}": k for k in range(24 * 60)
}  # "HH:MM" -> its minute of the day


def _at(day: str, month: str, year: str, hour: str, minute: str, what: str) -> datetime:
    ints = _INTS
    try:
        return datetime(
            ints.get(year) or int(year),
            ints.get(month) or int(month),
            ints.get(day) or int(day),
            ints.get(hour) or int(hour),
            ints.get(minute) or int(minute),
            0,
            0,
            PARIS,  # positional: half the cost of tzinfo=PARIS
        )
    except ValueError:
        raise _BadEntryError(f"impossible {what} {day}/{month}/{year} {hour}:{minute}") from None


def _at_match(m: re.Match[str], what: str) -> datetime:
    d, mo, y, h, mi = m.group(1, 2, 3, 4, 5)
    return _at(d, mo, y, h, mi, what)


def _day_match(m: re.Match[str], what: str) -> date:
    d, mo, y = m.group(1, 2, 3)
    return _day(d, mo, y, what)


def _day(day: str, month: str, year: str, what: str) -> date:
    ints = _INTS
    try:
        return date(
            ints.get(year) or int(year), ints.get(month) or int(month), ints.get(day) or int(day)
        )
    except ValueError:
        raise _BadEntryError(f"impossible {what} {day}/{month}/{year}") from None


def _after_colon(text: str) -> str:
    """What follows the record's keyword: ``KEY: -rest`` → ``rest`` (str.find: linear)."""
    i = text.find(":")
    rest = text[i + 1 :].lstrip(" ") if i >= 0 else text
    return rest.removeprefix("-").lstrip(" ")


def _name(text: str) -> str | None:
    """A person's name without the export's trailing `` .`` marker."""
    text = text.strip()
    if text.endswith(" ."):
        text = text[:-2].rstrip()
    return text or None


def _split_tag(rest: str) -> tuple[str | None, str | None]:
    """``NAME (TAG)`` → (name, tag)."""
    rest = rest.strip()
    if rest.endswith(")"):
        i = rest.rfind("(")
        if i >= 0:
            return _name(rest[:i]), rest[i + 1 : -1].strip() or None
    return _name(rest), None


# ---------------------------------------------------------------------------------------------
# The streaming parser


_UNSIGNABLE: Final = frozenset({_OPENING, _AUTHOR, _BAD_AUTHOR})
_SIGNABLE: Final = tuple(cls not in _UNSIGNABLE for cls in range(17))
"""Per line class: whether its record takes a signature."""
_CLOSED: Final = tuple(cls not in _MAX_CONT for cls in range(17))
"""Per line class: whether its record is closed at once (takes no continuation line)."""
_IS_SOFT: Final = tuple(cls in _SOFT for cls in range(17))
"""Per line class: whether it is in `_SOFT` (a tuple read by index: no set lookup)."""
_CONT_LIMIT: Final = tuple(_MAX_CONT.get(cls, 0) for cls in range(17))
"""Per line class: `_MAX_CONT`, 0 for a record closed at once (a tuple read by index)."""


class _Builder:
    """A record being read: its lines, its cleaned content, whether it still takes lines.

    The verbatim content lines (for an unrecognised record's text) are the non-blank
    ``lines`` but the signature line (``sig``), so they are only rebuilt when a record turns
    out unreadable. An ETAT entry's end, ``(dd/mm/yyyy-N°k)``, is only looked for when a line
    could continue it (`_Parser.run`): ``closed`` is then also true when its last line ends it.
    """

    __slots__ = (
        "author",
        "blanks",
        "closed",
        "cls",
        "first",
        "line",
        "lines",
        "message",
        "n_cont",
        "pour",
        "remis",
        "sig",
        "signable",
        "texts",
    )

    # Typed attributes, declared here: mypyc compiles them into a C struct.
    cls: int
    first: int
    lines: list[str]
    line: int
    texts: list[str]
    signable: bool
    closed: bool
    author: Author | None
    blanks: int
    n_cont: int
    pour: list[str] | None
    remis: int | None
    message: str
    sig: int

    def __init__(self, cls: int, first: int, lines: list[str], s: str) -> None:
        self.cls = cls
        self.first = first
        self.lines = lines  # verbatim, blanks included
        self.line = first + len(lines) - 1  # line number of the first content line
        self.texts = [s]  # cleaned content lines
        self.signable = _SIGNABLE[cls]
        self.closed = _CLOSED[cls]
        self.author = None
        self.blanks = 0
        self.n_cont = 0
        self.pour = None  # MESSAGE: recipient lines; None before POUR:
        self.remis = None  # MESSAGE: index in texts of REMIS DE; body follows
        self.message = ""
        self.sig = -1  # index in lines of the signature line, if any

    def content(self) -> list[str]:
        """The verbatim content lines: no blank line, no signature."""
        return [r for i, r in enumerate(self.lines) if i != self.sig and _clean(r)]


_CACHE_SIZE: Final = 256  # entries per cache (1,024 was no faster, measured), and
_KEY_MAX: Final = 200  # characters per key: the caches stay small over any archive, any line
_V = TypeVar("_V")


def _remember(cache: dict[str, _V], key: str, value: _V) -> None:
    """Cache ``value`` unless ``key`` is long (a pasted page); empty a full cache."""
    if len(key) <= _KEY_MAX:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = value


class _Parser:
    """The streaming parser: its role map, its small caches, and the records it builds."""

    # Typed attributes, declared here: mypyc compiles them into a C struct.
    roles: RoleMap
    fast: bool
    authors: dict[str, Author]
    tails: dict[str, tuple[str | None, str | None, Role]]
    parties: dict[str, Party]
    labels: dict[str, tuple[str, int | None, int | None, int | None, int]]
    days: dict[str, date]
    ymd: dict[str, datetime]
    tail_key: str
    tail_who: tuple[str | None, str | None, Role] | None
    day_key: str
    day_value: datetime | None
    midnights: dict[str, datetime]

    def __init__(self, roles: RoleMap, *, fast: bool = True) -> None:
        self.roles = roles
        self.fast = fast  # False: the common ETAT entry takes the general path (the tests' oracle)
        self.authors = {}  # small caches: stamps recur on nearby lines
        self.tails = {}  # -(id) NAME -> (user id, name, role)
        self.parties = {}  # MESSAGE DE / POUR: text -> party
        self.labels = {}  # ETAT label text -> `_label_parts`
        self.days = {}  # ETAT set date text -> date
        self.ymd = {}  # signature day text -> its midnight
        self.midnights = {}  # ETAT due day text -> its midnight
        # the last signature's tail and day, as the caches above gave them: a signature's
        # tail and day are mostly those of the one before ("\n": no line holds it)
        self.tail_key = "\n"
        self.tail_who = None
        self.day_key = "\n"
        self.day_value = None

    # -- signatures --------------------------------------------------------------------------
    def _signature(self, s: str) -> Author | None:
        """The author of signature line ``s`` (a cleaned line the cache does not hold), or
        None if ``s`` is no signature.

        The common form, ``dd.mm.yyyy-HH:MM`` (ASCII digits) then a ``-(id) NAME`` tail
        already read, is read at fixed places without the pattern: the separators fix each
        field's width, and the tail matched the pattern's end before, so the pattern would
        give the same groups. Any other line (an impossible date included) takes the
        pattern."""
        if len(s) >= 16 and s[2] == "." and s[5] == "." and s[10] == "-" and s[13] == ":":
            tail_key = self.tail_key
            if len(s) - 16 == len(tail_key) and s.endswith(tail_key):
                who = self.tail_who  # s[16:] is the last signature's tail
            else:
                tail = s[16:]
                who = self.tails.get(tail)
                if who is not None:
                    self.tail_key = tail
                    self.tail_who = who
            # compiled, code points are read without a call; interpreted, ``ord`` is a call
            # each, and the slice's dict lookup is cheaper (see `_COMPILED`)
            minute = _minute_at(s, 11) if _COMPILED else _MINUTE_OF.get(s[11:16], -1)
            if who is not None and minute >= 0:
                if s.startswith(self.day_key):  # s[:10] is the last signature's day
                    day = self.day_value
                else:
                    key = s[:10]
                    day = self.ymd.get(key)  # "dd.mm.yyyy": a day's signatures follow each other
                    if day is None:
                        ints = _INTS
                        d = ints.get(s[0:2])
                        mo = ints.get(s[3:5])
                        y = ints.get(s[6:10])
                        if not (d is None or mo is None or y is None):
                            try:
                                day = datetime(y, mo, d, 0, 0, 0, 0, PARIS)
                            except ValueError:
                                pass  # an impossible day: the pattern's path says why
                            else:
                                _remember(self.ymd, key, day)
                    if day is not None:
                        self.day_key = key
                        self.day_value = day
                if day is not None:
                    return self._author_of(s, day + _MINUTES[minute], who)
        if len(s) < 2 or not (s[1] == "." or (len(s) > 2 and s[2] == ".")):
            return None  # the pattern starts with one or two digits and ".": no match
        m = _AUTHOR_RE.match(s)
        return None if m is None else self._stamp(m, s)

    def _stamp(self, m: re.Match[str], key: str) -> Author:
        """The author of a matched signature; its ``-(id) NAME`` tail is cached (a user
        signs many times, at many times: caching the times would cost more than it saves)."""
        d, mo, y, h, mi = m.group(1, 2, 3, 4, 5)
        ints = _INTS
        try:  # _at, inlined: one signature a line
            at = datetime(
                ints.get(y) or int(y), ints.get(mo) or int(mo), ints.get(d) or int(d),
                ints.get(h) or int(h), ints.get(mi) or int(mi), 0, 0, PARIS,
            )  # fmt: skip
        except ValueError:
            raise _BadEntryError(f"impossible signature date {d}/{mo}/{y} {h}:{mi}") from None
        tail = key[m.end(5) :]
        tails = self.tails
        who = tails.get(tail)
        if who is None:
            uid, name = m.group(6, 7)
            if uid is not None:
                uid = uid.strip() or None
            who = (uid, _name(name) if name else None, self.roles.role_of(uid))
            _remember(tails, tail, who)
        return self._author_of(key, at, who)

    def _author_of(
        self, key: str, at: datetime, who: tuple[str | None, str | None, Role]
    ) -> Author:
        """The author signing ``at`` as ``who``, cached under its line ``key``."""
        values = {"at": at, "user_id": who[0], "name": who[1], "role": who[2]}
        author = trusted(Author, values, _AUTHOR_SET)
        if len(key) <= _KEY_MAX:  # _remember, inlined
            authors = self.authors
            if len(authors) >= _CACHE_SIZE:
                authors.clear()
            authors[key] = author
        return author

    def embedded(self, text: str) -> Author:
        """A signature inside another line (``OUVERTURE: -...``, ``REMIS DE:...``)."""
        hit = self.authors.get(text)
        if hit is None:
            hit = self._signature(text)
            if hit is None:
                raise _BadEntryError("expected dd.mm.yyyy-HH:MM-(id) NAME")
        return hit

    # -- main loop ---------------------------------------------------------------------------
    def run(self, blocks: Iterable[Iterable[str]], first_line: int = 1) -> Iterator[Record]:
        """Read blocks of physical lines (no line breaks left in them) into records, in
        order; the first line is numbered ``first_line``.

        One pass, one dispatch per line on its first character; the open record lives in a
        `_Builder`. Lines before the first record can only be blank (``leading``). A
        signature waits for the next line in ``held`` (its author), ``h_no`` and ``h_raw``:
        three locals, no tuple per signature."""
        cur: _Builder | None = None
        leading: list[str] = []
        held: Author | None = None  # a signature waiting for the next line
        h_no = 0
        h_raw = ""
        message = ""
        lineno = first_line - 1
        authors = self.authors
        control = _CONTROL_RE.search
        starts = _PREFIXES_BY_CODE
        soft = _IS_SOFT
        max_cont = _CONT_LIMIT
        set_end = _SET_END_RE.match
        spaces = _SPACES
        for block in blocks:
            for raw in block:
                lineno += 1
                if not raw:  # the commonest line, read at once
                    if held is None:
                        if cur is None:
                            leading.append(raw)
                        else:
                            cur.lines.append(raw)
                            cur.blanks += 1
                        continue
                    if cur is not None and cur.signable and cur.author is None:
                        cur.sig = len(cur.lines)  # the held signature signs the open record
                        cur.lines.append(h_raw)
                        cur.lines.append(raw)
                        cur.author = held
                        held = None
                        cur.closed = True
                        cur.blanks = 1
                        continue
                if "\t" in raw or "\xa0" in raw or "\u202f" in raw:  # _clean, inlined
                    s = raw.translate(spaces).strip()
                elif _COMPILED and raw and 32 < ord(raw[0]) < 127 and 32 < ord(raw[-1]) < 127:
                    s = raw  # printable ASCII at both ends: no space to strip (compiled only)
                else:
                    s = raw.strip()
                if held is not None:
                    h_author = held
                    held = None
                    if s.startswith("MESSAGE DE") and _word_ends_at_10(s):  # `_PREFIXES`
                        if cur is not None:
                            yield self.build(cur)
                        if leading:
                            lines = leading
                            lines.append(h_raw)
                            leading = []
                        else:
                            lines = [h_raw]
                        lines.append(raw)
                        cur = _Builder(_MESSAGE, h_no - len(lines) + 2, lines, s)
                        cur.sig = len(lines) - 2
                        cur.line = lineno
                        cur.author = h_author
                        cur.signable = False
                        continue
                    if cur is not None and cur.signable and cur.author is None:
                        cur.sig = len(cur.lines)
                        cur.lines.append(h_raw)
                        cur.author = h_author
                        cur.closed = True
                        cur.blanks = 0
                    else:
                        if cur is not None:
                            yield self.build(cur)
                        cur = _author_builder(h_no, leading, h_raw, h_author)
                        leading = []
                if not s:
                    if cur is None:
                        leading.append(raw)
                    else:
                        cur.lines.append(raw)
                        cur.blanks += 1
                    continue
                # classify: one dispatch on the first character
                first = ord(s[0])  # compiled: a code point, no one-character string
                if 48 <= first <= 57:  # a digit: a signature? (read once; it never continues)
                    signature = authors.get(s)
                    message = ""
                    if signature is None:
                        try:
                            signature = self._signature(s)
                        except _BadEntryError as exc:
                            message = str(exc)
                    if signature is not None:
                        if cur is not None:
                            cur.closed = True
                        held = signature
                        h_no = lineno
                        h_raw = raw
                        continue
                    if message:
                        cls = _BAD_AUTHOR
                    elif (s.isprintable() and "\ufffd" not in s) or not control(s):
                        # `_CONTROL_RE` finds nothing: a printable line can only hold U+FFFD
                        cls = _TEXT
                    else:
                        cls = _GARBAGE
                else:
                    cls = _TEXT
                    entries = starts[first] if first < 256 else None
                    if entries is not None:
                        for prefixes, k, check in entries:
                            if s.startswith(prefixes) and (check is None or check(s)):
                                cls = k
                                break
                    if cls == _TEXT and not (
                        (s.isprintable() and "\ufffd" not in s) or not control(s)
                    ):
                        cls = _GARBAGE
                # a continuation of the open record?
                if cur is not None and not cur.closed and cls != _BAD_AUTHOR:
                    kind = cur.cls
                    if kind == _MESSAGE:
                        if self.takes_message(cur, cls, s):
                            cur.lines.append(raw)
                            cur.texts.append(s)
                            cur.blanks = 0
                            continue
                    elif soft[cls] and not cur.blanks and cur.n_cont < max_cont[kind]:
                        if (
                            kind == _ETAT
                            and (last := cur.texts[-1])[-1] == ")"
                            and set_end(last, last.rfind("("))
                        ):  # its last line ended it, (dd/mm/yyyy-N°k): checked when it matters
                            cur.closed = True
                        else:
                            cur.n_cont += 1
                            cur.lines.append(raw)
                            cur.texts.append(s)
                            continue
                if cur is not None:  # `build`, inlined on the commonest path
                    kind = cur.cls
                    try:
                        record = self._etat(cur) if kind == _ETAT else self._record(kind, cur)
                    except _BadEntryError as exc:
                        record = _unrecognised(cur, exc)
                    yield record
                if cls in (_POUR, _REMIS):  # outside a MESSAGE header: plain text
                    cls = _TEXT
                if leading:
                    lines = leading
                    lines.append(raw)
                    leading = []
                else:
                    lines = [raw]
                cur = _Builder(cls, lineno - len(lines) + 1, lines, s)
                if cls == _BAD_AUTHOR:
                    cur.message = message
        if held is not None:
            if cur is not None and cur.signable and cur.author is None:
                cur.sig = len(cur.lines)
                cur.lines.append(h_raw)
                cur.author = held
            else:
                if cur is not None:
                    yield self.build(cur)
                cur = _author_builder(h_no, leading, h_raw, held)
                leading = []
        if cur is not None:
            yield self.build(cur)
        elif leading:
            yield NoteRecord(
                first_line=first_line,
                last_line=first_line + len(leading) - 1,
                raw="\n".join(leading),
                text="",
            )

    def takes_message(self, b: _Builder, cls: int, s: str) -> bool:
        """Whether the open MESSAGE ``b`` continues with this line: its header (``POUR:``,
        which may wrap, blank lines, ``REMIS DE:``), then body lines."""
        if b.remis is None:
            if cls == _REMIS:
                b.remis = len(b.texts)
                return True
            if b.blanks:
                return False
            if cls == _POUR and b.pour is None:
                b.pour = [s]
                return True
            if b.pour and cls == _TEXT and len(b.pour) < 4:
                m = _ID_REST_RE.match(_after_colon(b.pour[0]))
                if m is None or not " ".join([m.group(2), *b.pour[1:]]).endswith(")"):
                    b.pour.append(s)
                    return True
            return False
        if b.blanks or not _IS_SOFT[cls] or b.n_cont >= _CONT_LIMIT[_MESSAGE]:
            return False
        b.n_cont += 1
        return True

    # -- records -----------------------------------------------------------------------------
    def build(self, b: _Builder) -> Record:
        """Turn a finished builder into its record (or an unrecognised one)."""
        try:
            return self._record(b.cls, b)
        except _BadEntryError as exc:
            return _unrecognised(b, exc)

    def _record(self, kind: int, b: _Builder) -> Record:
        """The record a finished builder of line class ``kind`` makes: direct calls, by
        frequency (compiled, a table of methods would be called through Python)."""
        if kind == _ETAT:
            return self._etat(b)
        if kind == _OPENING:
            return self._opening(b)
        if _IS_SOFT[kind]:
            return self._note(b)
        if kind == _AUTHOR:
            return self._author(b)
        if kind == _ACTION:
            return self._action(b)
        if kind == _MESSAGE:
            return self._message(b)
        if kind == _CONTACT:
            return self._contact(b)
        if kind == _CONTROL:
            return self._control(b)
        if kind == _AUTONOMY:
            return self._autonomy(b)
        if kind == _REALISATION:
            return self._realisation(b)
        if kind == _ASSIGN:
            return self._assign(b)
        if kind == _SUBASSIGN:
            return self._subassign(b)
        if kind == _MENSAJE:
            return self._mensaje(b)
        if kind == _BAD_AUTHOR:
            return self._bad_author(b)
        if kind == _GARBAGE:
            return self._garbage(b)
        raise AssertionError(f"line class {kind}")

    # Each builder below writes its record's whole value dict as one literal, the common
    # fields (first_line, last_line, raw, author, kind) repeated in each: a dict built at
    # once is presized, while a shared helper's dict of the common fields grows as each
    # builder adds its own (measured: parse 1.9 % slower, end to end 1.1 %).

    def _etat(self, b: _Builder) -> EtatRecord:
        """``ETAT: label [(n)] [extras] dd/mm/yyyy HH:MM [comment] [(dd/mm/yyyy-N°k)]``."""
        texts = b.texts
        text = texts[0] if len(texts) == 1 else " ".join(texts)
        set_on: date | None
        set_number: int | None
        m = None
        # the fixed-place cut is the compiled build's (interpreted, the pattern is cheaper)
        slash, paren, minute = _etat_cuts(text) if self.fast and _COMPILED else (-1, -1, -1)
        if slash < 0 and self.fast:
            m = _ETAT_FAST_RE.match(text)
        if slash >= 0 or m is not None:  # the values the general path would read, at once
            if m is None:  # the groups `_ETAT_FAST_RE` gives, cut where `_etat_cuts` says
                label = text[6 : slash - 3]
                due_day = text[slash - 2 : slash + 8]
                due_time = ""  # its text only cut if needed below
                rest = text[slash + 14 : paren]
                day = text[paren + 1 : paren + 11]
                if len(text) == paren + 16:  # one ASCII digit
                    set_number = ord(text[paren + 14]) - 48
                else:
                    set_number = int(text[paren + 14 : -1])
            else:
                label, due_day, due_time, rest, day, k = m.groups()
                minute = _MINUTE_OF.get(due_time, -1)
                set_number = _INTS.get(k) or int(k)
            days = self.days  # "dd/mm/yyyy" -> date: set dates recur
            set_on = days.get(day)
            if set_on is None:
                sd, smo, sy = day.split("/")
                set_on = _day(sd, smo, sy, "set date")
                _remember(days, day, set_on)
            midnight = self.midnights.get(due_day)
            if midnight is None or minute < 0:  # read it (or say why it is impossible)
                if not due_time:
                    due_time = text[slash + 9 : slash + 14]
                dd, mo, y = due_day.split("/")
                h, mi = due_time.split(":")
                due_at = _at(dd, mo, y, h, mi, "due date")
                if minute >= 0:
                    _remember(self.midnights, due_day, due_at - _MINUTES[minute])
            else:
                due_at = midnight + _MINUTES[minute]
            comment = rest.strip() or None
            known = self.labels.get(label)  # labels recur: the catalogue has ~46
            if known is None:
                known = _label_parts(label.rstrip())
                _remember(self.labels, label, known)
            head, n, week, humidity, shape = known
            fields_set = _ETAT_SETS_ON[shape]
        else:
            body = _after_colon(text).strip()
            read: list[str] = []  # the optional fields read, for the fields-set
            set_on = set_number = None
            if body.endswith(")"):
                m = _paren_end(_SET_END_RE, body)
                if m is not None:
                    dd, mo, y, k = m.groups()
                    set_on = _day(dd, mo, y, "set date")
                    set_number = int(k)
                    read += ("set_on", "set_number")
                    body = body[: m.start()].rstrip()
            due = _find_due(body)
            if due is None:
                raise _BadEntryError("ETAT entry without a due date dd/mm/yyyy HH:MM")
            due_at = _at_match(due, "due date")
            comment = body[due.end() :].strip() or None
            head, n, week, humidity, shape = _label_parts(body[: due.start()].rstrip())
            read += (name for bit, name in _LABEL_PARTS if shape & bit)
            fields_set = shared((*_ETAT_SET, *read)) if read else _ETAT_SET
        if not head:
            raise _BadEntryError("ETAT entry without a label")
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "etat",
            "label": head,
            "n": n,
            "due_at": due_at,
            "comment": comment,
            "set_on": set_on,
            "set_number": set_number,
            "humidity": humidity,
            "week": week,
        }
        return trusted(EtatRecord, d, fields_set)

    def _note(self, b: _Builder) -> NoteRecord:
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "note",
            "text": "\n".join(b.texts),
        }
        return trusted(NoteRecord, d, _NOTE_SET)

    def _author(self, b: _Builder) -> AuthorRecord:
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "author",
        }
        return trusted(AuthorRecord, d, _BARE_SET)

    def _bad_author(self, b: _Builder) -> Record:
        raise _BadEntryError(b.message)

    def _garbage(self, b: _Builder) -> Record:
        raise _BadEntryError("control characters (binary data?)")

    def _opening(self, b: _Builder) -> OpeningRecord:
        texts = b.texts
        author = self.embedded(_after_colon(texts[0] if len(texts) == 1 else " ".join(texts)))
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": author,  # signed inline
            "kind": "opening",
        }
        return trusted(OpeningRecord, d, _BARE_SET)

    def _action(self, b: _Builder) -> ActionRecord:
        text = _after_colon(" ".join(b.texts))
        name, contractor_id, accepted_at, fields_set = _action(text)
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "action",
            "text": text,
            "contractor_name": name,
            "contractor_id": contractor_id,
            "accepted_at": accepted_at,
        }
        return trusted(ActionRecord, d, fields_set)

    def _contact(self, b: _Builder) -> ContactRecord:
        m = _CONTACT_RE.match(" ".join(b.texts))
        if m is None:
            raise _BadEntryError("contact without a number")
        text = m.group(2)
        due = _find_due(text)
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "contact",
            "number": int(m.group(1)),
            "text": text,
            "contacted_at": _at_match(due, "contact date") if due else None,
        }
        return trusted(ContactRecord, d, _CONTACT_SET)

    def _control(self, b: _Builder) -> ControlRecord:
        text = " ".join(b.texts)
        detail = text[text.find(" ") + 1 :]  # after "Dossier"
        detail = detail[detail.find(" ") + 1 :] if " " in detail else ""
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "control",
            "text": text,
            "detail": detail.lstrip(" -\u2013:"),
        }
        return trusted(ControlRecord, d, _CONTROL_SET)

    def _mensaje(self, b: _Builder) -> MensajeRecord:
        m = _MENSAJE_RE.match(" ".join(b.texts))
        if m is None:
            raise _BadEntryError("Mensaje without a sender")
        sender = m.group(1)
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "mensaje",
            "sender": sender,
            "contractor_id": sender.split("#")[0],
            "text": m.group(2),
        }
        return trusted(MensajeRecord, d, _MENSAJE_SET)

    def _autonomy(self, b: _Builder) -> AutonomyLimitRecord:
        text = " ".join(b.texts)
        colon = text.find(":")
        rest = text[colon + 1 :].lstrip() if colon >= 0 else ""
        m = _AMOUNT_RE.match(rest)
        if m is None:
            raise _BadEntryError("autonomy limit without an amount")
        try:
            amount = Decimal(
                m.group(1).replace(" ", "").replace(".", "") + "." + (m.group(2) or "0")
            )
        except InvalidOperation:  # pragma: no cover - the pattern only passes digits
            raise _BadEntryError("unreadable amount") from None
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "autonomy_limit",
            "amount": amount,
            "caveat": rest[m.end() :].strip() or None,
        }
        return trusted(AutonomyLimitRecord, d, _AUTONOMY_SET)

    def _realisation(self, b: _Builder) -> RealisationRecord:
        body = _after_colon(" ".join(b.texts))
        m = _DAY_END_RE.search(body)
        if m is None:
            raise _BadEntryError("REALISATION without a date dd.mm.yyyy")
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "realisation",
            "what": body[: m.start()].rstrip().rstrip(":").rstrip(),
            "on": _day_match(m, "realisation date"),
        }
        return trusted(RealisationRecord, d, _REALISATION_SET)

    def _assign(self, b: _Builder) -> AssignmentRecord:
        m = _ID_REST_RE.match(_after_colon(" ".join(b.texts)))
        if m is None:
            raise _BadEntryError("ASSIGNER without an (id)")
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "assignment",
            "assignee_id": m.group(1).strip(),
            "assignee_name": _name(m.group(2)),
        }
        return trusted(AssignmentRecord, d, _ASSIGN_SET)

    def _subassign(self, b: _Builder) -> SubAssignmentRecord:
        m = _BRACKET_ID_RE.match(_after_colon(" ".join(b.texts)))
        if m is None:
            raise _BadEntryError("sub-assignment without a [contractor id]")
        rest = m.group(2)
        due = _DUE_END_RE.search(rest)
        at = None
        if due is not None:
            at = _at_match(due, "sub-assignment date")
            rest = rest[: due.start()]
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "sub_assignment",
            "contractor_id": m.group(1).strip(),
            "contractor_name": _name(rest),
            "at": at,
        }
        return trusted(SubAssignmentRecord, d, _SUBASSIGN_SET)

    def _message(self, b: _Builder) -> MessageRecord:
        head = b.texts[0]
        parties = self.parties
        sender = parties.get(head)
        if sender is None:
            m = _ID_REST_RE.match(head[len("MESSAGE DE") :].lstrip(" ."))
            if m is None:
                raise _BadEntryError("MESSAGE DE without a sender (id)")
            sender = self._party(m)
            _remember(parties, head, sender)
        recipient = None
        if b.pour:
            pour = " ".join(b.pour)
            recipient = parties.get(pour)
            if recipient is None:
                m = _ID_REST_RE.match(_after_colon(pour))
                if m is not None:
                    recipient = self._party(m)
                    _remember(parties, pour, recipient)
        delivered = None
        body: list[str] = []
        if b.remis is not None:
            delivered = self.embedded(_after_colon(b.texts[b.remis]))
            body = b.texts[b.remis + 1 :]
        lines = b.lines
        d = {
            "first_line": b.first,
            "last_line": b.first + len(lines) - 1,
            "raw": "\n".join(lines),
            "author": b.author,
            "kind": "message",
            "sender": sender,
            "recipient": recipient,
            "delivered": delivered,
            "body": " ".join(body),
        }
        return trusted(MessageRecord, d, _MESSAGE_SET)

    def _party(self, m: re.Match[str]) -> Party:
        """The party of a matched ``(id) NAME (TAG)``."""
        uid = m.group(1).strip() or None
        name, tag = _split_tag(m.group(2))
        return _party_of(uid, name, tag, self._party_role(uid, tag))

    def _party_role(self, uid: str | None, tag: str | None) -> Role:
        if tag is not None and tag.upper().startswith("PRESTATAIRE"):
            return Role.CONTRACTOR
        return self.roles.role_of(uid)


def _author_builder(h_no: int, leading: list[str], h_raw: str, author: Author) -> _Builder:
    """The builder of a signature that signs nothing (an ``author`` record)."""
    b = _Builder(_AUTHOR, h_no - len(leading), [*leading, h_raw], h_raw)
    b.texts = []
    b.author = author
    return b


def _unrecognised(b: _Builder, exc: _BadEntryError) -> UnrecognisedRecord:
    """The record of lines that could not be read: verbatim, with why."""
    lines = b.lines
    d = {
        "first_line": b.first,
        "last_line": b.first + len(lines) - 1,
        "raw": "\n".join(lines),
        "author": b.author,
        "kind": "unrecognised",
        "text": "\n".join(b.content()),
        "message": str(exc),
        "line": b.line,
    }
    return trusted(UnrecognisedRecord, d, _UNRECOGNISED_SET)


def _paren_end(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """Match an end-anchored ``(...)`` pattern at the last ``(`` only: O(1) on long text."""
    i = text.rfind("(")
    return pattern.match(text, i) if i >= 0 else None


def _label_n(head: str) -> tuple[str, int | None]:
    """An ETAT label and its ``(n)``: ``Première visite (7)`` → (``Première visite``, 7)."""
    if head.endswith((")", ").")):
        m = _paren_end(_N_END_RE, head)
        if m is not None:
            return head[: m.start()].rstrip(), int(m.group(1))
    return head, None


_LABEL_PARTS: Final = ((1, "n"), (2, "week"), (4, "humidity"))
"""The optional parts of an ETAT label, by their bit in `_label_parts`' shape."""
_ETAT_SETS_ON: Final = tuple(
    _shape(
        "label", "due_at", "comment", "set_on", "set_number",
        *(name for bit, name in _LABEL_PARTS if shape & bit),
    )
    for shape in range(8)
)  # fmt: skip
"""The fields-set of an ETAT entry with its set date, by the shape of its label."""


def _label_parts(head: str) -> tuple[str, int | None, int | None, int | None, int]:
    """An ETAT label, its ``(n)`` and extras (``Semaine: 14.``, ``% d'humidité 60.``, at its
    end, each after a ``.`` separator): (label, n, week, humidity, shape), the shape's bits
    saying which were read (`_LABEL_PARTS`)."""
    week = humidity = None
    shape = 0
    while True:
        m = _WEEK_END_RE.search(head) if "emaine" in head and week is None else None
        if m is not None:
            week = int(m.group(1))
            shape |= 2
        else:
            m = _HUMIDITY_END_RE.search(head) if "%" in head and humidity is None else None
            if m is None:
                break
            humidity = int(m.group(1))
            shape |= 4
        head = head[: m.start()].rstrip()
        if head.endswith("."):
            head = head[:-1].rstrip()
    head, n = _label_n(head)
    return head, n, week, humidity, shape if n is None else shape | 1


def _find_due(text: str) -> re.Match[str] | None:
    """The first ``dd/mm/yyyy HH:MM`` not glued to a digit before it."""
    pos = 0
    while True:
        slash = text.find("/", pos)  # a match starts at most 2 characters before its first "/"
        if slash < 0:
            return None
        m = _DUE_RE.search(text, max(pos, slash - 2))
        if m is None or m.start() == 0 or not text[m.start() - 1].isdigit():
            return m
        pos = m.start() + 1


def _action(text: str) -> tuple[str | None, str | None, datetime | None, FieldsSet]:
    """``Action réalisée:`` text; reads ``Le professionnel NAME (id), accepte ... le d a h``:
    the contractor's name and id, the acceptance date, and the fields-set of what was read."""
    k = text.find("accepte cette intervention")
    p = text.find("Le professionnel")
    if k < 0 or p < 0 or p > k:
        return None, None, None, _ACTION_SETS[0]
    before = text[p + len("Le professionnel") : k].rstrip().rstrip(",").rstrip()
    contractor_id = None
    shape = 1
    if before.endswith(")"):
        o = before.rfind("(")
        if o >= 0:
            contractor_id = before[o + 1 : -1].strip() or None
            before = before[:o]
            shape = 2
    accepted_at = None
    m = _ACCEPT_AT_RE.match(text, k + len("accepte cette intervention"))
    if m is not None:
        accepted_at = _at_match(m, "acceptance date")
        shape += 2
    return _name(before), contractor_id, accepted_at, _ACTION_SETS[shape]


# ---------------------------------------------------------------------------------------------
# Public entry points


def iter_records(
    lines: Iterable[str], *, roles: RoleMap | None = None, first_line: int = 1
) -> Iterator[Record]:
    """`etatmachine.legacy.iter_records` once its arguments are checked (it checks them)."""
    parser = _Parser(_DEFAULT_ROLES if roles is None else roles)
    if isinstance(lines, list | tuple):  # lines already held (batch pieces): one block,
        joined = "".join(lines)  # unless an item holds a line break (checked in one pass)
        if "\n" not in joined and "\r" not in joined:
            return parser.run((lines,), first_line)
    return parser.run((physical_lines(lines),), first_line)


def is_opening_line(line: str) -> bool:
    """Whether ``line`` (one physical line) starts an ``OUVERTURE:`` record.

    Such a line always starts a new record and nothing before it waits for a later line, so
    an archive cut before such lines parses, piece by piece, to the same records (given each
    piece's ``first_line``) as a whole, except that blank lines at the very start of a
    piece belong to the record before them: cut only before a line that is not blank, and
    keep a leading piece of blank lines with the next one.
    """
    if "OUVERTURE" not in line:
        return False
    s = _clean(line)
    return bool(s) and s[0] == "O" and _classify(s) == _OPENING


def iter_file(path: str | Path, *, roles: RoleMap | None = None) -> Iterator[Record]:
    """`etatmachine.legacy.iter_file` once its arguments are checked (it checks them)."""
    return _Parser(_DEFAULT_ROLES if roles is None else roles).run(file_blocks(path))


def parse_text(
    text: str, *, source: str = "<string>", roles: RoleMap | None = None
) -> ParsedHistory:
    """`etatmachine.legacy.parse_text` once its arguments are checked (it checks them)."""
    return ParsedHistory(tuple(iter_records(split_lines(text), roles=roles)), source)


def parse_file(path: str | Path, *, roles: RoleMap | None = None) -> ParsedHistory:
    """`etatmachine.legacy.parse_file` once its arguments are checked (it checks them)."""
    return ParsedHistory(tuple(iter_file(path, roles=roles)), str(path))
