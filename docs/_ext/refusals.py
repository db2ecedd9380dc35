"""One example refusal per rule, produced by the real workflow at docs build time.

Each scenario returns the violations of a move (``Workflow.explain``) or of a refused
open/reschedule (``MoveRefused.violations``). A rule of `etatmachine.rules.RULES` without a
scenario, or a scenario that no longer triggers its rule, fails the docs build.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from etatmachine import Actor, Dossier, MoveRefused, Role, Violation, Workflow
from etatmachine.business_calendar import PARIS

T0 = datetime(2023, 3, 6, 9, 0, tzinfo=PARIS)  # a Monday
CONTRACTOR = Actor(role=Role.CONTRACTOR, id="995", name="INTERNET")
HANDLER = Actor(role=Role.CASE_HANDLER, id="gr-1")
INSURER = Actor(role=Role.INSURER, id="cie")
LATER = T0 + timedelta(hours=2)
DUE = T0 + timedelta(days=5)

Scenario = Callable[[Workflow], tuple[Violation, ...]]


def _open(wf: Workflow, state: str = "contact_client_devis", **kw: object) -> Dossier:
    return wf.open("D-1", state, actor=HANDLER, at=T0, mid_flow=True, **kw).dossier  # type: ignore[arg-type]


def _replayed(wf: Workflow, history: str) -> tuple[Violation, ...]:
    """The violations a replay of ``history`` reports (rules only a history shows)."""
    from etatmachine.legacy import iter_records, split_lines
    from etatmachine.replay import replay_records

    report = replay_records(iter_records(split_lines(history)), wf)
    return tuple(
        Violation(rule=v.rule, state=v.state or "", message_fr=v.message_fr, message_en=v.message)
        for e in report.entries
        for v in e.violations
    )


def _refused(call: Callable[[], object]) -> tuple[Violation, ...]:
    try:
        call()
    except MoveRefused as exc:
        return exc.violations
    return ()


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "move_not_allowed": (
        "A contractor jumps from « Contact client pour devis » to « Travaux en cours ».",
        lambda wf: wf.explain(_open(wf), "travaux_en_cours", actor=CONTRACTOR, at=LATER),
    ),
    "out_of_order": (
        "A move dated before the file's last change.",
        lambda wf: wf.explain(
            _open(wf), "etude_devis", actor=CONTRACTOR, at=T0 - timedelta(hours=1)
        ),
    ),
    "due_date_locked": (
        "A due date given for « Contact client pour travaux … », whose due date is locked.",
        lambda wf: wf.explain(
            _open(wf, "etude_devis"), "contact_client_travaux", actor=HANDLER, at=LATER, due=DUE
        ),
    ),
    "due_not_overridable": (
        "A due date given for « Etude de devis » (48h, computed).",
        lambda wf: wf.explain(_open(wf), "etude_devis", actor=CONTRACTOR, at=LATER, due=DUE),
    ),
    "comment_required": (
        "« En attente de cie » set without a comment.",
        lambda wf: wf.explain(_open(wf), "attente_cie", actor=HANDLER, at=LATER, due=DUE),
    ),
    "role_reserved": (
        "A contractor sets « En attente information expert », reserved to RE.",
        lambda wf: wf.explain(
            _open(wf, "desaccord_prest_expert", due=DUE),
            "attente_information_expert",
            actor=CONTRACTOR,
            at=LATER,
            due=DUE,
        ),
    ),
    "insurer_restricted": (
        "« AZ : Appel 24h » on a file of another insurer.",
        lambda wf: wf.explain(_open(wf, insurer="BPCE"), "az_appel_24h", actor=HANDLER, at=LATER),
    ),
    "flag_required": (
        "A BPCE file opened in « RE – Nouveau devis ren-expert à saisir » without the flag.",
        lambda wf: _refused(
            lambda: wf.open(
                "D-2", "re_nouveau_devis_ren_expert", actor=HANDLER, at=T0, insurer="BPCE"
            )
        ),
    ),
    "channel_restricted": (
        "« Suivi Cie à traiter » on a file that came by phone.",
        lambda wf: wf.explain(_open(wf), "suivi_cie_a_traiter", actor=HANDLER, at=LATER, due=DUE),
    ),
    "season_restricted": (
        "« En attente retour prestataire » (summer holidays) set in March.",
        lambda wf: wf.explain(
            _open(wf),
            "attente_retour_prestataire",
            actor=CONTRACTOR,
            at=LATER,
            comment="congés",
            due=DUE,
        ),
    ),
    "data_required": (
        "« Première visite » set without the appointment.",
        lambda wf: wf.explain(_open(wf), "premiere_visite", actor=CONTRACTOR, at=LATER),
    ),
    "contact_attempts_required": (
        "« Client injoignable » before three contact attempts.",
        lambda wf: wf.explain(
            _open(wf), "client_injoignable", actor=CONTRACTOR, at=LATER, comment="ne répond pas"
        ),
    ),
    "actor_not_allowed": (
        "The contractor takes its own quote from « Etude de devis » to « Devis transmis en "
        "attente accord EXPERT », the surveyor's decision.",
        lambda wf: wf.explain(
            _open(wf, "etude_devis"),
            "devis_attente_accord_expert",
            actor=CONTRACTOR,
            at=LATER,
            due=DUE,
        ),
    ),
    "due_in_past": (
        "« En attente de cie » set with a due date before the move.",
        lambda wf: wf.explain(
            _open(wf), "attente_cie", actor=HANDLER, at=LATER, comment="cie", due=T0
        ),
    ),
    "due_beyond_deadline": (
        "A history sets « Contact client pour travaux … » due nine days out (48 h).",
        lambda wf: _replayed(
            wf,
            "ETAT: Contact client pour travaux et signature de l'attestation du choix de "
            "fourniture (2) 15/03/2023 09:00 (06/03/2023-N°1)\n06.03.2023-09:00-(1) GR\n",
        ),
    ),
    "autonomy_limit_exceeded": (
        "A quote of 1 800,00 on a file whose autonomy limit is 1 550,00 goes straight to works.",
        lambda wf: wf.explain(
            wf.move(
                _open(wf, "devis_demande_info", autonomy_limit="1550"),
                "etude_devis",
                actor=CONTRACTOR,
                at=LATER,
                data={"quote_amount": "1 800,00"},
            ).dossier,
            "contact_client_travaux",
            actor=HANDLER,
            at=LATER + timedelta(hours=1),
        ),
    ),
    "deadline_passed": (
        "The insurer chases the quote four days after « Etude de devis » (48h) was set.",
        lambda wf: wf.explain(
            _open(wf, "etude_devis"),
            "demande_traitement_devis",
            actor=INSURER,
            at=T0 + timedelta(days=4),
        ),
    ),
    "appointment_too_far": (
        "« Première visite » booked ten days out.",
        lambda wf: wf.explain(
            _open(wf),
            "premiere_visite",
            actor=CONTRACTOR,
            at=LATER,
            data={"appointment_at": T0 + timedelta(days=10)},
        ),
    ),
}


def example(wf: Workflow, code: str) -> tuple[str, Violation]:
    """The scenario text and the violation of ``code`` it produces, or a clear error."""
    if code not in SCENARIOS:
        raise LookupError(f"rule {code!r} has no example scenario in docs/_ext/refusals.py")
    text, scenario = SCENARIOS[code]
    for found in scenario(wf):
        if found.rule == code:
            return text, found
    raise LookupError(f"the docs scenario for rule {code!r} no longer triggers it: {text}")
