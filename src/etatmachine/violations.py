"""A broken rule, as reported to callers: stable code plus French and English text."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Violation"]


class Violation(BaseModel):
    """One rule broken by a move; ``rule`` is a stable ASCII code (public contract)."""

    model_config = ConfigDict(frozen=True)

    rule: str
    state: str
    message_fr: str
    message_en: str

    @property
    def message(self) -> str:
        """The English message (``message_fr`` has the French one)."""
        return self.message_en
