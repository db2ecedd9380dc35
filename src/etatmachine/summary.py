"""A combined summary over any number of replays, in memory that does not grow with them.

`replay.combined_summary` keeps every step of every report; over an archive of millions of
entries that is most of the memory. `SummaryParts` keeps, per dossier, only what the
combined summary reads (counts, rule counts, the contractor's lateness, and each closed
step's group and lateness as one float), small enough to cross a process boundary, and
`SummaryAccumulator` folds parts into the same `ReplaySummary` as ``combined_summary``:
zero lateness counted, positive lateness kept as an array of floats per group (8 bytes a
late step; the percentiles need every value), and the lateness figures computed from
those alone, never from rebuilt steps.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from etatmachine.lateness import GroupStats, LatenessReport, group_stats
from etatmachine.replay import ReplayReport, ReplaySummary

__all__ = ["SummaryAccumulator", "SummaryParts", "summary_parts"]

GroupKey = tuple[str | None, bool, str | None]  # (owner, contractor_clock, contractor)


def _stats(steps: int, chunks: list[array[float]]) -> GroupStats:
    """A group's figures as `lateness.lateness_report` gives them: the median
    (``statistics.median``) and the 90th percentile (linear interpolation,
    ``statistics.quantiles(method="inclusive")``) of the late values, read off them sorted."""
    return group_stats(steps, sorted(v for chunk in chunks for v in chunk))


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

    def lateness(self) -> LatenessReport:
        """`lateness.lateness_report` of every step added, from the counts and the late
        values alone (no step rebuilt: only the late values are ever listed)."""
        steps: dict[tuple[str, str], int] = {}
        late: dict[tuple[str, str], list[array[float]]] = {}
        for key in self.on_time.keys() | self.late.keys():
            owner, clock, contractor = key
            n = self.on_time.get(key, 0)
            values = self.late.get(key)
            groups = [("owner", owner or "none")]
            if clock:
                groups.append(("contractor", contractor or "unknown"))
            for group in groups:
                steps[group] = steps.get(group, 0) + n + (len(values) if values else 0)
                if values:
                    late.setdefault(group, []).append(values)
        stats = {g: _stats(n, late.get(g, [])) for g, n in steps.items()}
        return LatenessReport(
            by_owner={k: v for (t, k), v in sorted(stats.items()) if t == "owner"},
            by_contractor={k: v for (t, k), v in sorted(stats.items()) if t == "contractor"},
        )

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
            lateness=self.lateness(),
        )
