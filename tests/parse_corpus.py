"""The parser's snapshot corpus: real histories and seeded random mutations of their lines.

`build_corpus` makes the inputs (bytes, as a file would hold them) from the example
histories, the seed, a synthetic archive and mutations of their lines: lines cut, joined,
doubled, dropped, unknown prefixes, impossible dates, non-UTF-8 bytes, CRLF and lone CR,
tabs and no-break spaces, control characters, very long lines (past the 64 KiB read block),
stray signatures and continuation lines. `snapshot` says everything a parse gives, record by
record (class, fields set and ``repr``: every field, verbatim text and line numbers), through
each public entry point. tests/test_legacy_golden.py compares it with the stored golden file
(tests/golden/parse/snapshot.json.xz, inputs included, so a change to the examples or to this
generator never silently changes what is compared).
"""

from __future__ import annotations

import io
import random
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from etatmachine.legacy import Record, RoleMap, iter_file, iter_records, parse_text
from etatmachine.roles import Role

__all__ = ["ROLES", "build_corpus", "snapshot"]

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "data" / "seed.txt"
EXAMPLES = ROOT / "examples" / "histories"

ROLES = RoleMap(
    roles={"3995": Role.CASE_HANDLER, "1002688": Role.CONTRACTOR}, anonymous=Role.SYSTEM
)

_PREFIXES = [
    "XYZ: ",
    "ETAT ",
    "ETAT : ",
    "État: ",
    "ÉTAT: ",
    "Etat: ",
    "ETAT:",
    "  ",
    "\t",
    "\xa0",
    "\u202f",
    "- ",
    "MESSAGE DE ",
    "MESSAGE DE",
    "POUR:",
    "REMIS DE:",
    "NTACT 2: ",
    "CONTACT 3 : ",
    "OUVERTURE: -",
    "ASSIGNER: -",
    "Action réalisée: ",
    "Mensaje de ",
    "Dossier contrôlé ",
    "Intervention sous-assignée à: - ",
    "REALISATION: ",
    "La limite maximum d'autonomie ",
    "12.",
    "1",
    "(",
    "%",
]
_CONTINUATIONS = [
    "suite du texte",
    "(12/03/2023-N°2)",
    "( 1/3/2023 - No 12 )",
    "11:30 commentaire",
    "10/03/2023 11:30",
    "XXXX (PRESTATAIRE)",
    "(M.A.)",
    "% d'humidité 60.",
    "Semaine: 14.",
    "(5).",
    "(5)",
    "1 550,00 EUR",
    "accepte cette intervention le 18/01/2023 à 17h17",
    "Le professionnel X (1),",
    "REMIS DE:07.02.2023-16:40-(995) INTERNET",
    "POUR:(72a3181) XX",
    "-",
    ".",
]
_SIGNATURES = [
    "07.02.2023-14:47-(3995) SANDRINE SUTOR .",
    "18.01.2023-17:17",
    "18.1.2023 - 9:05 - (996) ASIGNACIÓN AUTOMÁTICA ZONAL",
    "31.02.2023-10:00-(1) X",
    "12.03.2023-25:61",
    "29.02.2024-10:00-() ",
    "26.03.2023-02:30-(1) ÉTÉ",
    "29.10.2023-02:30-(1) HIVER",
    "01.01.0001-00:00-(7) AN UN",
    "31.12.9999-23:59-(007) FIN",
    "12.03.2023-10:00-(1(2)) NESTED",
]
_BYTES = [
    b"\xe9",
    b"\x80",
    b"\xff\xfe",
    b"\x00",
    b"\x81",
    b"\x8d\x8f",
    b"\xc3",
    b"\xe2\x82",
    b"\x9d",
]
_CONTROLS = ["\x0b", "\x0c", "\u2028", "\ufffd", "\x7f", "\x1b[0m", "\x85", "\u200b", "\x08"]
_ENDINGS = [b"\n", b"\n", b"\n", b"\r\n", b"\r"]


def _source_texts() -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_parse import write_archive
    finally:
        sys.path.pop(0)
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.txt"))]
    texts.append(("seed.txt", SEED.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.txt"
        write_archive(path, 400, openings=True)
        texts.append(("archive_openings", path.read_text(encoding="utf-8")))
        write_archive(path, 150)
        texts.append(("archive", path.read_text(encoding="utf-8")))
    return texts


def _bad_date(line: str, rng: random.Random) -> str:
    digits = [i for i, c in enumerate(line) if c.isdigit()]
    if not digits:
        return line + " 31/02/2023 25:61"
    choice = rng.randrange(4)
    if choice == 0:  # one digit changed
        i = rng.choice(digits)
        return line[:i] + str(rng.randrange(10)) + line[i + 1 :]
    if choice == 1:  # a digit dropped
        i = rng.choice(digits)
        return line[:i] + line[i + 1 :]
    bad = rng.choice(["31/02/2023", "00/13/2023", "29/02/2023", "29/02/2024", "1/1/0000"])
    for sep in "/.":
        parts = line.split(sep)
        if len(parts) >= 3:
            i = rng.randrange(len(parts) - 2)
            b = bad.replace("/", sep)
            return sep.join([*parts[:i], *b.split(sep), *parts[i + 3 :]])
    return line[: digits[0]] + bad + line[digits[0] :]


def _mutate(lines: list[bytes], rng: random.Random) -> list[bytes]:
    """Apply one random mutation to ``lines`` (each without its line ending)."""
    if not lines:
        return [rng.choice(_SIGNATURES).encode()]
    i = rng.randrange(len(lines))
    line = lines[i]
    text = line.decode("utf-8", "surrogateescape")
    op = rng.randrange(17)
    if op == 0 and len(text) > 1:  # cut
        k = rng.randrange(1, len(text))
        return [
            *lines[:i],
            text[:k].encode("utf-8", "surrogateescape"),
            text[k:].encode("utf-8", "surrogateescape"),
            *lines[i + 1 :],
        ]
    if op == 1 and i + 1 < len(lines):  # join
        glue = rng.choice([b" ", b"", b"  "])
        return [*lines[:i], line + glue + lines[i + 1], *lines[i + 2 :]]
    if op == 2:  # doubled
        return [*lines[: i + 1], line, *lines[i + 1 :]]
    if op == 3:  # unknown or misleading prefix
        return [*lines[:i], rng.choice(_PREFIXES).encode() + line, *lines[i + 1 :]]
    if op == 4:  # impossible or shifted date
        bad = _bad_date(text, rng).encode("utf-8", "surrogateescape")
        return [*lines[:i], bad, *lines[i + 1 :]]
    if op == 5:  # non-UTF-8 bytes
        k = rng.randrange(len(line) + 1)
        return [*lines[:i], line[:k] + rng.choice(_BYTES) + line[k:], *lines[i + 1 :]]
    if op == 6:  # tabs and no-break spaces for spaces, or indentation
        space = rng.choice(["\t", "\xa0", "\u202f", "  "])
        new = text.replace(" ", space, rng.randrange(1, 4)) if " " in text else space + text
        return [*lines[:i], new.encode("utf-8", "surrogateescape"), *lines[i + 1 :]]
    if op == 7:  # very long line
        times = rng.choice([20, 50, 200, 1200])
        return [*lines[:i], b" ".join([line or b"x"] * times), *lines[i + 1 :]]
    if op == 8:  # continuation line
        new = rng.choice(_CONTINUATIONS).encode()
        return [*lines[: i + 1], new, *lines[i + 1 :]]
    if op == 9:  # blank lines
        blanks = [rng.choice([b"", b"   ", b"\t", b"\xc2\xa0"]) for _ in range(rng.randrange(1, 3))]
        return [*lines[:i], *blanks, *lines[i:]]
    if op == 10:  # dropped
        return [*lines[:i], *lines[i + 1 :]]
    if op == 11 and i + 1 < len(lines):  # swapped
        return [*lines[:i], lines[i + 1], line, *lines[i + 2 :]]
    if op == 12:  # stray signature
        return [*lines[:i], rng.choice(_SIGNATURES).encode(), *lines[i:]]
    if op == 13:  # control characters inside the line
        k = rng.randrange(len(text) + 1)
        new = text[:k] + rng.choice(_CONTROLS) + text[k:]
        return [*lines[:i], new.encode("utf-8", "surrogateescape"), *lines[i + 1 :]]
    if op == 14:  # trailing spaces or a dot
        return [*lines[:i], line + rng.choice([b" ", b" .", b"\t", b"."]), *lines[i + 1 :]]
    if op == 15:  # a run of lines repeated (wrapping caps)
        k = rng.randrange(2, 30)
        return [*lines[: i + 1], *([b"texte qui continue"] * k), *lines[i + 1 :]]
    return [*lines[:i], line.upper() if rng.random() < 0.5 else line.lower(), *lines[i + 1 :]]


def _join(lines: list[bytes], rng: random.Random, last_newline: bool) -> bytes:
    style = rng.randrange(4)
    out = []
    for line in lines:
        out.append(line)
        out.append(b"\n" if style < 2 else b"\r\n" if style == 2 else rng.choice(_ENDINGS))
    if out and not last_newline:
        out.pop()
    return b"".join(out)


def build_corpus(n_mutated: int = 900, seed: int = 20261201) -> list[tuple[str, bytes]]:
    """The inputs: ``(name, bytes)``, whole sources first, then mutated excerpts."""
    rng = random.Random(seed)
    sources = _source_texts()
    cases = [(name, text.encode("utf-8")) for name, text in sources]
    split = [(name, [s.encode("utf-8") for s in text.split("\n")]) for name, text in sources]
    for k in range(n_mutated):
        name, lines = split[rng.randrange(len(split))]
        size = rng.choice([3, 10, 30, 80, 200])
        start = rng.randrange(max(1, len(lines) - size))
        excerpt = lines[start : start + size]
        for _ in range(rng.choice([1, 2, 4, 8, 16])):
            excerpt = _mutate(excerpt, rng)
        data = _join(excerpt, rng, rng.random() < 0.8)
        if rng.random() < 0.05:
            data = b"\xef\xbb\xbf" + data  # byte-order mark
        if rng.random() < 0.04:  # the whole excerpt in cp1252
            text = data.decode("utf-8", "replace")
            data = text.encode("cp1252", "replace")
        cases.append((f"mutated_{k:03d}_{name}", data))
    cases += [
        ("empty", b""),
        ("blank_only", b"\n \n\t\n"),
        ("newline", b"\n"),
        ("cr_only", b"\r\r\r"),
        ("long_signature_line", b"07.02.2023-14:47-(3995) " + b"N" * 70000 + b"\n"),
        ("long_etat_line", b"ETAT: " + b"x" * 70000 + b" 10/03/2023 11:30 (09/03/2023-N\xc2\xb01)"),
        ("long_garbage_line", b"\x00\x01" * 40000 + b"\nETAT: a 10/03/2023 11:30\n"),
    ]
    return cases


def _lines(records: Iterable[Record]) -> list[str]:
    return [f"{type(r).__name__} {sorted(r.model_fields_set)} {r!r}" for r in records]


def snapshot(data: bytes, *, roles: RoleMap | None = None) -> dict[str, list[str]]:
    """Everything the parser says about ``data``, through each public entry point."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.txt"
        path.write_bytes(data)
        out = {"file": _lines(iter_file(path, roles=roles))}
    text = data.decode("utf-8", "replace")
    out["text"] = _lines(parse_text(text, roles=roles).records)
    out["stream_from_7"] = _lines(
        iter_records(io.StringIO(text, newline=""), roles=roles, first_line=7)
    )
    return out
