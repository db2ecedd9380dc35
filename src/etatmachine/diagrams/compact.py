"""The compact drawings: every move of the catalogue, or of one phase and its neighbours.

A catalogue's ~500 moves are mostly *group moves* (every operational state may go to every
interruption, everything may be cancelled) and *resumes* (a wait goes back to the step it
interrupted). Expanded, they bury the procedure under hundreds of arrows, so these diagrams
draw them compactly: explicit per-state moves are edges, except that a move written to a
``@group`` (``moves = [{ to = "@quote_decisions" }]``) is one edge to a « decision » node
listing the group, with one dashed edge from it to each member drawn (`TargetGroup`); each
group move is one dashed group node (``G1``…) with an edge to each of its targets; resumes
are one dashed « reprise » edge per phase. `model` holds that compact graph;
`DiagramModel.expanded` turns it back into the full move table, which the tests compare
with the workflow's.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from etatmachine.catalogue import Catalogue, StateKind, StateSpec
from etatmachine.diagrams.drawing import (
    RESERVED,
    WRAP,
    Links,
    check_phase,
    dot_attrs,
    dot_string,
    expand,
    html_text,
    link,
    mermaid_text,
    phase_colours,
    reserved_desk,
    state_lines,
)
from etatmachine.diagrams.graphviz import dot_to_svg

__all__ = [
    "DiagramModel",
    "Format",
    "GroupEdge",
    "TargetGroup",
    "dot",
    "mermaid",
    "model",
    "render",
    "svg",
]

Format = Literal["mermaid", "dot", "svg"]


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
            if s != t and (self.phase is None or s in here or t in here)
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


def model(catalogue: Catalogue, phase: str | None = None) -> DiagramModel:
    """The compact graph of the whole catalogue, or of one phase and its neighbours."""
    check_phase(catalogue, phase)
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
        members = tuple(dict.fromkeys(expand(groups[name], groups)))
        pairs = [
            (s, t, rules)
            for s, rules in sorted(by_source.items())
            for t in members
            if s != t and (s in here or t in here)
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
        sources = frozenset(expand(gm.from_, groups))
        targets = tuple(dict.fromkeys(expand(gm.to, groups)))
        if not sources & here:
            targets = tuple(t for t in targets if t in here)
        if targets:
            group_moves.append(GroupEdge(f"G{i}", gm.from_, sources, targets, gm.why))
    resumes = {  # back to the interrupted step, or on with one of its moves
        code: catalogue.resume_targets(code) | catalogue.onward_targets(code)
        for code in inside
        if catalogue.state(code).resume
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


# --- what a drawing says of groups ------------------------------------------------------


def _group_from(gm: GroupEdge) -> list[str]:
    """What a group node says of the sources: the group names as the catalogue writes them."""
    what = textwrap.wrap(
        " + ".join(gm.names) if gm.names[0].startswith("@") else ", ".join(gm.names), WRAP
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


# --- Graphviz DOT -------------------------------------------------------------------------


_LEGEND = (
    "bold border: due date locked (not to be changed)",
    "✎ comment required (a wait)",
    "⚑ reserved to a desk (RE, SC…)",
    "↩ resumes the step it interrupted, or takes one of its moves",
    "double border: closing state",
    "@group box: moves to any one of the group (dashed to each)",
    "Gn: a move declared once for a group (table)",
    "grey box: a state of another phase",
)


def dot(catalogue: Catalogue, phase: str | None = None, *, links: Links | None = None) -> str:
    """Graphviz DOT of the whole catalogue or of one phase (pipe it to ``dot -Tsvg``);
    with ``links``, each state's box links to its page."""
    m = model(catalogue, phase)
    colours = phase_colours(catalogue)
    title = catalogue.phase(phase).label if phase else f"{catalogue.name} {catalogue.version}"
    out = [
        f"digraph {dot_string(phase or catalogue.name)} {{",
        "  "
        + "graph "
        + dot_attrs(
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
        + dot_attrs(
            shape="box",
            style="rounded,filled",
            fillcolor="white",
            fontname="DejaVu Sans",
            fontsize=10,
            margin="0.1,0.05",
        ),
        "  edge " + dot_attrs(fontname="DejaVu Sans", fontsize=8, color="#555555", arrowsize=0.7),
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
        out.append(f"  subgraph {dot_string('cluster_' + phase_code)} {{")
        out.append(
            "    graph "
            + dot_attrs(
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
                "label": "\n".join(state_lines(state, emoji=False)),
                "color": stroke,
                "tooltip": f"{state.code}: {state.meaning_en}",
            }
            style = ["rounded", "filled"]
            if state.kind is StateKind.WAIT:
                style.append("dashed")
            if state.rule("due_date_locked") is not None:
                attrs["penwidth"] = 2.5
            if reserved_desk(state) is not None:
                attrs["color"] = RESERVED
                attrs["fontcolor"] = RESERVED
            if state.terminal:
                style = ["filled"]
                attrs["peripheries"] = 2
            attrs["style"] = ",".join(style)
            attrs.update(link(links, state.code))
            out.append(f"    {dot_string(state.code)} {dot_attrs(**attrs)}")
        out.extend(f"    {node}" for node in decisions.get(phase_code, []))
        out.append("  }")
    out.extend(f"  {node}" for node in decisions.get(None, []))
    for code in m.external:
        state = catalogue.state(code)
        label = "\n".join([*textwrap.wrap(state.label, WRAP), f"({state.phase})"])
        out.append(
            f"  {dot_string(code)} "
            + dot_attrs(
                label=label,
                style="filled",
                fillcolor="#eeeeee",
                color="#aaaaaa",
                fontcolor="#555555",
                fontsize=8,
                tooltip=f"{code} ({state.phase})",
                **link(links, code),
            )
        )
    initial = [c for c in m.states if catalogue.state(c).initial]
    if initial:
        out.append("  __start__ " + dot_attrs(shape="point", width=0.15, label="", tooltip="start"))
        out.extend(f"  __start__ -> {dot_string(c)}" for c in initial)
    for source, target, rules in m.moves:
        extra = " " + dot_attrs(label=", ".join(rules), fontcolor="#555555") if rules else ""
        out.append(f"  {dot_string(source)} -> {dot_string(target)}{extra}")
    out.extend(decision_edges)
    if m.group_moves:
        head = "<b>Group moves</b> (dashed arrows)"
        rows = [f"<tr><td colspan='3' bgcolor='#f4f4f4'>{head}</td></tr>"]
        edges: list[str] = []
        for gm in m.group_moves:
            drawn, listed = _split(m, gm)
            source = "<br/>".join(html_text(line) for line in _group_from(gm))
            target = "<br/>".join(f"→ {html_text(code)}" for code in listed) or f"→ {len(drawn)}"
            title = html_text(gm.why).replace("'", "&#39;")
            rows.append(
                f"<tr><td>{gm.id}</td><td align='left' balign='left' title='{title}'>{source}</td>"
                f"<td align='left' balign='left' port='{gm.id}'>{target}</td></tr>"
            )
            edges.extend(
                f"  __groups__:{gm.id}:e -> {dot_string(t)} "
                + dot_attrs(style="dashed", color="#888888")
                for t in drawn
            )
        table = "".join(rows)
        out.append(
            "  __groups__ "
            + dot_attrs(
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
            + dot_attrs(
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
                f"  {dot_string(first)} -> __reprise__ "
                + dot_attrs(
                    ltail="cluster_" + phase_code,
                    style="dashed",
                    color="#777777",
                    label="reprise (↩)",
                )
            )
    legend = "".join(f"<tr><td align='left'>{html_text(line)}</td></tr>" for line in _LEGEND)
    out.append(
        "  __legend__ "
        + dot_attrs(
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
        f"<tr><td align='left' balign='left' bgcolor='#f4f4f4'><b>{html_text(tg.id)}</b><br/>"
        f"<font color='#666666'>any one of:</font></td></tr>"
    ]
    for code, (text, drawn) in zip(tg.members, _member_rows(catalogue, m, tg), strict=True):
        lines = "<br/>".join(html_text(line) for line in textwrap.wrap(text, WRAP))
        if not drawn:
            lines = f"<font color='#777777'>{lines}</font>"
        rows.append(
            f"<tr><td align='left' balign='left' bgcolor='white' port='{code}'>{lines}</td></tr>"
        )
    node = f"{dot_string(tg.id)} " + dot_attrs(
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
        out.append(
            f"  {dot_string(source)} -> {dot_string(tg.id)} "
            + dot_attrs(arrowhead="empty", **extra)
        )
    out.extend(
        f"  {dot_string(tg.id)}:{code}:e -> {dot_string(code)} "
        + dot_attrs(style="dashed", color="#888888")
        for code in tg.members
        if code in m.states
    )
    return node, out


# --- Mermaid ------------------------------------------------------------------------------


def _mermaid_id(tg: TargetGroup) -> str:
    """A decision node's Mermaid id: capitalised, so never a state code."""
    return "Group_" + re.sub(r"[^A-Za-z0-9_]", "_", tg.name)


def mermaid(catalogue: Catalogue, phase: str | None = None) -> str:
    """Mermaid ``stateDiagram-v2`` of the whole catalogue or of one phase."""
    m = model(catalogue, phase)
    colours = phase_colours(catalogue)
    out = ["stateDiagram-v2", "    direction LR"]
    phases_drawn = list(dict.fromkeys(catalogue.state(c).phase for c in m.states))
    for phase_code in phases_drawn:
        fill, stroke = colours[phase_code]
        out.append(f"    classDef {phase_code} fill:{fill},stroke:{stroke},color:#222")
    out.extend(
        [
            "    classDef locked stroke-width:3px",
            f"    classDef reserved stroke:{RESERVED},color:{RESERVED}",
            "    classDef wait stroke-dasharray:5 3",
            "    classDef external fill:#eeeeee,stroke:#aaaaaa,color:#555555,font-size:10px",
            "    classDef group fill:#ffffff,stroke:#888888,color:#444444,stroke-dasharray:4 3,"
            "font-size:10px",
        ]
    )
    classes: dict[str, list[str]] = {}
    for phase_code in phases_drawn:
        label = catalogue.phase(phase_code).label
        out.append(f'    state "{mermaid_text(label)}" as phase_{phase_code} {{')
        for code in m.states:
            state = catalogue.state(code)
            if state.phase != phase_code:
                continue
            text = "<br/>".join(mermaid_text(line) for line in state_lines(state, emoji=True))
            out.append(f'        state "{text}" as {code}')
            classes.setdefault(phase_code, []).append(code)
            if state.rule("due_date_locked") is not None:
                classes.setdefault("locked", []).append(code)
            if reserved_desk(state) is not None:
                classes.setdefault("reserved", []).append(code)
            if state.kind is StateKind.WAIT:
                classes.setdefault("wait", []).append(code)
        out.append("    }")
    for code in m.external:
        state = catalogue.state(code)
        out.append(f'    state "{mermaid_text(state.label)}<br/>({state.phase})" as {code}')
        classes.setdefault("external", []).append(code)
    for gm in m.group_moves:
        _, listed = _split(m, gm)
        lines = [f"{gm.id} · group move", *_group_from(gm), *(f"→ {t}" for t in listed)]
        out.append(f'    state "{"<br/>".join(mermaid_text(x) for x in lines)}" as {gm.id}')
        classes.setdefault("group", []).append(gm.id)
    for tg in m.target_groups:
        listed = [text for text, drawn in _member_rows(catalogue, m, tg) if not drawn]
        lines = [f"{tg.id} · any one of", *(f"→ {text}" for text in listed)]
        out.append(
            f'    state "{"<br/>".join(mermaid_text(x) for x in lines)}" as {_mermaid_id(tg)}'
        )
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


def render(catalogue: Catalogue, *, phase: str | None, fmt: Format) -> str:
    """The diagram as text in ``fmt``: what ``etatmachine diagram`` prints."""
    if fmt == "mermaid":
        return mermaid(catalogue, phase)
    if fmt == "dot":
        return dot(catalogue, phase)
    if fmt == "svg":
        return svg(catalogue, phase)
    raise ValueError(f"unknown diagram format {fmt!r}; valid: mermaid, dot, svg")
