"""The replay's public functions: they check what callers pass, then run the engine.

The engine (`etatmachine.replay.engine`) is part of the optional compiled core, where a
function refuses an argument of the wrong type with a bare `TypeError` before its own checks
could run. So the functions users call live here, always interpreted: a bad argument gets the
library's error naming it (`ArgumentTypeError`, `ArgumentValueError`), in both builds, before
any record is read. Each check runs once per call, never per dossier or per entry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from etatmachine.arguments import check_text
from etatmachine.errors import ArgumentTypeError, ArgumentValueError
from etatmachine.legacy import Record, RoleMap, iter_file
from etatmachine.replay.engine import replay_many, replay_one
from etatmachine.replay.output import ReplayReport
from etatmachine.workflow import Workflow

__all__ = ["iter_replays", "replay_file", "replay_records"]


def _workflow(workflow: object) -> Workflow:
    if workflow is None:
        return Workflow.default()
    if not isinstance(workflow, Workflow):
        raise ArgumentTypeError("workflow", workflow, "a Workflow (or None: the bundled one)")
    return workflow


def _records(records: object) -> Iterable[Record]:
    if isinstance(records, str | bytes) or not isinstance(records, Iterable):
        raise ArgumentTypeError("records", records, "an iterable of history records")
    return records


def replay_records(
    records: Iterable[Record],
    workflow: Workflow | None = None,
    *,
    dossier_id: str = "dossier",
    source: str = "<records>",
    insurer: str | None = None,
    channel: str | None = None,
    subdivision: str | None = None,
    flags: Iterable[str] = (),
    autonomy_limit: Decimal | None = None,
) -> ReplayReport:
    """Replay the records of one dossier (the attributes are the file's: rules read them).

    Attributes not given are read from the history where it says them: the insurer
    (« AZ: », Allianz, BPCE), the channel (Sinapps, Darva), the autonomy limit.
    """
    wf = _workflow(workflow)
    if not check_text(dossier_id, "dossier_id"):
        raise ArgumentValueError("dossier_id", dossier_id, "must not be empty")
    attributes = wf.file_attributes(
        insurer=insurer,
        channel=channel,
        subdivision=subdivision,
        flags=flags,
        autonomy_limit=autonomy_limit,
    )
    return replay_one(_records(records), wf, dossier_id, check_text(source, "source"), attributes)


def replay_file(
    path: str | Path,
    workflow: Workflow | None = None,
    *,
    roles: RoleMap | None = None,
    **attributes: Any,
) -> ReplayReport:
    """Replay one history file as one dossier (its id: the file name without suffix)."""
    if not isinstance(path, str | os.PathLike):
        raise ArgumentTypeError("path", path, "a path (str or os.PathLike)")
    if roles is not None and not isinstance(roles, RoleMap):
        raise ArgumentTypeError("roles", roles, "a RoleMap (or None: the default roles)")
    path = Path(path)
    wf = _workflow(workflow)
    checked = wf.file_attributes(**attributes)  # before the file is opened
    return replay_one(iter_file(path, roles=roles), wf, path.stem, str(path), checked)


def iter_replays(
    records: Iterable[Record],
    workflow: Workflow | None = None,
    *,
    source: str = "<archive>",
    **attributes: Any,
) -> Iterator[ReplayReport]:
    """Replay an archive of many dossiers, each starting at an ``OUVERTURE`` record.

    Streams: one dossier is held at a time, so memory stays flat over any archive size.
    Records before the first opening form a dossier of their own. The arguments are checked
    when it is called, before the first record is read.
    """
    wf = _workflow(workflow)
    checked = wf.file_attributes(**attributes)
    return replay_many(_records(records), wf, check_text(source, "source"), checked)
