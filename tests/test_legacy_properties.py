"""Properties of the parser on generated history-like text: no line lost, unparsed text kept
verbatim, the same records from text and from the file's bytes, and the ETAT fast path
reading exactly what the general path reads."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from etatmachine.history import parser
from etatmachine.history.reading import physical_lines
from etatmachine.legacy import (
    EtatRecord,
    Record,
    RoleMap,
    UnrecognisedRecord,
    iter_file,
    iter_records,
    parse_text,
    split_lines,
)
from etatmachine.testing import legacy_history_text

# Pieces of real lines and the noise around them, joined at random: prefixes that start a
# record, wrapped continuations, signatures good and bad, the extras of an ETAT label.
PIECES = [
    "ETAT: ",
    "ÉTAT : ",
    "Contact client pour devis",
    "Etude de devis.",
    " (2) ",
    "(60)",
    " 19/01/2023 15:04",
    " 1/2/2023 9h05",
    " 31/02/2023 10:00",
    " (18/01/2023-N°1)",
    "( 1/3/2023 - No 12 )",
    " % d'humidité 60.",
    " Semaine: 14.",
    " commentaire / avec barre",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "18.01.2023-15:04-(996) ASIGNACIÓN AUTOMÁTICA ZONAL",
    "18.01.2023-17:17",
    "31.02.2023-10:00-(1) X",
    "MESSAGE DE .(3995) SANDRINE SUTOR .(M.A.)",
    "POUR:(72a3181) XX",
    " (PRESTATAIRE)",
    "REMIS DE:07.02.2023-16:40-(995) INTERNET",
    "OUVERTURE: -18.01.2023-14:58-(1002823) LEENDRINA NIAMDILA",
    "NTACT 1: -Date du contact avec le client: 07/02/2023 16:50",
    "Action réalisée: Le professionnel X (1), accepte cette intervention le 18/01/2023 a 17:17.",
    "La limite maximum d'autonomie de MA pour ce SINISTRE est de :",
    "1 550,00 (ATTENTION",
    "Mensaje de 72a3135#79 Bonjour",
    "Intervention sous-assignée à: - [47269] NYCO DECO 18/01/2023 15:04",
    "Dossier contrôlé - ok",
    "\t",
    "\u00a0",
    "\u202f",
    "\x00",
    "\ufffd",
    "٣",
    "-",
    "/",
    "(",
    ")",
]

history_like = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=60).map("".join)
texts = history_like | legacy_history_text(noisy=True) | legacy_history_text()


def check_partition(records: list[Record], lines: list[str]) -> None:
    """Every input line is in exactly one record's span, and its raw text is the line."""
    covered = 0
    for record in records:
        assert record.first_line == covered + 1
        raw = record.raw.split("\n")
        assert record.last_line - record.first_line + 1 == len(raw)
        assert raw == lines[record.first_line - 1 : record.last_line]
        covered = record.last_line
    assert covered == len(lines)


def check_verbatim(records: list[Record]) -> None:
    """What the parser did not understand is kept as written, in the record's lines."""
    for record in records:
        if isinstance(record, UnrecognisedRecord):
            assert record.first_line <= record.line <= record.last_line
            raw = record.raw.split("\n")
            kept = record.text.split("\n")
            assert kept[0] == raw[record.line - record.first_line]
            rest = iter(raw[record.line - record.first_line :])
            assert all(line in rest for line in kept)  # in order, each a whole raw line


@given(texts)
def test_no_line_lost_and_unparsed_text_kept(text: str) -> None:
    records = list(parse_text(text).records)
    check_partition(records, split_lines(text))
    check_verbatim(records)


@given(texts)
def test_text_and_file_bytes_parse_alike(text: str) -> None:
    if text.startswith("\ufeff"):  # a file's byte-order mark is dropped; text keeps it
        text = " " + text
    expected = list(parse_text(text).records)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.txt"
        path.write_bytes(text.encode("utf-8"))
        assert list(iter_file(path)) == expected
    assert list(iter_records(io.StringIO(text, newline=""))) == expected


# ETAT entries: the fast path (one match) must read what the general path reads.
LABELS = [
    "Première visite",
    "AZ: Appels 24h",
    "Etude de devis.",
    "a/b",
    "x",
    "-x",
    " x",
    "٣ x",
    "",
    "(1)",
    "(1) ",
]
ETAT_PARTS = st.tuples(
    st.sampled_from(["ETAT: ", "ÉTAT: ", "ETAT:  ", "ETAT :"]),
    st.sampled_from(LABELS) | st.text(min_size=1, max_size=6),
    st.sampled_from(
        [
            "",
            " (7)",
            " (7).",
            "(7)",
            "  (7)",
            "(12345)",
            " % d'humidité 60.",
            " Semaine: 14.",
            " (5) Semaine: 14.",
        ]
    ),
    st.sampled_from([" ", "  ", "", " ٣"]),
    st.sampled_from(["20/02/2023 09:00", "1/2/2023 9:00", "31/02/2023 09:00", "20/02/2023 25:00"]),
    st.sampled_from(["", "٣", "5", " commentaire", " a (b) c", " x/y"]),
    st.sampled_from([" ", "", "  "]),
    st.sampled_from(["(07/02/2023-N°1)", "( 7/2/2023 - No 12 )", "(31/02/2023-N°1)", "(x)", ""]),
)


def _etat_lines(parts: tuple[str, ...], cut: int) -> list[str]:
    line = "".join(parts)
    cut = cut % (len(line) + 1)
    return [line[:cut], line[cut:]] if 0 < cut < len(line) and line[cut:].strip() else [line]


@settings(max_examples=300)
@given(ETAT_PARTS, st.integers(min_value=0, max_value=200))
def test_etat_fast_path_reads_what_the_general_path_reads(parts: tuple[str, ...], cut: int) -> None:
    lines = _etat_lines(parts, cut)
    fast = list(iter_records(lines))
    general = list(_general_path(lines))
    assert fast == general
    assert [r.model_fields_set for r in fast] == [r.model_fields_set for r in general]


def _general_path(lines: list[str]) -> Iterator[Record]:
    """What `iter_records` gives when every ETAT entry takes the general path (no switch
    to monkeypatch: the oracle runs against the compiled parser too)."""
    return parser._Parser(RoleMap(), fast=False).run((physical_lines(lines),))


def test_the_fast_path_is_taken_for_the_common_entry() -> None:
    """The oracle above compares something: the common entry does take the fast path, and
    the switch does turn it off (the fast path caches the label it read; the general path
    reads it again every time)."""
    line = "ETAT: Première visite (7) 20/02/2023 09:00 commentaire (07/02/2023-N°1)"
    assert parser._ETAT_FAST_RE.match(line) is not None
    for fast in (True, False):
        engine = parser._Parser(RoleMap(), fast=fast)
        assert [r.label for r in engine.run(([line],)) if isinstance(r, EtatRecord)] == [
            "Première visite"
        ]
        assert bool(engine.labels) is fast
    (record,) = iter_records([line])
    assert isinstance(record, EtatRecord)
    assert (record.label, record.n, record.comment, record.set_number) == (
        "Première visite",
        7,
        "commentaire",
        1,
    )


# Line starts: the startswith table the loop reads must say what the regex table says.
STARTS = [
    "ETAT",
    "ÉTAT",
    "OUVERTURE",
    "La limite maximum d'autonomie",
    "La limite maximum d autonomie",
    "La limite maximum d",
    "REALISATION",
    "REMIS DE",
    "ASSIGNER",
    "Action réalisée",
    "Action realisee",
    "Action réalisee",
    "Intervention sous-assignée",
    "Intervention sous-assignee",
    "MESSAGE DE",
    "Mensaje de",
    "POUR",
    "NTACT",
    "CONTACT",
    "Dossier contrôlé",
    "Dossier controle",
]
SUFFIXES = [":", " :", "  :", "", " ", "1:", " 12 :", "x", "_", "é", "٣", "-", ".", "1", " 1"]


def _regex_start(s: str) -> int | None:
    for pattern, cls in parser._STARTS.get(s[:1], ()):
        if pattern.match(s):
            return cls
    return None


def _prefix_start(s: str) -> int | None:
    for prefixes, cls, check in parser._PREFIXES.get(s[:1], ()):
        if s.startswith(prefixes) and (check is None or check(s)):
            return cls
    return None


@given(st.sampled_from(STARTS), st.sampled_from(SUFFIXES), st.text(max_size=3))
def test_line_start_table_matches_the_patterns(start: str, suffix: str, rest: str) -> None:
    for s in (start + suffix + rest, start[: len(start) // 2] + suffix, start + rest):
        assert _prefix_start(s) == _regex_start(s), s


def test_every_start_pattern_has_its_prefixes() -> None:
    assert set(parser._PREFIXES) == set(parser._STARTS)
    for key, entries in parser._STARTS.items():
        assert [cls for _, cls in entries] == [cls for _, cls, _ in parser._PREFIXES[key]]


# Signatures: the common form is read at fixed places once its tail is known; the pattern
# reads every other line, and reads the first of each tail.
TAILS = ["", "-(995) INTERNET", "-(3995) SANDRINE SUTOR .", " - ( 12 ) X (M.A.) ", "-()"]
COMMON_SIGNATURES = st.builds(
    "{:02d}.{:02d}.{}-{:02d}:{:02d}{}".format,
    st.integers(0, 32),
    st.integers(0, 13),
    st.sampled_from([2023, 2024, 1899, 2101]),
    st.integers(0, 24),
    st.integers(0, 60),
    st.sampled_from([*TAILS, "-(a(b)", "-(1)x", "x", "7"]),
)
OTHER_SIGNATURES = st.tuples(
    st.sampled_from(["07", "7", "31", "٣1"]),
    st.sampled_from([".", ". ", "/"]),
    st.sampled_from(["02", "2", "13"]),
    st.sampled_from(["2023", "0999", "٢٠٢٣"]),
    st.sampled_from(["-", " - ", "."]),
    st.sampled_from(["14", "4", "24", "٣4"]),
    st.sampled_from([":", "h"]),
    st.sampled_from(["47", "7", "470"]),
    st.sampled_from(TAILS),
).map("".join)


def _signature_outcome(engine: object, s: str) -> object:
    """What the parser's signature reader says of ``s``: its author, or why not."""
    try:
        author = engine._signature(s)  # type: ignore[attr-defined]
    except ValueError as exc:
        return ("impossible", str(exc))
    return None if author is None else (author, sorted(author.model_fields_set))


@given(st.lists(COMMON_SIGNATURES | OTHER_SIGNATURES, min_size=1, max_size=8))
def test_signatures_read_at_fixed_places_read_what_the_pattern_reads(lines: list[str]) -> None:
    warm = parser._Parser(RoleMap())  # its caches fill: later lines take the fixed places
    for line in lines * 2:  # the second time, the day too is known
        fresh = parser._Parser(RoleMap())  # empty caches: the pattern reads the line
        assert _signature_outcome(warm, line) == _signature_outcome(fresh, line), line


def test_the_fixed_places_are_taken_for_the_common_signature() -> None:
    """The property above compares something: a signature whose tail is known is read at
    fixed places (the day it read is cached, then read from the cache) and gives what the
    pattern gives."""
    engine = parser._Parser(RoleMap())
    lines = [
        f"0{d}.02.2023-14:{m:02d}-(3995) SANDRINE SUTOR ." for d, m in ((7, 47), (8, 5), (8, 6))
    ]
    outcomes = [_signature_outcome(engine, line) for line in lines]
    assert list(engine.ymd) == ["08.02.2023"]  # the pattern read the first line
    assert outcomes == [_signature_outcome(parser._Parser(RoleMap()), line) for line in lines]
    assert outcomes[1] != outcomes[2]


# Binary garbage: a line the control-character pattern finds something in, and only such a
# line, is unrecognised (a printable line is only searched when it holds U+FFFD).
CONTROL = "control characters (binary data?)"
CHARACTERS = ["a", "é", " ", "€", "\ufffd", "\x00", "\x85", "\x9f", "\u2028", "\xa0", "\t", "\x7f"]


@given(
    st.sampled_from(["x", "1", "Note ", "é "]),
    st.lists(
        st.sampled_from(CHARACTERS) | st.characters(blacklist_characters="\r\n"), max_size=8
    ).map("".join),
)
def test_garbage_is_what_the_control_pattern_finds(start: str, rest: str) -> None:
    line = start + rest
    record = next(iter(iter_records([line])))
    if isinstance(record, UnrecognisedRecord) and record.message != CONTROL:
        return  # an impossible signature ("1..."): said so, not garbage
    assert record.kind in {"note", "unrecognised"}, record
    found = parser._CONTROL_RE.search(parser._clean(line)) is not None
    assert (isinstance(record, UnrecognisedRecord) and record.message == CONTROL) == found
