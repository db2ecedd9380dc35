"""Diagrams and the catalogue table, pinned by golden files.

The golden files under ``tests/golden/`` are the generated output for the bundled
catalogue: ``diagrams/all.{mmd,dot}``, ``diagrams/<phase>.{mmd,dot}``, the learners' views
(``diagrams/views/``: the life of a dossier, each phase page, one state's neighbourhood) and
``catalogue.md``.
A change to the catalogue or to the generators makes these tests fail; review the diff,
then regenerate them with::

    ETATMACHINE_REGEN=1 pytest tests/test_diagrams.py

and commit the new files with the change.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from transitions.extensions.markup import MarkupMachine

from etatmachine.binding import machine_of
from etatmachine.catalogue import default_catalogue, parse_catalogue
from etatmachine.diagrams import (
    MAIN_PATH,
    MAIN_SIDE,
    GraphvizError,
    GraphvizNotFound,
    Links,
    PathError,
    UnknownPhaseError,
    compact,
    dot,
    dot_to_svg,
    life_dot,
    mermaid,
    model,
    neighbourhood,
    neighbourhood_mermaid,
    phase_dot,
    phase_view,
    render,
    svg,
)
from etatmachine.diagrams.drawing import expand
from etatmachine.errors import EtatmachineError
from etatmachine.tables import catalogue_markdown, deadline_text, deadline_words
from etatmachine.workflow import Workflow

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("ETATMACHINE_REGEN") == "1"
CATALOGUE = default_catalogue()
PHASES = [p.code for p in CATALOGUE.phases]
_NODE = re.compile(r'^\s*"([a-z][a-z0-9_]*)" \[', re.M)
_EDGE = re.compile(r'^\s*"([a-z][a-z0-9_]*)" -> "([a-z][a-z0-9_]*)"', re.M)
_GROUP_EDGE = re.compile(r'^\s*__groups__:(G\d+):e -> "([a-z][a-z0-9_]*)"', re.M)
# decision nodes: `"src" -> "@group"`, `"@group":member:e -> "member"`, a row (port) per member
_TO_DECISION = re.compile(r'^\s*"([a-z][a-z0-9_]*)" -> "@([^"]+)"', re.M)
_FROM_DECISION = re.compile(r'^\s*"@([^"]+)":([a-z][a-z0-9_]*):e -> "([a-z][a-z0-9_]*)"', re.M)
_DECISION_NODE = re.compile(r'^\s*"@([^"]+)" \[.*label=<(.*)>\]$', re.M)
_PORT = re.compile(r"port='([a-z][a-z0-9_]*)'")


def drawn_explicit_moves(text: str, phase: str | None) -> set[tuple[str, str]]:
    """The states' own moves a DOT text shows, read back from the drawing alone: plain
    edges, plus each decision node's sources times the members its rows list (in a phase
    diagram, those that start or end in the phase)."""
    here = {s.code for s in CATALOGUE if phase is None or s.phase == phase}
    members = {name: _PORT.findall(label) for name, label in _DECISION_NODE.findall(text)}
    # a member drawn in full has its dashed arrow, the others are only named
    arrows = {(g, t) for g, port, t in _FROM_DECISION.findall(text) if port == t}
    assert len(arrows) == len(_FROM_DECISION.findall(text))
    assert arrows == {(g, t) for g, codes in members.items() for t in codes if t in here}
    moves = set(_EDGE.findall(text))
    for source, name in _TO_DECISION.findall(text):
        moves.update(
            (source, t)
            for t in members[name]
            if source != t and (phase is None or {source, t} & here)
        )
    return moves


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run ETATMACHINE_REGEN=1 pytest {__file__}"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} differs from the generated output: review, then regenerate with "
        "ETATMACHINE_REGEN=1 pytest tests/test_diagrams.py"
    )


@pytest.mark.parametrize("phase", [None, *PHASES])
@pytest.mark.parametrize(("fmt", "suffix"), [("mermaid", "mmd"), ("dot", "dot")])
def test_golden_diagram(phase: str | None, fmt: Any, suffix: str) -> None:
    check_golden(f"diagrams/{phase or 'all'}.{suffix}", render(CATALOGUE, phase=phase, fmt=fmt))


def test_golden_catalogue_table() -> None:
    check_golden("catalogue.md", catalogue_markdown(CATALOGUE))


def test_no_stray_golden_files() -> None:
    """A phase renamed or removed leaves no stale golden diagram behind."""
    if REGEN:
        pytest.skip("regenerating the golden files: run again without ETATMACHINE_REGEN")
    expected = {f"{name}.{suffix}" for name in ["all", *PHASES] for suffix in ("mmd", "dot")}
    present = {p.name for p in (GOLDEN / "diagrams").iterdir() if p.is_file()}
    assert present == expected
    views = {"life.dot", "state-etude_devis.mmd", *(f"phase-{p}.dot" for p in PHASES)}
    assert {p.name for p in (GOLDEN / "diagrams" / "views").iterdir()} == views


def test_the_exported_catalogue_stands_for_the_same_moves() -> None:
    """`to_dict` expands every group move: the compact drawing must mean the same graph."""
    fresh = parse_catalogue(CATALOGUE.to_dict() | {"groups": dict(CATALOGUE.groups)})
    assert model(fresh).expanded() == model(CATALOGUE).expanded()
    assert dot(CATALOGUE, "devis") == dot(CATALOGUE, "devis")


def test_every_state_is_in_the_whole_diagram() -> None:
    text = dot(CATALOGUE)
    assert set(_NODE.findall(text)) == {s.code for s in CATALOGUE}
    chart = mermaid(CATALOGUE)
    for state in CATALOGUE:
        assert re.search(rf'^\s+state "[^"]+" as {state.code}$', chart, re.M), state.code


@pytest.mark.parametrize("phase", PHASES)
def test_phase_diagram_holds_its_states_in_its_cluster(phase: str) -> None:
    text = dot(CATALOGUE, phase)
    start = text.index(f'subgraph "cluster_{phase}" {{')
    cluster = text[start : text.index("\n  }", start)]
    assert set(_NODE.findall(cluster)) == {s.code for s in CATALOGUE if s.phase == phase}
    assert text.count("subgraph") == 1
    chart = mermaid(CATALOGUE, phase)
    start = chart.index(f"as phase_{phase} {{")
    block = chart[start : chart.index("\n    }\n", start)] + "\n"
    for state in CATALOGUE:
        assert (f" as {state.code}\n" in block) is (state.phase == phase), state.code


@pytest.mark.parametrize("phase", PHASES)
def test_phase_diagram_shows_neighbours_as_grey_boxes(phase: str) -> None:
    m = model(CATALOGUE, phase)
    text = dot(CATALOGUE, phase)
    for code in m.external:
        assert CATALOGUE.state(code).phase != phase
        assert re.search(rf'^  "{code}" \[.*fillcolor="#eeeeee"', text, re.M), code
    # every explicit move touching the phase is drawn
    for source, target, _ in m.moves:
        assert f'"{source}" -> "{target}"' in text


def test_transitions_markup_agrees_with_the_move_table_and_the_drawing() -> None:
    """transitions' own view of the machine = our move table = what the diagram stands for."""
    wf = Workflow(CATALOGUE)
    table = {(s.code, t) for s in CATALOGUE for t in wf.targets(s.code)}
    markup = MarkupMachine(
        states=[s.code for s in CATALOGUE],
        transitions=[{"trigger": t, "source": source, "dest": t} for source, t in sorted(table)],
        initial=next(s.code for s in CATALOGUE if s.initial),
        auto_transitions=False,
    ).markup
    from_markup = {(t["source"], t["dest"]) for t in markup["transitions"]}
    assert from_markup == table
    shared = machine_of(wf)  # the one machine bound objects move through
    assert {(s, d) for s in shared.states for d in shared.get_triggers(s)} == table
    m = model(CATALOGUE)
    assert m.expanded() == table
    assert len(table) == sum(len(CATALOGUE.moves_from(s.code)) for s in CATALOGUE) + sum(
        len(
            (CATALOGUE.resume_targets(s.code) | CATALOGUE.onward_targets(s.code))
            - set(CATALOGUE.moves_from(s.code))
        )
        for s in CATALOGUE
    )
    # and the DOT text draws exactly the model: explicit edges, decision nodes, group rows,
    # one reprise note
    text = dot(CATALOGUE)
    assert set(_EDGE.findall(text)) == {(s, t) for s, t, _ in m.moves}
    assert set(_TO_DECISION.findall(text)) == {
        (s, tg.name) for tg in m.target_groups for s, _ in tg.sources
    }
    assert drawn_explicit_moves(text, None) == m.explicit()
    assert m.explicit() == {
        (s.code, t.to) for s in CATALOGUE for t in s.moves if t.to[0] != "@"
    } | {
        (s.code, t)
        for s in CATALOGUE
        for move in s.moves
        if move.to[0] == "@"
        for t in CATALOGUE.groups[move.to[1:]]
        if t != s.code  # a group never makes a self-move
    }
    assert set(_GROUP_EDGE.findall(text)) == {(g.id, t) for g in m.group_moves for t in g.targets}
    arrows = [_EDGE, _GROUP_EDGE, _TO_DECISION, _FROM_DECISION]
    assert sum(len(r.findall(text)) for r in arrows) < len(table) / 2


@pytest.mark.parametrize("phase", PHASES)
def test_phase_diagram_draws_exactly_the_moves_touching_the_phase(phase: str) -> None:
    """A phase's plain edges and decision nodes stand for the whole catalogue's explicit
    moves that start or end in the phase, no more, no less, and the DOT text shows them."""
    here = {s.code for s in CATALOGUE if s.phase == phase}
    m = model(CATALOGUE, phase)
    whole = model(CATALOGUE).explicit()
    assert m.explicit() == {(s, t) for s, t in whole if {s, t} & here}
    text = dot(CATALOGUE, phase)
    assert drawn_explicit_moves(text, phase) == m.explicit()
    assert set(_EDGE.findall(text)) == {(s, t) for s, t, _ in m.moves}
    chart = mermaid(CATALOGUE, phase)
    for tg in m.target_groups:
        for source, _ in tg.sources:
            assert re.search(rf"^    {source} --> Group_{tg.name}$", chart, re.M)
        for t in tg.members:
            assert (f"    Group_{tg.name} --> {t}\n" in chart) is (t in here), t


def test_moves_to_a_group_are_drawn_through_one_decision_node() -> None:
    """The devis phase's four states that move to `@quote_decisions` draw 4 + 4 arrows through
    one node (its 5 members of other phases are named in it), not 36; `@report_decisions`,
    which only brings three rapport_expert states to `etude_devis`, keeps its 3 plain arrows."""
    m = model(CATALOGUE, "devis")
    assert [(tg.name, len(tg.sources), len(tg.members)) for tg in m.target_groups] == [
        ("quote_decisions", 4, 9)
    ]
    text = dot(CATALOGUE, "devis")
    assert len(_TO_DECISION.findall(text)) == 4 and len(_FROM_DECISION.findall(text)) == 4
    assert '"etude_devis" -> "devis_demande_info"' not in text
    assert '"re_retour_expert" -> "etude_devis"' in text
    # the node sits in the phase's cluster, other phases' members only named, greyed
    cluster = text[text.index('subgraph "cluster_devis"') : text.index("\n  }")]
    assert '"@quote_decisions" [' in cluster
    assert "Devis envoyé à la cie en<br/>attente de retour (specifique)</font>" in text
    chart = mermaid(CATALOGUE, "devis")
    assert "etude_devis --> devis_demande_info" not in chart
    assert "→ Devis envoyé à la cie en attente de retour (specifique)" in chart
    assert "class G4,G5,G7,G9,G10,Group_quote_decisions group" in chart
    assert [tg.name for tg in model(CATALOGUE, "rapport_expert").target_groups] == [
        "report_decisions"
    ]


MINI = """
name = "mini"
version = "1"
phases = [
  { code = "one", label = "Un", description = "d" },
  { code = "end", label = "Fin", description = "d" },
]
groups = { work = ["a", "b"] }

[[states]]
code = "a"
label = "A > B"
resolvable = false  # "A > B" and "B" share a normal form ("a" is a little word)
phase = "one"
owner = "contractor"
initial = true
meaning = "m"
meaning_en = "m"
deadline = { kind = "business_hours", amount = 24, figure = "24h" }
rules = [{ code = "due_date_locked" }]
moves = [{ to = "b" }]

[[states]]
code = "b"
label = "B"
phase = "one"
owner = "contractor"
meaning = "m"
meaning_en = "m"
deadline = { kind = "given" }
moves = [{ to = "done" }]

[[states]]
code = "w"
label = "W"
phase = "one"
kind = "wait"
resume = true
owner = "insured"
meaning = "m"
meaning_en = "m"
deadline = { kind = "given", overridable = true }
rules = [{ code = "comment_required" }]

[[states]]
code = "done"
label = "Done"
phase = "end"
kind = "terminal"
meaning = "m"
meaning_en = "m"
deadline = { kind = "none" }

[[states]]
code = "gone"
label = "Gone"
phase = "end"
kind = "terminal"
meaning = "m"
meaning_en = "m"
deadline = { kind = "none" }

[[group_moves]]
from = ["@work"]
to = ["w"]
why = "any time"

[[group_moves]]
from = ["@work", "w"]
to = ["gone"]
why = "any time"
"""


def test_compact_drawing_of_a_small_catalogue() -> None:
    cat = parse_catalogue(tomllib.loads(MINI))
    chart = mermaid(cat)
    assert "[*] --> a" in chart
    assert "done --> [*]" in chart and "gone --> [*]" in chart
    assert 'state "A #gt; B<br/>24 h ouvrées 🔒" as a' in chart
    assert 'state "W<br/>date saisie ✎ ↩" as w' in chart
    assert "G1 --> w" in chart and "G2 --> gone" in chart
    assert "a --> w" not in chart  # the group move is not expanded
    assert "phase_one --> reprise : reprise (↩)" in chart
    text = dot(cat)
    assert re.search(r'^    "a" \[.*penwidth="2.5"', text, re.M)
    assert re.search(r'^    "done" \[.*peripheries="2"', text, re.M)
    assert re.search(r'^    "w" \[.*style="rounded,filled,dashed"', text, re.M)
    assert 'ltail="cluster_one"' in text
    assert model(cat).expanded() == {
        ("a", "b"),
        ("b", "done"),
        ("a", "w"),
        ("b", "w"),
        ("a", "gone"),
        ("b", "gone"),
        ("w", "gone"),
        ("w", "a"),
        ("w", "b"),
        ("w", "done"),  # onward: what the interrupted b could do next
    }
    # the phase "end" only receives: its group targets are drawn, the sources are not
    end = model(cat, "end")
    assert end.external == ("b",)
    assert [(g.id, g.targets) for g in end.group_moves] == [("G2", ("gone",))]


def test_decision_node_of_a_small_catalogue() -> None:
    text = MINI.replace(
        'groups = { work = ["a", "b"] }',
        'groups = { work = ["a", "b"], finish = ["done", "gone", "w"] }',
    ).replace('moves = [{ to = "b" }]', 'moves = [{ to = "b" }, { to = "@finish" }]')
    text = text.replace('moves = [{ to = "done" }]', 'moves = [{ to = "@finish" }]')
    cat = parse_catalogue(tomllib.loads(text))
    whole = model(cat)
    assert [(tg.name, tg.sources, tg.members) for tg in whole.target_groups] == [
        ("finish", (("a", ()), ("b", ())), ("done", "gone", "w"))
    ]
    assert whole.moves == (("a", "b", ()),)
    assert whole.explicit() == {("a", "b")} | {(s, t) for s in "ab" for t in ("done", "gone", "w")}
    chart = mermaid(cat)
    assert "a --> Group_finish" in chart and "Group_finish --> gone" in chart
    assert 'state "@finish · any one of" as Group_finish' in chart
    graph = dot(cat)
    assert '"b" -> "@finish" [arrowhead="empty"]' in graph
    assert '"@finish":w:e -> "w"' in graph
    # phase "one" draws the node, naming the closing states; phase "end" only receives two
    # members from two states: a node would not save an arrow, the plain arrows stay
    one = model(cat, "one")
    assert [tg.name for tg in one.target_groups] == ["finish"] and one.external == ()
    assert "→ Done (end)<br/>→ Gone (end)" in mermaid(cat, "one")
    end = model(cat, "end")
    assert end.target_groups == ()
    assert {(s, t) for s, t, _ in end.moves} == {(s, t) for s in "ab" for t in ("done", "gone")}


def test_reserved_states_are_marked() -> None:
    text = dot(CATALOGUE, "rapport_expert")
    assert re.search(r'^    "attente_information_expert" \[.*color="#b3261e"', text, re.M)
    assert "⚑ RE" in mermaid(CATALOGUE, "rapport_expert")


def test_unknown_phase_names_the_valid_ones() -> None:
    with pytest.raises(UnknownPhaseError, match="valid: ouverture, devis") as info:
        render(CATALOGUE, phase="devs", fmt="dot")
    assert isinstance(info.value, EtatmachineError)
    assert isinstance(info.value, LookupError)
    with pytest.raises(UnknownPhaseError):
        catalogue_markdown(CATALOGUE, "devs")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="valid: mermaid, dot, svg"):
        render(CATALOGUE, phase=None, fmt="png")  # type: ignore[arg-type]


def test_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz") as info:
        render(CATALOGUE, phase="devis", fmt="svg")
    assert isinstance(info.value, EtatmachineError)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_svg() -> None:
    text = svg(CATALOGUE, "devis")
    assert "<svg" in text
    for state in CATALOGUE:
        if state.phase == "devis":
            assert f"<title>{state.code}</title>" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graphviz_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compact, "dot", lambda catalogue, phase=None, links=None: "digraph {")
    with pytest.raises(GraphvizError, match="exited with"):
        svg(CATALOGUE)


def test_table_lists_every_state_once() -> None:
    text = catalogue_markdown(CATALOGUE)
    for state in CATALOGUE:
        assert len(re.findall(rf"^\| `{state.code}` \|", text, re.M)) == 1, state.code
    devis = catalogue_markdown(CATALOGUE, "devis")
    assert devis.startswith("## Date d'action d'étude de devis")
    assert "`travaux_en_cours`" not in devis
    assert "| G9 |" in devis and "| G1 |" not in devis


# --- the learners' views ---------------------------------------------------------------------

LINKS = Links(state=lambda c: f"../states/{c}.html", phase=lambda p: f"{p}.html")


def test_golden_views() -> None:
    check_golden("diagrams/views/life.dot", life_dot(CATALOGUE, links=LINKS).source)
    for phase in PHASES:
        check_golden(
            f"diagrams/views/phase-{phase}.dot", phase_dot(CATALOGUE, phase, links=LINKS).source
        )
    check_golden(
        "diagrams/views/state-etude_devis.mmd",
        neighbourhood_mermaid(CATALOGUE, "etude_devis", links=LINKS).source,
    )


def test_life_of_a_dossier_draws_the_main_path_bold_and_in_catalogue_moves_only() -> None:
    view = life_dot(CATALOGUE, links=LINKS)
    shown = [*MAIN_PATH, *MAIN_SIDE]
    assert 12 <= len(shown) <= 15
    assert MAIN_PATH[0] == "contact_client_devis" and "travaux_en_cours" in MAIN_PATH
    assert CATALOGUE.state(MAIN_PATH[-1]).terminal
    assert set(_NODE.findall(view.source)) == set(shown)
    assert view.nodes == len(shown) + 1  # and the start point
    edges = set(_EDGE.findall(view.source))
    among = {(s, t) for s in shown for t in CATALOGUE.moves_from(s) if t in shown and t != s}
    order = {p: i for i, p in enumerate(PHASES)}
    gap = {
        (s, t): abs(order[CATALOGUE.state(s).phase] - order[CATALOGUE.state(t).phase])
        for s, t in among
    }
    assert edges == {m for m in among if gap[m] <= 1} | set(itertools.pairwise(MAIN_PATH))
    assert edges <= among  # only the catalogue's moves; the skipped ones jump a whole phase
    bold = set(re.findall(r'^\s*"(\w+)" -> "(\w+)" \[color="#1f4e8c"', view.source, re.M))
    assert bold == set(itertools.pairwise(MAIN_PATH))
    for code in shown:
        assert f'URL="../states/{code}.html"' in view.source


def test_a_main_path_off_the_catalogue_is_refused() -> None:
    with pytest.raises(PathError, match="contact_client_devis' -> 'travaux_en_cours") as info:
        life_dot(CATALOGUE, path=("contact_client_devis", "travaux_en_cours"), side={})
    assert isinstance(info.value, EtatmachineError) and isinstance(info.value, ValueError)
    assert (info.value.source, info.value.target) == ("contact_client_devis", "travaux_en_cours")
    with pytest.raises(PathError):
        life_dot(CATALOGUE, path=MAIN_PATH[:1], side={"nowhere": MAIN_PATH[0]})


@pytest.mark.parametrize("phase", PHASES)
def test_phase_view_stands_for_every_explicit_move_touching_the_phase(phase: str) -> None:
    view = phase_view(CATALOGUE, phase)
    here = set(view.states)
    explicit = set()
    for state in CATALOGUE:
        for move in state.moves:
            targets = expand((move.to,), CATALOGUE.groups) if move.to.startswith("@") else [move.to]
            explicit.update((state.code, t) for t in targets if {state.code, t} & here)
    through = {
        (s, t) for tg in view.decisions for s, _ in tg.sources for t in tg.members if t in here
    }
    drawn = set(view.inner) | through | set(view.outgoing) | set(view.incoming)
    assert drawn == explicit
    assert all(s in here and t in here for s, t in view.inner)
    assert all(s in here and t not in here for s, t in view.outgoing)
    assert all(s not in here and t in here for s, t in view.incoming)


@pytest.mark.parametrize("phase", PHASES)
def test_phase_diagram_sums_other_phases_up_in_one_box_each(phase: str) -> None:
    view = phase_view(CATALOGUE, phase)
    text = phase_dot(CATALOGUE, phase, links=LINKS).source
    others_in = {CATALOGUE.state(s).phase for s, _ in view.incoming}
    others_out = {CATALOGUE.state(t).phase for _, t in view.outgoing}
    boxes = set(re.findall(r'^\s*"((?:from|to)_\w+)" \[', text, re.M))
    assert boxes == {f"from_{p}" for p in others_in} | {f"to_{p}" for p in others_out}
    assert set(_NODE.findall(text)) - boxes == set(view.states)
    assert "__groups__" not in text and "__reprise__" not in text  # group moves are words
    for p in others_in | others_out:
        assert f'URL="{p}.html"' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
@pytest.mark.parametrize("phase", PHASES)
def test_phase_diagram_node_count_is_what_graphviz_draws(phase: str) -> None:
    view = phase_dot(CATALOGUE, phase, rankdir="LR")
    assert dot_to_svg(view.source).count('class="node"') == view.nodes


@pytest.mark.parametrize("code", [s.code for s in CATALOGUE])
def test_neighbourhood_is_one_step_of_the_move_table(code: str) -> None:
    n = neighbourhood(CATALOGUE, code)
    assert set(n.outgoing) == set(CATALOGUE.moves_from(code)) - {code}
    assert set(n.incoming) == {
        s.code for s in CATALOGUE if code in CATALOGUE.moves_from(s.code) and s.code != code
    }
    view = neighbourhood_mermaid(CATALOGUE, code, links=LINKS)
    ids = re.findall(r"^    (\w+)\[", view.source, re.M)
    extra = int(n.resumes) + int(CATALOGUE.state(code).terminal)
    assert view.nodes == len(ids) + extra
    assert len(re.findall(r"^    click ", view.source, re.M)) == len(ids) - 1
    for side in ("in_", "out_"):  # a crowded side is one box per phase
        assert sum(i.startswith(side) for i in ids) <= max(6, len(CATALOGUE.phases))


def test_a_phase_bringing_many_states_is_one_box_in_the_neighbourhood() -> None:
    text = neighbourhood_mermaid(CATALOGUE, "dossier_annule", links=LINKS).source
    assert "in_phase_attente" in text and "in_attente_cie" not in text
    assert 'click in_phase_attente href "attente.html"' in text
    assert "the file is closed" in text


def test_dot_links_each_state_to_its_page() -> None:
    text = dot(CATALOGUE, "devis", links=LINKS)
    assert 'URL="../states/etude_devis.html", target="_top"' in text
    assert "URL=" not in dot(CATALOGUE, "devis")


def test_deadlines_say_their_unit() -> None:
    words = {s.code: deadline_words(s.deadline) for s in CATALOGUE}
    assert words["contact_client_devis"] == "24 h ouvrées"
    assert words["rapport_attente_traitement"] == "5 jours ouvrés"
    assert words["contact_client_travaux_15j"] == "15 jours calendaires"
    assert words["devis_attente_accord_expert"] == "date saisie : date de relance"
    assert words["demande_traitement_devis"] == "échéance conservée (48h de l'étude)"
    assert words["devis_attente_accord_cie"] == "date saisie"
    assert words["travaux_termines"] == "aucune (clôture)"
    one = CATALOGUE.state("rapport_attente_traitement").deadline.model_copy(update={"amount": 1})
    assert deadline_words(one) == "1 jour ouvré"
    assert deadline_text(CATALOGUE.state("etude_devis").deadline) == "48 h ouvrées (« 48h »)"
    assert deadline_text(CATALOGUE.state("attente_gestion_ma").deadline) == (
        "2 jours calendaires (« 48h (observed) » in the histories), or a given date"
    )
    whole = mermaid(CATALOGUE)
    for state in CATALOGUE:  # every box says its deadline with its unit
        assert f"<br/>{deadline_words(state.deadline)}" in whole, state.code
