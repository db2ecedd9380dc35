"""An ordered map over a process pool, holding a bounded number of tasks in flight.

`ordered_map` is what ``--jobs N`` runs: ``fn`` over ``tasks`` in ``jobs`` processes, results
yielded in input order. At most ``2 × jobs`` tasks are submitted ahead of the one awaited, so
a producer that reads a huge archive never runs ahead of the workers (``Pool.imap`` would
read the whole input into its queue). ``jobs == 1`` runs in this process, with no pool.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

__all__ = ["default_jobs", "ordered_map"]

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    """fork where there is one (workers inherit the loaded modules and the workflow)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def ordered_map(fn: Callable[[T], R], tasks: Iterable[T], jobs: int) -> Iterator[R]:
    """``map(fn, tasks)`` on ``jobs`` processes, in order, never more than 2 × jobs ahead."""
    if jobs <= 1:
        yield from map(fn, tasks)
        return
    gc.freeze()  # forked workers' collections then never touch (and copy) the parent's pages
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) as pool:
            pending: deque[Future[R]] = deque()
            for task in tasks:
                pending.append(pool.submit(fn, task))
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
    finally:
        gc.unfreeze()
