"""Views for learners: the life of a dossier, a phase page, a state's neighbourhood.

The compact drawings (`etatmachine.diagrams.compact`) stand for every move; these stand
for what a person reads first. Each returns its text and the number of nodes it draws,
which the docs' browser check compares with what the page rendered.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from etatmachine.catalogue import Catalogue, StateKind, StateSpec
from etatmachine.diagrams.compact import TargetGroup
from etatmachine.diagrams.drawing import (
    RESERVED,
    Links,
    check_phase,
    deadline_line,
    dot_attrs,
    dot_string,
    expand,
    html_text,
    link,
    mermaid_text,
    phase_colours,
    reserved_desk,
    state_marks,
)
from etatmachine.errors import EtatmachineError
from etatmachine.tables import deadline_words

__all__ = [
    "MAIN_PATH",
    "MAIN_SIDE",
    "Neighbourhood",
    "PathError",
    "PhaseView",
    "View",
    "life_dot",
    "life_moves",
    "neighbourhood",
    "neighbourhood_mermaid",
    "phase_dot",
    "phase_view",
]

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
    detail = " ".join([deadline_words(state.deadline), *state_marks(state, emoji=False)])
    return "\n".join([*lines, detail])


def _view_header(name: str, rankdir: str, title: str) -> list[str]:
    return [
        f"digraph {dot_string(name)} {{",
        "  graph "
        + dot_attrs(
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
        + dot_attrs(
            shape="box",
            style="rounded,filled",
            fillcolor="white",
            fontname="DejaVu Sans",
            fontsize=12,
            margin="0.12,0.06",
        ),
        "  edge " + dot_attrs(fontname="DejaVu Sans", fontsize=10, color="#666666", arrowsize=0.8),
    ]


def _state_node(
    catalogue: Catalogue, state: StateSpec, links: Links | None, **extra: str | float
) -> str:
    _, stroke = phase_colours(catalogue)[state.phase]
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
    if reserved_desk(state) is not None:
        attrs["color"] = RESERVED
        attrs["fontcolor"] = RESERVED
    if state.terminal:
        style = ["filled"]
        attrs["peripheries"] = 2
    attrs["style"] = ",".join(style)
    attrs.update(extra)
    attrs.update(link(links, state.code))
    return f"{dot_string(state.code)} {dot_attrs(**attrs)}"


def life_moves(
    catalogue: Catalogue, shown: Iterable[str], main: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The moves « Life of a dossier » draws: the catalogue's moves between the states shown,
    except a detour that skips a whole phase (opening straight to works): it is on the phase
    pages, and here it would hide the main path."""
    order = {p.code: i for i, p in enumerate(catalogue.phases)}
    here = list(dict.fromkeys(shown))
    out = []
    for source in here:
        for target in catalogue.moves_from(source):
            if target not in here or target == source:
                continue
            gap = abs(order[catalogue.state(source).phase] - order[catalogue.state(target).phase])
            if (source, target) in main or gap <= 1:
                out.append((source, target))
    return out


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
    colours = phase_colours(catalogue)
    out = _view_header("life", "TB", "")
    nodes = 0
    for p in catalogue.phases:
        members = [c for c in shown if catalogue.state(c).phase == p.code]
        if not members:
            continue
        fill, stroke = colours[p.code]
        out.append(f"  subgraph {dot_string('cluster_' + p.code)} {{")
        out.append(
            "    graph "
            + dot_attrs(
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
    out.extend(f"  {{rank=same; {'; '.join(dot_string(c) for c in row)}}}" for row in rows.values())
    out.append("  __start__ " + dot_attrs(shape="point", width=0.18, label="", tooltip="start"))
    out.append(
        f"  __start__ -> {dot_string(path[0])} " + dot_attrs(color=_MAIN_COLOUR, penwidth=2.5)
    )
    nodes += 1
    for source, target in life_moves(catalogue, shown, main):
        if (source, target) in main:
            attrs: dict[str, str | float] = {"color": _MAIN_COLOUR, "penwidth": 3, "weight": 20}
        else:
            attrs = {"color": "#9a9a9a", "weight": 1}
        out.append(f"  {dot_string(source)} -> {dot_string(target)} {dot_attrs(**attrs)}")
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
                members = dict.fromkeys(expand((move.to,), catalogue.groups))
                out.extend((state.code, t, move.to[1:]) for t in members)
            else:
                out.append((state.code, move.to, None))
    return out


def phase_view(catalogue: Catalogue, phase: str) -> PhaseView:
    """The phase page's drawing, before it is written as DOT."""
    check_phase(catalogue, phase)
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
        members = tuple(dict.fromkeys(expand((f"@{group}",), catalogue.groups)))
        drawn = [t for t in members if t in here]
        pairs = {(s, t) for s in sources for t in drawn}
        if len(sources) + len(drawn) < len(pairs):
            decisions.append(TargetGroup(group, tuple((s, ()) for s in sources), members))
            inner -= pairs
    group_moves = []
    for i, gm in enumerate(catalogue.group_moves, start=1):
        ends = set(expand(gm.from_, catalogue.groups)) | set(expand(gm.to, catalogue.groups))
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
    fill, stroke = phase_colours(catalogue)[phase]
    names = [
        "<br/>".join(html_text(x) for x in textwrap.wrap(catalogue.state(c).label, _VIEW_WRAP))
        for c in dict.fromkeys(codes)
    ]
    rows = "".join(f"<tr><td align='left' balign='left'>{n}</td></tr>" for n in names)
    label = (
        "<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>"
        f"<tr><td align='left'><b>{html_text(head)}</b></td></tr>"
        f"<tr><td align='left'><i>{html_text(catalogue.phase(phase).label)}</i></td></tr>"
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
    return f"  {dot_string(node)} {dot_attrs(**attrs)}"


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
        out.append("  __start__ " + dot_attrs(shape="point", width=0.15, label="", tooltip="start"))
        out.extend(f"  __start__ -> {dot_string(c)}" for c in initial)
        nodes += 1
    for source, target in v.inner:
        out.append(f"  {dot_string(source)} -> {dot_string(target)}")
    leaving: dict[tuple[str, str], list[str]] = {}
    for tg in v.decisions:
        drawn = [t for t in tg.members if t in v.states]
        rows = "".join(
            f"<tr><td align='left'>→ {html_text(catalogue.state(t).label)}</td></tr>" for t in drawn
        )
        others = [t for t in tg.members if t not in v.states]
        more = f"<tr><td align='left'><i>or {len(others)} of other phases</i></td></tr>"
        out.append(
            f"  {dot_string(tg.id)} "
            + dot_attrs(
                shape="box",
                style="rounded,dashed",
                color="#888888",
                fontsize=10,
                fontcolor="#333333",
                tooltip=f"{tg.id}: any one of the group",
                label="<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>"
                f"<tr><td align='left'><b>any one of {html_text(tg.id)}</b></td></tr>{rows}"
                f"{more if others else ''}</table>>",
            )
        )
        nodes += 1
        for source, _ in tg.sources:
            out.append(
                f"  {dot_string(source)} -> {dot_string(tg.id)} " + dot_attrs(arrowhead="empty")
            )
        out.extend(
            f"  {dot_string(tg.id)} -> {dot_string(t)} "
            + dot_attrs(style="dashed", color="#888888")
            for t in drawn
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
        out.append(f"  {{rank=min; {'; '.join(dot_string('from_' + p) for p in from_phase)}}}")
    if to_phase:
        out.append(f"  {{rank=max; {'; '.join(dot_string('to_' + p) for p in to_phase)}}}")
    summary = dot_attrs(color="#777777", style="dashed")
    for source, other in leaving:
        out.append(f"  {dot_string(source)} -> {dot_string('to_' + other)} {summary}")
    for other, target in arriving:
        out.append(f"  {dot_string('from_' + other)} -> {dot_string(target)} {summary}")
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
            label = (
                f"{len(members)} action dates of<br/>{mermaid_text(catalogue.phase(phase).label)}"
            )
            out.append((f"{side}_phase_{phase}", label, None))
        else:
            for c in members:
                state = catalogue.state(c)
                text = "<br/>".join(mermaid_text(x) for x in textwrap.wrap(state.label, _VIEW_WRAP))
                out.append((f"{side}_{c}", text, c))
    return out


def neighbourhood_mermaid(catalogue: Catalogue, code: str, *, links: Links | None = None) -> View:
    """A state page's Mermaid flowchart: where a file comes from, the state, where it may go;
    phases that bring many states are one box (with ``links``, nodes are clickable)."""
    n = neighbourhood(catalogue, code)
    state = catalogue.state(code)
    fill, stroke = phase_colours(catalogue)[state.phase]
    here = "<br/>".join(
        [
            *(mermaid_text(x) for x in textwrap.wrap(state.label, _VIEW_WRAP)),
            mermaid_text(deadline_line(state)),
        ]
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
