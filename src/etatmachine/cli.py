"""The ``etatmachine`` command line: replay histories, report on replays, show the catalogue.

Exit codes: 0 ok; 1 breaches found with ``--strict``; 2 bad input (errors go to stderr,
naming the file and the line where there is one). No command prints a traceback for bad
input. Each command imports what it uses when it runs, so ``--help`` and ``--version``
start in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from etatmachine import __version__
from etatmachine.build_info import core_description
from etatmachine.errors import EtatmachineError

__all__ = ["main"]

EXIT_OK, EXIT_BREACHES, EXIT_BAD_INPUT = 0, 1, 2
FORMATS = ("table", "json", "jsonl", "csv", "parquet")


def _fail(message: str) -> NoReturn:
    click.echo(f"etatmachine: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _workflow(catalogue_file: Path | None, subdivision: str | None) -> Any:
    from pydantic import ValidationError

    from etatmachine.business_calendar import CalendarConfig
    from etatmachine.workflow import Workflow

    try:
        calendar = CalendarConfig(subdivision=subdivision)
    except ValidationError as exc:
        _fail(f"--subdivision: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
    try:
        if catalogue_file is not None:
            wf = Workflow.from_file(catalogue_file, calendar=calendar)
        else:
            wf = Workflow.default(calendar=calendar)
        first = next(iter(wf.catalogue))
        wf.state(first.label)  # resolving labels checks them (duplicate labels fail here)
        return wf
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
_width_option = click.option(
    "--width",
    type=click.IntRange(min=40),
    default=None,
    help="Columns of text output (default: $COLUMNS, else the terminal's, else 100).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, prog_name="etatmachine", message=f"%(prog)s %(version)s ({core_description()})"
)
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
@_width_option
@_catalogue_option
def catalogue(fmt: str, phase: str | None, width: int | None, catalogue_file: Path | None) -> None:
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
    from etatmachine import terminal

    rows = []
    for s in states:
        deadline = s.deadline.kind.value + (f" ({s.deadline.figure})" if s.deadline.figure else "")
        rows.append(
            [
                s.code,
                s.label,
                s.phase + (f"/{s.column}" if s.column else ""),
                s.owner.value if s.owner else "-",
                deadline,
                ", ".join(r.code for r in s.rules),
                str(len(wf.targets(s.code))),
            ]
        )
    title = f"{cat.name} {cat.version}: {len(states)} states"
    click.echo(terminal.render_catalogue(title, rows, width or terminal.width()), nl=False)


@main.command()
@click.argument("catalogue_file", type=click.Path(path_type=Path, dir_okay=False))
def validate(catalogue_file: Path) -> None:
    """Check a catalogue file: codes, targets, reachability, ways out (every problem)."""
    from etatmachine.errors import CatalogueError
    from etatmachine.workflow import Workflow

    try:
        wf = Workflow.from_file(catalogue_file)
    except CatalogueError as exc:
        for problem in exc.problems:
            click.echo(f"etatmachine: error: {problem}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except EtatmachineError as exc:
        _fail(str(exc))
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
    try:
        result = compute_due(spec.deadline, when, wf.calendar(subdivision))
    except (ArithmeticError, ValueError) as exc:
        _fail(f"--from {start}: {exc}")
    if result is None:
        _fail(
            f"{spec.code}: its due date is {spec.deadline.kind.value} "
            f"({spec.deadline.figure or 'no figure'}), not computed from a start"
        )
    click.echo(result.isoformat())


@main.command()
@click.option("--phase", default=None, help="One phase (ouverture, devis, …); default: all.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of stdout.",
)
@_catalogue_option
def diagram(phase: str | None, fmt: str, output: Path | None, catalogue_file: Path | None) -> None:
    """Draw the state diagram of the catalogue (SVG needs Graphviz's dot)."""
    from etatmachine.diagrams import render

    wf = _workflow(catalogue_file, None)
    try:
        text = render(wf.catalogue, phase=phase, fmt=fmt)  # type: ignore[arg-type]
    except EtatmachineError as exc:
        _fail(str(exc))
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{output}: {exc.strerror}")


def _known(option: str, name: str | None, known: Any, lookup: Any) -> str | None:
    """The catalogue's code for an insurer or channel option; an unknown one exits 2,
    listing the valid names."""
    if name is None:
        return None
    found = lookup(name)
    if found is None:
        valid = ", ".join(
            f"{k.code} ({', '.join(k.aliases)})" if getattr(k, "aliases", ()) else k.code
            for k in known
        )
        _fail(f"{option}: unknown {name!r}; the catalogue knows: {valid}")
    return str(found.code)


@main.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table; json (one object: dossiers, then the summary, streamed); jsonl (one "
    "dossier a line, then the summary); csv (entries); parquet (entries and steps, -o).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (required for parquet: X.parquet and X.steps.parquet).",
)
@click.option("--summary", "summary_only", is_flag=True, help="Print only the combined summary.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to replay with (default: the cores; small inputs run in one).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when any entry breaks a rule; exit 2 on a file holding no history or an "
    "unreadable ETAT: line.",
)
@click.option(
    "--insurer",
    default=None,
    help="The files' insurer, as the catalogue names it (ALLIANZ or AZ, BPCE); "
    "default: read from the history.",
)
@click.option(
    "--channel",
    default=None,
    help="The files' channel (sinapps, darva); default: read from the history.",
)
@click.option("--flag", "flags", multiple=True, help="A flag of the files (ren_expert).")
@click.option(
    "--roles",
    "roles_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A TOML map of author ids to roles (default: 995 contractor, 996/007 "
    "system, others case_handler).",
)
@click.option("--schema", is_flag=True, help="Print the JSON Schema of the output and exit.")
@_width_option
@_subdivision_option
@_catalogue_option
def replay(
    paths: tuple[str, ...],
    fmt: str,
    output: Path | None,
    summary_only: bool,
    jobs: int | None,
    strict: bool,
    insurer: str | None,
    channel: str | None,
    flags: tuple[str, ...],
    roles_file: Path | None,
    schema: bool,
    width: int | None,
    subdivision: str | None,
    catalogue_file: Path | None,
) -> None:
    """Replay legacy histories: files, directories of .txt, or - (standard input).

    An archive is many dossiers, each starting at an OUVERTURE line; each dossier is
    replayed on its own (its id: FILE#n).
    """
    from etatmachine import replay_cli

    if schema:
        click.echo(json.dumps(replay_cli.json_schema(), indent=2, ensure_ascii=False))
        return
    if not paths:
        _fail("replay: give at least one history file or directory (or - for stdin)")
    if fmt == "parquet" and output is None:
        _fail("--format parquet needs -o FILE.parquet")
    if roles_file is not None:
        from etatmachine.legacy import RoleMap

        try:
            RoleMap.from_toml(roles_file)
        except EtatmachineError as exc:
            _fail(str(exc))
    wf = _workflow(catalogue_file, subdivision)
    insurer = _known("--insurer", insurer, wf.catalogue.insurers, wf.catalogue.insurer)
    channel = _known("--channel", channel, wf.catalogue.channels, wf.catalogue.channel)
    from etatmachine.batch import Options
    from etatmachine.terminal import width as terminal_width

    options = Options(
        fmt="summary" if summary_only and fmt in ("table", "json", "jsonl") else fmt,  # type: ignore[arg-type]
        catalogue_file=None if catalogue_file is None else str(catalogue_file),
        subdivision=subdivision,
        roles_file=None if roles_file is None else str(roles_file),
        insurer=insurer,
        channel=channel,
        flags=tuple(flags),
        width=width or terminal_width(),
    )
    try:
        code = replay_cli.run(
            list(paths), options, output=output, jobs=jobs, strict=strict, fmt=fmt
        )
    except EtatmachineError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C: stop without a traceback
        click.echo("etatmachine: interrupted", err=True)
        sys.exit(130)
    sys.exit(code)


@main.command()
@click.argument("parquet", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--by",
    type=click.Choice(["contractor", "owner", "state", "phase", "month"]),
    default="contractor",
    show_default=True,
    help="Group the steps by this (state, phase, owner: of the step an entry closes).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "parquet"]),
    default="table",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also draw the lateness distribution per group to this PNG (needs matplotlib).",
)
@_width_option
def report(
    parquet: tuple[Path, ...],
    by: str,
    fmt: str,
    output: Path | None,
    plot: Path | None,
    width: int | None,
) -> None:
    """Counts, late counts, p50/p90 lateness and breaches over replays written with
    `replay --format parquet` (the entries files; DuckDB)."""
    from etatmachine import report as reporting
    from etatmachine.terminal import width as terminal_width

    if fmt == "parquet" and output is None:
        _fail("--format parquet needs -o FILE")
    try:
        result = reporting.group_report([str(p) for p in parquet], by)
        reporting.write(result, fmt, output, width or terminal_width())
        if plot is not None:
            reporting.plot_lateness([str(p) for p in parquet], by, plot)
    except EtatmachineError as exc:
        _fail(str(exc))


from etatmachine.cli_db import db, diff  # noqa: E402  (the store's commands)

main.add_command(db)
main.add_command(diff)

if __name__ == "__main__":  # pragma: no cover
    main()
