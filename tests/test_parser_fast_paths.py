"""The parser's fixed-place readings against the patterns they stand in for: an ETAT entry
cut without `_ETAT_FAST_RE`, the line-start table by code point, the lines ruled out as
signatures before `_AUTHOR_RE` runs, and times of day made as a midnight plus minutes. Each
fast reading must say exactly what the pattern (or the general path) says; the end-to-end
oracles (fast path against ``fast=False``, warm caches against fresh ones) live in
tests/test_legacy_properties.py."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from etatmachine.business_calendar import PARIS
from etatmachine.history import parser
from etatmachine.legacy import RoleMap


def _mostly(common: str, *others: str) -> st.SearchStrategy[str]:
    """``common`` three times in four, else one of ``others``: most texts are then cut."""
    return st.sampled_from([common] * (3 * len(others)) + list(others))


CUT_PARTS = st.tuples(
    _mostly("ETAT: ", "ÉTAT: ", "ETAT:  ", "ETAT :", "ETAT:", "EtAT: ", "ETAT- "),
    _mostly("Première visite (7)", "x", "-x", " x", "\u2003x", "a/b", "PT - Devis", ""),
    _mostly(" ", "  ", "", "x"),
    _mostly(
        "19/01/2023 15:04",
        "1/01/2023 15:04",
        "19/01/2023 5:04",
        "19/01/2023  15:04",
        "19-01/2023 15:04",
        "19/01/2023 15:045",
        "١٩/01/2023 15:04",
        "19/01/2023 15h04",
        "19/01/2023 24:00",
        "19/01/2023 09:60",
    ),
    _mostly(" commentaire (a) b", " ", "", "x", "٣", " x/y"),
    _mostly(
        "(18/01/2023-N°1)",
        "(18/01/2023-N°123)",
        "(18/01/2023-N°)",
        "(18/01/2023-Nº1)",
        "( 18/01/2023-N°1)",
        "(8/01/2023-N°1)",
        "(18/01/2023-N°1٣)",
        "(18/01/2023 -N°1)",
        "(18/01/2023-N°1) ",
        "(18/0a/2023-N°1)",
        "(18/01/2023-N°1x)",
        "",
    ),
)
NOISE = st.text(alphabet=st.sampled_from("ETAÉ: /-()0123456789N°٣\u00a0x"), max_size=40)


@given(CUT_PARTS | st.tuples(NOISE), st.text(max_size=3))
def test_etat_cuts_are_the_fast_patterns_groups(parts: tuple[str, ...], noise: str) -> None:
    for text in ("".join(parts), "".join(parts) + noise, noise + "".join(parts)):
        slash, paren, minute = parser._etat_cuts(text)
        if slash >= 0:
            m = parser._ETAT_FAST_RE.match(text)
            assert m is not None, text
            assert m.groups() == (
                text[6 : slash - 3],
                text[slash - 2 : slash + 8],
                text[slash + 9 : slash + 14],
                text[slash + 14 : paren],
                text[paren + 1 : paren + 11],
                text[paren + 14 : -1],
            ), text
            assert minute == parser._MINUTE_OF[m.group(3)]
        else:
            assert (slash, paren, minute) == (-1, -1, -1)


def test_etat_cuts_read_the_common_entries() -> None:
    """The property above compares something: the archive's common forms are cut."""
    for text in (
        "ETAT: Première visite (7) 20/02/2023 09:00 commentaire (07/02/2023-N°1)",
        "ÉTAT: x 20/02/2023 09:00(07/02/2023-N°12)",
    ):
        assert parser._etat_cuts(text) != (-1, -1, -1)
    for text in (
        "ETAT: x 20/02/2023 09:00 (07/02/2023-No 1)",
        "ETAT: x 20/02/2023 24:00 (07/02/2023-N°1)",  # the fast pattern reads it, says why
    ):
        assert parser._etat_cuts(text) == (-1, -1, -1)


def test_the_prefix_table_by_code_point_is_the_prefix_table() -> None:
    by_code = {chr(code): e for code, e in enumerate(parser._PREFIXES_BY_CODE) if e is not None}
    assert by_code == parser._PREFIXES  # every first character a record starts with is < 256


def _outcome(s: str) -> object:
    """What a fresh parser's signature reader says of ``s``: an author, why not, or None."""
    try:
        return parser._Parser(RoleMap())._signature(s)
    except ValueError as exc:
        return str(exc)


STAMPS = r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4} ?- ?[0-9]{1,2}:[0-9]{2}(-\([0-9]{1,3}\) X)?.{0,3}"


@given(
    st.from_regex(r"[0-9٣]{1,3}[.,/ ]?[0-9.]{0,3}.{0,12}", fullmatch=True)
    | st.from_regex(STAMPS, fullmatch=True)
)
def test_a_line_is_read_as_a_signature_when_the_pattern_matches_it(s: str) -> None:
    """Lines the pattern cannot match (no "." after one or two digits) are ruled out before
    it runs: exactly those."""
    assert (_outcome(s) is None) == (parser._AUTHOR_RE.match(s) is None), s


# An aware datetime's == compares instants: its fields, fold and tzinfo are compared apart.
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
    | st.sampled_from([date(2023, 3, 26), date(2023, 10, 29), date(1976, 3, 28)]),
    st.integers(0, 24 * 60 - 1),
)
def test_a_midnight_plus_minutes_is_the_datetime_of_its_fields(day: date, minute: int) -> None:
    """The signatures' and due dates' datetimes, a cached midnight plus the minutes since, are
    those the pattern's path builds, on any day, those of the clock changes included."""
    midnight = datetime(day.year, day.month, day.day, 0, 0, 0, 0, PARIS)
    made = midnight + parser._MINUTES[minute]
    hour, m = divmod(minute, 60)
    direct = datetime(day.year, day.month, day.day, hour, m, 0, 0, PARIS)
    assert (made.replace(tzinfo=None), made.fold, made.tzinfo) == (
        direct.replace(tzinfo=None),
        direct.fold,
        direct.tzinfo,
    )
    assert made - parser._MINUTES[minute] == midnight
    assert parser._MINUTE_OF[f"{hour:02d}:{m:02d}"] == minute
    assert parser._minute_at(f"x{hour:02d}:{m:02d}", 1) == minute


@given(st.text(max_size=2), st.text(max_size=2))
def test_minute_at_reads_what_the_table_holds(hours: str, minutes: str) -> None:
    text = (hours + "00")[:2] + ":" + (minutes + "00")[:2]
    assert parser._minute_at(text, 0) == parser._MINUTE_OF.get(text, -1)
