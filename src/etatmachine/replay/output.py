"""What a replay says: the versioned output models, and their combined summary.

The engine (`etatmachine.replay.engine`) builds these; exporters, the command line and users
read them. `SCHEMA_VERSION` is bumped on any incompatible change of the JSON output, and
`ReplayReport.model_json_schema()` gives its JSON Schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from etatmachine.fields_sets import shared
from etatmachine.lateness import LatenessReport, Step, lateness_report
from etatmachine.roles import Role

__all__ = [
    "ENTRY_FIELDS",
    "REPORT_FIELDS",
    "SCHEMA_VERSION",
    "SUMMARY_FIELDS",
    "UNRECOGNISED_FIELDS",
    "VIOLATION_FIELDS",
    "ReplayEntry",
    "ReplayReport",
    "ReplaySummary",
    "ReplayViolation",
    "UnrecognisedLines",
    "combined_summary",
]

SCHEMA_VERSION: Final = "2"
"""Bumped on any incompatible change of the JSON output."""


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReplayViolation(_Out):
    """A broken rule, as the replay output gives it."""

    rule: str
    state: str | None
    message: str
    message_fr: str


class ReplayEntry(_Out):
    """One ``ETAT:`` entry of the history with its verdict."""

    line: int
    """First source line of the entry (1-based)."""
    last_line: int
    segment: int
    """Which excerpt of the history (1-based): lateness is never measured across two."""
    contractor: str | None
    """The contractor of the entry's segment (the one who accepted, or was assigned, it)."""
    label: str
    """The label as the history writes it."""
    n: int | None
    """The history's ``(n)`` after the label, kept as written: not a deadline."""
    state: str | None
    """The catalogue state it resolves to (None when unknown)."""
    set_at: AwareDatetime
    """When the entry was made (its signature; else its set date)."""
    due_at: AwareDatetime
    """The due date the history recorded."""
    computed_due_at: AwareDatetime | None
    """The due date the catalogue's deadline gives for the same start."""
    author: str | None
    author_id: str | None
    role: Role | None
    comment: str | None
    verdict: Literal["accepted", "refused", "unresolved"]
    violations: tuple[ReplayViolation, ...]
    effects: tuple[str, ...]
    """What the move owes the world (effect kinds: ``relaunch_surveyor``,
    ``sinapps_anomaly``, ``complaint_to_open``), whether or not it happened."""
    closes: str | None
    """The state this entry ends (the step in progress before it)."""
    closes_owner: Role | None
    contractor_clock: bool
    """Whether the closed step was on the contractor's clock."""
    closes_due_at: AwareDatetime | None
    """The due date the closed step was first set with (the procedure's where it computes
    one): what its lateness is measured against."""
    closes_last_due_at: AwareDatetime | None
    """The closed step's last agreed due date, where it was changed (else None)."""
    late: bool
    """Whether the closed step ended after its original due date."""
    lateness_business_seconds: float
    """How late the closed step was against its original due date (0 when on time)."""
    lateness_last_agreed_business_seconds: float
    """How late against its last agreed due date (the same when it never changed)."""


class UnrecognisedLines(_Out):
    """Source lines the parser could not read, verbatim."""

    line: int
    last_line: int
    text: str
    message: str


class ReplaySummary(_Out):
    """Counts and lateness over one history (or, combined, many)."""

    entries: int
    accepted: int
    refused: int
    unresolved: int
    segments: int
    """How many excerpts (segments) the history held."""
    violations_by_rule: dict[str, int]
    effects_by_kind: dict[str, int]
    """How many of each effect the moves owed."""
    contractor_lateness_business_seconds: float
    """Total business seconds the contractor was late over the closed steps."""
    lateness: LatenessReport


class ReplayReport(_Out):
    """A history replayed: its entries, what could not be read, and a summary."""

    schema_version: Literal["2"] = "2"
    source: str
    dossier_id: str
    contractor: str | None
    """The contractor of the last segment that names one."""
    insurer: str | None
    """The file's insurer: given, or read from what the history says (« AZ: », BPCE)."""
    channel: str | None
    autonomy_limit: Decimal | None
    """« La limite maximum d'autonomie de MA pour ce SINISTRE »: given or read."""
    entries: tuple[ReplayEntry, ...]
    unrecognised: tuple[UnrecognisedLines, ...]
    summary: ReplaySummary

    @property
    def breaches(self) -> int:
        """How many entries broke a rule or could not be resolved."""
        return self.summary.refused + self.summary.unresolved


ENTRY_FIELDS: Final = shared(ReplayEntry.model_fields)
"""Every `ReplayEntry` field: the fields-set the engine gives each entry it builds (one
frozen set shared by all of them, `etatmachine.fields_sets`)."""
REPORT_FIELDS: Final = shared(
    {
        "source",
        "dossier_id",
        "contractor",
        "insurer",
        "channel",
        "autonomy_limit",
        "entries",
        "unrecognised",
        "summary",
    }
)
"""The fields a validated `ReplayReport` records as set (never ``schema_version``: it is the
default)."""
SUMMARY_FIELDS: Final = shared(ReplaySummary.model_fields)
VIOLATION_FIELDS: Final = shared(ReplayViolation.model_fields)
UNRECOGNISED_FIELDS: Final = shared(UnrecognisedLines.model_fields)
"""The fields-sets of the other models the engine builds: every field."""


def combined_summary(reports: Iterable[ReplayReport]) -> tuple[int, ReplaySummary]:
    """A summary over many replays (for a directory): how many files, and their totals."""
    count = 0
    by_rule: dict[str, int] = {}
    by_effect: dict[str, int] = {}
    totals = {"entries": 0, "accepted": 0, "refused": 0, "unresolved": 0, "segments": 0}
    contractor = 0.0
    steps: list[Step] = []
    for report in reports:
        count += 1
        s = report.summary
        for key in totals:
            totals[key] += getattr(s, key)
        for rule, n in s.violations_by_rule.items():
            by_rule[rule] = by_rule.get(rule, 0) + n
        for kind, n in s.effects_by_kind.items():
            by_effect[kind] = by_effect.get(kind, 0) + n
        contractor += s.contractor_lateness_business_seconds
        steps.extend(_steps_of(report))
    return count, ReplaySummary(
        **totals,
        violations_by_rule=dict(sorted(by_rule.items())),
        effects_by_kind=dict(sorted(by_effect.items())),
        contractor_lateness_business_seconds=contractor,
        lateness=lateness_report(steps),
    )


def _steps_of(report: ReplayReport) -> Iterator[Step]:
    """The closed steps of a report, rebuilt from its entries (for combined statistics)."""
    for e in report.entries:
        if e.closes is None:
            continue
        yield Step(
            state=e.closes,
            owner=e.closes_owner,
            contractor_clock=e.contractor_clock,
            entered_at=e.set_at,
            due_at=e.closes_due_at,
            left_at=e.set_at,
            late=e.late,
            lateness=timedelta(seconds=e.lateness_business_seconds),
            contractor=e.contractor,
            last_due_at=e.closes_last_due_at,
            lateness_last_agreed=timedelta(seconds=e.lateness_last_agreed_business_seconds),
        )
