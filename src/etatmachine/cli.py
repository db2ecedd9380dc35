"""The ``etatmachine`` command line: replay histories, show the catalogue, compute due dates.

Exit codes: 0 ok; 1 breaches found with ``--strict``; 2 bad input (errors go to stderr,
naming the file and the line where there is one).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from etatmachine.errors import EtatmachineError

__all__ = ["main"]

EXIT_OK, EXIT_BREACHES, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str) -> NoReturn:
    click.echo(f"etatmachine: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _workflow(catalogue_file: Path | None, subdivision: str | None) -> Any:
    from etatmachine.business_calendar import CalendarConfig
    from etatmachine.workflow import Workflow

    try:
        calendar = CalendarConfig(subdivision=subdivision)
    except ValueError as exc:
        _fail(str(exc).splitlines()[-1] if "validation error" in str(exc) else str(exc))
    try:
        if catalogue_file is not None:
            return Workflow.from_file(catalogue_file, calendar=calendar)
        return Workflow.default(calendar=calendar)
    except EtatmachineError as exc:
        _fail(str(exc))


_catalogue_option = click.option(
    "--catalogue",
    "catalogue_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A catalogue file (TOML or JSON) instead of the bundled procedure.",
)
_subdivision_option = click.option(
    "--subdivision",
    default=None,
    metavar="CODE",
    help="Calendar subdivision: 57 (Moselle), 67/68 (Alsace), 971… Default: national.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="etatmachine")
def main() -> None:
    """The action dates (dates d'action) of a French claims back office, checked."""


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown", "json"]),
    default="table",
    show_default=True,
)
@click.option("--phase", default=None, help="Only this phase (ouverture, devis, …).")
@_catalogue_option
def catalogue(fmt: str, phase: str | None, catalogue_file: Path | None) -> None:
    """Print the catalogue of action dates."""
    wf = _workflow(catalogue_file, None)
    cat = wf.catalogue
    if phase is not None and phase not in {p.code for p in cat.phases}:
        _fail(f"unknown phase {phase!r}; phases: {', '.join(p.code for p in cat.phases)}")
    states = [s for s in cat if phase is None or s.phase == phase]
    if fmt == "json":
        data = cat.to_dict()
        if phase is not None:
            data["states"] = [s for s in data["states"] if s["phase"] == phase]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if fmt == "markdown":
        from etatmachine.tables import catalogue_markdown

        click.echo(catalogue_markdown(cat, phase=phase), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{cat.name} {cat.version}: {len(states)} states", show_lines=False)
    for column in ("code", "label", "phase", "owner", "deadline", "rules", "moves"):
        table.add_column(column, overflow="fold")
    for s in states:
        deadline = s.deadline.kind.value + (f" ({s.deadline.figure})" if s.deadline.figure else "")
        table.add_row(
            s.code,
            s.label,
            s.phase + (f"/{s.column}" if s.column else ""),
            s.owner.value if s.owner else "-",
            deadline,
            ", ".join(r.code for r in s.rules),
            str(len(wf.targets(s.code))),
        )
    Console().print(table)


@main.command()
@click.argument("catalogue_file", type=click.Path(path_type=Path, dir_okay=False))
def validate(catalogue_file: Path) -> None:
    """Check a catalogue file: codes, targets, reachability, ways out."""
    wf = _workflow(catalogue_file, None)
    cat = wf.catalogue
    click.echo(
        f"{catalogue_file}: ok: {len(cat)} states, {cat.move_count} moves, {len(cat.phases)} phases"
    )


def _parse_instant(value: str) -> datetime:
    from etatmachine.business_calendar import PARIS

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--from: not an ISO 8601 date-time: {value!r}")
    return when if when.tzinfo is not None else when.replace(tzinfo=PARIS)


@main.command()
@click.argument("state")
@click.option(
    "--from",
    "start",
    required=True,
    metavar="DATETIME",
    help="When the state is set, ISO 8601 (no offset: Europe/Paris).",
)
@_subdivision_option
@_catalogue_option
def due(state: str, start: str, subdivision: str | None, catalogue_file: Path | None) -> None:
    """Print the due date STATE (a code or a label) sets when set at --from."""
    from etatmachine.deadlines import compute_due

    wf = _workflow(catalogue_file, subdivision)
    try:
        spec = wf.state(state)
    except EtatmachineError as exc:
        _fail(str(exc))
    when = _parse_instant(start)
    result = compute_due(spec.deadline, when, wf.calendar(subdivision))
    if result is None:
        _fail(
            f"{spec.code}: its due date is {spec.deadline.kind.value} "
            f"({spec.deadline.figure or 'no figure'}), not computed from a start"
        )
    click.echo(result.isoformat())


if __name__ == "__main__":  # pragma: no cover
    main()
