"""Sphinx extension: generate the procedure pages (life of a dossier, phases, one page per
action date, rules) from the catalogue, and serve the vendored Mermaid.

Runs at ``builder-inited`` and writes into ``docs/_generated/`` (ignored by git), so the
documented procedure is always the one the package ships. Graphviz lays out the life of a
dossier and the phase diagrams (inlined as SVG, so their boxes are links); Mermaid, vendored
by `docs_mermaid`, draws each state's neighbourhood in the reader's browser. Every diagram
sits in a ``div.em-diagram`` that says how many nodes it draws: ``docs/browser_check.py``
compares that with what the browser rendered.

Without Graphviz or Mermaid the build stops at once with one line saying what to install.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import docs_mermaid
from docs_states import (
    SHORT,
    authority,
    history_examples,
    role_text,
    state_page,
    title,
    who_short,
)
from refusals import example
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError

import etatmachine
from etatmachine import Workflow
from etatmachine.catalogue import Catalogue, DeadlineKind, default_catalogue
from etatmachine.diagrams import (
    MAIN_PATH,
    MAIN_SIDE,
    GraphvizError,
    Links,
    dot_to_svg,
    life_dot,
    phase_dot,
    phase_view,
    svg,
)
from etatmachine.rules import RULES
from etatmachine.tables import deadline_text, deadline_words, rule_text

_ESCAPE = re.compile(r"([\\`*_\[\]<>|#])")
# Widest diagram shown at its natural size (CSS px) in the page body at a 1400 px window.
BODY_WIDTH = 1060

GRAPHVIZ_HINT = (
    "docs: Graphviz's `dot` is not on PATH; the diagrams need it: install Graphviz "
    "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
)


def _md(text: str) -> str:
    """Plain text as Markdown that renders literally."""
    return _ESCAPE.sub(r"\\\1", text)


def _write(path: Path, text: str) -> None:
    """Write only on change, so Sphinx does not rebuild pages that did not move."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


_SIZE = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')


def _svg_text(source: str) -> str:
    """Graphviz's SVG for inlining: no XML prolog, sized in CSS px (1pt = 1px)."""
    try:
        text = dot_to_svg(source)
    except GraphvizError as exc:
        raise ExtensionError(f"cannot draw the procedure diagrams: {exc}") from exc
    text = text[text.index("<svg") :]
    text = re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)
    return _SIZE.sub(r'<svg width="\1px" height="\2px"', text, count=1)


def _width(svg_text: str) -> float:
    found = _SIZE.search(svg_text) or re.search(r'<svg width="([0-9.]+)px"', svg_text)
    return float(found.group(1)) if found else 0.0


def svg_block(name: str, svg_text: str, nodes: int, caption: str) -> list[str]:
    """A diagram inlined in the page (its links work), with its node count for the check."""
    return [
        "```{raw} html",
        f'<figure class="em-diagram em-graphviz" data-kind="graphviz" data-name="{name}" '
        f'data-nodes="{nodes}">',
        svg_text.strip(),
        f"<figcaption>{caption}</figcaption>",
        "</figure>",
        "```",
        "",
    ]


# --- life of a dossier ----------------------------------------------------------------------


def _life(catalogue: Catalogue, root: Path) -> None:
    links = Links(
        state=lambda c: f"_generated/states/{c}.html",
        phase=lambda p: f"_generated/procedure/{p}.html",
    )
    view = life_dot(catalogue, links=links)
    caption = (
        "The main path in bold; beside it the common detours (moves that skip a whole phase "
        "are on the phase pages). Click a box for its page, a phase's title for the phase."
    )
    out = svg_block("life", _svg_text(view.source), view.nodes, caption)
    out += ["| Step | Action date | Owner | Deadline |", "|---|---|---|---|"]
    for i, code in enumerate(MAIN_PATH, start=1):
        state = catalogue.state(code)
        owner = role_text(state.owner) if state.owner else "—"
        out.append(
            f"| {i} | {{doc}}`{title(state.label)} <_generated/states/{code}>` | {owner} | "
            f"{_md(deadline_words(state.deadline))} |"
        )
    out.append("")
    side = ", ".join(
        f"{{doc}}`{title(catalogue.state(c).label)} <_generated/states/{c}>`" for c in MAIN_SIDE
    )
    out += [f"Drawn beside the main path: {side}.", ""]
    _write(root / "include" / "life.md", "\n".join(out))


# --- phase pages ----------------------------------------------------------------------------


def _phase_svg(catalogue: Catalogue, phase: str, links: Links) -> tuple[str, int, str]:
    """The phase diagram in the orientation that fits the page best: the narrowest one when
    none fits, else the lowest of those that fit."""
    best: tuple[float, float, str, int, str] | None = None
    for rankdir in ("TB", "LR"):
        view = phase_dot(catalogue, phase, links=links, rankdir=rankdir)
        text = _svg_text(view.source)
        width = _width(text)
        height = float(re.search(r'height="([0-9.]+)px"', text).group(1))  # type: ignore[union-attr]
        fits = width <= BODY_WIDTH
        key = (0.0, height) if fits else (1.0, width)
        if best is None or key < (best[0], best[1]):
            best = (*key, text, view.nodes, rankdir)
    assert best is not None
    return best[2], best[3], best[4]


def _phase_page(catalogue: Catalogue, phase: str, folder: Path) -> str:
    p = catalogue.phase(phase)
    links = Links(state=lambda c: f"../states/{c}.html", phase=lambda q: f"{q}.html")
    text, nodes, _ = _phase_svg(catalogue, phase, links)
    _write(folder / f"{phase}-complete.svg", _svg_plain(catalogue, phase))
    view = phase_view(catalogue, phase)
    out = [f"# {_md(p.label)}", "", _md(p.description), ""]
    if p.quote:
        out += [f"> « {_md(p.quote)} »", ""]
    caption = (
        "The phase's action dates and the moves between them; dashed boxes sum up the moves "
        "from and to other phases (click one for that phase, a state for its page)."
    )
    out += svg_block(f"phase-{phase}", text, nodes, caption)
    out += [
        f"Every move of the phase, group moves and resumes included, is in the "
        f"{{download}}`complete drawing <{phase}-complete.svg>`.",
        "",
        "## The action dates",
        "",
        "| Action date | Owner | Who may set / leave it | Deadline |",
        "|---|---|---|---|",
    ]
    for code in view.states:
        state = catalogue.state(code)
        auth = authority(catalogue, state)
        owner = SHORT.get(state.owner.value, state.owner.value) if state.owner else "—"
        if auth.enter is None and auth.leave is None:
            access = "any side"
        else:
            leave = "—" if state.terminal else who_short(auth.leave)
            access = f"set: {who_short(auth.enter)}; leave: {leave}"
        out.append(
            f"| {{doc}}`{title(state.label)} <../states/{code}>` | {owner} | {access} | "
            f"{_md(deadline_words(state.deadline))} |"
        )
    out.append("")
    desks = ", ".join(f"{short} = `{role}`" for role, short in SHORT.items())
    out += [f"Desks: {desks}; each action date's page says why.", ""]
    out += ["```{toctree}", ":hidden:", "", *(f"../states/{c}" for c in view.states), "```", ""]
    if view.incoming or view.outgoing:
        out += [
            "## Moves to and from other phases",
            "",
            "What the dashed boxes of the diagram sum up, one row per action date of the phase "
            "(each action date's page gives the reason of every move).",
            "",
            "| Action date | Comes from | Goes to |",
            "|---|---|---|",
        ]
        for code in view.states:
            froms = [s for s, t in view.incoming if t == code]
            tos = [t for s, t in view.outgoing if s == code]
            if froms or tos:
                out.append(
                    f"| {_ref(catalogue, code)} | {_by_phase(catalogue, froms)} | "
                    f"{_by_phase(catalogue, tos)} |"
                )
        out.append("")
    if view.group_moves:
        out += ["## Moves declared for groups", ""]
        for i in view.group_moves:
            out.append(_group_move_words(catalogue, i, phase))
        out.append("")
    waits = [c for c in view.states if catalogue.state(c).resume]
    if waits:
        out += [
            "## Resumes",
            "",
            "Each wait of this phase may go back to the step it interrupted (the engine "
            "remembers which one): " + ", ".join(_ref(catalogue, c) for c in waits) + ".",
            "",
        ]
    return "\n".join(out)


def _by_phase(catalogue: Catalogue, codes: list[str]) -> str:
    """States grouped under their phase's name, for a table cell."""
    if not codes:
        return "—"
    by: dict[str, list[str]] = {}
    for code in dict.fromkeys(codes):
        by.setdefault(catalogue.state(code).phase, []).append(code)
    return "; ".join(
        f"*{_md(catalogue.phase(p).label)}*: " + ", ".join(_ref(catalogue, c) for c in members)
        for p, members in by.items()
    )


def _ref(catalogue: Catalogue, code: str, base: str = "../states/") -> str:
    """A link to a state's page, from a page whose path to the state pages is ``base``."""
    return f"{{doc}}`{title(catalogue.state(code).label)} <{base}{code}>`"


def _group_names(catalogue: Catalogue, names: tuple[str, ...]) -> str:
    parts = []
    for name in names:
        if name.startswith("@"):
            parts.append(f"`{name}` ({len(_expand(catalogue, (name,)))} action dates)")
        else:
            parts.append(f"« {_md(catalogue.state(name).label)} »")
    return " + ".join(parts)


def _expand(catalogue: Catalogue, names: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name.startswith("@"):
            out.extend(_expand(catalogue, catalogue.groups[name[1:]]))
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def _group_move_words(catalogue: Catalogue, i: int, phase: str) -> str:
    gm = catalogue.group_moves[i - 1]
    sources = _expand(catalogue, gm.from_)
    targets = _expand(catalogue, gm.to)
    mine = [c for c in sources if catalogue.state(c).phase == phase]
    to = ", ".join(_ref(catalogue, c) for c in targets)
    if mine and len(mine) == len(sources):
        who_ = "Each of " + ", ".join(_ref(catalogue, c) for c in mine)
    elif mine:
        who_ = (
            f"Any of {_group_names(catalogue, gm.from_)} — here "
            + ", ".join(_ref(catalogue, c) for c in mine)
            + " —"
        )
    else:
        who_ = f"Any of {_group_names(catalogue, gm.from_)}"
    return f"- **G{i}** {who_} may go to {to}. *{_md(gm.why)}*"


def _svg_plain(catalogue: Catalogue, phase: str | None) -> str:
    try:
        text = svg(catalogue, phase)
    except GraphvizError as exc:
        raise ExtensionError(f"cannot draw the procedure diagrams: {exc}") from exc
    return _SIZE.sub(r'<svg width="\1px" height="\2px"', text, count=1)


_LEGEND = """\
How to read the diagrams:

- a box is an action date: its French label, then its deadline with its unit
  (« 24 h ouvrées » counts business hours, « 15 jours calendaires » every day);
- **bold border**: the due date is locked (« Il ne faut pas les changer »);
- dashed border and ✎: a wait, to be justified by a comment;
- red border and ⚑: reserved to a desk (RE: Relation Expert);
- ↩: the wait goes back to the step it interrupted;
- double border: a closing state; the black dot marks where a file may be opened;
- « any one of @group »: the states whose hollow arrows reach it may move to any one of the
  group;
- dashed boxes « from … » / « to … »: the moves from and to another phase, summed up (the
  table under the diagram lists them one by one).
"""


def _procedure(catalogue: Catalogue, root: Path) -> None:
    folder = root / "procedure"
    _write(folder / "all.svg", _svg_plain(catalogue, None))
    pages = []
    for p in catalogue.phases:
        _write(folder / f"{p.code}.md", _phase_page(catalogue, p.code, folder))
        pages.append(p.code)
    out = [
        "# The procedure, phase by phase",
        "",
        f"The bundled catalogue `{catalogue.name}` (version {catalogue.version}): "
        f"{len(catalogue)} action dates in {len(catalogue.phases)} phases, "
        f"{catalogue.move_count} moves once the group moves are expanded. "
        "Everything on these pages is generated from "
        "`src/etatmachine/data/procedure.toml` when the documentation is built. "
        "Start with {doc}`../../life-of-a-dossier`; each phase page draws its own action "
        "dates large, and each action date has its own page.",
        "",
        _LEGEND,
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *pages,
        "```",
        "",
        "The whole procedure in one drawing, every move included, is too big to read on a "
        "page: {download}`open it full size <all.svg>` (Graphviz SVG).",
        "",
        "## Groups",
        "",
        "| Group | Action dates |",
        "|---|---|",
        *(
            f"| `@{name}` | "
            + ", ".join(_ref(catalogue, c) for c in _expand(catalogue, (f"@{name}",)))
            + " |"
            for name in catalogue.groups
        ),
        "",
        "## Moves declared for groups",
        "",
        *(_group_move_words(catalogue, i, "") for i in range(1, len(catalogue.group_moves) + 1)),
        "",
    ]
    _write(folder / "index.md", "\n".join(out))


# --- states, rules, deadlines, API ----------------------------------------------------------


def _states(catalogue: Catalogue, root: Path, checkout: Path) -> None:
    examples = history_examples(checkout)
    for state in catalogue:
        page = state_page(catalogue, state, examples.get(state.code, []), _md)
        _write(root / "states" / f"{state.code}.md", page)


def rule_scope(catalogue: Catalogue) -> dict[str, list[str]]:
    """Where each rule applies, as Markdown items: the states (and moves) that carry it,
    or the moves the engine judges it on."""
    scope: dict[str, list[str]] = {code: [] for code in RULES}
    for state in catalogue:
        for rule in state.rules:
            why = f" — « {_md(rule.why)} »" if rule.why else ""
            params = rule_text(rule).removeprefix(f"`{rule.code}`")
            scope.setdefault(rule.code, []).append(
                f"{_ref(catalogue, state.code, 'states/')}{params}{why}"
            )
        for move in state.moves:
            for rule in move.rules:
                source = _ref(catalogue, state.code, "states/")
                target = _ref(catalogue, move.to, "states/")
                scope.setdefault(rule.code, []).append(f"the move {source} → {target}")
    computed = [
        s.code
        for s in catalogue
        if not (s.deadline.overridable or s.deadline.kind is DeadlineKind.GIVEN)
        and s.rule("due_date_locked") is None
    ]
    scope["due_not_overridable"] = [
        "a due date given for any action date whose deadline is computed: "
        + ", ".join(_ref(catalogue, c, "states/") for c in computed)
    ]
    for code in ("move_not_allowed", "out_of_order"):
        scope[code] = ["every move (judged by the engine)"]
    engine = {
        "actor_not_allowed": "every move: the actor's role must be one that may leave the "
        "current action date and one that may set the target (each action date's page says "
        "who)",
        "due_in_past": "every move that gives a due date or an appointment",
        "due_beyond_deadline": "replayed histories (`etatmachine.replay`): an entry whose "
        "recorded due date is later than the action date's deadline allows",
    }
    for code, text in engine.items():
        if code in scope and not scope[code]:
            scope[code] = [text]
    return scope


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _scope_count(items: list[str]) -> str:
    """« 12 action dates », « 1 move »… for the summary table."""
    if not items:
        return "every move"
    if len(items) == 1 and not items[0].startswith("{doc}"):
        return items[0].split(":")[0].split(" (")[0]
    moves = sum(item.startswith("the move") for item in items)
    parts = [_plural(len(items) - moves, "action date")] if len(items) > moves else []
    if moves:
        parts.append(_plural(moves, "move"))
    return ", ".join(parts)


def _rules(catalogue: Catalogue, root: Path) -> None:
    wf = Workflow.default()
    scope = rule_scope(catalogue)
    out = [
        "# Rules reference",
        "",
        "Every rule a move can break, with its stable code (`Violation.rule`, "
        "`MoveRefused.rules`), where it applies, and an example refusal produced by the "
        "bundled workflow when the documentation is built (`docs/_ext/refusals.py`).",
        "",
        "| Code | What it checks | Applies to |",
        "|---|---|---|",
    ]
    for c, r in RULES.items():
        out_count = _scope_count(scope.get(c, []))
        count = "computed deadlines" if c == "due_not_overridable" else out_count
        out.append(f"| [`{c}`](#rule-{c.replace('_', '-')}) | {_md(r.summary_en)} | {count} |")
    out.append("")
    for code, info in RULES.items():
        kind = "judged by the engine" if info.check is None else "a rule function"
        out += [
            f"(rule-{code.replace('_', '-')})=",
            f"## `{code}`",
            "",
            f"{_md(info.summary_en)} ({kind})",
            "",
            f"*{_md(info.summary_fr)}*",
            "",
        ]
        items = scope.get(code) or ["every move (judged by the engine)"]
        out += ["Applies to:", "", *(f"- {item}" for item in items), ""]
        try:
            text, found = example(wf, code)
        except LookupError as exc:
            raise ExtensionError(str(exc)) from exc
        out += [
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


# Modules other work adds: documented once they exist, so the build never fails without them.
OPTIONAL_MODULES: tuple[str, ...] = ()  # every public module is listed in docs/api.md


def _api(root: Path) -> None:
    out = []
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        out += [f"## `{name}`", "", "```{eval-rst}", f".. automodule:: {name}", "```", ""]
    _write(root / "include" / "api_more.md", "\n".join(out) or "\n")


def generate(app: Sphinx) -> None:
    """Write ``_generated/`` from the bundled catalogue (the ``builder-inited`` hook)."""
    root = Path(app.srcdir) / "_generated"
    _write(root / ".gitignore", "# generated by docs/_ext/etatmachine_docs.py\n*\n")
    catalogue = default_catalogue()
    checkout = Path(app.config.etatmachine_checkout)
    _life(catalogue, root)
    _procedure(catalogue, root)
    _states(catalogue, root, checkout)
    _rules(catalogue, root)
    _deadlines(catalogue, root)
    _api(root)


def _vendor_mermaid(app: Sphinx, config: Config) -> None:
    """Put the locked Mermaid in the site's ``_static`` (fetched once with npm)."""
    try:
        folder = docs_mermaid.ensure(Path(app.srcdir))
    except docs_mermaid.MermaidUnavailable as exc:
        _stop(f"docs: {exc}")
    config.html_static_path = [*config.html_static_path, str(folder)]
    init = Path(app.srcdir) / "_generated" / "static" / "mermaid-init.js"
    _write(init, docs_mermaid.INIT_JS)
    config.html_static_path.append(str(init.parent))


def _stop(line: str) -> None:
    """End the build with one line (no traceback): a missing tool is not a Sphinx bug."""
    print(line, file=sys.stderr)
    raise SystemExit(2)


def _default_checkout() -> str:
    """The checkout the package was installed from (histories for the state pages)."""
    return str(Path(etatmachine.__file__).resolve().parents[2])


def setup(app: Sphinx) -> dict[str, Any]:
    if shutil.which("dot") is None:
        _stop(GRAPHVIZ_HINT)
    app.add_config_value("etatmachine_checkout", _default_checkout(), "env")
    app.connect("config-inited", _vendor_mermaid)
    app.connect("builder-inited", generate)
    app.add_js_file("mermaid.min.js")
    app.add_js_file("mermaid-init.js")
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
