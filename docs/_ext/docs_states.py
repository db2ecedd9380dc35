"""One page per action date: the procedure's words, who acts, the deadline, the rules, the
moves one step away, and real history lines that show it.

The history lines are read at build time from the checkout's ``examples/histories/`` and
``tests/data/seed.txt`` with the public parser (`etatmachine.legacy`) and resolved to states
with `etatmachine.labels.resolve`, so a page never quotes a line the parser does not read
that way.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etatmachine.catalogue import Catalogue, StateKind, StateSpec
from etatmachine.diagrams import Links, neighbourhood, neighbourhood_mermaid
from etatmachine.errors import UnknownStateError
from etatmachine.labels import resolve
from etatmachine.legacy import EtatRecord, parse_file
from etatmachine.roles import Role
from etatmachine.tables import deadline_words, rule_text

Md = Callable[[str], str]

ROLE_NAMES: dict[str, str] = {
    "contractor": "le prestataire / l'artisan (PREST)",
    "surveyor": "le mètreur (PT)",
    "expert_relations": "Relation Expert (RE)",
    "case_handler": "les gestionnaires MA (GR)",
    "customer_service": "le service clientèle",
    "insurer": "la compagnie (Cie)",
    "expert": "l'expert",
    "insured": "l'assuré",
    "system": "automatic processes (996, 007)",
}

CLOCK = {
    "contractor": "runs: the step is the contractor's, lateness counts against them",
    "stopped": "stopped: the wait is not of the contractor's doing",
    "other": "another side owes the step: no contractor lateness",
}

MAX_EXAMPLES = 3


def role_text(role: Role | str) -> str:
    value = role.value if isinstance(role, Role) else str(role)
    name = ROLE_NAMES.get(value)
    return f"`{value}` ({name})" if name else f"`{value}`"


@dataclass(frozen=True)
class Authority:
    """Who may set a state and who may leave it, with the reason (the procedure's words)."""

    enter: tuple[str, ...] | None
    """Roles; None for any side, () for no one."""
    leave: tuple[str, ...] | None
    why: str | None


def _roles(found: Any) -> tuple[str, ...] | None:
    values = tuple(sorted(str(getattr(r, "value", r)) for r in found))
    return None if set(values) >= {r.value for r in Role} else values


def authority(catalogue: Catalogue, state: StateSpec) -> Authority:
    """The catalogue's effective authority when it has one (``Catalogue.authority``, desk
    delegations included), else what the ``role_reserved`` rule says."""
    found: Any = getattr(catalogue, "authority", None)
    if callable(found):
        auth = found(state.code)
        return Authority(_roles(auth.enter), _roles(auth.leave), getattr(auth, "why", None))
    rule: Any = state.rule("role_reserved")
    if rule is None:
        return Authority(None, None, None)
    roles = tuple(r.value for r in rule.roles)
    return Authority(roles, roles if rule.leave else None, rule.why)


SHORT: dict[str, str] = {
    "contractor": "PREST",
    "surveyor": "PT",
    "expert_relations": "RE",
    "case_handler": "GR",
    "customer_service": "SC",
    "insurer": "Cie",
    "expert": "expert",
    "insured": "assuré",
    "system": "auto",
}
"""The desks as the back office names them, for tables."""


def who_short(roles: tuple[str, ...] | None) -> str:
    if roles is None:
        return "any side"
    return ", ".join(SHORT.get(r, r) for r in roles) if roles else "no one"


def who(roles: tuple[str, ...] | None) -> str:
    if roles is None:
        return "any side"
    return ", ".join(role_text(r) for r in roles) if roles else "no one"


@dataclass(frozen=True)
class Example:
    """One ``ETAT:`` entry of a real history, where it is, and who set it."""

    code: str
    source: str
    first: int
    last: int
    text: str
    by: str | None


def history_examples(root: Path) -> dict[str, list[Example]]:
    """The histories' ``ETAT:`` entries by state: the example files first (one dossier each),
    then the seed document for what they lack; the same entry is quoted once."""
    files = sorted((root / "examples" / "histories").glob("*.txt"))
    files.append(root / "tests" / "data" / "seed.txt")
    seen: set[str] = set()
    out: dict[str, list[Example]] = {}
    for path in files:
        if not path.is_file():
            continue
        for record in parse_file(path).etats:
            text = _entry_text(record)
            key = " ".join(text.split())
            if key in seen:
                continue
            seen.add(key)
            try:
                code = resolve(record.label).code
            except UnknownStateError:
                continue
            by = None
            if record.author is not None:
                a = record.author
                ident = f"({a.user_id})" if a.user_id else ""
                who_ = " ".join(x for x in (ident, a.name or "") if x)
                by = f"{who_} — {a.role.value}" if who_ else a.role.value
            rel = path.relative_to(root).as_posix()
            out.setdefault(code, []).append(
                Example(code, rel, record.first_line, record.last_line, text, by)
            )
    return out


def _entry_text(record: EtatRecord) -> str:
    return "\n".join(line.rstrip() for line in record.raw.strip("\n").splitlines()).strip()


def title(text: str) -> str:
    """Text for a role's title (``{doc}`title <target>```): taken as written, no escapes."""
    return text.replace("`", "'").replace("<", "‹")


def _state_link(catalogue: Catalogue, code: str, md: Md) -> str:
    return f"{{doc}}`{title(catalogue.state(code).label)} <{code}>`"


def _grouped(catalogue: Catalogue, codes: Iterable[str], md: Md) -> list[str]:
    by_phase: dict[str, list[str]] = {}
    for code in codes:
        by_phase.setdefault(catalogue.state(code).phase, []).append(code)
    return [
        f"- {{doc}}`{title(catalogue.phase(p).label)} <../procedure/{p}>`: "
        + ", ".join(_state_link(catalogue, c, md) for c in members)
        for p, members in by_phase.items()
    ]


def mermaid_block(name: str, view_source: str, nodes: int) -> list[str]:
    return [
        "```{raw} html",
        f'<div class="em-diagram em-mermaid" data-kind="mermaid" data-name="{name}" '
        f'data-nodes="{nodes}"><pre class="mermaid">',
        html.escape(view_source.rstrip("\n"), quote=False),
        "</pre></div>",
        "```",
        "",
    ]


def state_page(catalogue: Catalogue, state: StateSpec, examples: list[Example], md: Md) -> str:
    """The Markdown of one state's page."""
    phase = catalogue.phase(state.phase)
    out = [f"(state-{state.code})=", f"# {md(state.label)}", ""]
    facts = [
        f"`{state.code}`",
        f"phase {{doc}}`{title(phase.label)} <../procedure/{phase.code}>`",
        {
            StateKind.OPERATIONAL: "a step",
            StateKind.WAIT: "a wait",
            StateKind.TERMINAL: "a closing state",
        }[state.kind],
    ]
    if state.initial:
        facts.append("a file may be opened here")
    if state.source == "history":
        facts.append("seen in the histories only, not in the procedure")
    if state.source == "addition":
        facts.append("an addition: not in the procedure")
    out += [" · ".join(facts), ""]
    out += [f"> « {md(state.meaning)} »", "", f"*In English:* {md(state.meaning_en)}", ""]
    auth = authority(catalogue, state)
    rows = [
        ("Owner (owes the next step)", role_text(state.owner) if state.owner else "— (closed)"),
        ("Who may set it", who(auth.enter)),
        ("Who may leave it", "— (closed)" if state.terminal else who(auth.leave)),
    ]
    if auth.why:
        rows.append(("Why", md(auth.why)))
    deadline = state.deadline
    when = f"**{md(deadline_words(deadline))}**"
    if deadline.figure and deadline.figure not in deadline_words(deadline):
        where = "in the histories" if deadline.source == "history" else "in the procedure"
        when += f" (written « {md(deadline.figure)} » {where})"
    if deadline.overridable and deadline.kind.value != "given":
        when += "; a due date may be given instead"
    rows.append(("Deadline", when))
    if not state.terminal:
        clock = CLOCK[state.clock]
        why = f" — {md(state.clock_why)}" if state.clock_why else ""
        rows.append(("Contractor's clock", md(clock) + why))
    out += [*(f"- **{k}**: {v}" for k, v in rows), ""]
    out += ["## Rules", ""]
    lines = []
    for rule in state.rules:
        why = f" — « {md(rule.why)} »" if rule.why else ""
        lines.append(f"- {_rule_ref(rule)}{why}")
    for move in state.moves:
        for rule in move.rules:
            why = f" — « {md(rule.why)} »" if rule.why else ""
            lines.append(f"- on the move to « {md(move.to)} »: {_rule_ref(rule)}{why}")
    for effect in state.effects:
        why = f" — « {md(effect.why)} »" if effect.why else ""
        lines.append(f"- effect on entry `{effect.kind}`{why}")
    none = "No rule of its own: the engine's checks of every move apply ({doc}`../rules`)."
    out += lines or [none]
    out.append("")
    out += _neighbours(catalogue, state, md)
    out += ["## In the histories", ""]
    if not examples:
        out += ["No history excerpt of the procedure shows this action date.", ""]
    for ex in examples[:MAX_EXAMPLES]:
        by = f", set by {md(ex.by)}" if ex.by else ""
        out += [
            "```text",
            ex.text,
            "```",
            f"`{ex.source}`, lines {ex.first}–{ex.last}{by}.",
            "",
        ]
    if len(examples) > MAX_EXAMPLES:
        out += [f"({len(examples) - MAX_EXAMPLES} more in the histories.)", ""]
    return "\n".join(out)


def _rule_ref(rule: Any) -> str:
    anchor = "rule-" + rule.code.replace("_", "-")
    return f"{{ref}}`{rule.code} <{anchor}>`" + rule_text(rule).removeprefix(f"`{rule.code}`")


def _neighbours(catalogue: Catalogue, state: StateSpec, md: Md) -> list[str]:
    links = Links(state=lambda c: f"{c}.html", phase=lambda p: f"../procedure/{p}.html")
    view = neighbourhood_mermaid(catalogue, state.code, links=links)
    n = neighbourhood(catalogue, state.code)
    out = ["## One step away", ""]
    out += mermaid_block(f"state-{state.code}", view.source, view.nodes)
    if n.incoming:
        out += ["A file comes here from:", "", *_grouped(catalogue, n.incoming, md), ""]
    moves = catalogue.moves_from(state.code)
    if n.outgoing or state.code in moves:
        out += ["It may go to:", ""]
        # targets that share a reason (a group move) are one item
        by_why: dict[str, list[str]] = {}
        for code in (*([state.code] if state.code in moves else []), *n.outgoing):
            by_why.setdefault(moves[code].why or f"\0{code}", []).append(code)
        for why, codes in by_why.items():
            links = ", ".join(_state_link(catalogue, c, md) for c in codes)
            out.append(f"- {links}" + ("" if why.startswith("\0") else f": {md(why)}"))
        out.append("")
    if n.resumes:
        out += ["As a wait, it may also go back to the step it interrupted (« reprise »).", ""]
    if state.terminal:
        out += ["The file is closed: no move leaves this state.", ""]
    return out
