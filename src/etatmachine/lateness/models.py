"""The lateness models: a step, a dossier's steps, a group's statistics, a report.

Plain pydantic models, apart from the functions that build them (compiled in the opt-in
compiled build, which cannot define models).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from etatmachine.roles import Role

__all__ = ["DossierLateness", "GroupStats", "LatenessReport", "Step"]


class Step(BaseModel):
    """One stay of a dossier in a state: set with a due date, left (or not yet)."""

    model_config = ConfigDict(frozen=True)

    state: str
    owner: Role | None
    contractor_clock: bool
    """Whether this step's lateness is the contractor's (the catalogue's ``clock``)."""
    entered_at: AwareDatetime
    due_at: AwareDatetime | None
    """The due date the step was first set with: the reference no reschedule changes."""
    left_at: AwareDatetime | None
    late: bool
    lateness: timedelta
    """Business time past the original due date (zero when on time)."""
    contractor: str | None = None
    last_due_at: AwareDatetime | None = None
    """The last agreed due date, where the step was rescheduled (else None)."""
    lateness_last_agreed: timedelta = timedelta()
    """Business time past the last agreed due date (equal to ``lateness`` when none)."""
    met_at: AwareDatetime | None = None
    """When a contact with the insured met the step (``met_by_contact`` states)."""

    @property
    def lateness_seconds(self) -> float:
        return self.lateness.total_seconds()


class DossierLateness(BaseModel):
    """Every step of one dossier, measured at ``at``."""

    model_config = ConfigDict(frozen=True)

    dossier_id: str
    at: AwareDatetime
    steps: tuple[Step, ...]

    @property
    def contractor_lateness(self) -> timedelta:
        """Total business time the contractor was late, over the steps they owed."""
        return sum((s.lateness for s in self.steps if s.contractor_clock), timedelta())


class GroupStats(BaseModel):
    """Lateness of one group of steps (an owner, a contractor)."""

    model_config = ConfigDict(frozen=True)

    steps: int
    late: int
    median_seconds: float
    """Median lateness over the late steps, in business seconds (0 when none was late)."""
    p90_seconds: float
    """90th percentile of lateness over the late steps, in business seconds."""


class LatenessReport(BaseModel):
    """Lateness over many dossiers, by who owed the step and by contractor."""

    model_config = ConfigDict(frozen=True)

    by_owner: dict[str, GroupStats]
    by_contractor: dict[str, GroupStats]
    """Only the steps on the contractor's clock."""
