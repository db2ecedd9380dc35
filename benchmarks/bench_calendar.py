"""Benchmark of the business calendar: batch due dates vs numpy vs a hand-written loop.

Run: ``python benchmarks/bench_calendar.py [--n 1000000]``. The batch contenders (ours,
numpy's kernel and numpy end to end, the hand-written loop on a subset) run interleaved
and rotated each repetition (`method.compare`); each ratio is the median of the
per-repetition ratios, each rate the median time. ``run(n)`` returns the rows for a
combined benchmark runner. The same script measures the pure and the compiled build
(``ETATMACHINE_COMPILE=1``): compare them in alternating processes, never in one. The
``kernel`` rows time `BusinessCalendar.kernel` with checked values, as the due dates and
lateness ask it: the facade's rows minus its checks.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from method import compare

from etatmachine.business_calendar import PARIS, BusinessCalendar
from etatmachine.business_calendar.kernel import hours_us

N_DAYS = 5
NAIVE_SUBSET = 100_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Row = tuple[str, float, str]


def _interleaved(
    contenders: dict[str, Callable[[], Any]], repeat: int = 5
) -> dict[str, list[float]]:
    """Each contender's time in each repetition, run interleaved in an order rotated each
    repetition (`method.compare`, one repetition at a time, so that every ratio between
    any two contenders can be taken per repetition)."""
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeat):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        once = compare({name: contenders[name] for name in order}, order[0], repeat=1)
        for name in names:
            times[name].append(once.seconds[name])
    return times


def _starts(n: int) -> list[datetime]:
    """``n`` aware Paris datetimes spread over 2024-2026 (what open files look like)."""
    rng = random.Random(20240531)
    base = datetime(2024, 1, 1, tzinfo=PARIS)
    span = 3 * 365 * 86_400
    return [(base + timedelta(seconds=rng.randrange(span))).astimezone(PARIS) for _ in range(n)]


def _cold_first_call() -> tuple[float, float]:
    """In a fresh interpreter: (import + first call for a year) and the first call alone."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from datetime import date\n"
        "from etatmachine.business_calendar import BusinessCalendar\n"
        "t1 = time.perf_counter(); BusinessCalendar().is_business_day(date(2024, 5, 1))\n"
        "t2 = time.perf_counter(); print(t2 - t0, t2 - t1)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


ORDER = 40  # run_all.py runs benchmarks by ORDER, then name
SIZES = (1_000_000, 1_000)  # run(n) for a full run, for --quick


def run(n: int) -> list[Row]:
    """Measure everything; return (name, value, unit or ratio text) rows."""
    import numpy as np

    rows: list[Row] = []
    cal = BusinessCalendar()
    starts = _starts(n)
    cal.add_business_days_batch(starts[:1000], N_DAYS)  # build the years once
    hol = sorted({d for y in range(2023, 2029) for d in cal.holidays(y)})

    # 1. our batch API, datetimes in and out (the nightly job) and plain dates.
    days = [s.date() for s in starts]

    # 2. numpy: the kernel on ready datetime64 arrays (the floor) ...
    arr = np.array([d.toordinal() - EPOCH_ORDINAL for d in days], dtype="int64").view(
        "datetime64[D]"
    )
    cal_np = np.busdaycalendar(holidays=hol)

    # ... and end to end on the same aware datetimes (extract days, kernel, rebuild).
    def numpy_end_to_end() -> list[datetime]:
        ords = np.fromiter(map(datetime.toordinal, starts), dtype="int64", count=len(starts))
        due = np.busday_offset(
            (ords - EPOCH_ORDINAL).view("datetime64[D]"),
            N_DAYS,
            roll="forward",
            busdaycal=cal_np,
        )
        shift = (due.view("int64") + EPOCH_ORDINAL - ords).tolist()
        return [s + timedelta(days=k) for s, k in zip(starts, shift, strict=True)]

    assert numpy_end_to_end()[:1000] == cal.add_business_days_batch(starts[:1000], N_DAYS)

    # 3. the hand-written loop over `holidays` a user writes, timed on a subset.
    from holidays.countries.france import France

    fr = France(years=range(2023, 2029))  # type: ignore[no-untyped-call]
    subset = starts[: min(n, NAIVE_SUBSET)]
    scale = n / len(subset)

    def naive() -> list[datetime]:
        out = []
        for s in subset:
            d = s.date()
            while not (d.weekday() < 5 and d not in fr):  # roll forward
                d += timedelta(days=1)
            left = N_DAYS
            while left:
                d += timedelta(days=1)
                if d.weekday() < 5 and d not in fr:
                    left -= 1
            out.append(datetime.combine(d, s.timetz()))
        return out

    times = _interleaved(
        {
            "ours": lambda: cal.add_business_days_batch(starts, N_DAYS),
            "ours_dates": lambda: cal.add_business_days_batch(days, N_DAYS),
            "numpy": lambda: np.busday_offset(arr, N_DAYS, roll="forward", busdaycal=cal_np),
            "numpy_e2e": numpy_end_to_end,
            "naive": naive,
        }
    )
    sec = {name: statistics.median(ts) for name, ts in times.items()}

    def ratio(a: str, b: str, factor: float = 1.0) -> float:
        """The median over repetitions of ``a``'s time (times ``factor``) over ``b``'s."""
        return statistics.median(x * factor / y for x, y in zip(times[a], times[b], strict=True))

    def rate(seconds: float) -> float:
        return n / seconds / 1e6

    rows += [
        ("batch add_business_days (datetimes)", rate(sec["ours"]), "M dates/s"),
        ("batch add_business_days (dates)", rate(sec["ours_dates"]), "M dates/s"),
        ("numpy busday_offset kernel (datetime64)", rate(sec["numpy"]), "M dates/s"),
        ("numpy end to end (same datetimes)", rate(sec["numpy_e2e"]), "M dates/s"),
        (
            f"naive holidays loop (timed on {len(subset)}, scaled)",
            rate(sec["naive"] * scale),
            "M dates/s",
        ),
        ("ratio batch(dates) / numpy kernel", ratio("ours_dates", "numpy"), "x slower (goal <= 3)"),
        ("ratio batch(datetimes) / numpy kernel", ratio("ours", "numpy"), "x slower"),
        (
            "ratio batch(datetimes) / numpy end to end",
            ratio("ours", "numpy_e2e"),
            "x (<1 = faster)",
        ),
        (
            "ratio naive loop / batch(datetimes)",
            ratio("naive", "ours", scale),
            "x faster (goal >= 10)",
        ),
    ]

    # 4. first-call costs.
    t_ctor = timeit.timeit(BusinessCalendar, number=1000) / 1000
    fresh = BusinessCalendar()
    t0 = time.perf_counter()
    fresh.is_business_day(date(2024, 5, 1))
    t_first_year = time.perf_counter() - t0
    t0 = time.perf_counter()
    fresh.is_business_day(date(2025, 5, 1))
    t_next_year = time.perf_counter() - t0
    t_cold_total, t_cold_first = _cold_first_call()
    scalar = timeit.timeit(lambda: cal.add_business_days(starts[0], N_DAYS), number=100_000)
    # What a move's due date costs: 24 business hours from a business-day instant.
    work = datetime(2024, 3, 5, 10, 17, tzinfo=PARIS)  # a Tuesday
    later = datetime(2024, 3, 8, 11, 17, tzinfo=PARIS)
    hours24 = min(
        timeit.repeat(lambda: cal.add_business_hours(work, 24.0), number=100_000, repeat=5)
    )
    between = min(
        timeit.repeat(lambda: cal.business_time_between(work, later), number=100_000, repeat=5)
    )
    # The same two through the kernel, as the due dates and lateness ask it (checked values).
    kernel = cal.kernel
    day_us = hours_us(24.0)
    kernel_hours24 = min(
        timeit.repeat(lambda: kernel.add_us(work, day_us), number=100_000, repeat=5)
    )
    kernel_between = min(
        timeit.repeat(lambda: kernel.business_time_between(work, later), number=100_000, repeat=5)
    )
    rows += [
        ("BusinessCalendar() construction", t_ctor * 1e6, "µs"),
        ("first call for a year (holidays imported)", t_first_year * 1e3, "ms"),
        ("first call for the next year (table extended)", t_next_year * 1e3, "ms"),
        ("cold: first call incl. `import holidays`", t_cold_first * 1e3, "ms"),
        ("cold: import module + first call", t_cold_total * 1e3, "ms"),
        ("scalar add_business_days(datetime)", scalar / 100_000 * 1e6, "µs/call"),
        ("scalar add_business_hours(datetime, 24h)", hours24 / 100_000 * 1e6, "µs/call"),
        ("scalar business_time_between(datetimes)", between / 100_000 * 1e6, "µs/call"),
        ("kernel add_us(checked datetime, 24h)", kernel_hours24 / 100_000 * 1e6, "µs/call"),
        ("kernel business_time_between(checked)", kernel_between / 100_000 * 1e6, "µs/call"),
    ]
    return rows


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="number of (start, 5) pairs")
    args = parser.parse_args()
    print(f"business calendar benchmark, n = {args.n:,}, {N_DAYS} business days")
    for name, value, unit in run(args.n):
        print(f"  {name:<52} {value:>10.2f} {unit}")


if __name__ == "__main__":
    main()
