"""What a move asks the caller to do: returned as values, never performed here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["ComplaintToOpen", "Effect", "SinappsAnomaly", "SurveyorRelaunch"]


class _Effect(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dossier_id: str
    state: str
    at: AwareDatetime


class SurveyorRelaunch(_Effect):
    """« Demande traitement Devis par Cie/Ass » relaunches the surveyor automatically."""

    kind: Literal["relaunch_surveyor"] = "relaunch_surveyor"
    due_at: AwareDatetime | None


class SinappsAnomaly(_Effect):
    """« Sinapps : signaler l'anomalie systématiquement »: a wait on a Sinapps file."""

    kind: Literal["sinapps_anomaly"] = "sinapps_anomaly"
    comment: str | None


class ComplaintToOpen(_Effect):
    """A chase came after the deadline: open a complaint (réclamation) instead."""

    kind: Literal["complaint_to_open"] = "complaint_to_open"
    overdue_since: AwareDatetime
    reason: str


Effect = Annotated[SurveyorRelaunch | SinappsAnomaly | ComplaintToOpen, Field(discriminator="kind")]
