"""``etatmachine replay``: sources → pieces → (process pool) → sinks, streaming, in order.

The command's one path: `batch.spans` cuts every source into spans of dossiers (a small
file is one span, not even opened here; an archive is scanned as bytes for its cuts),
`parallel.ordered_map` replays them (`batch.replay_task`, which reads each span where it
runs) on ``--jobs`` processes, and the results are written in input order as they come:
nothing holds more than a few pieces, so memory stays flat whatever the input and the
format, and the main process does little besides writing. One JSON shape whatever the number
of files: ``{"schema_version", "dossiers": [...], "skipped", "problems", "summary"}``
(``--format jsonl``: one dossier a line, then one ``{"summary": ...}`` line).

A source with no ``ETAT:`` entry at all (empty, binary, prose) is reported as one
``skipped: not a history`` line on stderr; with ``--strict`` it makes the exit code 2, as
an unreadable ``ETAT:`` line does. A dossier that cannot be replayed (a due date in year
9999) is reported with its line and makes the exit code 2, as a file that cannot be read.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from etatmachine.batch import (
    STDIN,
    Options,
    PieceResult,
    Problem,
    history_files,
    prepare,
    replay_task,
    span_tasks,
    spans,
)
from etatmachine.parallel import default_jobs, ordered_map
from etatmachine.summary import SummaryAccumulator

__all__ = ["SMALL_INPUT", "json_schema", "run"]

SMALL_INPUT = 1 << 20
"""Inputs smaller than this (bytes, all files) replay in one process: a pool costs more."""
_BUFFERED = 64  # pieces of a source held before its first entry (then it is a history)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``replay --format json``."""
    from pydantic import BaseModel, ConfigDict, Field

    from etatmachine.replay import SCHEMA_VERSION, ReplayReport, ReplaySummary

    class CombinedSummary(ReplaySummary):
        """Counts and lateness over every dossier replayed."""

        dossiers: int = Field(description="Dossiers replayed.")
        files: int = Field(description="Sources read (files, or - for standard input).")

    class Skipped(BaseModel):
        source: str = Field(description="The file.")
        reason: str = Field(description="Why: binary, or no ETAT entry (not a history).")

    class ProblemOut(BaseModel):
        source: str
        line: int | None = Field(description="Its first line, where there is one.")
        kind: str = Field(description="unreadable (an ETAT: line) or replay (a dossier).")
        message: str

    class ReplayOutput(BaseModel):
        """``etatmachine replay --format json``: every dossier, then the summary."""

        model_config = ConfigDict(title="ReplayOutput")
        schema_version: str = Field(SCHEMA_VERSION, description="The replay output's version.")
        dossiers: list[ReplayReport] = Field(description="One report per dossier, in order.")
        skipped: list[Skipped] = Field(description="Sources that hold no history.")
        problems: list[ProblemOut] = Field(description="Unreadable lines, failed dossiers.")
        summary: CombinedSummary

    return ReplayOutput.model_json_schema()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class _Sink:
    """Writes payloads in order; the JSON and text forms frame them."""

    def __init__(self, fmt: str, options: Options, out: TextIO, output: Path | None) -> None:
        self.fmt = fmt
        self.options = options
        self.out = out
        self.first = True
        self.columnar: Any = None
        if options.fmt == "csv":
            from etatmachine.export.columnar import CsvSink

            self.columnar = CsvSink(out)
        elif options.fmt == "parquet":
            from etatmachine.export.columnar import ParquetSink

            assert output is not None
            self.columnar = ParquetSink(output, child=True)  # pyarrow in a process of its own
        elif fmt == "json":
            from etatmachine.replay import SCHEMA_VERSION

            out.write(f'{{"schema_version": {json.dumps(SCHEMA_VERSION)}, "dossiers": [')

    def write(self, payload: Any) -> None:
        if payload is None:
            return
        if self.columnar is not None:
            self.columnar.write(payload)
        elif self.fmt == "json":
            for item in payload:
                self.out.write(("\n" if self.first else ",\n") + item)
                self.first = False
        else:
            self.out.write(payload)

    def abort(self) -> None:
        """Stop a Parquet writer process after an error (its files are incomplete)."""
        if self.columnar is not None:
            self.columnar.abort()

    def close(
        self,
        count: int,
        files: int,
        summary: Any,
        skipped: list[tuple[str, str]],
        problems: list[Problem],
    ) -> None:
        if self.columnar is not None:
            self.columnar.close()
            return
        data = {"dossiers": count, "files": files, **summary.model_dump(mode="json")}
        if self.fmt == "json":
            rest = {
                "skipped": [{"source": s, "reason": r} for s, r in skipped],
                "problems": [
                    {"source": p.source, "line": p.line, "kind": p.kind, "message": p.message}
                    for p in problems
                ],
                "summary": data,
            }
            self.out.write("\n]," + json.dumps(rest, ensure_ascii=False)[1:] + "\n")
        elif self.fmt == "jsonl":
            self.out.write(json.dumps({"summary": data}, ensure_ascii=False) + "\n")
        else:
            from etatmachine.terminal import render_summary

            legend = self.options.fmt != "summary"
            self.out.write(render_summary(count, summary, self.options.width, legend=legend))
        self.out.flush()


def run(
    paths: list[str],
    options: Options,
    *,
    output: Path | None = None,
    jobs: int | None = None,
    strict: bool = False,
    fmt: str = "table",
    out: TextIO | None = None,
    err: TextIO | None = None,
    small_input: int = SMALL_INPUT,
) -> int:
    """Replay ``paths`` and write them per ``options``; return the exit code.

    Inputs smaller than ``small_input`` bytes (standard input aside) run in one process."""
    out = out or sys.stdout
    err = err or sys.stderr
    sources = list(history_files(paths))
    if jobs is None:
        jobs = default_jobs()
    if STDIN not in sources and sum(_size(s) for s in sources) < small_input:
        jobs = 1
    if output is None or options.fmt == "parquet":
        return _guarded(sources, options, jobs, strict, fmt, out, err, output)
    try:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            return _guarded(sources, options, jobs, strict, fmt, handle, err, output)
    except OSError as exc:
        from etatmachine.batch import InputError

        raise InputError(str(output), exc.strerror or str(exc)) from None


def _guarded(*args: Any) -> int:
    try:
        return _run(*args)
    except BrokenPipeError:  # `| head`: stop quietly (and let the exit flush go nowhere)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(
    sources: list[str],
    options: Options,
    jobs: int,
    strict: bool,
    fmt: str,
    out: TextIO,
    err: TextIO,
    output: Path | None,
) -> int:
    sink = _Sink(fmt, options, out, output)
    acc = SummaryAccumulator()
    skipped: list[tuple[str, str]] = []
    problems: list[Problem] = []
    breaches = 0
    held: list[PieceResult] = []
    unreadable = 0
    seen = False  # whether the current source gave an entry (it is a history)

    def emit(result: PieceResult) -> None:
        nonlocal breaches
        sink.write(result.payload)
        for parts in result.parts:
            acc.add(parts)
        breaches += result.breaches
        for p in result.problems:
            problems.append(p)
            where = f"{p.source}: line {p.line}" if p.line is not None else p.source
            err.write(f"etatmachine: {where}: {p.message}\n")

    prepare(options)  # forked workers inherit the workflow
    results = ordered_map(
        functools.partial(replay_task, options=options), span_tasks(spans(sources)), jobs
    )
    try:
        for batch in results:
            for result in batch:
                if result.skipped is not None:
                    skipped.append((result.source, result.skipped))
                    why = "not a history (binary)" if result.skipped == "binary" else result.skipped
                    err.write(f"etatmachine: {result.source}: skipped: {why}\n")
                    unreadable += result.skipped != "binary"
                    held.clear()
                    seen = False
                    continue
                if seen or result.entries or result.problems:
                    for h in held:
                        emit(h)
                    held.clear()
                    emit(result)
                    seen = True
                else:
                    held.append(result)
                    if len(held) > _BUFFERED:
                        for h in held:
                            emit(h)
                        held.clear()
                        seen = True
                if result.last:
                    if not seen:
                        held.clear()
                        skipped.append((result.source, "no ETAT entry"))
                        err.write(
                            f"etatmachine: {result.source}: skipped: not a history "
                            "(no ETAT entry)\n"
                        )
                    seen = False
    except BaseException:  # an error, Ctrl-C, a closed pipe: stop the Parquet writer too
        sink.abort()
        raise
    sink.close(acc.count, len(sources), acc.summary(), skipped, problems)
    if unreadable or any(p.kind == "replay" for p in problems):
        return 2
    if strict and (skipped or problems):
        return 2
    if strict and breaches:
        return 1
    return 0
