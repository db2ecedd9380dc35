"""Lateness statistics over many steps: by who owed the step, and by contractor.

Compiled in the opt-in compiled build; the models it builds live in ``models.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from etatmachine.lateness.models import GroupStats, LatenessReport, Step
from etatmachine.roles import Role
from etatmachine.trusted import trusted

__all__ = ["StepFigures", "group_stats", "lateness_report", "lateness_report_of"]


_GROUP_FIELDS: Final = set(GroupStats.model_fields)  # shared: frozen models never change it
_REPORT_FIELDS: Final = set(LatenessReport.model_fields)


def _median(late: list[float]) -> float:
    """The median of sorted values, as ``statistics.median`` computes it."""
    n = len(late)
    half = n // 2
    return late[half] if n % 2 else (late[half - 1] + late[half]) / 2


def _p90(late: list[float]) -> float:
    """The 90th percentile of sorted values, as ``statistics.quantiles(late, n=10,
    method="inclusive")[-1]`` computes it (linear interpolation), without its overhead."""
    if len(late) == 1:
        return late[0]
    j, delta = divmod(9 * (len(late) - 1), 10)
    return (late[j] * (10 - delta) + late[j + 1] * delta) / 10


_OWNER_KEYS: Final[dict[Role | None, str]] = {None: "none", **{r: r.value for r in Role}}
"""The statistics' key of each owner (``Role.value`` is a property: read once)."""


def group_stats(steps: int, late: list[float]) -> GroupStats:
    """The figures of a group of ``steps`` steps whose late ones were ``late`` business
    seconds late (sorted, each > 0): the median and 90th percentile of those."""
    if not late:
        if steps < _ON_TIME_MAX:  # the common case, one frozen value per count
            return _ON_TIME[steps]
        return _on_time(steps)
    return trusted(
        GroupStats,
        {
            "steps": steps,
            "late": len(late),
            "median_seconds": float(_median(late)),
            "p90_seconds": float(_p90(late)),
        },
        _GROUP_FIELDS,
    )


def _on_time(steps: int) -> GroupStats:
    return trusted(
        GroupStats,
        {"steps": steps, "late": 0, "median_seconds": 0.0, "p90_seconds": 0.0},
        _GROUP_FIELDS,
    )


_ON_TIME_MAX: Final = 64
_ON_TIME: Final = tuple(_on_time(steps) for steps in range(_ON_TIME_MAX))
"""The figures of a group of fewer than 64 steps none of which was late, shared (frozen)."""


def _stats(values: list[float]) -> GroupStats:
    return group_stats(len(values), sorted([v for v in values if v > 0]))


def lateness_report(steps: Iterable[Step]) -> LatenessReport:
    """Group steps by owner and (for the contractor's clock) by contractor."""
    return lateness_report_of(
        (s.owner, s.contractor_clock, s.contractor, s.lateness_seconds) for s in steps
    )


StepFigures = tuple[Role | None, bool, str | None, float]
"""What the statistics read of a step: owner, on the contractor's clock, contractor,
lateness in business seconds."""


def lateness_report_of(steps: Iterable[StepFigures]) -> LatenessReport:
    """`lateness_report` from the figures of each step, for callers that hold no `Step`."""
    by_owner: dict[str, list[float]] = {}
    by_contractor: dict[str, list[float]] = {}
    for owner, contractor_clock, contractor, seconds in steps:
        key = _OWNER_KEYS[owner]
        if key in by_owner:
            by_owner[key].append(seconds)
        else:
            by_owner[key] = [seconds]
        if contractor_clock:
            by_contractor.setdefault(contractor or "unknown", []).append(seconds)
    return trusted(  # every value computed here: counts, floats, models just built
        LatenessReport,
        {
            "by_owner": {k: _stats(v) for k, v in sorted(by_owner.items())},
            "by_contractor": {k: _stats(v) for k, v in sorted(by_contractor.items())},
        },
        _REPORT_FIELDS,
    )
