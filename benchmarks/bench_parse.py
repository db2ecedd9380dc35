"""Benchmark the legacy history parser against a bare regex scan, on a synthetic archive.

The archive is the example histories repeated with dates shifted one day per copy, streamed to a
temporary file (never held in memory). Run: ``python benchmarks/bench_parse.py [n_entries]``.
"""

from __future__ import annotations

import re
import sys
import tempfile
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from etatmachine.legacy import EtatRecord, iter_file

ORDER = 50  # run_all.py runs benchmarks by ORDER, then name
__all__ = ["main", "run", "write_archive"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "histories"
_DATE_RE = re.compile(r"(?<!\d)(\d{2})([./])(\d{2})\2(\d{4})(?!\d)")
_ETAT_RE = re.compile(r"^ETAT:", re.MULTILINE)
_DUE_RE = re.compile(r"(\d{2})/(\d{2})/(\d{4})\s+(\d{2}):(\d{2})")

Template = list[str | tuple[date, str]]  # literal text, or (date, separator) to shift


_OPENING = "OUVERTURE: -{}-08:00-(1000001) OUVERTURE SYNTHETIQUE\n\n"


def _templates(openings: bool = False) -> list[tuple[Template, int]]:
    """Each example history split into literal text and dates, with its ETAT count.

    ``openings``: start every history that lacks one with an ``OUVERTURE:`` line (dated the
    history's first day), so an archive splits into one dossier per history.
    """
    out: list[tuple[Template, int]] = []
    for path in sorted(EXAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if not text.endswith("\n"):
            text += "\n"
        parts: Template = []
        first = _DATE_RE.search(text)
        if openings and first is not None and not text.lstrip().startswith("OUVERTURE"):
            day, _, month, year = first.groups()
            before, after = _OPENING.split("{}")
            parts += [before, (date(int(year), int(month), int(day)), "."), after]
        pos = 0
        for m in _DATE_RE.finditer(text):
            parts.append(text[pos : m.start()])
            day, sep, month, year = m.groups()
            parts.append((date(int(year), int(month), int(day)), sep))
            pos = m.end()
        parts.append(text[pos:] + "\n")
        out.append((parts, len(_ETAT_RE.findall(text))))
    return out


def write_archive(path: str | Path, n_entries: int, *, openings: bool = False) -> int:
    """Write copies of the example histories, dates shifted a day per copy, until at least
    ``n_entries`` ETAT entries; return how many were written. Streams: memory stays flat.

    ``openings``: every history starts with an ``OUVERTURE:`` line (one dossier each)."""
    templates = _templates(openings)
    per_copy = sum(n for _, n in templates)
    if per_copy == 0:
        raise ValueError(f"no ETAT entry in {EXAMPLES}")
    written = 0
    shift = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        while written < n_entries:
            delta = timedelta(days=shift)
            cache: dict[tuple[date, str], str] = {}
            for parts, count in templates:
                chunk: list[str] = []
                for part in parts:
                    if isinstance(part, str):
                        chunk.append(part)
                        continue
                    text = cache.get(part)
                    if text is None:
                        d = part[0] + delta
                        sep = part[1]
                        text = f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year:04d}"
                        cache[part] = text
                    chunk.append(text)
                fh.write("".join(chunk))
                written += count
            shift += 1
    return written


def _floor(path: Path) -> tuple[int, int]:
    """The floor: read the lines, find ``ETAT:`` lines and their due date, nothing else."""
    lines = etats = 0
    due = _DUE_RE.search
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            lines += 1
            if line.startswith("ETAT:"):
                etats += 1
                due(line)
    return lines, etats


def _parse(path: Path) -> tuple[int, int]:
    lines = etats = 0
    for record in iter_file(path):
        lines = record.last_line
        if isinstance(record, EtatRecord):
            etats += 1
    return lines, etats


def _peak_memory(path: Path) -> int:
    """Peak traced memory (bytes) while streaming the file through ``iter_records``."""
    tracemalloc.start()
    try:
        for _ in iter_file(path):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(quick: bool = False, n_entries: int | None = None) -> list[tuple[str, float, str]]:
    """The floor and the parser on one archive, interleaved; rows (name, value, unit)."""
    from method import compare

    n = n_entries or (5_000 if quick else 200_000)
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.txt"
        written = write_archive(path, n)
        rows.append(("archive ETAT entries", written, "entries"))
        rows.append(("archive size", path.stat().st_size / 1e6, "MB"))
        cmp = compare(
            {"floor": lambda: _floor(path), "parser": lambda: _parse(path)},
            "floor",
            3 if quick else 5,
        )
        for name, label in (("floor", "floor (regex scan)"), ("parser", "iter_file")):
            rows.append((f"{label}: entries/s", written / cmp.seconds[name], "entries/s"))
        rows.append(("parse, per entry", cmp.seconds["parser"] / written * 1e6, "µs"))
        rows.append(("parser / floor", cmp.ratios["parser"], "x time"))
        small = max(1, n // 20)
        write_archive(path, small)
        rows.append((f"peak memory, {small:,} entries", _peak_memory(path) / 1e6, "MB"))
        write_archive(path, small * 5)
        rows.append((f"peak memory, {small * 5:,} entries", _peak_memory(path) / 1e6, "MB"))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table."""
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 200_000
    for name, value, unit in run(False, n):
        print(f"{name:<34} {value:>16,.2f} {unit}")


if __name__ == "__main__":
    main()
