"""What every diagram shares: phase colours, how a state's box reads, links, and the
escaping of DOT and Mermaid text. The other modules of the package draw with these."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from etatmachine.catalogue import Catalogue, StateSpec
from etatmachine.errors import EtatmachineError
from etatmachine.tables import deadline_words

__all__ = [
    "MERMAID_ENTITIES",
    "PALETTE",
    "RESERVED",
    "ROLE_SHORT",
    "WRAP",
    "Links",
    "UnknownPhaseError",
    "check_phase",
    "deadline_line",
    "dot_attrs",
    "dot_string",
    "expand",
    "html_text",
    "link",
    "mermaid_text",
    "phase_colours",
    "reserved_desk",
    "state_lines",
    "state_marks",
]

# Light fill / dark stroke per phase, by the phase's position in the catalogue (cycled).
PALETTE: tuple[tuple[str, str], ...] = (
    ("#e8f1fb", "#3b6ea5"),  # blue
    ("#fdf1e3", "#b8742a"),  # orange
    ("#efe9f7", "#6f4ea0"),  # purple
    ("#e6f4ea", "#2f7d46"),  # green
    ("#fbeaea", "#a33b3b"),  # red
    ("#e8f6f6", "#2a7f7f"),  # teal
    ("#f1f1f1", "#555555"),  # grey
)
RESERVED = "#b3261e"
WRAP = 30
# Short names of the desks a reserved state belongs to, as the back office says them.
ROLE_SHORT: Mapping[str, str] = {
    "expert_relations": "RE",
    "customer_service": "SC",
    "case_handler": "GR",
    "surveyor": "PT",
    "contractor": "PREST",
    "system": "auto",
}


class UnknownPhaseError(EtatmachineError, LookupError):
    """A phase code that the catalogue does not have; carries the valid codes."""

    def __init__(self, phase: str, valid: Iterable[str]) -> None:
        self.phase = phase
        self.valid = tuple(valid)
        super().__init__(f"unknown phase {phase!r}; valid: {', '.join(self.valid)}")

    def __str__(self) -> str:  # LookupError would repr() the args
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Links:
    """Where diagram nodes link to: a state's page, a phase's page (URLs relative to the page
    that shows the diagram). The docs pass them; without them a diagram has no links."""

    state: Callable[[str], str]
    phase: Callable[[str], str]


def link(links: Links | None, code: str) -> dict[str, str]:
    """A DOT node's link to a state's page (``target=_top``: out of an embedding frame)."""
    return {} if links is None else {"URL": links.state(code), "target": "_top"}


def expand(names: Iterable[str], groups: Mapping[str, tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name.startswith("@"):
            out.extend(expand(groups[name[1:]], groups))
        else:
            out.append(name)
    return out


def check_phase(catalogue: Catalogue, phase: str | None) -> None:
    codes = [p.code for p in catalogue.phases]
    if phase is not None and phase not in codes:
        raise UnknownPhaseError(phase, codes)


def deadline_line(state: StateSpec) -> str:
    """The deadline line of a node, with its unit (« 24 h ouvrées », « 15 jours calendaires »)."""
    return deadline_words(state.deadline)


def reserved_desk(state: StateSpec) -> str | None:
    rule: Any = state.rule("role_reserved")
    if rule is None:
        return None
    return "/".join(ROLE_SHORT.get(r.value, r.value) for r in rule.roles)


def state_marks(state: StateSpec, *, emoji: bool) -> list[str]:
    marks: list[str] = []
    if emoji and state.rule("due_date_locked") is not None:
        marks.append("🔒")
    if state.rule("comment_required") is not None:
        marks.append("✎")
    reserved = reserved_desk(state)
    if reserved is not None:
        marks.append(f"⚑ {reserved}")
    if state.resume:
        marks.append("↩")
    return marks


def state_lines(state: StateSpec, *, emoji: bool) -> list[str]:
    lines = textwrap.wrap(state.label, WRAP) or [state.code]
    detail = " ".join([deadline_line(state), *state_marks(state, emoji=emoji)])
    return [*lines, detail]


def phase_colours(catalogue: Catalogue) -> dict[str, tuple[str, str]]:
    return {p.code: PALETTE[i % len(PALETTE)] for i, p in enumerate(catalogue.phases)}


def dot_string(text: str) -> str:
    """A DOT double-quoted string; lines joined with centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def dot_attrs(**attrs: str | float) -> str:
    parts = []
    for key, value in attrs.items():
        text = value if isinstance(value, str) and value.startswith("<") else dot_string(str(value))
        parts.append(f"{key}={text}")
    return "[" + ", ".join(parts) + "]"


MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", ";": "#59;"}


def mermaid_text(text: str) -> str:
    """Mermaid label text: entity codes for the characters its parser reads."""
    return "".join(MERMAID_ENTITIES.get(c, c) for c in text)
