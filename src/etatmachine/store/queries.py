"""What every store answers the same way from its protocol: worklists and sweeps.

`MemoryStore` and `SqlStore` differ in how they keep dossiers, not in what a desk must do
now: both hand themselves to `etatmachine.store.worklist.worklist` and
`etatmachine.store.sweep.sweep`, which read them through the `Store` protocol.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from etatmachine.store.sweep import SweepReport, sweep
from etatmachine.store.worklist import WorkItem, worklist

if TYPE_CHECKING:
    from etatmachine.store.protocol import Store

__all__ = ["DeskQueries"]


class DeskQueries:
    """The worklist and sweep methods of a store, written once."""

    __slots__ = ()

    def worklist(
        self,
        *,
        at: datetime,
        role: str | None = None,
        assignee: str | None = None,
        contractor: str | None = None,
        within: timedelta = timedelta(hours=24),
        limit: int | None = None,
    ) -> list[WorkItem]:
        """What a desk must do now (`etatmachine.store.worklist.worklist`)."""
        return worklist(
            cast("Store", self),
            at=at,
            role=role,
            assignee=assignee,
            contractor=contractor,
            within=within,
            limit=limit,
        )

    def sweep(self, at: datetime) -> SweepReport:
        """Breaches since the last sweep and their complaints (`etatmachine.store.sweep`)."""
        return sweep(cast("Store", self), at)
