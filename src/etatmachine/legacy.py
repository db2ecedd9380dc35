"""Parse legacy H2000/Systema dossier histories into typed, line-accurate records.

The exports are text pasted from back-office screens: entries wrap over lines, signatures
(author lines) float, and free text is mixed in. This module turns them into frozen pydantic
records without ever losing a line, so a replay can be audited against the source.

Rules (deterministic, relied upon by the tests):

* **Lines.** A line ends at ``\\r\\n``, ``\\r`` or ``\\n`` (nothing else: U+2028, form feed...
  stay inside the line). A final line ending does not open an empty line. Lines are numbered
  from 1. Matching ignores leading/trailing spaces and reads U+00A0, U+202F and tabs as spaces;
  ``raw`` keeps every line verbatim (minus its line ending).
* **Partition.** Every line belongs to exactly one record: the records' ``[first_line,
  last_line]`` ranges tile the input and ``"\\n".join`` of their ``raw`` texts, concatenated with
  ``"\\n"``, gives back the input lines.
* **Blank lines** (empty once stripped) belong to the record before them; blank lines at the very
  start belong to the first record. An input of blank lines only is one ``note`` with empty text.
* **Author lines** (``dd.mm.yyyy-HH:MM[-(id) NAME]``) attach by this rule, checked in order:

  1. directly followed (no blank line) by ``MESSAGE DE``: it is the message's leading signature;
  2. otherwise it signs the nearest record before it if that record takes a signature and has
     none yet, even across blank lines (one export puts a blank line between an entry and its
     signature);
  3. otherwise it stands alone as an ``author`` record.

  Records that take a signature: all but ``author``, ``opening`` (signed inline), a malformed
  signature and a message already signed by its leading line. A signature ends any wrapped
  entry before it. (In the seed, which mixes prose and histories, a signature after a prose
  heading therefore signs that heading's note: the rule is positional, not semantic.)
* **Wrapping.** A record takes the lines right after it (no blank line between) that start no
  record of their own and are not signatures, up to a small cap per kind; an ``ETAT:`` entry
  stops at its ``(dd/mm/yyyy-N°k)``; a MESSAGE header may have blank lines before ``REMIS DE:``.
  Wrapped lines are joined with one space (PDF hyphenation is kept as written).
* **ETAT labels** are kept as written minus the ``(n)`` and the extras (``% d'humidité 60.``,
  ``Semaine: 14.``), which go with the ``.`` separating them from the label:
  ``En attente de fournitures. Semaine: 14.`` → ``En attente de fournitures``, week 14; but
  ``Etude de devis. (5)`` → ``Etude de devis.``. Without ``(set date-N°k)`` the entry is kept,
  ``set_on``/``set_number`` being ``None``.
* **Memory.** Streaming holds one record at a time (plus the blank lines after it) and six
  bounded caches (signatures, their ``(id) NAME`` tails and their days, MESSAGE parties, ETAT
  labels and the days of ETAT dates: at most 256 entries each, keys of at most 200
  characters); :func:`iter_file` also holds one 64 KiB block of whole lines (or one line, when
  longer). Nothing grows with the archive.
* **Speed.** One pass, one dispatch per line on its first character; records are built
  without pydantic validation from values the parser produced in their final types (see
  `etatmachine.trusted`), each with its kind's shared fields-set
  (`etatmachine.fields_sets`); the common ETAT entry is read in one match, and the common
  signature (``dd.mm.yyyy-HH:MM`` with a known tail) at fixed places, both checked against the
  general path by tests/test_legacy_properties.py and the snapshot in tests/golden/parse/.
* **Time zone.** Every local time is Europe/Paris (:mod:`zoneinfo`). Ambiguous times (the hour
  repeated in October) take the first occurrence (summer time, ``fold=0``); nonexistent times
  (the hour skipped in March) keep the offset in force before the gap (PEP 495), i.e. 02:30
  reads as 03:30 summer time.
* **Problems.** Whatever is not understood (an ``ETAT:`` entry without a due date or with an
  impossible date, a bad signature, control characters from binary garbage...) becomes an
  ``unrecognised`` record carrying its verbatim text and the message, so problems survive
  streaming; :class:`ParsedHistory` also lists them as :class:`ParseProblem`.
* **Bytes.** :func:`iter_file` decodes each line as UTF-8, else cp1252, else latin-1 (which
  never fails), and drops a UTF-8 byte-order mark.

The parser only reads text: it never resolves labels to states (the catalogue does that).

This module is the public face of `etatmachine.history`: the records and the role map live in
`etatmachine.history.records`, the engine in `etatmachine.history.parser` and the reading of
bytes and lines in `etatmachine.history.reading` (the two the optional compiled build
compiles). Records pickled when their classes lived here still load: the names stay.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from etatmachine.business_calendar import PARIS
from etatmachine.errors import ArgumentTypeError, ArgumentValueError
from etatmachine.history import parser as _parser
from etatmachine.history import reading as _reading
from etatmachine.history import records as _records
from etatmachine.history.records import BUILTIN_ROLES as BUILTIN_ROLES  # not in __all__
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
    ParseProblem,
    Party,
    RealisationRecord,
    RoleMap,
    RoleMapError,
    SubAssignmentRecord,
    UnrecognisedRecord,
)

# The public functions check what they are given (the error names the argument), then run
# the engine, which the optional compiled build compiles: there a wrong type would meet a bare
# TypeError, and in either build a path that is not one an AttributeError deep inside.


def _path(value: object, name: str = "path") -> str | Path:
    if isinstance(value, str | Path):
        return value
    if isinstance(value, os.PathLike):
        return Path(value)
    raise ArgumentTypeError(name, value, "a path (str or os.PathLike)")


def _source(value: object) -> str | Path | BinaryIO:
    if callable(getattr(value, "read", None)):
        return value  # type: ignore[return-value]  # a binary stream: read as a file
    if isinstance(value, str | os.PathLike):
        return _path(value, "source")
    raise ArgumentTypeError("source", value, "a path (str or os.PathLike) or a binary stream")


def _roles(roles: object) -> RoleMap | None:
    if roles is not None and not isinstance(roles, RoleMap):
        raise ArgumentTypeError("roles", roles, "a RoleMap (or None: the built-in roles)")
    return roles


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ArgumentTypeError(name, value, "text (str)")
    return value


def iter_file(path: str | Path, *, roles: RoleMap | None = None) -> Iterator[Record]:
    """Stream records from a file of any encoding (see the module notes); never holds it all."""
    return _parser.iter_file(_path(path), roles=_roles(roles))


def iter_records(
    lines: Iterable[str], *, roles: RoleMap | None = None, first_line: int = 1
) -> Iterator[Record]:
    """Stream records from lines (each item one line, line break optional); memory stays flat.

    Problems arrive as :class:`UnrecognisedRecord` (``.problem``); nothing raises on bad input.
    ``first_line`` numbers the first line: a slice of an archive cut at `is_opening_line`
    (see `read_lines`) parses to the records the whole archive gives for those lines.
    """
    if isinstance(lines, str | bytes) or not isinstance(lines, Iterable):
        raise ArgumentTypeError(
            "lines", lines, "an iterable of lines (one text: split_lines or parse_text)"
        )
    if isinstance(first_line, bool) or not isinstance(first_line, int):
        raise ArgumentTypeError("first_line", first_line, "a line number (int)")
    if first_line < 1:
        raise ArgumentValueError("first_line", first_line, "lines are numbered from 1")
    return _parser.iter_records(lines, roles=_roles(roles), first_line=first_line)


def parse_text(
    text: str, *, source: str = "<string>", roles: RoleMap | None = None
) -> ParsedHistory:
    """Parse a whole history held in memory."""
    return _parser.parse_text(
        _text(text, "text"), source=_text(source, "source"), roles=_roles(roles)
    )


def parse_file(path: str | Path, *, roles: RoleMap | None = None) -> ParsedHistory:
    """Parse a history file (bytes decoded line by line: UTF-8, else cp1252, else latin-1)."""
    return _parser.parse_file(_path(path), roles=_roles(roles))


def read_lines(source: str | Path | BinaryIO) -> Iterator[str]:
    """The physical lines of a file or a binary stream, decoded and numbered as `iter_file`
    reads them (no line breaks left in them)."""
    return _reading.read_lines(_source(source))


def split_lines(text: str) -> list[str]:
    """Split ``text`` the way the parser numbers lines (``\\r\\n``, ``\\r``, ``\\n``)."""
    return _reading.split_lines(_text(text, "text"))


def is_opening_line(line: str) -> bool:
    """Whether ``line`` (one physical line) starts an ``OUVERTURE:`` record (see
    `etatmachine.history.parser.is_opening_line`: where an archive may be cut)."""
    return _parser.is_opening_line(_text(line, "line"))


# The two records' aliases, bound here so the reference documents them under this module.
Record = _records.Record
"""Any record, discriminated on ``kind``."""

RecordAdapter = _records.RecordAdapter
"""Validates/serialises a :data:`Record` (e.g. ``RecordAdapter.validate_json(...)``)."""

__all__ = [
    "PARIS",
    "ActionRecord",
    "AssignmentRecord",
    "Author",
    "AuthorRecord",
    "AutonomyLimitRecord",
    "ContactRecord",
    "ControlRecord",
    "EtatRecord",
    "MensajeRecord",
    "MessageRecord",
    "NoteRecord",
    "OpeningRecord",
    "ParseProblem",
    "ParsedHistory",
    "Party",
    "RealisationRecord",
    "Record",
    "RecordAdapter",
    "RoleMap",
    "RoleMapError",
    "SubAssignmentRecord",
    "UnrecognisedRecord",
    "is_opening_line",
    "iter_file",
    "iter_records",
    "parse_file",
    "parse_text",
    "read_lines",
    "split_lines",
]
