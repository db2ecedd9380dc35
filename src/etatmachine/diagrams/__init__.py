"""State diagrams generated from a catalogue (Mermaid, Graphviz DOT, SVG), never drawn by hand.

Two kinds, one module each: the compact drawings of every move (`compact`: the whole
catalogue or a phase, what ``etatmachine diagram`` prints) and the views a learner reads
first (`views`: the life of a dossier, a phase page, a state's neighbourhood). `drawing`
holds what they share (colours, box text, links, escaping); `graphviz` runs ``dot``.

Output is deterministic (ids are state codes, edges sorted) so golden files can pin it.

>>> from etatmachine.catalogue import default_catalogue
>>> text = mermaid(default_catalogue(), phase="devis")
>>> text.splitlines()[0]
'stateDiagram-v2'
>>> 'state "Etude de devis<br/>48 h ouvrées" as etude_devis' in text
True
"""

from etatmachine.diagrams.compact import (
    DiagramModel,
    Format,
    GroupEdge,
    TargetGroup,
    dot,
    mermaid,
    model,
    render,
    svg,
)
from etatmachine.diagrams.drawing import Links, UnknownPhaseError
from etatmachine.diagrams.graphviz import GraphvizError, GraphvizNotFound, dot_to_svg
from etatmachine.diagrams.views import (
    MAIN_PATH,
    MAIN_SIDE,
    Neighbourhood,
    PathError,
    PhaseView,
    View,
    life_dot,
    life_moves,
    neighbourhood,
    neighbourhood_mermaid,
    phase_dot,
    phase_view,
)

__all__ = [
    "MAIN_PATH",
    "MAIN_SIDE",
    "DiagramModel",
    "Format",
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
    "life_moves",
    "mermaid",
    "model",
    "neighbourhood",
    "neighbourhood_mermaid",
    "phase_dot",
    "phase_view",
    "render",
    "svg",
]
