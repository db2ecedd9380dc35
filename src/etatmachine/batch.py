"""Replay many sources (files, directories, standard input) as pieces any process can take.

An archive is many dossiers, each starting at an ``OUVERTURE`` line, as `replay.iter_replays`
splits it. `pieces` cuts each source's lines before opening lines into pieces of about
`PIECE_LINES` lines, numbering each piece's first line and first dossier, so that
`replay_piece` on any piece, in any process, gives exactly the dossiers (same ids, lines and
verdicts) the whole source gives through ``iter_replays`` (tests/test_batch.py checks it).
`tasks` packs small pieces (small files) together so that a 10,000-file directory is not
10,000 round trips. A piece holds its lines only: the pipeline holds a bounded number of
pieces at a time, so memory stays flat whatever the input size.

`replay_piece` renders its dossiers where it runs (JSON text, CSV text, Parquet columns or a
terminal table, see `Options.fmt`) and returns them with the few figures the combined summary
needs (`summary.SummaryParts`): that is what crosses a process boundary, never the models.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from etatmachine.errors import EtatmachineError
from etatmachine.legacy import (
    OpeningRecord,
    Record,
    RoleMap,
    UnrecognisedRecord,
    is_opening_line,
    iter_records,
    read_lines,
)
from etatmachine.summary import SummaryParts, summary_parts

__all__ = [
    "PIECE_LINES",
    "SCAN_BLOCK",
    "STDIN",
    "TASK_BYTES",
    "WHOLE_BYTES",
    "Format",
    "Options",
    "Piece",
    "PieceResult",
    "Problem",
    "Span",
    "cut_lines",
    "history_files",
    "pieces",
    "prepare",
    "read_span",
    "replay_piece",
    "replay_task",
    "span_tasks",
    "spans",
    "tasks",
]

PIECE_LINES = 4_000
"""Lines per piece (an archive is cut at the first opening line past this many)."""
WHOLE_BYTES = 1 << 18
"""A file of at most this many bytes is one span, never scanned where it is listed."""
TASK_BYTES = 1 << 18
"""Bytes of spans packed into one task (many small files in one)."""
SNIFF = 8_192
"""Bytes read at the start of a source to tell a binary file (a NUL byte) from a history."""
STDIN = "-"

Format = Literal["table", "json", "jsonl", "csv", "parquet", "summary"]


@dataclass(frozen=True, slots=True)
class Options:
    """How to replay and render: everything a worker process needs, picklable."""

    fmt: Format = "json"
    catalogue_file: str | None = None
    subdivision: str | None = None
    roles_file: str | None = None
    insurer: str | None = None
    channel: str | None = None
    flags: tuple[str, ...] = ()
    width: int = 100


@dataclass(slots=True)
class Piece:
    """Consecutive lines of one source: its first line's number and the dossiers before it."""

    source: str
    first_line: int
    first_dossier: int
    lines: list[str] = field(default_factory=list)
    last: bool = False
    """The source's last piece (a source's end is known from it)."""
    skipped: str | None = None
    """Why the source is not read (``binary``, ``unreadable: ...``), else None."""


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes ``[start, end)`` of a file, cut before an opening line: a piece that the
    process replaying it reads itself (`read_span`), so that only its name and offsets
    cross a process boundary. ``end`` None: to the end of the file."""

    source: str
    start: int
    end: int | None
    first_line: int
    first_dossier: int
    last: bool


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in a source: an unreadable ``ETAT:`` line, a dossier that cannot be
    replayed. ``line`` where there is one."""

    source: str
    line: int | None
    message: str
    kind: Literal["unreadable", "replay"] = "unreadable"
    """unreadable: an ``ETAT:`` line the parser could not read; replay: a dossier that
    could not be replayed (bad input too, e.g. a due date in year 9999)."""


@dataclass(slots=True)
class PieceResult:
    """A piece replayed and rendered."""

    source: str
    last: bool
    payload: Any
    """Per `Options.fmt`: table/jsonl/csv text, a list of JSON texts, Parquet columns (bytes)."""
    parts: list[SummaryParts]
    entries: int
    breaches: int
    problems: list[Problem]
    skipped: str | None = None


# -- sources -----------------------------------------------------------------------------------


class InputError(EtatmachineError, ValueError):
    """A path given on the command line is not a history source; names the path."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def history_files(paths: Iterable[str]) -> Iterator[str]:
    """The sources ``paths`` name: files as given, the ``.txt`` files of a directory (sorted),
    ``-`` for standard input. Raises `InputError` for a path that does not exist."""
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.suffix == ".txt" and p.is_file())
            if not found:
                raise InputError(raw, "no .txt history in this directory")
            yield from found
        elif path.exists():
            yield raw
        else:
            raise InputError(raw, "no such file or directory")


def _open(source: str) -> BinaryIO:
    if source == STDIN:
        return sys.stdin.buffer
    return open(source, "rb")


def pieces(sources: Iterable[str], piece_lines: int = PIECE_LINES) -> Iterator[Piece]:
    """Cut every source into pieces at opening lines (see the module notes), in order.

    A source that cannot be read gives one piece whose ``skipped`` says why
    (``unreadable: ...``; after the pieces read before the error, if any).
    """
    for source in sources:
        try:
            fh = _open(source)
        except OSError as exc:
            yield Piece(source, 1, 0, last=True, skipped=f"unreadable: {exc.strerror or exc}")
            continue
        try:
            head = fh.peek(SNIFF)[:SNIFF] if hasattr(fh, "peek") else b""
            if b"\0" in head:
                yield Piece(source, 1, 0, last=True, skipped="binary")
                continue
            yield from cut_lines(source, read_lines(fh), piece_lines)
        except OSError as exc:
            yield Piece(source, 1, 0, last=True, skipped=f"unreadable: {exc.strerror or exc}")
        finally:
            if fh is not sys.stdin.buffer:
                fh.close()


def cut_lines(source: str, lines: Iterable[str], piece_lines: int = PIECE_LINES) -> Iterator[Piece]:
    """The pieces of one source's lines (see the module notes)."""
    piece = Piece(source, 1, 0)
    dossiers = 0  # dossiers started before the current line
    content = False  # whether a non-blank line was seen (a record before the first opening)
    for lineno, line in enumerate(lines, 1):
        if is_opening_line(line):
            if content and len(piece.lines) >= piece_lines:
                yield piece
                piece = Piece(source, lineno, dossiers)
            dossiers += 1
            content = True
        elif not content and line.strip():
            content = True
            dossiers += 1  # records before the first opening: a dossier of their own
        piece.lines.append(line)
    piece.last = True
    yield piece


def tasks(stream: Iterable[Piece], task_lines: int = PIECE_LINES) -> Iterator[list[Piece]]:
    """Pieces packed into tasks of about ``task_lines`` lines (many small files in one)."""
    task: list[Piece] = []
    size = 0
    for piece in stream:
        task.append(piece)
        size += len(piece.lines) + 50  # a file costs more than its lines
        if size >= task_lines:
            yield task
            task, size = [], 0
    if task:
        yield task


# -- spans: pieces read where they are replayed ------------------------------------------------

SCAN_BLOCK = 1 << 20
"""Bytes read at a time when a file is scanned for its cuts."""


def spans(
    sources: Iterable[str],
    piece_lines: int = PIECE_LINES,
    whole_bytes: int = WHOLE_BYTES,
    scan_block: int = SCAN_BLOCK,
) -> Iterator[Span | Piece]:
    """Every source as spans cut at opening lines as `pieces` cuts it (the same lines, line
    numbers and dossier numbers), in order; standard input as `pieces`.

    A file of at most ``whole_bytes`` is one span, not even opened here; a larger one is
    scanned as bytes (only lines holding ``OUVERTURE`` are decoded), so listing the spans of
    an archive costs a fraction of reading its lines. A file that cannot be read, or a
    binary one, gives one skipped `Piece`, as in `pieces`.
    """
    for source in sources:
        if source == STDIN:
            yield from pieces([source], piece_lines)
            continue
        try:
            size = os.path.getsize(source)
            if size <= whole_bytes:
                yield Span(source, 0, None, 1, 0, True)
                continue
            yield from _scan(source, piece_lines, scan_block)
        except OSError as exc:
            yield Piece(source, 1, 0, last=True, skipped=f"unreadable: {exc.strerror or exc}")


def _text_lines(line: bytes, at_start: bool) -> list[str]:
    """The text lines `legacy.read_lines` reads from one binary line (ended by b"\\n") of a
    file, at its start or not (a byte-order mark is dropped only at the start)."""
    if at_start:
        return list(read_lines(io.BytesIO(line)))
    return list(read_lines(io.BytesIO(b"\n" + line)))[1:]


def _scan(source: str, piece_lines: int, scan_block: int) -> Iterator[Span | Piece]:
    """`spans` of one file larger than a span: the cuts and counts of `cut_lines`, except
    that a cut is only made before a binary line (never after a lone b"\\r")."""
    with open(source, "rb") as fh:
        if b"\0" in fh.peek(SNIFF)[:SNIFF]:
            yield Piece(source, 1, 0, last=True, skipped="binary")
            return
        start, first_line, first_dossier = 0, 1, 0
        lineno = 0  # text lines before the current one
        dossiers = 0
        content = False
        offset = 0  # of the block's first byte in the file
        rest = b""
        while True:
            read = fh.read(scan_block)
            if read:
                data = rest + read
                end = data.rfind(b"\n") + 1
                block, rest = data[:end], data[end:]
                if not block:
                    continue
            elif rest:
                block, rest = rest + b"\n", b""  # a last line without a line break
            else:
                break
            if content and block.count(b"\r") == block.count(b"\r\n"):
                # one text line per binary line: decode only the lines holding OUVERTURE
                counted = 0  # lineno counts the lines of block[:counted]
                i = block.find(b"OUVERTURE")
                while i >= 0:
                    ls = block.rfind(b"\n", 0, i) + 1
                    le = block.find(b"\n", i) + 1
                    if all(b <= 0x20 or b >= 0x80 for b in block[ls:i]):
                        (text,) = _text_lines(block[ls:le], offset + ls == 0)
                        if is_opening_line(text):
                            lineno += block.count(b"\n", counted, ls)
                            counted = ls
                            if lineno + 1 - first_line >= piece_lines:
                                yield Span(
                                    source, start, offset + ls, first_line, first_dossier, False
                                )
                                start, first_line, first_dossier = offset + ls, lineno + 1, dossiers
                            dossiers += 1
                    i = block.find(b"OUVERTURE", le)
                lineno += block.count(b"\n", counted)
            else:  # before the first record, or lone b"\r" (one binary line, many text lines)
                ls = 0
                while ls < len(block):
                    le = block.index(b"\n", ls) + 1
                    line = block[ls:le]
                    if content and b"OUVERTURE" not in line and b"\r" not in line[:-2]:
                        lineno += 1
                        ls = le
                        continue
                    for k, text in enumerate(_text_lines(line, offset + ls == 0)):
                        lineno += 1
                        if is_opening_line(text):
                            if content and k == 0 and lineno - first_line >= piece_lines:
                                yield Span(
                                    source, start, offset + ls, first_line, first_dossier, False
                                )
                                start, first_line, first_dossier = offset + ls, lineno, dossiers
                            dossiers += 1
                            content = True
                        elif not content and text.strip():
                            content = True
                            dossiers += 1
                    ls = le
            offset += len(block)
        yield Span(source, start, None, first_line, first_dossier, True)


def read_span(span: Span) -> Piece:
    """The piece ``span`` holds (its lines read now), or a skipped piece saying why."""
    try:
        with open(span.source, "rb") as fh:
            if span.start == 0 and b"\0" in fh.peek(SNIFF)[:SNIFF]:
                return Piece(span.source, 1, 0, last=True, skipped="binary")
            fh.seek(span.start)
            data = fh.read() if span.end is None else fh.read(span.end - span.start)
    except OSError as exc:
        return Piece(span.source, 1, 0, last=True, skipped=f"unreadable: {exc.strerror or exc}")
    # a span after the start begins with an opening line: no byte-order mark to drop
    lines = list(read_lines(io.BytesIO(data)))
    return Piece(span.source, span.first_line, span.first_dossier, lines, span.last)


def span_tasks(
    stream: Iterable[Span | Piece], task_bytes: int = TASK_BYTES
) -> Iterator[list[Span | Piece]]:
    """Spans (and pieces) packed into tasks of about ``task_bytes`` (many small files in
    one); a span's size is its length, or the whole-file limit when it runs to the end."""
    task: list[Span | Piece] = []
    size = 0
    for item in stream:
        task.append(item)
        if isinstance(item, Span):
            size += (WHOLE_BYTES // 4 if item.end is None else item.end - item.start) + 2_048
        else:
            size += 40 * len(item.lines) + 2_048
        if size >= task_bytes:
            yield task
            task, size = [], 0
    if task:
        yield task


# -- replay ------------------------------------------------------------------------------------

_WORKFLOWS: dict[tuple[str | None, str | None], Any] = {}
_ROLES: dict[str, RoleMap] = {}


def _workflow(options: Options) -> Any:
    """The workflow of ``options`` (built once per process)."""
    key = (options.catalogue_file, options.subdivision)
    wf = _WORKFLOWS.get(key)
    if wf is None:
        from etatmachine.business_calendar import CalendarConfig
        from etatmachine.workflow import Workflow

        calendar = CalendarConfig(subdivision=options.subdivision)
        if options.catalogue_file is None:
            wf = Workflow.default(calendar=calendar)
        else:
            wf = Workflow.from_file(options.catalogue_file, calendar=calendar)
        _WORKFLOWS[key] = wf
    return wf


def prepare(options: Options) -> None:
    """Build the workflow and role map of ``options`` now, and compute one due date (which
    loads the calendar's holidays), in a parent process before a pool forks: the workers
    inherit them instead of each paying for them."""
    from datetime import datetime

    from etatmachine.business_calendar import PARIS
    from etatmachine.deadlines import compute_due

    wf = _workflow(options)
    _roles(options)
    timed = ("business_hours", "business_days", "calendar_days")
    spec = next((s for s in wf.catalogue if s.deadline.kind.value in timed), None)
    if spec is not None:
        with contextlib.suppress(ArithmeticError, ValueError, EtatmachineError):  # a warm-up
            compute_due(spec.deadline, datetime(2023, 3, 1, 10, tzinfo=PARIS), wf.calendar())


def _roles(options: Options) -> RoleMap | None:
    if options.roles_file is None:
        return None
    roles = _ROLES.get(options.roles_file)
    if roles is None:
        roles = _ROLES[options.roles_file] = RoleMap.from_toml(options.roles_file)
    return roles


def _dossiers(records: Iterable[Record]) -> Iterator[list[Record]]:
    """The records of each dossier, split as `replay.iter_replays` splits them."""
    current: list[Record] | None = None
    for record in records:
        if isinstance(record, OpeningRecord) or current is None:
            if current is not None:
                yield current
            current = []
        current.append(record)
    if current is not None:
        yield current


_ETAT_PREFIXES = ("ETAT", "ÉTAT")


def replay_piece(piece: Piece, options: Options) -> PieceResult:
    """Replay one piece's dossiers and render them (see the module notes)."""
    if piece.skipped is not None:
        return PieceResult(piece.source, True, None, [], 0, 0, [], piece.skipped)
    from etatmachine.replay.engine import replay_one

    wf = _workflow(options)
    roles = _roles(options)
    # checked once per piece (the errors name the option), then handed to the engine as is
    attributes = wf.file_attributes(
        insurer=options.insurer,
        channel=options.channel,
        subdivision=options.subdivision,
        flags=options.flags,
    )
    reports = []
    problems: list[Problem] = []
    number = piece.first_dossier
    records = iter_records(piece.lines, roles=roles, first_line=piece.first_line)
    for dossier in _dossiers(records):
        number += 1
        for r in dossier:
            if isinstance(r, UnrecognisedRecord) and r.text.lstrip().startswith(_ETAT_PREFIXES):
                problems.append(Problem(piece.source, r.first_line, f"{r.message}"))
        try:
            report = replay_one(dossier, wf, f"{piece.source}#{number}", piece.source, attributes)
        except (ArithmeticError, ValueError, EtatmachineError) as exc:
            problems.append(
                Problem(
                    piece.source,
                    dossier[0].first_line,
                    f"dossier #{number} cannot be replayed: {type(exc).__name__}: {exc}",
                    "replay",
                )
            )
            continue
        if report.entries or report.unrecognised:  # as `iter_replays` keeps them
            reports.append(report)
    return PieceResult(
        piece.source,
        piece.last,
        _render(reports, options, wf),
        [summary_parts(r) for r in reports],
        sum(r.summary.entries for r in reports),
        sum(r.breaches for r in reports),
        problems,
    )


def replay_task(task: Sequence[Piece | Span], options: Options) -> list[PieceResult]:
    """`replay_piece` over a task's pieces, spans read here (the unit a worker takes)."""
    return [replay_piece(read_span(p) if isinstance(p, Span) else p, options) for p in task]


_PHASES: dict[int, dict[str, str]] = {}


def _phases(wf: Any) -> dict[str, str]:
    phases = _PHASES.get(id(wf))
    if phases is None:
        phases = _PHASES[id(wf)] = {s.code: s.phase for s in wf.catalogue}
    return phases


def _render(reports: list[Any], options: Options, wf: Any) -> Any:
    fmt = options.fmt
    if fmt == "summary":
        return None
    if fmt == "json":
        return [r.model_dump_json() for r in reports]
    if fmt == "jsonl":
        return "".join(r.model_dump_json() + "\n" for r in reports)
    if fmt == "csv":
        from etatmachine.export.columnar import csv_payload

        phases = _phases(wf)
        return "".join(csv_payload(r, phases) for r in reports)
    if fmt == "parquet":
        from etatmachine.export.columnar import parquet_payload

        return parquet_payload(reports, _phases(wf))
    from etatmachine.terminal import render_report

    return "".join(render_report(r, options.width) for r in reports)
