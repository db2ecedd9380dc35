"""A combined summary over any number of replays, in memory that does not grow with them.

`replay.combined_summary` keeps every step of every report; over an archive of millions of
entries that is most of the memory. `SummaryParts` keeps, per dossier, only what the
combined summary reads (counts, rule counts, the contractor's lateness, and each closed
step's group and lateness as one float), small enough to cross a process boundary, and
`SummaryAccumulator` folds parts into the same `ReplaySummary` as ``combined_summary``:
zero lateness counted, positive lateness kept as an array of floats per group.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from etatmachine.lateness import Step, lateness_report
from etatmachine.replay import ReplayReport, ReplaySummary
from etatmachine.roles import Role

__all__ = ["SummaryAccumulator", "SummaryParts", "summary_parts"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the rebuilt steps' times: the report reads none

GroupKey = tuple[str | None, bool, str | None]  # (owner, contractor_clock, contractor)


@dataclass(frozen=True, slots=True)
class SummaryParts:
    """What one dossier adds to a combined summary."""

    counts: tuple[int, int, int, int, int]  # entries, accepted, refused, unresolved, segments
    by_rule: tuple[tuple[str, int], ...]
    by_effect: tuple[tuple[str, int], ...]
    contractor_lateness: float
    steps: tuple[tuple[GroupKey, float], ...]


def summary_parts(report: ReplayReport) -> SummaryParts:
    """The parts of ``report`` a combined summary reads."""
    s = report.summary
    steps = tuple(
        (
            (
                None if e.closes_owner is None else e.closes_owner.value,
                e.contractor_clock,
                e.contractor,
            ),
            e.lateness_business_seconds,
        )
        for e in report.entries
        if e.closes is not None
    )
    return SummaryParts(
        (s.entries, s.accepted, s.refused, s.unresolved, s.segments),
        tuple(s.violations_by_rule.items()),
        tuple(s.effects_by_kind.items()),
        s.contractor_lateness_business_seconds,
        steps,
    )


class SummaryAccumulator:
    """Folds `SummaryParts` into one `ReplaySummary`, as `replay.combined_summary` would."""

    def __init__(self) -> None:
        self.count = 0
        self.counts = [0, 0, 0, 0, 0]
        self.by_rule: dict[str, int] = {}
        self.by_effect: dict[str, int] = {}
        self.contractor = 0.0
        self.on_time: dict[GroupKey, int] = {}
        self.late: dict[GroupKey, array[float]] = {}

    def add(self, parts: SummaryParts) -> None:
        self.count += 1
        for i, n in enumerate(parts.counts):
            self.counts[i] += n
        for rule, n in parts.by_rule:
            self.by_rule[rule] = self.by_rule.get(rule, 0) + n
        for kind, n in parts.by_effect:
            self.by_effect[kind] = self.by_effect.get(kind, 0) + n
        self.contractor += parts.contractor_lateness
        for key, seconds in parts.steps:
            if seconds > 0:
                values = self.late.get(key)
                if values is None:
                    values = self.late[key] = array("d")
                values.append(seconds)
            else:
                self.on_time[key] = self.on_time.get(key, 0) + 1

    def _steps(self) -> Iterator[Step]:
        def step(key: GroupKey, seconds: float) -> Step:
            owner, clock, contractor = key
            return Step.model_construct(
                state="-",
                owner=None if owner is None else Role(owner),
                contractor_clock=clock,
                entered_at=_EPOCH,
                due_at=None,
                left_at=None,
                late=seconds > 0,
                lateness=timedelta(seconds=seconds),
                contractor=contractor,
            )

        for key, n in self.on_time.items():
            zero = step(key, 0.0)
            for _ in range(n):
                yield zero
        for key, values in self.late.items():
            for seconds in values:
                yield step(key, seconds)

    def summary(self) -> ReplaySummary:
        """The combined summary of every part added so far."""
        entries, accepted, refused, unresolved, segments = self.counts
        return ReplaySummary(
            entries=entries,
            accepted=accepted,
            refused=refused,
            unresolved=unresolved,
            segments=segments,
            violations_by_rule=dict(sorted(self.by_rule.items())),
            effects_by_kind=dict(sorted(self.by_effect.items())),
            contractor_lateness_business_seconds=self.contractor,
            lateness=lateness_report(self._steps()),
        )
