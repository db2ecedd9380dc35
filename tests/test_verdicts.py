"""The verdicts a back-office supervisor would sign: who may act, how a file leaves a wait,
reschedules and lateness nobody can erase, the autonomy limit, contacts made and failed.

Each new rule code is tested accepted and refused through the public Workflow API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from etatmachine import Actor, CatalogueError, Dossier, MoveRefused, Role, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.catalogue import default_catalogue, parse_catalogue
from etatmachine.errors import ArgumentTypeError, ArgumentValueError
from etatmachine.rules import RULES

WF = Workflow.default()
CAT = default_catalogue()
CONTRACTOR = Actor(role=Role.CONTRACTOR, id="995", name="INTERNET")
SURVEYOR = Actor(role=Role.SURVEYOR, id="1002688", name="TANGUY TELLIER")
RE_DESK = Actor(role=Role.EXPERT_RELATIONS, id="3995")
HANDLER = Actor(role=Role.CASE_HANDLER, id="1002730")
SERVICE = Actor(role=Role.CUSTOMER_SERVICE, id="77")
INSURER = Actor(role=Role.INSURER, id="cie")
INSURED = Actor(role=Role.INSURED, id="ass")
SYSTEM = Actor(role=Role.SYSTEM, id="996")


def t(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2023, month, day, hour, minute, tzinfo=PARIS)


def opened(state: str, at: datetime | None = None, **kwargs: Any) -> Dossier:
    """A file brought in mid-flow by a case handler (who may act on any desk's behalf)."""
    return WF.open("D-1", state, actor=HANDLER, at=at or t(1), mid_flow=True, **kwargs).dossier


def rules_of(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(MoveRefused) as info:
        fn(*args, **kwargs)
    return info.value.rules


# --- 1. who may act ----------------------------------------------------------------------


def test_new_rule_codes_are_documented() -> None:
    for code in ("actor_not_allowed", "due_in_past", "due_beyond_deadline"):
        assert RULES[code].summary_fr and RULES[code].summary_en
    assert RULES["autonomy_limit_exceeded"].check is not None


def test_every_state_of_the_procedure_declares_who_may_set_and_leave_it() -> None:
    for state in CAT:
        reserved = state.rule("role_reserved")
        assert state.enter or reserved is not None, state.code
        assert state.terminal or state.leave or (reserved is not None and reserved.leave)
        assert state.authority_why or (reserved is not None and reserved.why), state.code


def test_a_contractor_may_not_take_the_surveyors_decision() -> None:
    """« Le prestataire a transmis le devis et le mètreur doit le réviser »."""
    d = opened("etude_devis")
    assert rules_of(
        WF.move, d, "devis_attente_accord_expert", actor=CONTRACTOR, at=t(1, 10), due=t(20)
    ) == (
        "actor_not_allowed",
        "actor_not_allowed",
    )
    moved = WF.move(d, "devis_attente_accord_expert", actor=SURVEYOR, at=t(1, 10), due=t(20))
    assert moved.dossier.state == "devis_attente_accord_expert"


def test_the_refusal_says_who_may_in_both_languages() -> None:
    d = opened("etude_devis")
    with pytest.raises(MoveRefused) as info:
        WF.move(d, "devis_demande_info", actor=CONTRACTOR, at=t(1, 10))
    leave = info.value.violations[0]
    assert leave.state == "etude_devis"
    assert "case_handler, surveyor" in leave.message_en and "contractor may not" in leave.message_en
    assert leave.message_fr.startswith("Seuls case_handler, surveyor peuvent")


def test_the_insured_does_not_book_the_first_visit() -> None:
    d = opened("contact_client_devis")
    data = {"appointment_at": t(3)}
    assert "actor_not_allowed" in rules_of(
        WF.move, d, "premiere_visite", actor=INSURED, at=t(1, 10), data=data
    )
    assert WF.move(d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10), data=data)


def test_the_contractor_answers_the_surveyor_and_the_surveyor_resumes() -> None:
    """« Utilisée par le prestataire pour répondre à la demande du mètreur sur le devis »."""
    d = opened("devis_demande_info")
    assert rules_of(WF.move, d, "devis_reponse_metreur", actor=SURVEYOR, at=t(1, 10)) == (
        "actor_not_allowed",
        "actor_not_allowed",
    )
    d = WF.move(d, "devis_reponse_metreur", actor=CONTRACTOR, at=t(1, 10)).dossier
    assert "actor_not_allowed" in rules_of(
        WF.move, d, "contact_client_travaux", actor=CONTRACTOR, at=t(1, 11)
    )
    assert WF.move(d, "contact_client_travaux", actor=SURVEYOR, at=t(1, 11))


def test_the_case_handler_acts_for_every_desk_but_not_on_reserved_states() -> None:
    d = opened("etude_devis")
    assert WF.move(d, "devis_demande_info", actor=HANDLER, at=t(1, 10))
    d = opened("rapport_attente_traitement")
    assert rules_of(
        WF.move, d, "attente_information_expert", actor=HANDLER, at=t(1, 10), due=t(9)
    ) == ("role_reserved",)


def test_customer_service_acts_within_its_column_only() -> None:
    d = opened("travaux_en_cours", due=t(10))
    assert WF.move(d, "attente_controle_chantier", actor=SERVICE, at=t(2), due=t(9))
    assert "actor_not_allowed" in rules_of(WF.move, d, "travaux_termines", actor=SERVICE, at=t(2))


def test_a_chase_interrupts_the_surveyors_step_whoever_takes_it() -> None:
    """« Suite à une relance de la compagnie ou de l'assuré »: the chaser need not be allowed
    to leave the surveyor's step; who may set the chase is checked."""
    d = opened("etude_devis")
    assert WF.move(d, "demande_traitement_devis", actor=INSURER, at=t(1, 10)).dossier
    assert "actor_not_allowed" in rules_of(
        WF.move, d, "demande_traitement_devis", actor=CONTRACTOR, at=t(1, 10)
    )


def test_the_automatic_assignment_opens_the_file_but_not_every_state() -> None:
    assert WF.open("D-2", actor=SYSTEM, at=t(1)).dossier.state == "contact_client_devis"
    assert rules_of(WF.open, "D-2", "re_nouveau_devis_ren_expert", actor=CONTRACTOR, at=t(1)) == (
        "actor_not_allowed",
        "insurer_restricted",
        "flag_required",
    )


def test_allowed_moves_gives_each_actor_its_own_verdicts() -> None:
    d = opened("etude_devis")
    for_contractor = {v.target: v for v in WF.allowed_moves(d, actor=CONTRACTOR, at=t(1, 10))}
    for_surveyor = {v.target: v for v in WF.allowed_moves(d, actor=SURVEYOR, at=t(1, 10))}
    assert not for_contractor["devis_demande_info"].allowed
    assert for_contractor["devis_demande_info"].violations[0].rule == "actor_not_allowed"
    assert for_surveyor["devis_demande_info"].allowed
    assert for_contractor["demande_traitement_devis"].allowed is False  # not the contractor's
    for verdicts, actor in ((for_contractor, CONTRACTOR), (for_surveyor, SURVEYOR)):
        for target, verdict in verdicts.items():
            found = {v.rule for v in WF.explain(d, target, actor=actor, at=t(1, 10))}
            assert ("actor_not_allowed" in found) == any(
                v.rule == "actor_not_allowed" for v in verdict.violations
            ), target


def test_effective_authority_includes_delegated_desks() -> None:
    authority = CAT.authority("devis_reponse_metreur")
    assert authority.enter == {Role.CONTRACTOR, Role.CASE_HANDLER}
    assert authority.leave == {Role.SURVEYOR, Role.CASE_HANDLER}
    assert "Utilisée par le prestataire" in (authority.why or "")
    reserved = CAT.authority("attente_information_expert")
    assert reserved.enter == reserved.leave == {Role.EXPERT_RELATIONS}


def _tiny(**extra: Any) -> dict[str, Any]:
    state = {
        "code": "a",
        "label": "Alpha",
        "phase": "p",
        "owner": "contractor",
        "meaning": "m",
        "meaning_en": "m",
        "deadline": {"kind": "business_hours", "amount": 24},
        "initial": True,
        "moves": [{"to": "z"}],
    }
    end = {
        "code": "z",
        "label": "Zulu",
        "phase": "p",
        "kind": "terminal",
        "meaning": "m",
        "meaning_en": "m",
        "deadline": {"kind": "none"},
    }
    return {
        "name": "t",
        "version": "1",
        "phases": [{"code": "p", "label": "P", "description": "p"}],
        "states": [state, end],
    } | extra


def test_undeclared_authority_is_the_owner_alone() -> None:
    cat = parse_catalogue(_tiny())
    assert cat.authority("a").enter == cat.authority("a").leave == {Role.CONTRACTOR}
    assert cat.authority("z").enter == frozenset(Role)


@pytest.mark.parametrize(
    ("delegation", "field"),
    [
        ({"role": "case_handler", "phases": ["nowhere"], "why": "w"}, "phases"),
        ({"role": "case_handler", "columns": ["nowhere"], "why": "w"}, "columns"),
        ({"role": "case_handler", "states": ["nowhere"], "why": "w"}, "states"),
    ],
)
def test_a_delegation_naming_nothing_is_refused_when_loaded(
    delegation: dict[str, Any], field: str
) -> None:
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(_tiny(delegations=[delegation]))
    assert (info.value.state, info.value.field) == ("delegations[0]", field)


def test_an_unknown_role_in_authority_is_refused_when_loaded() -> None:
    data = _tiny()
    data["states"][0]["enter"] = ["boss"]
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(data)
    assert info.value.state == "a" and (info.value.field or "").startswith("enter")


# --- 2. reschedule and lateness ----------------------------------------------------------


def test_reschedule_only_by_who_may_leave_the_state() -> None:
    d = opened("attente_cie", comment="cie", due=t(6))
    assert rules_of(WF.reschedule, d, t(20), actor=INSURED, at=t(2)) == ("actor_not_allowed",)
    assert WF.reschedule(d, t(20), actor=INSURER, at=t(2)).dossier.due_at == t(20)
    d2 = opened("etude_devis")
    assert rules_of(WF.reschedule, d2, t(30), actor=CONTRACTOR, at=t(2)) == (
        "actor_not_allowed",
        "due_not_overridable",
    )


def test_reschedule_follows_the_same_rules_as_a_moves_due() -> None:
    """A computed, not overridable due date (« Etude de devis » 48h) cannot be rescheduled,
    as `move(due=)` cannot set it."""
    d = opened("etude_devis")
    assert rules_of(WF.reschedule, d, t(30), actor=SURVEYOR, at=t(2)) == ("due_not_overridable",)
    assert rules_of(
        WF.move, opened("devis_demande_info"), "etude_devis", actor=CONTRACTOR, at=t(2), due=t(30)
    ) == ("due_not_overridable",)


@pytest.mark.parametrize("due", [t(2), t(2, 8)])
def test_reschedule_never_at_or_before_the_change(due: datetime) -> None:
    d = opened("attente_cie", comment="cie", due=t(6))
    assert rules_of(WF.reschedule, d, due, actor=HANDLER, at=t(2)) == ("due_in_past",)
    assert WF.reschedule(d, t(2, 10), actor=HANDLER, at=t(2)).dossier.due_at == t(2, 10)


def test_a_due_date_given_at_a_move_must_come_after_it() -> None:
    d = opened("etude_devis")
    assert rules_of(
        WF.move, d, "attente_cie", actor=SURVEYOR, at=t(2), comment="cie", due=t(1)
    ) == ("due_in_past",)
    assert rules_of(
        WF.move,
        opened("contact_client_devis"),
        "premiere_visite",
        actor=CONTRACTOR,
        at=t(2),
        data={"appointment_at": t(1)},
    ) == ("due_in_past",)
    assert WF.move(d, "attente_cie", actor=SURVEYOR, at=t(2), comment="cie", due=t(3))


def test_a_locked_due_date_is_never_rescheduled() -> None:
    d = opened("contact_client_devis")
    assert rules_of(WF.reschedule, d, t(9), actor=CONTRACTOR, at=t(1, 10)) == ("due_date_locked",)


def test_a_contractors_reschedule_cannot_erase_its_lateness() -> None:
    """The contractor owes the works; rescheduling the end 30 days out leaves the lateness
    against the original due date in the report, the last agreed one beside it."""
    d = opened(
        "attente_retour_prestataire", at=t(1, month=7), comment="vacances", due=t(3, month=7)
    )
    d = WF.reschedule(d, t(31, month=7), actor=CONTRACTOR, at=t(13, month=7)).dossier
    (step,) = WF.lateness(d, at=t(13, 9, month=7)).steps
    assert step.due_at == t(3, month=7) and step.last_due_at == t(31, month=7)
    assert step.lateness > timedelta(days=7) and step.lateness_last_agreed == timedelta()
    assert [e.kind for e in d.history] == ["open", "reschedule"]


def test_an_appointment_kept_is_no_lateness() -> None:
    """« Première visite »: the due date is the appointment, an event. The time between the
    visit and the next update is not the contractor's lateness."""
    d = opened("contact_client_devis")
    d = WF.move(
        d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10), data={"appointment_at": t(3)}
    ).dossier
    d = WF.move(d, "etude_devis", actor=CONTRACTOR, at=t(10)).dossier
    visit = WF.lateness(d, at=t(10)).steps[1]
    assert visit.state == "premiere_visite" and not visit.late


def test_a_moved_appointment_is_a_breach_measured_from_the_original() -> None:
    d = opened("contact_client_devis")
    d = WF.move(
        d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10), data={"appointment_at": t(3)}
    ).dossier
    moved, found = WF.record(
        d, "premiere_visite", actor=CONTRACTOR, at=t(2), data={"appointment_at": t(6)}
    )
    assert [v.rule for v in found] == ["due_date_locked"]
    assert moved.dossier.history[-1].kind == "reschedule"
    visit = WF.lateness(moved.dossier, at=t(7)).steps[1]
    assert visit.late and visit.lateness == timedelta(days=1)  # Fri 3 -> Mon 6: one business day


# --- 3. leaving waits and interruptions --------------------------------------------------


def test_an_unreachable_client_leaves_for_the_visit_once_reached() -> None:
    d = opened("contact_client_devis")
    for hour in (10, 11, 12):
        d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=t(1, hour)).dossier
    d = WF.move(
        d, "client_injoignable", actor=CONTRACTOR, at=t(1, 13), comment="nrp x3", due=t(3)
    ).dossier
    moved = WF.move(d, "premiere_visite", actor=CONTRACTOR, at=t(2), data={"appointment_at": t(6)})
    assert moved.dossier.state == "premiere_visite" and moved.dossier.interrupted is None


def test_a_wait_takes_only_moves_the_interrupted_step_could_take() -> None:
    d = opened("contact_client_devis")
    d = WF.move(d, "attente_cie", actor=HANDLER, at=t(1, 10), comment="cie", due=t(8)).dossier
    assert rules_of(WF.move, d, "contact_client_travaux", actor=HANDLER, at=t(2)) == (
        "move_not_allowed",
    )
    d = opened("etude_devis")
    d = WF.move(d, "attente_cie", actor=SURVEYOR, at=t(1, 10), comment="cie", due=t(8)).dossier
    assert WF.move(d, "contact_client_travaux", actor=SURVEYOR, at=t(2)).dossier.state == (
        "contact_client_travaux"
    )


JULY = t(1, month=7)


@pytest.mark.parametrize(
    ("start", "wait", "actor", "onward", "kwargs"),
    [
        (
            "contact_client_travaux",
            "client_injoignable",
            CONTRACTOR,
            "date_debut_travaux",
            {"data": {"appointment_at": t(9, month=7)}},
        ),
        (
            "etude_devis",
            "suivi_cie_a_traiter",
            HANDLER,
            "devis_attente_accord_cie",
            {"due": t(20, month=7)},
        ),
        ("contact_client_devis", "attente_gestion_ma", HANDLER, "etude_devis", {}),
        ("travaux_en_cours", "attente_retour_prestataire", CONTRACTOR, "travaux_termines", {}),
        ("etude_devis", "attente_cie", SURVEYOR, "contact_client_travaux", {}),
    ],
)
def test_leaving_a_wait_for_the_normal_next_step(
    start: str, wait: str, actor: Actor, onward: str, kwargs: dict[str, Any]
) -> None:
    """A file leaving a wait resumes the interrupted step or takes any move it could take:
    « Suivi Cie à traiter » (« nous devons le traiter ») goes to the decision."""
    d = opened(
        start,
        at=JULY,
        due=t(20, month=7) if start == "travaux_en_cours" else None,
        channel="sinapps",
    )
    for hour in (10, 11, 12):
        d = WF.record_contact_attempt(d, actor=actor, at=t(1, hour, month=7)).dossier
    setter = HANDLER if WF.catalogue.state(wait).interrupts else actor
    comment = "attente" if WF.catalogue.state(wait).rule("comment_required") else None
    d = WF.move(
        d, wait, actor=setter, at=t(1, 13, month=7), comment=comment, due=t(5, month=7)
    ).dossier
    assert d.interrupted == start
    moved = WF.move(d, onward, actor=actor, at=t(3, month=7), **kwargs)
    assert moved.dossier.state == onward


@pytest.mark.parametrize(
    ("source", "target", "actor", "kwargs"),
    [
        ("premiere_visite", "contact_client_devis", CONTRACTOR, {}),
        ("premiere_visite", "contact_client_travaux", HANDLER, {}),
        ("premiere_visite", "date_debut_travaux", CONTRACTOR, {"data": {"appointment_at": t(9)}}),
        ("premiere_visite_plus_7j", "contact_client_devis", CONTRACTOR, {}),
        ("attente_information_expert", "rapport_attente_traitement", RE_DESK, {}),
        ("attente_information_expert", "contact_client_travaux", RE_DESK, {}),
        ("travaux_termines", "attente_controle_chantier", SERVICE, {"due": t(9)}),
    ],
)
def test_exits_the_descriptions_call_for(
    source: str, target: str, actor: Actor, kwargs: dict[str, Any]
) -> None:
    assert target in WF.targets(source)
    if source == "travaux_termines":
        d = opened("travaux_en_cours", due=t(3))
        d = WF.move(d, "travaux_termines", actor=CONTRACTOR, at=t(2)).dossier
    elif source == "attente_information_expert":
        d = WF.open("D-1", source, actor=RE_DESK, at=t(1), due=t(8), mid_flow=True).dossier
    else:
        d = opened(source, data={"appointment_at": t(3)})
    assert WF.move(d, target, actor=actor, at=t(2, 10), **kwargs).dossier.state == target


def test_a_visit_makes_the_unreachable_client_possible() -> None:
    d = opened("premiere_visite", data={"appointment_at": t(3)})
    for hour in (10, 11, 12):
        d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=t(1, hour)).dossier
    assert WF.move(d, "client_injoignable", actor=CONTRACTOR, at=t(2), comment="nrp", due=t(6))


# --- 4. evidence: contacts, autonomy limit -----------------------------------------------


def test_a_contact_reached_meets_the_contact_step_and_resets_the_count() -> None:
    d = WF.open("D-1", actor=SYSTEM, at=t(1)).dossier  # due Thursday 2 at 09:00
    d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=t(1, 10)).dossier
    assert d.contact_attempts == 1
    d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=t(2, 11), outcome="reached").dossier
    assert d.contact_attempts == 0 and d.history[-1].data == {"outcome": "reached"}
    step = WF.lateness(d, at=t(6)).steps[0]
    assert step.met_at == t(2, 11)
    assert step.lateness == timedelta(hours=2)  # reached 2 h after the 24 h, not 2 days later
    with pytest.raises(ValueError, match="outcome"):
        WF.record_contact_attempt(d, actor=CONTRACTOR, at=t(3), outcome="maybe")  # type: ignore[arg-type]


def _quoted(amount: str, limit: int | None = 1550, **attrs: Any) -> Dossier:
    d = WF.open(
        "D-1",
        "devis_demande_info",
        actor=HANDLER,
        at=t(1),
        mid_flow=True,
        autonomy_limit=limit,
        **attrs,
    ).dossier
    return WF.move(
        d, "etude_devis", actor=CONTRACTOR, at=t(1, 10), data={"quote_amount": amount}
    ).dossier


def test_a_quote_above_the_autonomy_limit_needs_the_insurers_agreement() -> None:
    """« La limite maximum d'autonomie de MA pour ce SINISTRE est de : 1550,00 »."""
    d = _quoted("1 800,00")
    assert d.quote_amount == Decimal("1800.00") and d.autonomy_limit == Decimal(1550)
    assert rules_of(WF.move, d, "contact_client_travaux", actor=SURVEYOR, at=t(2)) == (
        "autonomy_limit_exceeded",
    )
    asked = WF.move(d, "devis_attente_accord_cie", actor=SURVEYOR, at=t(2), due=t(9)).dossier
    assert WF.move(asked, "contact_client_travaux", actor=INSURER, at=t(3)).dossier


def test_a_quote_within_the_limit_or_without_one_goes_to_works() -> None:
    assert WF.move(_quoted("1 550,00"), "contact_client_travaux", actor=SURVEYOR, at=t(2))
    assert WF.move(_quoted("9000", limit=None), "contact_client_travaux", actor=SURVEYOR, at=t(2))


def test_a_new_quote_needs_a_new_agreement() -> None:
    d = _quoted("1 800,00")
    d = WF.move(d, "devis_attente_accord_cie", actor=SURVEYOR, at=t(2), due=t(9)).dossier
    d = WF.move(d, "etude_devis", actor=SURVEYOR, at=t(3), data={"quote_amount": "2000"}).dossier
    assert rules_of(WF.move, d, "contact_client_travaux", actor=SURVEYOR, at=t(6)) == (
        "autonomy_limit_exceeded",
    )


def test_a_bad_quote_amount_is_refused_naming_the_field() -> None:
    d = WF.open("D-1", "devis_demande_info", actor=HANDLER, at=t(1), mid_flow=True).dossier
    assert rules_of(
        WF.move, d, "etude_devis", actor=CONTRACTOR, at=t(2), data={"quote_amount": "beaucoup"}
    ) == ("data_required",)
    with pytest.raises(ValueError, match="autonomy_limit"):
        WF.open("D-2", actor=SYSTEM, at=t(1), autonomy_limit="-3")


@pytest.mark.parametrize("name", ["AZ", "az", "Allianz", "ALLIANZ"])
def test_az_is_allianz_everywhere(name: str) -> None:
    d = WF.open("D-1", actor=SYSTEM, at=t(1), insurer=name).dossier
    assert d.insurer == "ALLIANZ"
    assert WF.move(d, "az_appel_24h", actor=INSURER, at=t(1, 10)).dossier.state == "az_appel_24h"


def test_an_insurer_the_catalogue_does_not_name_is_kept_upper_cased() -> None:
    assert WF.open("D-1", actor=SYSTEM, at=t(1), insurer="maif").dossier.insurer == "MAIF"


def test_shared_label_resolves_by_who_sets_it() -> None:
    """« En attente de fourniture » set by customer service is its complaint state (« Gestion
    de réclamation en cours »), set by the contractor the supply wait."""
    assert WF.state("En attente de fourniture", role=Role.CUSTOMER_SERVICE).code == (
        "attente_fourniture_reclamation"
    )
    assert WF.state("En attente de fourniture", role=Role.CONTRACTOR).code == "attente_fourniture"
    assert WF.state("En attente de fourniture").code == "attente_fourniture"
    # a role's code stands for it; anything else is refused, naming the argument
    assert WF.state("En attente de fourniture", role="customer_service").code == (  # type: ignore[arg-type]
        "attente_fourniture_reclamation"
    )
    with pytest.raises(ArgumentValueError) as bad:
        WF.state("En attente de fourniture", role="boss")  # type: ignore[arg-type]
    assert bad.value.argument == "role"
    with pytest.raises(ArgumentTypeError) as wrong:
        WF.state("En attente de fourniture", role=3)  # type: ignore[arg-type]
    assert wrong.value.argument == "role"


def test_examples_dir_exists() -> None:
    assert (Path(__file__).parents[1] / "examples" / "histories").is_dir()
