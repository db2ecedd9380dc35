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
    from pydantic import ValidationError

    from etatmachine.business_calendar import CalendarConfig
    from etatmachine.workflow import Workflow

    try:
        calendar = CalendarConfig(subdivision=subdivision)
    except ValidationError as exc:
        _fail(f"--subdivision: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
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
    from rich.table import Table

    table = Table(title=f"{cat.name} {cat.version}: {len(states)} states", show_lines=False)
    table.add_column("code", no_wrap=True)
    for column in ("label", "phase", "owner", "deadline", "rules", "moves"):
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
    _console().print(table)


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
    result = compute_due(spec.deadline, when, wf.calendar(subdivision))
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


def _console() -> Any:
    """A console for stdout: the terminal's width, or 120 columns when piped to a file."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 120)


def _history_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".txt")
            if not found:
                _fail(f"{path}: no .txt history in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            _fail(f"{path}: no such file or directory")
    return files


def _local(when: datetime | None) -> str:
    from etatmachine.business_calendar import PARIS

    return when.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if when else "-"


def _known(wf: Any, option: str, name: str | None, known: Any, lookup: Any) -> str | None:
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


def _duration(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _print_report(console: Any, report: Any) -> None:
    from rich import box
    from rich.table import Table

    title = f"{report.source}: {report.summary.entries} entries"
    if report.contractor:
        title += f", contractor {report.contractor}"
    table = Table(title=title, title_justify="left", expand=False, box=box.SIMPLE_HEAD)
    table.add_column("line", justify="right", no_wrap=True)
    table.add_column("set", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("due", no_wrap=True)
    table.add_column("by", overflow="fold")
    table.add_column("verdict", overflow="fold")
    table.add_column("late", no_wrap=True)
    for e in report.entries:
        verdict = (
            "[green]ok[/green]"
            if e.verdict == "accepted"
            else "[red]" + ", ".join(v.rule for v in e.violations) + "[/red]"
        )
        due = _local(e.due_at)
        if e.computed_due_at and e.computed_due_at != e.due_at:
            due += f"\n[dim]{_local(e.computed_due_at)}[/dim]"
        late = f"[red]+{_duration(e.lateness_business_seconds)}[/red]" if e.late else "-"
        if e.late and e.lateness_last_agreed_business_seconds != e.lateness_business_seconds:
            late += f"\n[dim]{_duration(e.lateness_last_agreed_business_seconds)} vs agreed[/dim]"
        if e.effects:
            verdict += "\n[dim]owes " + ", ".join(e.effects) + "[/dim]"
        table.add_row(
            str(e.line),
            _local(e.set_at),
            e.state or f"? {e.label}",
            due,
            e.role.value if e.role else "?",
            verdict,
            late,
        )
    console.print(table)
    for e in report.entries:
        for v in e.violations:
            console.print(f"  line {e.line}: [red]{v.rule}[/red]: {v.message}", highlight=False)
    for u in report.unrecognised:
        console.print(f"  [yellow]line {u.line}[/yellow]: {u.message}: {u.text!r}", highlight=False)


def _print_summary(console: Any, count: int, summary: Any) -> None:
    from rich import box
    from rich.table import Table

    files = "history" if count == 1 else "histories"
    console.print(
        f"{count} {files}, {summary.entries} entries: {summary.accepted} accepted, "
        f"{summary.refused} with breaches, {summary.unresolved} unresolved; "
        f"contractor late by {_duration(summary.contractor_lateness_business_seconds)} in "
        "business time"
    )
    if summary.effects_by_kind:
        console.print(
            "effects owed: " + ", ".join(f"{k} {n}" for k, n in summary.effects_by_kind.items())
        )
    if summary.violations_by_rule:
        console.print(
            "breaches by rule: "
            + ", ".join(f"{rule} {n}" for rule, n in summary.violations_by_rule.items())
        )
    for title, groups in (
        ("owner", summary.lateness.by_owner),
        ("contractor", summary.lateness.by_contractor),
    ):
        if not groups:
            continue
        table = Table(
            title=f"lateness by {title} (business time)", title_justify="left", box=box.SIMPLE_HEAD
        )
        for name in (title, "steps", "late", "median late", "p90 late"):
            table.add_column(name)
        for key, g in groups.items():
            table.add_row(
                key,
                str(g.steps),
                str(g.late),
                _duration(g.median_seconds),
                _duration(g.p90_seconds),
            )
        console.print(table)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--strict", is_flag=True, help="Exit 1 when any entry breaks a rule.")
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
@_subdivision_option
@_catalogue_option
def replay(
    paths: tuple[Path, ...],
    fmt: str,
    strict: bool,
    insurer: str | None,
    channel: str | None,
    flags: tuple[str, ...],
    roles_file: Path | None,
    schema: bool,
    subdivision: str | None,
    catalogue_file: Path | None,
) -> None:
    """Replay legacy histories (files or directories of .txt) through the procedure."""
    from etatmachine.replay import ReplayReport, combined_summary, replay_file

    if schema:
        click.echo(json.dumps(ReplayReport.model_json_schema(), indent=2, ensure_ascii=False))
        return
    if not paths:
        _fail("replay: give at least one history file or directory")
    files = _history_files(paths)
    wf = _workflow(catalogue_file, subdivision)
    roles = None
    if roles_file is not None:
        from etatmachine.legacy import RoleMap

        try:
            roles = RoleMap.from_toml(roles_file)
        except EtatmachineError as exc:
            _fail(str(exc))
    attributes = {
        "insurer": _known(wf, "--insurer", insurer, wf.catalogue.insurers, wf.catalogue.insurer),
        "channel": _known(wf, "--channel", channel, wf.catalogue.channels, wf.catalogue.channel),
        "subdivision": subdivision,
        "flags": flags,
    }
    from rich.console import Console
    from rich.progress import track

    console = Console(stderr=True) if fmt == "json" else _console()
    reports = []
    sequence = (
        files
        if len(files) == 1
        else track(files, description="replaying", console=Console(stderr=True), transient=True)
    )
    for path in sequence:
        try:
            reports.append(replay_file(path, wf, roles=roles, **attributes))
        except OSError as exc:
            _fail(f"{path}: {exc.strerror}")
    if fmt == "json":
        items = [r.model_dump(mode="json") for r in reports]
        click.echo(json.dumps(items[0] if len(items) == 1 else items, ensure_ascii=False, indent=2))
    else:
        for report in reports:
            _print_report(console, report)
        console.print(
            "[dim]due: as recorded, and below it the catalogue's own when they "
            "differ; late: how late the step the entry closes was (business time; "
            "d = 24 business hours)[/dim]"
        )
        count, summary = combined_summary(reports)
        _print_summary(console, count, summary)
    if strict and any(r.breaches for r in reports):
        sys.exit(EXIT_BREACHES)


if __name__ == "__main__":  # pragma: no cover
    main()
