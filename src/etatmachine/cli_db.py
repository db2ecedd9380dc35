"""The ``etatmachine db`` commands (a store by URL) and ``etatmachine diff``.

``db init`` creates the tables, ``db import HISTORIES…`` replays legacy histories and
adopts each as a live dossier with its recorded due dates and trail, ``db worklist``
lists what a desk must do now, ``db sweep`` records the breaches since the last sweep and
queues the complaints they owe. ``--db URL`` (or ``ETATMACHINE_DB``) picks the store:
``sqlite:///etatmachine.db`` by default, ``postgresql://…`` for a server.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from etatmachine.errors import EtatmachineError

__all__ = ["db", "diff", "parse_duration"]

EXIT_BAD_INPUT = 2
DEFAULT_DB = "sqlite:///etatmachine.db"
_F = TypeVar("_F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    click.echo(f"etatmachine: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|d|m|min)?\s*$")


def parse_duration(text: str) -> timedelta:
    """``24h``, ``90m``, ``2d`` (a day is 24 business hours), a bare number is hours.

    >>> parse_duration("24h"), parse_duration("2d"), parse_duration("90m")
    (datetime.timedelta(days=1), datetime.timedelta(days=2), datetime.timedelta(seconds=5400))
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (24h, 90m, 2d)")
    amount, unit = float(match.group(1)), match.group(2) or "h"
    return (
        timedelta(days=amount)
        if unit == "d"
        else (timedelta(minutes=amount) if unit in ("m", "min") else timedelta(hours=amount))
    )


def _instant(value: str | None) -> datetime:
    from etatmachine.business_calendar import PARIS

    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--at: not an ISO 8601 date-time: {value!r}")
    return when if when.tzinfo is not None else when.replace(tzinfo=PARIS)


def _db_option(func: _F) -> _F:
    return click.option(
        "--db",
        "url",
        default=DEFAULT_DB,
        show_default=True,
        envvar="ETATMACHINE_DB",
        help="The store's URL: sqlite:///FILE, sqlite:// (memory), postgresql://…",
    )(func)


def _catalogue_option(func: _F) -> _F:
    return click.option(
        "--catalogue",
        "catalogue_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A catalogue file (TOML or JSON) instead of the bundled procedure.",
    )(func)


def _store(url: str, catalogue_file: Path | None, *, create: bool = False) -> Any:
    from etatmachine.workflow import Workflow

    try:
        from etatmachine.store.sql import SqlStore
    except ImportError:  # pragma: no cover - the extra is missing
        _fail("the store needs SQLAlchemy: pip install 'etatmachine[sql]'")
    try:
        workflow = Workflow.from_file(catalogue_file) if catalogue_file else Workflow.default()
        return SqlStore(url, workflow=workflow, create=create)
    except EtatmachineError as exc:
        _fail(str(exc))
    except ImportError as exc:
        _fail(
            f"{url}: a database driver is missing ({exc.name}): pip install 'etatmachine[postgres]'"
        )
    except Exception as exc:  # SQLAlchemy's errors: the database cannot be opened
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | ValueError):
            reason = str(exc).splitlines()[0]
            hint = "" if create else " (run 'etatmachine db init' first?)"
            _fail(f"{url}: {reason}{hint}")
        raise


@click.group()
def db() -> None:
    """The database store: init, import histories, worklists, sweeps."""


@db.command()
@_db_option
@_catalogue_option
def init(url: str, catalogue_file: Path | None) -> None:
    """Create the store's tables (safe to run again)."""
    from etatmachine.store import schema

    store = _store(url, catalogue_file, create=True)
    click.echo(
        f"{url}: store ready (schema version {schema.SCHEMA_VERSION}, {len(store)} dossiers)"
    )


def _history_files(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix == ".txt" and p.is_file())
        else:
            yield path


def _adopt_report(workflow: Any, report: Any) -> tuple[Any, int]:
    """A replayed history as a live dossier: its entries as the trail, as recorded."""
    from etatmachine.dossier import Actor, HistoryEntry
    from etatmachine.intake import adopt
    from etatmachine.roles import Role

    history: list[HistoryEntry] = []
    skipped = 0
    for entry in report.entries:
        if entry.state is None:
            skipped += 1
            continue
        at = entry.set_at
        if history and at < history[-1].at:
            at = history[-1].at  # the history's clock went back: keep the trail ordered
        actor = Actor(
            role=entry.role or Role.CASE_HANDLER, id=entry.author_id or "unknown", name=entry.author
        )
        terminal = workflow.catalogue.state(entry.state).terminal
        history.append(
            HistoryEntry(
                kind="move" if history else "open",
                source=history[-1].target if history else None,
                target=entry.state,
                at=at,
                actor=actor,
                comment=entry.comment,
                due_at=None if terminal else entry.due_at,
            )
        )
    if not history:
        return None, skipped
    last = history[-1]
    dossier = adopt(
        workflow,
        report.dossier_id,
        last.target,
        due_at=last.due_at,
        history=history,
        contractor=report.contractor,
    )
    return dossier, skipped


@db.command(name="import")
@click.argument("histories", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_db_option
@_catalogue_option
def import_(histories: tuple[Path, ...], url: str, catalogue_file: Path | None) -> None:
    """Replay legacy histories (files, or directories of .txt) and store each as a live
    dossier, mid-flow, with its recorded due date and trail. Already stored: skipped."""
    from etatmachine.errors import VersionConflict
    from etatmachine.replay import replay_file

    store = _store(url, catalogue_file, create=True)
    imported = existing = empty = unresolved = 0
    for path in _history_files(histories):
        try:
            report = replay_file(path, store.workflow)
            dossier, skipped = _adopt_report(store.workflow, report)
        except OSError as exc:
            _fail(f"{path}: {exc.strerror}")
        except EtatmachineError as exc:
            _fail(f"{path}: {exc}")
        unresolved += skipped
        if dossier is None:
            empty += 1
            click.echo(f"{path}: no entry in a known state: nothing to import", err=True)
            continue
        try:
            store.add(dossier)
        except VersionConflict:
            existing += 1
            continue
        imported += 1
        click.echo(f"{path}: {dossier.id} in {dossier.state}, {len(dossier.history)} entries")
    click.echo(
        f"imported {imported}, already stored {existing}, empty {empty}; "
        f"{unresolved} entries with an unknown label left out"
    )


@db.command()
@_db_option
@_catalogue_option
@click.option("--role", default=None, help="The role that owes the next step (surveyor…).")
@click.option("--assignee", default=None, help="Who holds the file for that role.")
@click.option("--contractor", default=None, help="The contractor company.")
@click.option("--within", default="24h", show_default=True, help="Due within (business): 24h, 2d.")
@click.option("--at", "at_text", default=None, help="Instant to judge at (ISO 8601; default now).")
@click.option("--limit", type=int, default=None, help="At most this many files.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def worklist(
    url: str,
    catalogue_file: Path | None,
    role: str | None,
    assignee: str | None,
    contractor: str | None,
    within: str,
    at_text: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """What a desk must do now: overdue, due soon, past 75 % / 50 % of the step."""
    from etatmachine.roles import Role

    if role is not None and role not in {r.value for r in Role}:
        _fail(f"--role: unknown role {role!r}; roles: {', '.join(r.value for r in Role)}")
    try:
        span = parse_duration(within)
    except ValueError as exc:
        _fail(f"--within: {exc}")
    store = _store(url, catalogue_file)
    try:
        items = store.worklist(
            at=_instant(at_text),
            role=role,
            assignee=assignee,
            contractor=contractor,
            within=span,
            limit=limit,
        )
    except EtatmachineError as exc:
        _fail(str(exc))
    if fmt == "json":
        rows = [
            {
                "dossier_id": i.dossier_id,
                "state": i.state,
                "owner_role": i.owner_role,
                "assignee": i.assignee,
                "contractor": i.contractor,
                "due_at": i.due_at.isoformat(),
                "urgency": i.urgency.value,
                "elapsed": round(i.elapsed, 4),
                "lateness_seconds": i.lateness.total_seconds(),
            }
            for i in items
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("nothing to do")
        return
    for i in items:
        hours = i.lateness.total_seconds() / 3600
        late = f"{hours:+.1f}h" if hours else "0h"
        click.echo(
            f"{i.urgency.value:9} {late:>9}  {i.dossier_id:20} {i.state:28} "
            f"{i.owner_role or '-'}:{i.assignee or '-'}  due {i.due_at:%Y-%m-%d %H:%M}Z"
        )


@db.command()
@_db_option
@_catalogue_option
@click.option("--at", "at_text", default=None, help="Sweep up to this instant (default now).")
def sweep(url: str, catalogue_file: Path | None, at_text: str | None) -> None:
    """Record the breaches since the last sweep and queue the complaints they owe."""
    store = _store(url, catalogue_file)
    try:
        report = store.sweep(_instant(at_text))
    except EtatmachineError as exc:
        _fail(str(exc))
    since = report.since.isoformat() if report.since else "the beginning"
    click.echo(
        f"swept {since} -> {report.at.isoformat()}: {len(report.breaches)} breaches, "
        f"{len(report.effects)} complaints owed, {report.recorded} new in the outbox"
    )
    for b in report.breaches:
        owed = "  complaint" if b.complaint else ""
        click.echo(f"  {b.dossier_id} {b.state} due {b.due_at.isoformat()}{owed}")


def _load(name: str) -> Any:
    from etatmachine.catalogue import default_catalogue, load_catalogue

    if name == "bundled":
        return default_catalogue()
    try:
        return load_catalogue(name)
    except EtatmachineError as exc:
        _fail(str(exc))


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def diff(old: str, new: str, fmt: str) -> None:
    """States, moves, rules and deadlines added, removed or changed from OLD to NEW
    (catalogue files; 'bundled' names the bundled procedure)."""
    from etatmachine.catalogue_diff import diff_catalogues

    try:
        result = diff_catalogues(_load(old), _load(new))
    except EtatmachineError as exc:
        _fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.to_text(), nl=False)
