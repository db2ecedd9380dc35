"""Sphinx extension: generate the procedure, rules and deadline pages from the catalogue.

Runs at ``builder-inited`` and writes into ``docs/_generated/`` (ignored by git), so the
documented procedure is always the one the package ships: the diagrams are laid out by
Graphviz (a missing ``dot`` fails the build with the install hint), the tables come from
`etatmachine.tables`, the example refusals from the real workflow (`refusals`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from refusals import example
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from etatmachine import Workflow
from etatmachine.catalogue import Catalogue, DeadlineKind, StateSpec, default_catalogue
from etatmachine.diagrams import GraphvizError, mermaid, svg
from etatmachine.rules import RULES
from etatmachine.tables import catalogue_markdown, deadline_text, rule_text

_ESCAPE = re.compile(r"([\\`*_\[\]<>|#])")


def _md(text: str) -> str:
    """Plain text as Markdown that renders literally."""
    return _ESCAPE.sub(r"\\\1", text)


def _write(path: Path, text: str) -> None:
    """Write only on change, so Sphinx does not rebuild pages that did not move."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


_SIZE = re.compile(r'(<svg width="[0-9.]+)pt(" height="[0-9.]+)pt"')


def _svg(catalogue: Catalogue, phase: str | None) -> str:
    """Graphviz's SVG, sized in CSS pixels (1pt = 1px) so the page shows it a bit smaller."""
    try:
        text = svg(catalogue, phase)
    except GraphvizError as exc:
        raise ExtensionError(f"cannot draw the procedure diagrams: {exc}") from exc
    return _SIZE.sub(r'\1px\2px"', text, count=1)


def _mermaid_block(catalogue: Catalogue, phase: str | None) -> list[str]:
    return [
        "<details><summary>Mermaid source of this diagram</summary>",
        "",
        "```text",
        mermaid(catalogue, phase).rstrip("\n"),
        "```",
        "",
        "</details>",
        "",
    ]


def _state_details(catalogue: Catalogue, state: StateSpec) -> list[str]:
    out = [f"### {_md(state.label)}", ""]
    facts = [f"`{state.code}`", f"kind **{state.kind.value}**"]
    if state.owner is not None:
        facts.append(f"owner **{state.owner.value}**")
    facts.append(f"deadline **{_md(deadline_text(state.deadline))}**")
    if state.initial:
        facts.append("a file may be opened here")
    out += [" · ".join(facts), ""]
    out += [f"- *Sens* — {_md(state.meaning)}", f"- *Meaning* — {_md(state.meaning_en)}"]
    if state.kind.value != "terminal":
        clock = f"- *Contractor's clock* — {state.clock}"
        out.append(clock + (f": {_md(state.clock_why)}" if state.clock_why else ""))
    for rule in state.rules:
        why = f" — « {_md(rule.why)} »" if rule.why else ""
        out.append(f"- *Rule* {rule_text(rule)}{why}")
    for effect in state.effects:
        out.append(f"- *Effect* `{effect.kind}`" + (f" — {_md(effect.why)}" if effect.why else ""))
    for move in state.moves:
        if move.to.startswith("@"):
            members = ", ".join(f"`{c}`" for c in catalogue.groups[move.to[1:]])
            target = f"any of `{move.to}` ({members})"
        else:
            target = f"« {_md(catalogue.state(move.to).label)} » (`{move.to}`)"
        why = f": {_md(move.why)}" if move.why else ""
        out.append(f"- *Move* → {target}{why}")
    if state.resume:
        out.append("- *Reprise* ↩ — may go back to the step it interrupted")
    out.append("")
    return out


def _phase_page(catalogue: Catalogue, phase: str, folder: Path) -> str:
    p = catalogue.phase(phase)
    _write(folder / f"{phase}.svg", _svg(catalogue, phase))
    out = [f"# {_md(p.label)}", "", _md(p.description), ""]
    if p.quote:
        out += [f"> « {_md(p.quote)} »", ""]
    out += [
        "```{figure} " + f"{phase}.svg",
        f":alt: State diagram of the phase {phase}",
        ":figclass: diagram",
        "",
        f"The phase's action dates and the moves in and out (scroll sideways, or open it "
        f"{{download}}`full size <{phase}.svg>`).",
        "```",
        "",
        *_mermaid_block(catalogue, phase),
    ]
    table = catalogue_markdown(catalogue, phase)
    out += ["## The action dates", "", table[table.index("| Code") :]]
    out += ["", "## In detail", ""]
    for state in catalogue:
        if state.phase == phase:
            out += _state_details(catalogue, state)
    return "\n".join(out)


_LEGEND = """\
How to read the diagrams:

- a box is an action date: its French label, then its deadline (the procedure's figure);
- **bold border**: the due date is locked (« Il ne faut pas les changer »);
- dashed border and ✎: a wait, to be justified by a comment;
- red border and ⚑: reserved to a desk (RE: Relation Expert);
- ↩: the wait goes back to the step it interrupted (the dashed « reprise » arrow);
- double border: a closing state; the black dot marks where a file may be opened;
- a box titled with a group (`@quote_decisions`…): the states whose arrows (hollow heads)
  reach it may move to any one of its members, each drawn one dashed arrow away (on a
  phase page, members of other phases are listed greyed, with their phase);
- dashed arrows from the **Group moves** table: a move declared once for a group of
  states (G1, G2… as in the tables below), e.g. every operational state may be cancelled;
- grey boxes (phase pages): states of other phases the phase connects to.
"""


def _procedure(catalogue: Catalogue, root: Path) -> None:
    folder = root / "procedure"
    _write(folder / "all.svg", _svg(catalogue, None))
    pages = []
    for p in catalogue.phases:
        _write(folder / f"{p.code}.md", _phase_page(catalogue, p.code, folder))
        pages.append(p.code)
    table = catalogue_markdown(catalogue)
    group_section = table[table.index("## Group moves") :]
    out = [
        "# The procedure",
        "",
        f"The bundled catalogue `{catalogue.name}` (version {catalogue.version}): "
        f"{len(catalogue)} action dates in {len(catalogue.phases)} phases, "
        f"{catalogue.move_count} moves once the group moves are expanded. "
        "Everything on these pages is generated from "
        "`src/etatmachine/data/procedure.toml` when the documentation is built.",
        "",
        _LEGEND,
        "```{figure} all.svg",
        ":alt: State diagram of the whole procedure",
        ":figclass: diagram overview",
        "",
        "The whole procedure ({download}`full size <all.svg>`).",
        "```",
        "",
        *_mermaid_block(catalogue, None),
        "## The phases",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *pages,
        "```",
        "",
        "## Groups",
        "",
        "| Group | States |",
        "|---|---|",
        *(
            f"| `@{name}` | {', '.join(f'`{c}`' for c in members)} |"
            for name, members in catalogue.groups.items()
        ),
        "",
        group_section,
    ]
    _write(folder / "index.md", "\n".join(out))


def _rules(root: Path) -> None:
    wf = Workflow.default()
    out = [
        "# Rules reference",
        "",
        "Every rule a move can break, with its stable code (`Violation.rule`, "
        "`MoveRefused.rules`). The example refusals below are produced by the bundled "
        "workflow when the documentation is built (`docs/_ext/refusals.py`).",
        "",
        "| Code | What it checks | Résumé |",
        "|---|---|---|",
        *(
            f"| [`{c}`](#rule-{c.replace('_', '-')}) | {_md(r.summary_en)} | {_md(r.summary_fr)} |"
            for c, r in RULES.items()
        ),
        "",
    ]
    for code, info in RULES.items():
        try:
            text, found = example(wf, code)
        except LookupError as exc:
            raise ExtensionError(str(exc)) from exc
        kind = "judged by the engine" if info.check is None else "a rule function"
        out += [
            f"(rule-{code.replace('_', '-')})=",
            f"## `{code}`",
            "",
            f"{_md(info.summary_en)} ({kind})",
            "",
            f"*{_md(info.summary_fr)}*",
            "",
            f"Example: {_md(text)}",
            "",
            "```text",
            f"rule:    {found.rule}",
            f"state:   {found.state}",
            f"fr:      {found.message_fr}",
            f"en:      {found.message_en}",
            "```",
            "",
        ]
    _write(root / "rules.md", "\n".join(out))


def _deadlines(catalogue: Catalogue, root: Path) -> None:
    out = ["| Policy | Action dates |", "|---|---|"]
    for kind in DeadlineKind:
        states = [s for s in catalogue if s.deadline.kind is kind]
        cells = ", ".join(f"`{s.code}` ({_md(deadline_text(s.deadline))})" for s in states)
        out.append(f"| `{kind.value}` | {cells or '—'} |")
    _write(root / "include" / "deadlines.md", "\n".join(out) + "\n")


def generate(app: Sphinx) -> None:
    """Write ``_generated/`` from the bundled catalogue (the ``builder-inited`` hook)."""
    root = Path(app.srcdir) / "_generated"
    _write(root / ".gitignore", "# generated by docs/_ext/etatmachine_docs.py\n*\n")
    catalogue = default_catalogue()
    _procedure(catalogue, root)
    _rules(root)
    _deadlines(catalogue, root)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
