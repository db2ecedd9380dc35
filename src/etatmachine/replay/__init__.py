"""Replay a legacy history through the machine: a verdict and a lateness for every entry.

A history already happened, so a replay never stops at a breach. The first entry opens
the file as `Workflow.record_open` does. Each later ``ETAT:`` entry is a move by the actor its
signature names, at the time it was signed, applied as `Workflow.record_in_place` applies it:
judged as `Workflow.record` judges it, applied to the replay's working copy of the file
(`etatmachine.working.WorkingDossier`: no trail copied per move, so a history of any length
replays in linear time), its broken rules kept. The replay hands `Workflow.core` the values it
built itself, and checks what it is given (attributes, id, source) once per call. The dossier
carries the due date the history recorded, so the lateness of each step is measured against
what the people at the time were given.

Besides the machine's rules, a replay sees what only a history shows: a locked due date
changed by a later entry for the same state (``due_date_locked``), a label the catalogue
does not know (``unknown_label``), an entry dated outside the calendar's supported years
(``date_out_of_range``).

The JSON output is versioned (`SCHEMA_VERSION`); `ReplayReport.model_json_schema()`
gives its JSON Schema.
"""

from etatmachine.replay.api import iter_replays, replay_file, replay_records
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
