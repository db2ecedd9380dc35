"""State diagrams generated from a catalogue (Mermaid, Graphviz DOT, SVG), never drawn by hand.

A catalogue's ~500 moves are mostly *group moves* (every operational state may go to every
interruption, everything may be cancelled) and *resumes* (a wait goes back to the step it
interrupted). Expanded, they bury the procedure under hundreds of arrows, so the diagrams
draw them compactly: explicit per-state moves are edges, except that a move written to a
``@group`` (``moves = [{ to = "@quote_decisions" }]``) is one edge to a « decision » node
listing the group, with one dashed edge from it to each member drawn (`TargetGroup`); each
group move is one dashed group node (``G1``…) with an edge to each of its targets; resumes
are one dashed « reprise » edge per phase. `model` holds that compact graph;
`DiagramModel.expanded` turns it back into the full move table, which the tests compare
with the workflow's.

Output is deterministic (ids are state codes, edges sorted) so golden files can pin it.

>>> from etatmachine.catalogue import default_catalogue
>>> text = mermaid(default_catalogue(), phase="devis")
>>> text.splitlines()[0]
'stateDiagram-v2'
>>> 'state "Etude de devis<br/>48 h ouvrées" as etude_devis' in text
True
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from etatmachine.catalogue import Catalogue, StateKind, StateSpec
from etatmachine.errors import EtatmachineError
from etatmachine.tables import deadline_words

__all__ = [
    "MAIN_PATH",
    "MAIN_SIDE",
    "DiagramModel",
    "GraphvizError",
    "GraphvizNotFound",
    "GroupEdge",
    "Links",
    "Neighbourhood",
    "PathError",
    "PhaseView",
    "TargetGroup",
    "UnknownPhaseError",
    "View",
    "dot",
    "dot_to_svg",
    "life_dot",
    "mermaid",
    "model",
    "neighbourhood",
    "neighbourhood_mermaid",
    "phase_dot",
    "phase_view",
    "render",
    "svg",
]

Format = Literal["mermaid", "dot", "svg"]

# Light fill / dark stroke per phase, by the phase's position in the catalogue (cycled).
_PALETTE: tuple[tuple[str, str], ...] = (
    ("#e8f1fb", "#3b6ea5"),  # blue
    ("#fdf1e3", "#b8742a"),  # orange
    ("#efe9f7", "#6f4ea0"),  # purple
    ("#e6f4ea", "#2f7d46"),  # green
    ("#fbeaea", "#a33b3b"),  # red
    ("#e8f6f6", "#2a7f7f"),  # teal
    ("#f1f1f1", "#555555"),  # grey
)
_RESERVED = "#b3261e"
_WRAP = 30
# Short names of the desks a reserved state belongs to, as the back office says them.
_ROLE_SHORT: Mapping[str, str] = {
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


class GraphvizError(EtatmachineError, RuntimeError):
    """Graphviz's ``dot`` failed to turn a diagram into SVG."""


class GraphvizNotFound(GraphvizError):
    """The ``dot`` binary is missing: SVG needs Graphviz installed on the machine."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's `dot` program was not found on PATH: SVG diagrams need it. "
            "Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: "
            "`brew install graphviz`), or ask for `mermaid` or `dot` text instead."
        )


@dataclass(frozen=True, slots=True)
class GroupEdge:
    """One group move drawn once: a group node ``id`` with an edge to each target."""

    id: str
    """``G1``, ``G2``…: the group move's position in the catalogue file."""
    names: tuple[str, ...]
    """Its ``from`` as written (``@operational``, or state codes)."""
    sources: frozenset[str]
    targets: tuple[str, ...]
    """Its targets (in a phase diagram: all of them when some sources are in the phase,
    else only the phase's own); those not drawn in full are named in the group node."""
    why: str


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """States' explicit moves to one ``@group``, drawn once: an edge from each source to a
    decision node that lists the group, a dashed edge from it to each member drawn in full."""

    name: str
    """The group's name, without the ``@``."""
    sources: tuple[tuple[str, tuple[str, ...]], ...]
    """``(state, rule codes of its move)`` for each state that moves to the group, sorted."""
    members: tuple[str, ...]
    """The group expanded, in the file's order; in a phase diagram those of other phases
    are only named in the node."""

    @property
    def id(self) -> str:
        """The node's id in DOT (``"@name"``: never a state code)."""
        return "@" + self.name


@dataclass(frozen=True, slots=True)
class DiagramModel:
    """What one diagram shows, before it is written as Mermaid or DOT."""

    phase: str | None
    states: tuple[str, ...]
    """States drawn in full, in catalogue order (all of them, or the phase's)."""
    external: tuple[str, ...]
    """Other phases' states an explicit move links to the phase, drawn as small grey boxes
    (a group move's targets outside the phase are named in its group node instead)."""
    moves: tuple[tuple[str, str, tuple[str, ...]], ...]
    """Explicit per-state moves ``(source, target, rule codes of the move)``, sorted (moves to
    a ``@group`` are here expanded only where a decision node would not save arrows)."""
    target_groups: tuple[TargetGroup, ...]
    """Explicit moves to a ``@group`` drawn through one decision node per group."""
    group_moves: tuple[GroupEdge, ...]
    resumes: Mapping[str, frozenset[str]]
    """Resumable waits drawn, with the states each may go back to."""

    def group_pairs(self, tg: TargetGroup) -> frozenset[tuple[str, str]]:
        """The moves a decision node stands for: each source to each member (in a phase
        diagram, those that start or end in the phase)."""
        here = set(self.states)
        return frozenset(
            (s, t)
            for s, _ in tg.sources
            for t in tg.members
            if self.phase is None or s in here or t in here
        )

    def explicit(self) -> frozenset[tuple[str, str]]:
        """The states' own moves the drawing stands for (plain edges and decision nodes)."""
        edges = {(s, t) for s, t, _ in self.moves}
        for tg in self.target_groups:
            edges.update(self.group_pairs(tg))
        return frozenset(edges)

    def expanded(self) -> frozenset[tuple[str, str]]:
        """Every ``(source, target)`` move the compact drawing stands for."""
        edges = set(self.explicit())
        for gm in self.group_moves:
            edges.update((s, t) for s in gm.sources for t in gm.targets if s != t)
        for wait, targets in self.resumes.items():
            edges.update((wait, t) for t in targets)
        return frozenset(edges)


@dataclass(frozen=True, slots=True)
class Links:
    """Where diagram nodes link to: a state's page, a phase's page (URLs relative to the page
    that shows the diagram). The docs pass them; without them a diagram has no links."""

    state: Callable[[str], str]
    phase: Callable[[str], str]


def _link(links: Links | None, code: str) -> dict[str, str]:
    """A DOT node's link to a state's page (``target=_top``: out of an embedding frame)."""
    return {} if links is None else {"URL": links.state(code), "target": "_top"}


# --- the model ----------------------------------------------------------------------------


def _expand(names: Iterable[str], groups: Mapping[str, tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name.startswith("@"):
            out.extend(_expand(groups[name[1:]], groups))
        else:
            out.append(name)
    return out


def _check_phase(catalogue: Catalogue, phase: str | None) -> None:
    codes = [p.code for p in catalogue.phases]
    if phase is not None and phase not in codes:
        raise UnknownPhaseError(phase, codes)


def model(catalogue: Catalogue, phase: str | None = None) -> DiagramModel:
    """The compact graph of the whole catalogue, or of one phase and its neighbours."""
    _check_phase(catalogue, phase)
    groups = catalogue.groups
    inside = [s.code for s in catalogue if phase is None or s.phase == phase]
    here = set(inside)
    moves: set[tuple[str, str, tuple[str, ...]]] = set()
    to_groups: dict[str, dict[str, tuple[str, ...]]] = {}
    for state in catalogue:
        for move in state.moves:
            rules = tuple(r.code for r in move.rules)
            if move.to.startswith("@"):
                by_source = to_groups.setdefault(move.to[1:], {})
                by_source[state.code] = tuple(dict.fromkeys(by_source.get(state.code, ()) + rules))
                continue
            if state.code in here or move.to in here:
                moves.add((state.code, move.to, rules))
    target_groups: list[TargetGroup] = []
    for name, by_source in to_groups.items():
        members = tuple(dict.fromkeys(_expand(groups[name], groups)))
        pairs = [
            (s, t, rules)
            for s, rules in sorted(by_source.items())
            for t in members
            if s in here or t in here
        ]
        movers = tuple(dict.fromkeys((s, rules) for s, _, rules in pairs))
        drawn = [t for t in members if t in here]
        # one node only where it saves arrows: a phase that merely receives one member of a
        # group from another phase's states keeps the plain arrows
        if len(movers) + len(drawn) < len(pairs):
            target_groups.append(TargetGroup(name, movers, members))
        else:
            moves.update(pairs)
    group_moves: list[GroupEdge] = []
    for i, gm in enumerate(catalogue.group_moves, start=1):
        sources = frozenset(_expand(gm.from_, groups))
        targets = tuple(dict.fromkeys(_expand(gm.to, groups)))
        if not sources & here:
            targets = tuple(t for t in targets if t in here)
        if targets:
            group_moves.append(GroupEdge(f"G{i}", gm.from_, sources, targets, gm.why))
    resumes = {
        code: catalogue.resume_targets(code) for code in inside if catalogue.state(code).resume
    }
    ends = {c for s, t, _ in moves for c in (s, t)}
    ends.update(s for tg in target_groups for s, _ in tg.sources)
    external = tuple(s.code for s in catalogue if s.code in ends - here)
    return DiagramModel(
        phase=phase,
        states=tuple(inside),
        external=external,
        moves=tuple(sorted(moves)),
        target_groups=tuple(target_groups),
        group_moves=tuple(group_moves),
        resumes=resumes,
    )


# --- what a state looks like --------------------------------------------------------------


def _deadline_text(state: StateSpec) -> str:
    """The deadline line of a node, with its unit (« 24 h ouvrées », « 21 jours calendaires »)."""
    return deadline_words(state.deadline)


def _reserved(state: StateSpec) -> str | None:
    rule: Any = state.rule("role_reserved")
    if rule is None:
        return None
    return "/".join(_ROLE_SHORT.get(r.value, r.value) for r in rule.roles)


def _marks(state: StateSpec, *, emoji: bool) -> list[str]:
    marks: list[str] = []
    if emoji and state.rule("due_date_locked") is not None:
        marks.append("🔒")
    if state.rule("comment_required") is not None:
        marks.append("✎")
    reserved = _reserved(state)
    if reserved is not None:
        marks.append(f"⚑ {reserved}")
    if state.resume:
        marks.append("↩")
    return marks


def _lines(state: StateSpec, *, emoji: bool) -> list[str]:
    lines = textwrap.wrap(state.label, _WRAP) or [state.code]
    detail = " ".join([_deadline_text(state), *_marks(state, emoji=emoji)])
    return [*lines, detail]


def _group_from(gm: GroupEdge) -> list[str]:
    """What a group node says of the sources: the group names as the catalogue writes them."""
    what = textwrap.wrap(
        " + ".join(gm.names) if gm.names[0].startswith("@") else ", ".join(gm.names), _WRAP
    )
    return ["from any of", *what, f"({len(gm.sources)} states)"]


def _split(m: DiagramModel, gm: GroupEdge) -> tuple[list[str], list[str]]:
    """A group move's targets drawn in full (arrows) and those only named (other phases)."""
    drawn = [t for t in gm.targets if t in m.states]
    return drawn, [t for t in gm.targets if t not in m.states]


def _member_rows(catalogue: Catalogue, m: DiagramModel, tg: TargetGroup) -> list[tuple[str, bool]]:
    """A decision node's rows: each member's label, and whether it is drawn in full (an
    arrow leaves its row) or belongs to another phase (only named, with the phase)."""
    rows = []
    for code in tg.members:
        state = catalogue.state(code)
        drawn = code in m.states
        text = state.label if drawn else f"{state.label} ({state.phase})"
        rows.append((text, drawn))
    return rows


def _colours(catalogue: Catalogue) -> dict[str, tuple[str, str]]:
    return {p.code: _PALETTE[i % len(_PALETTE)] for i, p in enumerate(catalogue.phases)}


# --- Graphviz DOT -------------------------------------------------------------------------


def _q(text: str) -> str:
    """A DOT double-quoted string; lines joined with centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attrs(**attrs: str | float) -> str:
    parts = []
    for key, value in attrs.items():
        text = value if isinstance(value, str) and value.startswith("<") else _q(str(value))
        parts.append(f"{key}={text}")
    return "[" + ", ".join(parts) + "]"


_LEGEND = (
    "bold border: due date locked (not to be changed)",
    "✎ comment required (a wait)",
    "⚑ reserved to a desk (RE, SC…)",
    "↩ resumes the step it interrupted",
    "double border: closing state",
    "@group box: moves to any one of the group (dashed to each)",
    "Gn: a move declared once for a group (table)",
    "grey box: a state of another phase",
)


def dot(catalogue: Catalogue, phase: str | None = None, *, links: Links | None = None) -> str:
    """Graphviz DOT of the whole catalogue or of one phase (pipe it to ``dot -Tsvg``);
    with ``links``, each state's box links to its page."""
    m = model(catalogue, phase)
    colours = _colours(catalogue)
    title = catalogue.phase(phase).label if phase else f"{catalogue.name} {catalogue.version}"
    out = [
        f"digraph {_q(phase or catalogue.name)} {{",
        "  "
        + "graph "
        + _attrs(
            rankdir="LR",
            compound="true",
            newrank="true",
            fontname="DejaVu Sans",
            fontsize=14,
            labelloc="t",
            label=title,
            nodesep=0.2,
            ranksep=0.5,
            pad=0.2,
            tooltip=title,
        ),
        "  node "
        + _attrs(
            shape="box",
            style="rounded,filled",
            fillcolor="white",
            fontname="DejaVu Sans",
            fontsize=10,
            margin="0.1,0.05",
        ),
        "  edge " + _attrs(fontname="DejaVu Sans", fontsize=8, color="#555555", arrowsize=0.7),
    ]
    by_phase: dict[str, list[StateSpec]] = {}
    for code in m.states:
        state = catalogue.state(code)
        by_phase.setdefault(state.phase, []).append(state)
    # a decision node sits in the cluster of its sources when they all are of one phase
    decisions: dict[str | None, list[str]] = {}
    decision_edges: list[str] = []
    for tg in m.target_groups:
        node, arrows = _dot_target_group(catalogue, m, tg)
        home = {catalogue.state(s).phase for s, _ in tg.sources}
        where = home.pop() if len(home) == 1 else None
        decisions.setdefault(where if where in by_phase else None, []).append(node)
        decision_edges.extend(arrows)
    for phase_code, states in by_phase.items():
        fill, stroke = colours[phase_code]
        label = catalogue.phase(phase_code).label
        out.append(f"  subgraph {_q('cluster_' + phase_code)} {{")
        out.append(
            "    graph "
            + _attrs(
                label=label,
                style="rounded,filled",
                fillcolor=fill,
                color=stroke,
                fontcolor=stroke,
                fontsize=12,
            )
        )
        for state in states:
            attrs: dict[str, str | float] = {
                "label": "\n".join(_lines(state, emoji=False)),
                "color": stroke,
                "tooltip": f"{state.code}: {state.meaning_en}",
            }
            style = ["rounded", "filled"]
            if state.kind is StateKind.WAIT:
                style.append("dashed")
            if state.rule("due_date_locked") is not None:
                attrs["penwidth"] = 2.5
            if _reserved(state) is not None:
                attrs["color"] = _RESERVED
                attrs["fontcolor"] = _RESERVED
            if state.terminal:
                style = ["filled"]
                attrs["peripheries"] = 2
            attrs["style"] = ",".join(style)
            attrs.update(_link(links, state.code))
            out.append(f"    {_q(state.code)} {_attrs(**attrs)}")
        out.extend(f"    {node}" for node in decisions.get(phase_code, []))
        out.append("  }")
    out.extend(f"  {node}" for node in decisions.get(None, []))
    for code in m.external:
        state = catalogue.state(code)
        label = "\n".join([*textwrap.wrap(state.label, _WRAP), f"({state.phase})"])
        out.append(
            f"  {_q(code)} "
            + _attrs(
                label=label,
                style="filled",
                fillcolor="#eeeeee",
                color="#aaaaaa",
                fontcolor="#555555",
                fontsize=8,
                tooltip=f"{code} ({state.phase})",
                **_link(links, code),
            )
        )
    initial = [c for c in m.states if catalogue.state(c).initial]
    if initial:
        out.append("  __start__ " + _attrs(shape="point", width=0.15, label="", tooltip="start"))
        out.extend(f"  __start__ -> {_q(c)}" for c in initial)
    for source, target, rules in m.moves:
        extra = " " + _attrs(label=", ".join(rules), fontcolor="#555555") if rules else ""
        out.append(f"  {_q(source)} -> {_q(target)}{extra}")
    out.extend(decision_edges)
    if m.group_moves:
        head = "<b>Group moves</b> (dashed arrows)"
        rows = [f"<tr><td colspan='3' bgcolor='#f4f4f4'>{head}</td></tr>"]
        edges: list[str] = []
        for gm in m.group_moves:
            drawn, listed = _split(m, gm)
            source = "<br/>".join(_html(line) for line in _group_from(gm))
            target = "<br/>".join(f"→ {_html(code)}" for code in listed) or f"→ {len(drawn)}"
            title = _html(gm.why).replace("'", "&#39;")
            rows.append(
                f"<tr><td>{gm.id}</td><td align='left' balign='left' title='{title}'>{source}</td>"
                f"<td align='left' balign='left' port='{gm.id}'>{target}</td></tr>"
            )
            edges.extend(
                f"  __groups__:{gm.id}:e -> {_q(t)} " + _attrs(style="dashed", color="#888888")
                for t in drawn
            )
        table = "".join(rows)
        out.append(
            "  __groups__ "
            + _attrs(
                shape="plaintext",
                fontsize=8,
                fontcolor="#444444",
                label="<<table border='0' cellborder='1' cellspacing='0' cellpadding='3' "
                f"color='#999999'>{table}</table>>",
            )
        )
        out.extend(edges)
    resume_phases: dict[str, str] = {}
    for code in m.resumes:
        resume_phases.setdefault(catalogue.state(code).phase, code)
    if resume_phases:
        out.append(
            "  __reprise__ "
            + _attrs(
                shape="note",
                style="dashed",
                color="#777777",
                fontcolor="#444444",
                fontsize=8,
                label="↩ reprise\nback to the step\nthe wait interrupted",
                tooltip="resume moves",
            )
        )
        for phase_code, first in resume_phases.items():
            out.append(
                f"  {_q(first)} -> __reprise__ "
                + _attrs(
                    ltail="cluster_" + phase_code,
                    style="dashed",
                    color="#777777",
                    label="reprise (↩)",
                )
            )
    legend = "".join(f"<tr><td align='left'>{_html(line)}</td></tr>" for line in _LEGEND)
    out.append(
        "  __legend__ "
        + _attrs(
            shape="plaintext",
            fontsize=8,
            label="<<table border='0' cellborder='0' "
            f"cellspacing='0' cellpadding='1'>{legend}</table>>",
        )
    )
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_target_group(
    catalogue: Catalogue, m: DiagramModel, tg: TargetGroup
) -> tuple[str, list[str]]:
    """A decision node: the group's name, then a row per member; an edge in from each source,
    a dashed edge out of the row of each member drawn in full."""
    rows = [
        f"<tr><td align='left' balign='left' bgcolor='#f4f4f4'><b>{_html(tg.id)}</b><br/>"
        f"<font color='#666666'>any one of:</font></td></tr>"
    ]
    for code, (text, drawn) in zip(tg.members, _member_rows(catalogue, m, tg), strict=True):
        lines = "<br/>".join(_html(line) for line in textwrap.wrap(text, _WRAP))
        if not drawn:
            lines = f"<font color='#777777'>{lines}</font>"
        rows.append(
            f"<tr><td align='left' balign='left' bgcolor='white' port='{code}'>{lines}</td></tr>"
        )
    node = f"{_q(tg.id)} " + _attrs(
        shape="plaintext",
        style="",
        fontsize=8,
        fontcolor="#333333",
        tooltip=f"{tg.id}: moves to any one of the group",
        label="<<table border='1' cellborder='0' cellspacing='0' cellpadding='2' "
        f"style='rounded' color='#888888'>{'<hr/>'.join(rows)}</table>>",
    )
    out = []
    for source, rules in tg.sources:
        extra = {"label": ", ".join(rules), "fontcolor": "#555555"} if rules else {}
        out.append(f"  {_q(source)} -> {_q(tg.id)} " + _attrs(arrowhead="empty", **extra))
    out.extend(
        f"  {_q(tg.id)}:{code}:e -> {_q(code)} " + _attrs(style="dashed", color="#888888")
        for code in tg.members
        if code in m.states
    )
    return node, out


# --- Mermaid ------------------------------------------------------------------------------


_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", ";": "#59;"}


def _m(text: str) -> str:
    """Mermaid label text: entity codes for the characters its parser reads."""
    return "".join(_MERMAID_ENTITIES.get(c, c) for c in text)


def _mermaid_id(tg: TargetGroup) -> str:
    """A decision node's Mermaid id: capitalised, so never a state code."""
    return "Group_" + re.sub(r"[^A-Za-z0-9_]", "_", tg.name)


def mermaid(catalogue: Catalogue, phase: str | None = None) -> str:
    """Mermaid ``stateDiagram-v2`` of the whole catalogue or of one phase."""
    m = model(catalogue, phase)
    colours = _colours(catalogue)
    out = ["stateDiagram-v2", "    direction LR"]
    phases_drawn = list(dict.fromkeys(catalogue.state(c).phase for c in m.states))
    for phase_code in phases_drawn:
        fill, stroke = colours[phase_code]
        out.append(f"    classDef {phase_code} fill:{fill},stroke:{stroke},color:#222")
    out.extend(
        [
            "    classDef locked stroke-width:3px",
            f"    classDef reserved stroke:{_RESERVED},color:{_RESERVED}",
            "    classDef wait stroke-dasharray:5 3",
            "    classDef external fill:#eeeeee,stroke:#aaaaaa,color:#555555,font-size:10px",
            "    classDef group fill:#ffffff,stroke:#888888,color:#444444,stroke-dasharray:4 3,"
            "font-size:10px",
        ]
    )
    classes: dict[str, list[str]] = {}
    for phase_code in phases_drawn:
        label = catalogue.phase(phase_code).label
        out.append(f'    state "{_m(label)}" as phase_{phase_code} {{')
        for code in m.states:
            state = catalogue.state(code)
            if state.phase != phase_code:
                continue
            text = "<br/>".join(_m(line) for line in _lines(state, emoji=True))
            out.append(f'        state "{text}" as {code}')
            classes.setdefault(phase_code, []).append(code)
            if state.rule("due_date_locked") is not None:
                classes.setdefault("locked", []).append(code)
            if _reserved(state) is not None:
                classes.setdefault("reserved", []).append(code)
            if state.kind is StateKind.WAIT:
                classes.setdefault("wait", []).append(code)
        out.append("    }")
    for code in m.external:
        state = catalogue.state(code)
        out.append(f'    state "{_m(state.label)}<br/>({state.phase})" as {code}')
        classes.setdefault("external", []).append(code)
    for gm in m.group_moves:
        _, listed = _split(m, gm)
        lines = [f"{gm.id} · group move", *_group_from(gm), *(f"→ {t}" for t in listed)]
        out.append(f'    state "{"<br/>".join(_m(x) for x in lines)}" as {gm.id}')
        classes.setdefault("group", []).append(gm.id)
    for tg in m.target_groups:
        listed = [text for text, drawn in _member_rows(catalogue, m, tg) if not drawn]
        lines = [f"{tg.id} · any one of", *(f"→ {text}" for text in listed)]
        out.append(f'    state "{"<br/>".join(_m(x) for x in lines)}" as {_mermaid_id(tg)}')
        classes.setdefault("group", []).append(_mermaid_id(tg))
    if m.resumes:
        out.append('    state "↩ reprise: back to the step the wait interrupted" as reprise')
        classes.setdefault("group", []).append("reprise")
    out.extend(f"    [*] --> {c}" for c in m.states if catalogue.state(c).initial)
    for source, target, rules in m.moves:
        out.append(f"    {source} --> {target}" + (f" : {', '.join(rules)}" if rules else ""))
    for tg in m.target_groups:
        for source, rules in tg.sources:
            edge = f"    {source} --> {_mermaid_id(tg)}"
            out.append(edge + (f" : {', '.join(rules)}" if rules else ""))
        out.extend(f"    {_mermaid_id(tg)} --> {t}" for t in tg.members if t in m.states)
    for gm in m.group_moves:
        out.extend(f"    {gm.id} --> {t}" for t in _split(m, gm)[0])
    for phase_code in dict.fromkeys(catalogue.state(c).phase for c in m.resumes):
        out.append(f"    phase_{phase_code} --> reprise : reprise (↩)")
    out.extend(f"    {c} --> [*]" for c in m.states if catalogue.state(c).terminal)
    for name, codes in classes.items():
        out.append(f"    class {','.join(codes)} {name}")
    return "\n".join(out) + "\n"


# --- views for learners: the life of a dossier, a phase, a state's neighbourhood ----------
#
# The compact drawings above stand for every move; these stand for what a person reads
# first. Each returns its text and the number of nodes it draws, which the docs' browser
# check compares with what the page rendered.


@dataclass(frozen=True, slots=True)
class View:
    """A diagram's source (DOT or Mermaid) and how many nodes it draws."""

    source: str
    nodes: int


MAIN_PATH: tuple[str, ...] = (
    "contact_client_devis",
    "premiere_visite",
    "etude_devis",
    "devis_demande_info",
    "devis_reponse_metreur",
    "contact_client_travaux",
    "date_debut_travaux",
    "travaux_en_cours",
    "travaux_termines",
)
"""The bundled procedure's main path, from the first call to the closed file: each step is
a move of the catalogue (`life_dot` checks it)."""

MAIN_SIDE: Mapping[str, str] = {
    "premiere_visite_grille": "premiere_visite",
    "premiere_visite_plus_7j": "premiere_visite",
    "attente_controle_devis": "devis_reponse_metreur",
    "devis_attente_accord_expert": "devis_reponse_metreur",
    "devis_attente_accord_cie": "devis_reponse_metreur",
}
"""The common detours drawn in « Life of a dossier », each beside (on the rank of) a step of
the main path."""


class PathError(EtatmachineError, ValueError):
    """A step of a main path that the catalogue does not allow (or an unknown state)."""

    def __init__(self, source: str, target: str) -> None:
        self.source = source
        self.target = target
        super().__init__(f"the main path goes {source!r} -> {target!r}: no such move")


_MAIN_COLOUR = "#1f4e8c"
_VIEW_WRAP = 26


def _view_label(state: StateSpec, wrap: int = _VIEW_WRAP) -> str:
    lines = textwrap.wrap(state.label, wrap) or [state.code]
    detail = " ".join([deadline_words(state.deadline), *_marks(state, emoji=False)])
    return "\n".join([*lines, detail])


def _view_header(name: str, rankdir: str, title: str) -> list[str]:
    return [
        f"digraph {_q(name)} {{",
        "  graph "
        + _attrs(
            rankdir=rankdir,
            newrank="true",
            fontname="DejaVu Sans",
            fontsize=15,
            labelloc="t",
            label=title,
            nodesep=0.25,
            ranksep=0.3,
            pad=0.15,
            tooltip=title,
        ),
        "  node "
        + _attrs(
            shape="box",
            style="rounded,filled",
            fillcolor="white",
            fontname="DejaVu Sans",
            fontsize=12,
            margin="0.12,0.06",
        ),
        "  edge " + _attrs(fontname="DejaVu Sans", fontsize=10, color="#666666", arrowsize=0.8),
    ]


def _state_node(
    catalogue: Catalogue, state: StateSpec, links: Links | None, **extra: str | float
) -> str:
    _, stroke = _colours(catalogue)[state.phase]
    attrs: dict[str, str | float] = {
        "label": _view_label(state),
        "color": stroke,
        "tooltip": f"{state.code}: {state.meaning_en}",
    }
    style = ["rounded", "filled"]
    if state.kind is StateKind.WAIT:
        style.append("dashed")
    if state.rule("due_date_locked") is not None:
        attrs["penwidth"] = 2.2
    if _reserved(state) is not None:
        attrs["color"] = _RESERVED
        attrs["fontcolor"] = _RESERVED
    if state.terminal:
        style = ["filled"]
        attrs["peripheries"] = 2
    attrs["style"] = ",".join(style)
    attrs.update(extra)
    attrs.update(_link(links, state.code))
    return f"{_q(state.code)} {_attrs(**attrs)}"


def life_dot(
    catalogue: Catalogue,
    *,
    path: tuple[str, ...] = MAIN_PATH,
    side: Mapping[str, str] = MAIN_SIDE,
    links: Links | None = None,
) -> View:
    """« Life of a dossier »: the main path drawn bold, top to bottom, in its phases, with the
    common detours beside it and every move of the catalogue between the states shown."""
    for code in (*path, *side, *side.values()):
        if code not in catalogue:
            raise PathError(code, code)
    for source, target in itertools.pairwise(path):
        if target not in catalogue.moves_from(source):
            raise PathError(source, target)
    shown = list(dict.fromkeys((*path, *side)))
    main = set(itertools.pairwise(path))
    colours = _colours(catalogue)
    out = _view_header("life", "TB", "")
    nodes = 0
    for p in catalogue.phases:
        members = [c for c in shown if catalogue.state(c).phase == p.code]
        if not members:
            continue
        fill, stroke = colours[p.code]
        out.append(f"  subgraph {_q('cluster_' + p.code)} {{")
        out.append(
            "    graph "
            + _attrs(
                label=p.label,
                style="rounded,filled",
                fillcolor=fill,
                color=stroke,
                fontcolor=stroke,
                fontsize=13,
                labeljust="l",
                URL=links.phase(p.code) if links else "",
                target="_top",
            )
        )
        for code in members:
            state = catalogue.state(code)
            if code in path:
                out.append("    " + _state_node(catalogue, state, links, fontsize=13))
            else:
                out.append(
                    "    " + _state_node(catalogue, state, links, fontsize=11, fontcolor="#444444")
                )
            nodes += 1
        out.append("  }")
    rows: dict[str, list[str]] = {}
    for code, beside in side.items():
        rows.setdefault(beside, [beside]).append(code)
    out.extend(f"  {{rank=same; {'; '.join(_q(c) for c in row)}}}" for row in rows.values())
    out.append("  __start__ " + _attrs(shape="point", width=0.18, label="", tooltip="start"))
    out.append(f"  __start__ -> {_q(path[0])} " + _attrs(color=_MAIN_COLOUR, penwidth=2.5))
    nodes += 1
    for source in shown:
        for target in catalogue.moves_from(source):
            if target not in shown or target == source:
                continue
            if (source, target) in main:
                attrs: dict[str, str | float] = {
                    "color": _MAIN_COLOUR,
                    "penwidth": 3,
                    "weight": 20,
                }
            else:
                attrs = {"color": "#9a9a9a", "weight": 1}
            out.append(f"  {_q(source)} -> {_q(target)} {_attrs(**attrs)}")
    out.append("}")
    return View("\n".join(out) + "\n", nodes)


@dataclass(frozen=True, slots=True)
class PhaseView:
    """What a phase page draws: its own states and moves; moves to and from other phases only
    summarised (one box per phase); group moves and resumes are left to words."""

    phase: str
    states: tuple[str, ...]
    inner: tuple[tuple[str, str], ...]
    """Explicit moves between the phase's own states (self-moves included), sorted."""
    decisions: tuple[TargetGroup, ...]
    """Moves to a ``@group`` drawn through one node (where it saves arrows)."""
    outgoing: tuple[tuple[str, str], ...]
    """Explicit moves from the phase's states to other phases' states, sorted."""
    incoming: tuple[tuple[str, str], ...]
    """Explicit moves from other phases' states into the phase, sorted."""
    group_moves: tuple[int, ...]
    """Positions (1-based, ``Gn``) of the group moves with a source or a target here."""


def _explicit_pairs(catalogue: Catalogue) -> list[tuple[str, str, str | None]]:
    """Every state's own moves ``(source, target, group)``, groups expanded."""
    out: list[tuple[str, str, str | None]] = []
    for state in catalogue:
        for move in state.moves:
            if move.to.startswith("@"):
                members = dict.fromkeys(_expand((move.to,), catalogue.groups))
                out.extend((state.code, t, move.to[1:]) for t in members)
            else:
                out.append((state.code, move.to, None))
    return out


def phase_view(catalogue: Catalogue, phase: str) -> PhaseView:
    """The phase page's drawing, before it is written as DOT."""
    _check_phase(catalogue, phase)
    own = tuple(s.code for s in catalogue if s.phase == phase)
    here = set(own)
    inner: set[tuple[str, str]] = set()
    outgoing: set[tuple[str, str]] = set()
    incoming: set[tuple[str, str]] = set()
    by_group: dict[str, dict[str, None]] = {}
    for source, target, group in _explicit_pairs(catalogue):
        if source in here and target in here:
            if group is not None:
                by_group.setdefault(group, {})[source] = None
            inner.add((source, target))
        elif source in here:
            outgoing.add((source, target))
        elif target in here:
            incoming.add((source, target))
    decisions = []
    for group, sources in by_group.items():
        members = tuple(dict.fromkeys(_expand((f"@{group}",), catalogue.groups)))
        drawn = [t for t in members if t in here]
        pairs = {(s, t) for s in sources for t in drawn}
        if len(sources) + len(drawn) < len(pairs):
            decisions.append(TargetGroup(group, tuple((s, ()) for s in sources), members))
            inner -= pairs
    group_moves = []
    for i, gm in enumerate(catalogue.group_moves, start=1):
        ends = set(_expand(gm.from_, catalogue.groups)) | set(_expand(gm.to, catalogue.groups))
        if ends & here:
            group_moves.append(i)
    return PhaseView(
        phase=phase,
        states=own,
        inner=tuple(sorted(inner)),
        decisions=tuple(decisions),
        outgoing=tuple(sorted(outgoing)),
        incoming=tuple(sorted(incoming)),
        group_moves=tuple(group_moves),
    )


def _phase_box(
    catalogue: Catalogue,
    node: str,
    phase: str,
    codes: Iterable[str],
    head: str,
    links: Links | None,
) -> str:
    fill, stroke = _colours(catalogue)[phase]
    names = [
        "<br/>".join(_html(x) for x in textwrap.wrap(catalogue.state(c).label, _VIEW_WRAP))
        for c in dict.fromkeys(codes)
    ]
    rows = "".join(f"<tr><td align='left' balign='left'>{n}</td></tr>" for n in names)
    label = (
        "<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>"
        f"<tr><td align='left'><b>{_html(head)}</b></td></tr>"
        f"<tr><td align='left'><i>{_html(catalogue.phase(phase).label)}</i></td></tr>"
        f"{rows}</table>>"
    )
    attrs: dict[str, str | float] = {
        "shape": "box",
        "style": "rounded,filled,dashed",
        "fillcolor": fill,
        "color": stroke,
        "fontcolor": "#333333",
        "fontsize": 9,
        "label": label,
        "tooltip": f"{head} {phase}",
    }
    if links is not None:
        attrs.update({"URL": links.phase(phase), "target": "_top"})
    return f"  {_q(node)} {_attrs(**attrs)}"


def phase_dot(
    catalogue: Catalogue, phase: str, *, links: Links | None = None, rankdir: str = "TB"
) -> View:
    """A phase page's diagram: its own states large, each move between them an arrow, one
    summary box per other phase a move comes from (« from … ») or goes to (« to … »)."""
    v = phase_view(catalogue, phase)
    out = _view_header(phase, rankdir, "")
    nodes = 0
    for code in v.states:
        out.append("  " + _state_node(catalogue, catalogue.state(code), links))
        nodes += 1
    initial = [c for c in v.states if catalogue.state(c).initial]
    if initial:
        out.append("  __start__ " + _attrs(shape="point", width=0.15, label="", tooltip="start"))
        out.extend(f"  __start__ -> {_q(c)}" for c in initial)
        nodes += 1
    for source, target in v.inner:
        out.append(f"  {_q(source)} -> {_q(target)}")
    leaving: dict[tuple[str, str], list[str]] = {}
    for tg in v.decisions:
        drawn = [t for t in tg.members if t in v.states]
        rows = "".join(
            f"<tr><td align='left'>→ {_html(catalogue.state(t).label)}</td></tr>" for t in drawn
        )
        others = [t for t in tg.members if t not in v.states]
        more = f"<tr><td align='left'><i>or {len(others)} of other phases</i></td></tr>"
        out.append(
            f"  {_q(tg.id)} "
            + _attrs(
                shape="box",
                style="rounded,dashed",
                color="#888888",
                fontsize=10,
                fontcolor="#333333",
                tooltip=f"{tg.id}: any one of the group",
                label="<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>"
                f"<tr><td align='left'><b>any one of {_html(tg.id)}</b></td></tr>{rows}"
                f"{more if others else ''}</table>>",
            )
        )
        nodes += 1
        for source, _ in tg.sources:
            out.append(f"  {_q(source)} -> {_q(tg.id)} " + _attrs(arrowhead="empty"))
        out.extend(
            f"  {_q(tg.id)} -> {_q(t)} " + _attrs(style="dashed", color="#888888") for t in drawn
        )
        for t in others:
            leaving.setdefault((tg.id, catalogue.state(t).phase), []).append(t)
    decided = {(s, t) for tg in v.decisions for s, _ in tg.sources for t in tg.members}
    for source, target in v.outgoing:
        if (source, target) not in decided:
            leaving.setdefault((source, catalogue.state(target).phase), []).append(target)
    arriving: dict[tuple[str, str], list[str]] = {}
    for source, target in v.incoming:
        arriving.setdefault((catalogue.state(source).phase, target), []).append(source)
    to_phase: dict[str, list[str]] = {}
    for (_, other), targets in leaving.items():
        to_phase.setdefault(other, []).extend(targets)
    from_phase: dict[str, list[str]] = {}
    for (other, _), sources in arriving.items():
        from_phase.setdefault(other, []).extend(sources)
    for p in catalogue.phases:
        if p.code in from_phase:
            node = f"from_{p.code}"
            out.append(_phase_box(catalogue, node, p.code, from_phase[p.code], "from", links))
            nodes += 1
        if p.code in to_phase:
            node = f"to_{p.code}"
            out.append(_phase_box(catalogue, node, p.code, to_phase[p.code], "to", links))
            nodes += 1
    if from_phase:
        out.append(f"  {{rank=min; {'; '.join(_q('from_' + p) for p in from_phase)}}}")
    if to_phase:
        out.append(f"  {{rank=max; {'; '.join(_q('to_' + p) for p in to_phase)}}}")
    summary = _attrs(color="#777777", style="dashed")
    for source, other in leaving:
        out.append(f"  {_q(source)} -> {_q('to_' + other)} {summary}")
    for other, target in arriving:
        out.append(f"  {_q('from_' + other)} -> {_q(target)} {summary}")
    out.append("}")
    return View("\n".join(out) + "\n", nodes)


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """A state's moves one step away: where a file comes from, where it may go."""

    code: str
    incoming: tuple[str, ...]
    """States with a move to this one (group moves included), in catalogue order."""
    outgoing: tuple[str, ...]
    """States this one may move to (group moves included), in catalogue order."""
    resumes: bool
    """A wait that may go back to the step it interrupted."""


def neighbourhood(catalogue: Catalogue, code: str) -> Neighbourhood:
    """The one-step neighbourhood of ``code`` (self-moves left out)."""
    catalogue.state(code)
    incoming = tuple(
        s.code for s in catalogue if s.code != code and code in catalogue.moves_from(s.code)
    )
    targets = catalogue.moves_from(code)
    outgoing = tuple(s.code for s in catalogue if s.code != code and s.code in targets)
    return Neighbourhood(code, incoming, outgoing, catalogue.state(code).resume)


_COLLAPSE = 3
_CROWDED = 6


def _mermaid_side(
    catalogue: Catalogue, codes: tuple[str, ...], side: str
) -> list[tuple[str, str, str | None]]:
    """A side's nodes ``(id, label, state code or None for a phase box)``: states one by one,
    or one box per phase when a phase brings more than a few (more than one on a crowded
    side), so that a state page's diagram stays a few boxes high."""
    by_phase: dict[str, list[str]] = {}
    for c in codes:
        by_phase.setdefault(catalogue.state(c).phase, []).append(c)
    most = 1 if len(codes) > _CROWDED else _COLLAPSE
    out: list[tuple[str, str, str | None]] = []
    for phase, members in by_phase.items():
        if len(members) > most:
            label = f"{len(members)} action dates of<br/>{_m(catalogue.phase(phase).label)}"
            out.append((f"{side}_phase_{phase}", label, None))
        else:
            for c in members:
                state = catalogue.state(c)
                text = "<br/>".join(_m(x) for x in textwrap.wrap(state.label, _VIEW_WRAP))
                out.append((f"{side}_{c}", text, c))
    return out


def neighbourhood_mermaid(catalogue: Catalogue, code: str, *, links: Links | None = None) -> View:
    """A state page's Mermaid flowchart: where a file comes from, the state, where it may go;
    phases that bring many states are one box (with ``links``, nodes are clickable)."""
    n = neighbourhood(catalogue, code)
    state = catalogue.state(code)
    fill, stroke = _colours(catalogue)[state.phase]
    here = "<br/>".join(
        [*(_m(x) for x in textwrap.wrap(state.label, _VIEW_WRAP)), _m(_deadline_text(state))]
    )
    out = [
        "flowchart LR",
        f"    classDef here fill:{fill},stroke:{stroke},stroke-width:3px,color:#111",
        "    classDef near fill:#ffffff,stroke:#888888,color:#333",
        "    classDef many fill:#f4f4f4,stroke:#aaaaaa,color:#444,stroke-dasharray:4 3",
        f'    here_{code}["{here}"]',
        f"    class here_{code} here",
    ]
    nodes = 1
    clicks: list[str] = []
    sides = (("in", n.incoming), ("out", n.outgoing))
    for side, codes in sides:
        for node, label, target in _mermaid_side(catalogue, codes, side):
            out.append(f'    {node}["{label}"]')
            out.append(f"    class {node} {'near' if target else 'many'}")
            nodes += 1
            if side == "in":
                out.append(f"    {node} --> here_{code}")
            else:
                out.append(f"    here_{code} --> {node}")
            if links is not None:
                url = links.state(target) if target else links.phase(node.split("_phase_")[1])
                clicks.append(f'    click {node} href "{url}" "open" _top')
    if n.resumes:
        out.append('    resume(["↩ back to the step<br/>the wait interrupted"])')
        out.append(f"    here_{code} -.-> resume")
        out.append("    class resume many")
        nodes += 1
    if state.terminal:
        out.append('    closed(["the file is closed"])')
        out.append(f"    here_{code} --> closed")
        out.append("    class closed many")
        nodes += 1
    out.extend(clicks)
    return View("\n".join(out) + "\n", nodes)


# --- SVG and the CLI's entry point --------------------------------------------------------


def svg(
    catalogue: Catalogue,
    phase: str | None = None,
    *,
    links: Links | None = None,
    timeout: float = 60.0,
) -> str:
    """The DOT diagram laid out by Graphviz as SVG text (needs the ``dot`` binary)."""
    return dot_to_svg(dot(catalogue, phase, links=links), timeout=timeout)


def dot_to_svg(source: str, *, timeout: float = 60.0) -> str:
    """Any DOT text laid out by Graphviz as SVG (`GraphvizNotFound` without ``dot``)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound()
    try:
        done = subprocess.run(
            [exe, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphvizError(f"running {exe} failed: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise GraphvizError(f"{exe} -Tsvg exited with {done.returncode}: {message}")
    return done.stdout.decode()


def render(catalogue: Catalogue, *, phase: str | None, fmt: Format) -> str:
    """The diagram as text in ``fmt``: what ``etatmachine diagram`` prints."""
    if fmt == "mermaid":
        return mermaid(catalogue, phase)
    if fmt == "dot":
        return dot(catalogue, phase)
    if fmt == "svg":
        return svg(catalogue, phase)
    raise ValueError(f"unknown diagram format {fmt!r}; valid: mermaid, dot, svg")
