"""The benchmark method: contenders interleaved and rotated, the median of per-repetition ratios.

Timing contenders in separate blocks lets the machine's load decide the ratio (another job
starts between two blocks). `compare` runs every contender once per repetition, in an order
rotated each repetition (so none is always first, with cold caches, or always last), and
gives each contender's median time and the median, over repetitions, of the ratio of each
contender's time to the reference's *in the same repetition*.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """Median seconds per contender; median per-repetition ratio (contender / reference)."""

    seconds: dict[str, float]
    ratios: dict[str, float]
    repeat: int


def compare(
    contenders: dict[str, Callable[[], Any]], reference: str, repeat: int = 5
) -> Comparison:
    """Time each contender ``repeat`` times, interleaved and rotated (see the module notes)."""
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeat):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            t0 = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - t0)
    ratios = {
        n: statistics.median(t / r for t, r in zip(times[n], times[reference], strict=True))
        for n in names
    }
    return Comparison({n: statistics.median(ts) for n, ts in times.items()}, ratios, repeat)
