"""The columns of the entries and steps tables, derived from the replay's output models.

One row of ``entries`` per ``ETAT:`` entry replayed: the dossier's columns (``source``,
``dossier_id``), then every field of `ReplayEntry` in declaration order
(a tuple of violations becomes ``rules``, the list of their rule codes; an enum its value;
a tuple of strings a list), then the ``phase`` of the entry's state and of the step it
closes, read from the catalogue. One row of ``steps`` per step an entry closes.

Types follow the field annotations, so a field the model gains or renames flows into both
tables without editing this module. Bump `PARQUET_SCHEMA_VERSION` on any incompatible change.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, NaiveDatetime

from etatmachine.replay import ReplayEntry, ReplayReport

__all__ = [
    "ENTRY_COLUMNS",
    "LATENESS_COLUMNS",
    "PARQUET_SCHEMA_VERSION",
    "STEP_COLUMNS",
    "Column",
    "entry_rows",
    "step_rows",
]

PARQUET_SCHEMA_VERSION = "1"
"""Version of the tables' columns (stored in each Parquet file's metadata)."""

Kind = Literal["int", "float", "bool", "str", "timestamp", "list"]

_RENAMED = {"violations": "rules"}  # a tuple of violations is stored as their rule codes

_DESCRIPTIONS = {  # for fields the model describes only in attribute docstrings
    "line": "First source line of the entry (1-based).",
    "last_line": "Last source line of the entry.",
    "label": "The label as the history writes it.",
    "state": "The catalogue state it resolves to (null when unknown).",
    "set_at": "When the entry was made (its signature; else its set date).",
    "due_at": "The due date the history recorded.",
    "computed_due_at": "The due date the catalogue's deadline gives for the same start.",
    "author": "The signature's name.",
    "author_id": "The signature's user id.",
    "role": "The author's role (contractor, case_handler, system, ...).",
    "comment": "The entry's free text.",
    "verdict": "accepted, refused or unresolved.",
    "violations": "The codes of the rules the entry broke (stable ASCII identifiers).",
    "closes": "The state this entry ends (the previous entry's state).",
    "closes_owner": "Who owed the step this entry ends.",
    "contractor_clock": "Whether the closed step was on the contractor's clock.",
    "late": "Whether the closed step ended after the due date first set for it.",
    "closes_due_at": "The due date the closed step was first set with (the procedure's where "
    "it computes one): what its lateness is measured against.",
    "closes_last_due_at": "The closed step's last agreed due date, where it changed.",
    "n": "The history's (n) after the label, as written: not a deadline.",
    "contractor": "The contractor of the entry's segment.",
    "lateness_business_seconds": "How late the closed step was against the due date first "
    "set for it, in business seconds (0 when on time).",
    "lateness_last_agreed_business_seconds": "How late the closed step was against its last "
    "agreed due date, in business seconds.",
    "segment": "The excerpt segment of the history the entry belongs to (1-based).",
    "effects": "The effect kind codes the entry owes.",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, its kind (int, float, bool, str, timestamp, list of str),
    whether it may be null, and what it holds."""

    name: str
    kind: Kind
    nullable: bool
    description: str


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` → (X, True); anything else → (itself, False)."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _kind(annotation: Any) -> Kind:
    base = typing.get_origin(annotation) or annotation
    if base is typing.Annotated:  # AwareDatetime and friends
        return _kind(typing.get_args(annotation)[0])
    if base is AwareDatetime or base is NaiveDatetime:
        return "timestamp"
    if base is Literal:
        return "str"
    if base is tuple or base is list:
        return "list"
    if isinstance(base, type):
        if issubclass(base, bool):
            return "bool"
        if issubclass(base, enum.Enum) or issubclass(base, str):
            return "str"
        if issubclass(base, int):
            return "int"
        if issubclass(base, float):
            return "float"
        if issubclass(base, datetime):
            return "timestamp"
    raise TypeError(f"ReplayEntry field type {annotation!r} has no column kind")


def _convert(kind: Kind, annotation: Any) -> Callable[[Any], Any]:
    """Turns a field's value into its cell (enum → value, models → their code)."""
    if kind == "list":
        item = (typing.get_args(_unwrap(annotation)[0]) or (str,))[0]
        if isinstance(item, type) and issubclass(item, BaseModel):
            code = next(iter(item.model_fields))  # ReplayViolation: rule

            def codes(value: Any) -> list[str]:
                return [getattr(v, code) for v in value]

            return codes
        return lambda value: [str(v) for v in value]
    if kind == "str":
        return lambda value: None if value is None else str(value)
    return lambda value: value


def _entry_fields() -> list[tuple[str, str, Column, Callable[[Any], Any]]]:
    out = []
    for name, info in ReplayEntry.model_fields.items():
        annotation, nullable = _unwrap(info.annotation)
        kind = _kind(annotation)
        column = Column(
            _RENAMED.get(name, name),
            kind,
            nullable,
            (info.description or _DESCRIPTIONS.get(name) or f"ReplayEntry.{name}").strip(),
        )
        out.append((name, column.name, column, _convert(kind, info.annotation)))
    return out


_FIELDS = _entry_fields()

_DOSSIER_COLUMNS = (
    Column("source", "str", False, "The file (or '-') the dossier was read from."),
    Column("dossier_id", "str", False, "The dossier: source#n, n-th dossier of the source."),
)

ENTRY_COLUMNS: tuple[Column, ...] = (
    *_DOSSIER_COLUMNS,
    *(column for _, _, column, _ in _FIELDS),
    Column("phase", "str", True, "The phase of the entry's state (catalogue)."),
    Column("closes_phase", "str", True, "The phase of the state the entry closes."),
)
"""The entries table, in order."""

LATENESS_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in ENTRY_COLUMNS if c.name.startswith("lateness") and c.kind == "float"
)
"""The lateness figures of an entry (business seconds), as the model names them."""

_STEP_FIELDS = ("closes_owner", "contractor_clock", *LATENESS_COLUMNS)
_ENTRY_BY_NAME = {c.name: c for c in ENTRY_COLUMNS}

STEP_COLUMNS: tuple[Column, ...] = (
    *_DOSSIER_COLUMNS,
    Column("contractor", "str", True, "The contractor of the step's segment."),
    Column("line", "int", False, "First line of the entry that closed the step."),
    Column("state", "str", False, "The state of the step."),
    Column("phase", "str", True, "Its phase (catalogue)."),
    Column("owner", "str", True, "Who owed the step (the state's owner)."),
    Column("contractor_clock", "bool", False, "Whether the contractor's clock ran."),
    Column("entered_at", "timestamp", True, "When the step was set (its entry's set_at)."),
    Column(
        "due_at",
        "timestamp",
        True,
        "The due date the step was first set with (the procedure's where it computes one).",
    ),
    Column("last_due_at", "timestamp", True, "Its last agreed due date, where it changed."),
    Column("left_at", "timestamp", False, "When the next entry closed it."),
    Column("late", "bool", False, "Whether it ended after its original due date."),
    *(_ENTRY_BY_NAME[name] for name in LATENESS_COLUMNS),
)
"""The steps table, in order."""


def entry_rows(report: ReplayReport, phases: dict[str, str]) -> Iterator[list[Any]]:
    """The rows of ``report``'s entries, columns as `ENTRY_COLUMNS` (``phases``: state →
    phase, from the catalogue)."""
    head = [report.source, report.dossier_id]
    for e in report.entries:
        values = e.__dict__
        row = [*head, *(convert(values[name]) for name, _, _, convert in _FIELDS)]
        row.append(phases.get(e.state) if e.state else None)
        row.append(phases.get(e.closes) if e.closes else None)
        yield row


def step_rows(report: ReplayReport, phases: dict[str, str]) -> Iterator[list[Any]]:
    """The steps ``report``'s entries close, columns as `STEP_COLUMNS`."""
    head = [report.source, report.dossier_id]
    last: ReplayEntry | None = None  # the last resolved entry: it set the current state
    for e in report.entries:
        if e.closes is not None:
            opener = last if last is not None and last.state == e.closes else None
            values = e.__dict__
            yield [
                *head,
                e.contractor,
                e.line,
                e.closes,
                phases.get(e.closes),
                None if e.closes_owner is None else str(e.closes_owner),
                e.contractor_clock,
                opener.set_at if opener else None,
                e.closes_due_at,
                e.closes_last_due_at,
                e.set_at,
                e.late,
                *(values[name] for name in LATENESS_COLUMNS),
            ]
        if e.state is not None:
            last = e
