"""Replay a legacy history through the machine: a verdict and a lateness for every entry.

A history already happened, so a replay never stops at a breach. The first entry opens
the file with `Workflow.record_open`; each later ``ETAT:`` entry is applied as a move (by
the actor its signature names, at the time it was signed) with `Workflow.record_in_place`,
which judges it as `Workflow.record` does, applies it to the replay's working copy of the
file (`etatmachine.working.WorkingDossier`: no trail copied per move, so a history of any
length replays in linear time) and returns the rules it broke. The dossier carries the due
date the history recorded, so the lateness of each step is measured against what the
people at the time were given.

Besides the machine's rules, a replay sees what only a history shows: a locked due date
changed by a later entry for the same state (``due_date_locked``), a label the catalogue
does not know (``unknown_label``).

The JSON output is versioned (`SCHEMA_VERSION`); `ReplayReport.model_json_schema()`
gives its JSON Schema.
"""

from etatmachine.replay.engine import iter_replays, replay_file, replay_records
from etatmachine.replay.output import (
    SCHEMA_VERSION,
    ReplayEntry,
    ReplayReport,
    ReplaySummary,
    ReplayViolation,
    UnrecognisedLines,
    combined_summary,
)

__all__ = [
    "SCHEMA_VERSION",
    "ReplayEntry",
    "ReplayReport",
    "ReplaySummary",
    "ReplayViolation",
    "UnrecognisedLines",
    "combined_summary",
    "iter_replays",
    "replay_file",
    "replay_records",
]
