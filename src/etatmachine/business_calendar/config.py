"""What counts as business time: the frozen configuration a `BusinessCalendar` answers for.

A pydantic model, kept apart from the engine.
Subdivisions are the ``holidays`` package's codes for France, or friendly spellings of them.
"""

from __future__ import annotations

from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

__all__ = ["CalendarConfig"]

# User-friendly spellings mapped onto codes ``holidays`` accepts. Alsace-Moselle
# is ``57`` (Moselle) and ``6AE`` (Alsace, i.e. Bas-Rhin 67 + Haut-Rhin 68) in
# ``holidays``; both carry the same extra days (Vendredi saint, Saint-Étienne).
_EXTRA_ALIASES = {
    "67": "6AE",
    "68": "6AE",
    "alsace-moselle": "6AE",
    "alsace moselle": "6AE",
    "alsace_moselle": "6AE",
}


def _subdivision_table() -> tuple[dict[str, str], tuple[str, ...]]:
    """Return (lower-cased spelling -> code, valid codes) for France in ``holidays``."""
    from holidays.countries.france import France

    # "Zone A/B/C" are school-holiday zones, not public-holiday subdivisions.
    codes = tuple(c for c in France.subdivisions if not c.startswith("Zone"))
    spellings = {c.lower(): c for c in codes}
    aliases: dict[str, str] = getattr(France, "subdivisions_aliases", {})
    for alias, code in aliases.items():
        if code in codes:
            spellings[alias.lower()] = code
    spellings.update(_EXTRA_ALIASES)
    return spellings, codes


def _normalise_subdivision(value: str) -> str:
    """Map a user spelling onto the ``holidays`` code, or raise naming the valid ones."""
    spellings, codes = _subdivision_table()
    code = spellings.get(value.strip().lower())
    if code is None:
        raise ValueError(
            f"unknown subdivision {value!r}; valid: {', '.join(codes)} "
            f"(also 67, 68, alsace-moselle for Alsace-Moselle), or None for metropolitan France"
        )
    return code


class CalendarConfig(BaseModel):
    """What counts as business time; frozen so a calendar's answers never drift."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subdivision: str | None = None
    """None: metropolitan national calendar; else a ``holidays`` code ("57", "6AE",
    "971", "974", ...) or a friendly spelling ("67", "68", "alsace-moselle"),
    normalised to the code."""
    working_days: Literal["ouvres", "ouvrables"] = "ouvres"
    """ouvres: Monday-Friday; ouvrables: Monday-Saturday; both minus holidays."""
    work_start: time = time(0)
    work_end: time | None = None
    """None: the whole business day counts (00:00-24:00)."""
    pentecost_worked: bool = False
    """True: Pentecost Monday is worked (journée de solidarité), so a business day."""
    timezone: str = "Europe/Paris"

    @field_validator("subdivision")
    @classmethod
    def _check_subdivision(cls, value: str | None) -> str | None:
        return None if value is None else _normalise_subdivision(value)

    @field_validator("working_days", mode="before")
    @classmethod
    def _accept_accents(cls, value: object) -> object:
        return value.replace("é", "e") if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _check_hours(self) -> CalendarConfig:
        if self.work_start.tzinfo is not None or (
            self.work_end is not None and self.work_end.tzinfo is not None
        ):
            raise ValueError("work_start/work_end are wall-clock times: give them no tzinfo")
        if self.work_end is not None and self.work_end <= self.work_start:
            raise ValueError(
                f"work_end ({self.work_end}) must be after work_start ({self.work_start})"
            )
        return self
