"""The catalogue as Markdown tables, one per phase: what the docs and ``etatmachine`` print.

Generated from the catalogue, like the diagrams, so a table can never disagree with the
machine. Each row gives the state's code, French label, owner, deadline (figure and kind),
rules with their parameters, and moves out: explicit targets, the group moves ``Gn`` it
takes part in (numbered as in the diagrams) and ``↩ reprise`` for resumable waits.

>>> from etatmachine.catalogue import default_catalogue
>>> text = catalogue_markdown(default_catalogue(), phase="devis")
>>> text.splitlines()[0]
"## Date d'action d'étude de devis"
>>> "| `etude_devis` | Etude de devis | surveyor | 48 h ouvrées (« 48h ») |" in text
True
"""

from __future__ import annotations

from typing import Any

from etatmachine.catalogue import Catalogue, Deadline, DeadlineKind, StateSpec

__all__ = ["catalogue_markdown", "deadline_text", "deadline_words", "rule_text"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _plural(amount: int, one: str, many: str) -> str:
    return f"{amount} {one if amount == 1 else many}"


def deadline_words(deadline: Deadline) -> str:
    """The deadline in the procedure's own words, with its unit: what a reader needs.

    ``(21)`` or ``48h`` alone do not say whether weekends count; this does.

    >>> from etatmachine.catalogue import default_catalogue
    >>> catalogue = default_catalogue()
    >>> [deadline_words(catalogue.state(c).deadline) for c in (
    ...     "contact_client_devis", "rapport_attente_traitement", "contact_client_travaux_15j")]
    ['24 h ouvrées', '5 jours ouvrés', '15 jours calendaires']
    >>> deadline_words(catalogue.state("premiere_visite").deadline)
    'date saisie : date du RDV'
    """
    kind, amount = deadline.kind, deadline.amount or 0
    if kind is DeadlineKind.BUSINESS_HOURS:
        return f"{amount} h ouvrées"
    if kind is DeadlineKind.BUSINESS_DAYS:
        return _plural(amount, "jour ouvré", "jours ouvrés")
    if kind is DeadlineKind.CALENDAR_DAYS:
        return _plural(amount, "jour calendaire", "jours calendaires")
    if kind is DeadlineKind.GIVEN:
        return f"date saisie : {deadline.figure}" if deadline.figure else "date saisie"
    if kind is DeadlineKind.INHERIT:
        kept = "échéance conservée"
        return f"{kept} ({deadline.figure})" if deadline.figure else kept
    return "aucune (clôture)"


def deadline_text(deadline: Deadline) -> str:
    """The deadline with its unit, then the figure as the source writes it.

    >>> from etatmachine.catalogue import default_catalogue
    >>> deadline_text(default_catalogue().state("attente_autre_reparation").deadline)
    '15 jours calendaires (« 15j »), or a given date'
    """
    words = deadline_words(deadline)
    figure = deadline.figure
    if figure and figure not in words:
        where = " in the histories" if deadline.source == "history" else ""
        words += f" (« {figure} »{where})"
    if deadline.overridable and deadline.kind is not DeadlineKind.GIVEN:
        words += ", or a given date"
    return words


def rule_text(rule: Any) -> str:
    """A rule reference with its parameters, e.g. ``insurer_restricted (BPCE, ALLIANZ)``."""
    code: str = rule.code
    params: list[str] = []
    if code == "role_reserved":
        params.append(", ".join(r.value for r in rule.roles))
        if not rule.leave:
            params.append("to enter")
    elif code == "insurer_restricted":
        params.append(", ".join(rule.insurers))
    elif code == "channel_restricted":
        params.append(", ".join(rule.channels))
    elif code == "flag_required":
        params.append(rule.flag)
    elif code == "season_restricted":
        params.append(f"{rule.start} – {rule.end}")
    elif code == "data_required":
        params.append(" or ".join((f"{rule.field}: {rule.type}", *rule.alternatives)))
    elif code == "contact_attempts_required":
        params.append(f"≥ {rule.minimum}")
    elif code == "appointment_too_far":
        params.append(f"> {rule.days} days → {rule.instead}")
    elif code == "deadline_passed" and rule.complaint:
        params.append("else a complaint")
    return f"`{code}` ({'; '.join(params)})" if params else f"`{code}`"


def _group_ids(catalogue: Catalogue) -> dict[str, list[str]]:
    """For each state, the ids ``Gn`` of the group moves it is a source of."""
    groups = catalogue.groups

    def expand(names: tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        for name in names:
            out |= expand(groups[name[1:]]) if name.startswith("@") else {name}
        return out

    ids: dict[str, list[str]] = {s.code: [] for s in catalogue}
    for i, gm in enumerate(catalogue.group_moves, start=1):
        for code in sorted(expand(gm.from_)):
            ids[code].append(f"G{i}")
    return ids


def _moves_out(state: StateSpec, group_ids: list[str], catalogue: Catalogue) -> str:
    explicit = [m.to for m in state.moves]
    parts = [
        f"`{to}`" if not to.startswith("@") else f"`{to}` ({len(catalogue.groups[to[1:]])})"
        for to in explicit
    ]
    parts.extend(group_ids)
    if state.resume:
        parts.append("↩ reprise")
    return ", ".join(parts) if parts else "—"


def _group_moves_table(catalogue: Catalogue, ids: set[str] | None) -> list[str]:
    out = ["| Group move | From any of | To | Why |", "|---|---|---|---|"]
    for i, gm in enumerate(catalogue.group_moves, start=1):
        if ids is not None and f"G{i}" not in ids:
            continue
        out.append(
            f"| G{i} | {', '.join(f'`{n}`' for n in gm.from_)} | "
            f"{', '.join(f'`{n}`' for n in gm.to)} | {_cell(gm.why)} |"
        )
    return out


def catalogue_markdown(catalogue: Catalogue, phase: str | None = None) -> str:
    """Markdown tables of the catalogue's states, one section per phase (or one phase)."""
    from etatmachine.diagrams import UnknownPhaseError  # diagrams imports this module

    codes = [p.code for p in catalogue.phases]
    if phase is not None and phase not in codes:
        raise UnknownPhaseError(phase, codes)
    group_ids = _group_ids(catalogue)
    out: list[str] = []
    if phase is None:
        out += [f"# {catalogue.name} {catalogue.version}", ""]
        if catalogue.description:
            out += [catalogue.description, ""]
    used: set[str] = set()
    for p in catalogue.phases:
        if phase is not None and p.code != phase:
            continue
        out += [f"## {p.label}", "", _cell(p.description), ""]
        if p.quote:
            out += [f"> « {p.quote} »", ""]
        out += [
            "| Code | Date d'action | Owner | Deadline | Rules | Moves out |",
            "|---|---|---|---|---|---|",
        ]
        for state in catalogue:
            if state.phase != p.code:
                continue
            used.update(group_ids[state.code])
            owner = state.owner.value if state.owner is not None else "—"
            rules = ", ".join(rule_text(r) for r in state.rules) or "—"
            out.append(
                f"| `{state.code}` | {_cell(state.label)} | {owner} | "
                f"{_cell(deadline_text(state.deadline))} | {_cell(rules)} | "
                f"{_cell(_moves_out(state, group_ids[state.code], catalogue))} |"
            )
        out.append("")
    if used:
        out += ["## Group moves" if phase is None else "### Group moves", ""]
        out += _group_moves_table(catalogue, None if phase is None else used)
        out.append("")
    return "\n".join(out)
