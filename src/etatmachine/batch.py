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

import sys
from collections.abc import Iterable, Iterator
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
    "STDIN",
    "Format",
    "Options",
    "Piece",
    "PieceResult",
    "Problem",
    "cut_lines",
    "history_files",
    "pieces",
    "prepare",
    "replay_piece",
    "replay_task",
    "tasks",
]

PIECE_LINES = 4_000
"""Lines per piece (an archive is cut at the first opening line past this many)."""
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
    """Build the workflow and role map of ``options`` now (in a parent process, before a
    pool forks: the workers inherit them instead of each building its own)."""
    _workflow(options)
    _roles(options)


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
    from etatmachine.replay import iter_replays

    wf = _workflow(options)
    roles = _roles(options)
    attributes = {
        "insurer": options.insurer,
        "channel": options.channel,
        "subdivision": options.subdivision,
        "flags": frozenset(options.flags),
    }
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
            for report in iter_replays(dossier, wf, source=piece.source, **attributes):
                reports.append(report.model_copy(update={"dossier_id": f"{piece.source}#{number}"}))
        except (ArithmeticError, ValueError, EtatmachineError) as exc:  # e.g. a year 9999
            problems.append(
                Problem(
                    piece.source,
                    dossier[0].first_line,
                    f"dossier #{number} cannot be replayed: {type(exc).__name__}: {exc}",
                    "replay",
                )
            )
    return PieceResult(
        piece.source,
        piece.last,
        _render(reports, options, wf),
        [summary_parts(r) for r in reports],
        sum(r.summary.entries for r in reports),
        sum(r.breaches for r in reports),
        problems,
    )


def replay_task(task: list[Piece], options: Options) -> list[PieceResult]:
    """`replay_piece` over a task's pieces (the unit a worker process takes)."""
    return [replay_piece(piece, options) for piece in task]


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
