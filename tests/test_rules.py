"""Each rule of the procedure, accepted and refused, through the public Workflow API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from etatmachine import Actor, Dossier, MoveRefused, NaiveDatetimeError, Role, Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.effects import ComplaintToOpen, SinappsAnomaly, SurveyorRelaunch
from etatmachine.rules import RULES

WF = Workflow.default()
CONTRACTOR = Actor(role=Role.CONTRACTOR, id="995", name="INTERNET")
SURVEYOR = Actor(role=Role.SURVEYOR, id="1002688", name="TANGUY TELLIER")
RE_DESK = Actor(role=Role.EXPERT_RELATIONS, id="3995")
HANDLER = Actor(role=Role.CASE_HANDLER, id="1002730")
SERVICE = Actor(role=Role.CUSTOMER_SERVICE, id="77")
INSURER = Actor(role=Role.INSURER, id="cie")


def t(day: int, hour: int = 9, minute: int = 0, month: int = 3, year: int = 2023) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def dossier_in(
    state: str,
    at: datetime | None = None,
    *,
    due: datetime | None = None,
    data: Mapping[str, Any] | None = None,
    **attrs: Any,
) -> Dossier:
    """A file opened straight into ``state`` (mid-flow), as a replay would."""
    at = at or t(1)
    actor = {
        "attente_information_expert": RE_DESK,
        "attente_fourniture_reclamation": SERVICE,
    }.get(state, HANDLER)
    spec = WF.catalogue.state(state)
    comment = "justification" if spec.rule("comment_required") else None
    if due is None and spec.deadline.kind.value == "given" and spec.deadline.data_key is None:
        due = at + timedelta(days=3)
    return WF.open(
        "D-1",
        state,
        actor=actor,
        at=at,
        comment=comment,
        due=due,
        data=data,
        mid_flow=True,
        **attrs,
    ).dossier


def refused(fn: Any, *args: Any, **kwargs: Any) -> MoveRefused:
    with pytest.raises(MoveRefused) as info:
        fn(*args, **kwargs)
    return info.value


def test_every_rule_code_is_documented_in_both_languages() -> None:
    for code, info in RULES.items():
        assert code.isascii() and code == info.code
        assert info.summary_en and info.summary_fr


# --- move_not_allowed --------------------------------------------------------------------


def test_run_check_calls_every_check_of_the_module_directly_and_any_other_as_given() -> None:
    """`run_check` knows each check the rules define (a new one left out would only be
    slower: it is then called through its function object, as a user's check is)."""
    from etatmachine import rules

    defined = {info.check for info in RULES.values() if info.check is not None}
    defined |= set(rules.LEAVE_CHECKS.values()) | {rules.actor_may_enter, rules.actor_may_leave}
    known = {v for k, v in vars(rules).items() if k.isupper() and callable(v) and k[0] == "_"}
    assert defined == known

    calls: list[tuple[Any, Any]] = []

    def users_check(ref: Any, ctx: Any) -> None:
        calls.append((ref, ctx))

    at = t(6)
    d = WF.open("D1", actor=HANDLER, at=at).dossier
    target = WF.state(d.state)
    ctx = rules.MoveContext(d, target, target, HANDLER, at, at.date(), None, None, {})
    assert rules.run_check(users_check, "ref", ctx) is None
    assert calls == [("ref", ctx)]


def test_move_in_catalogue_is_accepted() -> None:
    d = dossier_in("etude_devis")
    moved = WF.move(d, "devis_demande_info", actor=SURVEYOR, at=t(1, 10)).dossier
    assert moved.state == "devis_demande_info"


def test_move_outside_catalogue_is_refused_and_names_both_states() -> None:
    d = dossier_in("etude_devis")
    err = refused(
        WF.move, d, "date_debut_travaux", actor=HANDLER, at=t(1, 10), data={"appointment_at": t(3)}
    )
    assert err.rules == ("move_not_allowed",)
    assert "etude_devis" in str(err) and "date_debut_travaux" in str(err)
    assert err.violations[0].message_fr.startswith("Passage non prévu")


def test_closed_file_cannot_move() -> None:
    d = WF.move(
        dossier_in("travaux_en_cours", due=t(10)), "travaux_termines", actor=CONTRACTOR, at=t(2)
    ).dossier
    assert d.due_at is None
    err = refused(WF.move, d, "dossier_annule", actor=HANDLER, at=t(3))
    assert "move_not_allowed" in err.rules


def test_opening_outside_initial_states_is_refused_unless_mid_flow() -> None:
    err = refused(WF.open, "D-2", "etude_devis", actor=HANDLER, at=t(1))
    assert err.rules == ("move_not_allowed",)
    assert WF.open("D-2", "etude_devis", actor=HANDLER, at=t(1), mid_flow=True)


def test_wait_resumes_only_the_state_it_interrupted() -> None:
    d = dossier_in("contact_client_devis")
    d = WF.move(
        d, "attente_cie", actor=HANDLER, at=t(1, 10), comment="accord cie", due=t(8)
    ).dossier
    assert d.interrupted == "contact_client_devis"
    err = refused(WF.move, d, "contact_client_travaux", actor=HANDLER, at=t(2))
    assert err.rules == ("move_not_allowed",)
    assert "contact_client_devis" in err.violations[0].message_en
    back = WF.move(d, "contact_client_devis", actor=HANDLER, at=t(2)).dossier
    assert back.state == "contact_client_devis" and back.interrupted is None


def test_interrupted_state_survives_a_chain_of_waits() -> None:
    d = dossier_in("contact_client_devis")
    d = WF.move(d, "attente_cie", actor=HANDLER, at=t(1, 10), comment="cie", due=t(8)).dossier
    d = WF.move(
        d, "attente_longue_duree", actor=HANDLER, at=t(2), comment="hospitalisé", due=t(30)
    ).dossier
    assert d.interrupted == "contact_client_devis"
    assert WF.move(d, "contact_client_devis", actor=HANDLER, at=t(3)).dossier.state == (
        "contact_client_devis"
    )


# --- out_of_order ------------------------------------------------------------------------


def test_move_dated_before_the_last_change_is_refused() -> None:
    d = dossier_in("etude_devis", t(2))
    err = refused(WF.move, d, "devis_demande_info", actor=SURVEYOR, at=t(1))
    assert err.rules == ("out_of_order",)
    assert WF.move(d, "devis_demande_info", actor=SURVEYOR, at=t(2)).dossier


# --- due_date_locked / due_not_overridable ----------------------------------------------


def test_locked_due_date_cannot_be_rescheduled() -> None:
    d = dossier_in("contact_client_devis")
    err = refused(WF.reschedule, d, t(9), actor=HANDLER, at=t(1, 10))
    assert err.rules == ("due_date_locked",)
    assert "reference for lateness" in err.violations[0].message_en


def test_unlocked_due_date_can_be_rescheduled() -> None:
    d = dossier_in("attente_cie", due=t(8))
    moved = WF.reschedule(d, t(20), actor=HANDLER, at=t(2), comment="relance cie").dossier
    assert moved.due_at == t(20) and moved.version == d.version + 1
    assert moved.history[-1].kind == "reschedule"


def test_locked_state_refuses_a_given_due_date() -> None:
    d = dossier_in("premiere_visite", data={"appointment_at": t(3)})
    err = refused(WF.move, d, "etude_devis", actor=CONTRACTOR, at=t(3, 12), due=t(20))
    assert err.rules == ("due_not_overridable",)
    d2 = dossier_in("etude_devis")
    err2 = refused(WF.move, d2, "contact_client_travaux", actor=SURVEYOR, at=t(2), due=t(20))
    assert err2.rules == ("due_date_locked",)


def test_wait_accepts_a_given_due_date() -> None:
    d = dossier_in("contact_client_devis")
    moved = WF.move(
        d,
        "attente_sechage",
        actor=CONTRACTOR,
        at=t(1, 10),
        comment="TH 80",
        data={"humidity": 80},
        due=t(20),
    ).dossier
    assert moved.due_at == t(20)


# --- comment_required --------------------------------------------------------------------


@pytest.mark.parametrize("comment", [None, "", "   ", "\t\n"])
def test_wait_without_comment_is_refused(comment: str | None) -> None:
    d = dossier_in("contact_client_devis")
    err = refused(
        WF.move,
        d,
        "attente_sechage",
        actor=CONTRACTOR,
        at=t(1, 10),
        comment=comment,
        due=t(8),
        data={"humidity": 80},
    )
    assert err.rules == ("comment_required",)
    assert err.violations[0].message_fr.endswith("commentaire.")


def test_wait_with_comment_is_accepted() -> None:
    d = dossier_in("contact_client_devis")
    moved = WF.move(
        d,
        "attente_sechage",
        actor=CONTRACTOR,
        at=t(1, 10),
        comment="TH 80",
        due=t(8),
        data={"humidity": 80},
    ).dossier
    assert moved.history[-1].comment == "TH 80"


# --- role_reserved -----------------------------------------------------------------------


def test_expert_information_wait_is_reserved_to_the_expert_desk() -> None:
    d = dossier_in("rapport_attente_traitement")
    err = refused(WF.move, d, "attente_information_expert", actor=HANDLER, at=t(2), due=t(9))
    assert err.rules == ("role_reserved",)
    assert "expert_relations" in err.violations[0].message_en
    assert WF.move(d, "attente_information_expert", actor=RE_DESK, at=t(2), due=t(9))


def test_reserved_state_cannot_be_left_or_rescheduled_by_others() -> None:
    d = dossier_in("attente_information_expert", due=t(9))
    err = refused(WF.move, d, "re_retour_expert", actor=HANDLER, at=t(2))
    assert err.rules == ("role_reserved",)
    assert err.violations[0].state == "attente_information_expert"
    assert refused(WF.reschedule, d, t(20), actor=HANDLER, at=t(2)).rules == (
        "role_reserved",
        "due_date_locked",
    )
    assert WF.move(d, "re_retour_expert", actor=RE_DESK, at=t(2)).dossier.state == (
        "re_retour_expert"
    )


def test_complaint_supply_wait_is_reserved_to_customer_service() -> None:
    d = dossier_in("date_debut_travaux", data={"appointment_at": t(10)})
    err = refused(WF.move, d, "attente_fourniture_reclamation", actor=HANDLER, at=t(2), due=t(9))
    assert err.rules == ("role_reserved",)
    moved = WF.move(d, "attente_fourniture_reclamation", actor=SERVICE, at=t(2), due=t(9))
    assert moved.dossier.state == "attente_fourniture_reclamation"


def test_only_ma_cancels_a_file() -> None:
    d = dossier_in("attente_gestion_ma")
    err = refused(WF.move, d, "dossier_annule", actor=CONTRACTOR, at=t(2))
    assert err.rules == ("role_reserved",)
    assert WF.move(d, "dossier_annule", actor=HANDLER, at=t(2)).dossier.state == "dossier_annule"


# --- insurer_restricted / flag_required / channel_restricted ----------------------------


def test_ren_expert_entry_needs_bpce_or_allianz_and_the_flag() -> None:
    err = refused(
        WF.open, "D-3", "re_nouveau_devis_ren_expert", actor=RE_DESK, at=t(1), insurer="MAIF"
    )
    assert err.rules == ("insurer_restricted", "flag_required")
    opened = WF.open(
        "D-3",
        "re_nouveau_devis_ren_expert",
        actor=RE_DESK,
        at=t(1),
        insurer="bpce",
        flags={"ren_expert"},
    )
    assert opened.dossier.insurer == "BPCE"


def test_allianz_call_back_belongs_to_allianz_files() -> None:
    d = dossier_in("contact_client_travaux", insurer="MAIF")
    assert refused(WF.move, d, "az_appel_24h", actor=HANDLER, at=t(2)).rules == (
        "insurer_restricted",
    )
    d = dossier_in("contact_client_travaux", insurer="ALLIANZ")
    assert WF.move(d, "AZ: Appels 24h", actor=HANDLER, at=t(2)).dossier.state == "az_appel_24h"


def test_revised_quote_action_is_for_bpce_and_allianz() -> None:
    d = dossier_in("etude_devis", insurer="GENERALI")
    assert refused(
        WF.move, d, "devis_revise_action_interne", actor=SURVEYOR, at=t(2), due=t(6)
    ).rules == ("insurer_restricted",)
    d = dossier_in("etude_devis", insurer="BPCE")
    assert WF.move(d, "devis_revise_action_interne", actor=SURVEYOR, at=t(2), due=t(6))


def test_sinapps_states_need_a_sinapps_file() -> None:
    d = dossier_in("etude_devis", channel="darva")
    assert refused(WF.move, d, "devis_envoye_cie", actor=SURVEYOR, at=t(2), due=t(9)).rules == (
        "channel_restricted",
    )
    d = dossier_in("etude_devis", channel="Sinapps")
    assert WF.move(d, "devis_envoye_cie", actor=SURVEYOR, at=t(2), due=t(9))
    d = dossier_in("etude_devis", channel="darva")
    assert WF.move(d, "suivi_cie_a_traiter", actor=HANDLER, at=t(2), due=t(3))


# --- season_restricted -------------------------------------------------------------------


def test_contractor_holiday_wait_only_in_summer() -> None:
    d = dossier_in("contact_client_travaux", t(1, month=6))
    err = refused(
        WF.move,
        d,
        "attente_retour_prestataire",
        actor=CONTRACTOR,
        at=t(30, month=6),
        comment="congés",
        due=t(20, month=7),
    )
    assert err.rules == ("season_restricted",)
    assert "07-01" in err.violations[0].message_en
    d = dossier_in("contact_client_travaux", t(1, month=7))
    assert WF.move(
        d,
        "attente_retour_prestataire",
        actor=CONTRACTOR,
        at=t(31, 23, month=8),
        comment="congés",
        due=t(5, month=9),
    )


def test_season_is_judged_on_the_paris_day() -> None:
    d = dossier_in("contact_client_travaux", t(1, month=6))
    # 30 June 23:30 UTC is already 1 July in Paris
    at = datetime(2023, 6, 30, 23, 30, tzinfo=PARIS).replace(tzinfo=None)
    from datetime import UTC

    moved = WF.move(
        d,
        "attente_retour_prestataire",
        actor=CONTRACTOR,
        at=at.replace(tzinfo=UTC),
        comment="congés",
        due=t(20, month=7),
    )
    assert moved.dossier.state == "attente_retour_prestataire"


# --- data_required -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "needs the data field humidity"),
        ({"humidity": 140}, "between 0 and 100, got 140"),
        ({"humidity": "abc"}, "not a number: 'abc'"),
        ({"humidity": True}, "not a number: True"),
    ],
)
def test_drying_wait_needs_a_humidity_percent(data: dict[str, Any], fragment: str) -> None:
    d = dossier_in("contact_client_devis")
    err = refused(
        WF.move, d, "attente_sechage", actor=CONTRACTOR, at=t(1, 10), comment="TH", data=data
    )
    assert err.rules == ("data_required",)
    assert fragment in err.violations[0].message_en


@pytest.mark.parametrize("humidity", [0, 60, 100, 45.5, "60"])
def test_drying_wait_accepts_a_percent(humidity: Any) -> None:
    d = dossier_in("contact_client_devis")
    assert WF.move(
        d,
        "attente_sechage",
        actor=CONTRACTOR,
        at=t(1, 10),
        comment="TH",
        due=t(8),
        data={"humidity": humidity},
    )


def test_visit_needs_an_aware_appointment() -> None:
    d = dossier_in("contact_client_devis")
    err = refused(WF.move, d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10))
    assert err.rules == ("data_required",)
    err = refused(
        WF.move,
        d,
        "premiere_visite",
        actor=CONTRACTOR,
        at=t(1, 10),
        data={"appointment_at": datetime(2023, 3, 3, 9)},
    )
    assert "timezone-aware" in err.violations[0].message_en
    moved = WF.move(
        d,
        "premiere_visite",
        actor=CONTRACTOR,
        at=t(1, 10),
        data={"appointment_at": "2023-03-03T09:00:00+01:00"},
    ).dossier
    assert moved.due_at == t(3)


def test_supply_wait_takes_a_delivery_date_or_an_iso_week() -> None:
    d = dossier_in("contact_client_travaux")
    err = refused(
        WF.move,
        d,
        "attente_fourniture",
        actor=CONTRACTOR,
        at=t(21, 13),
        comment="attente fourniture",
    )
    assert err.rules == ("data_required",)
    assert "delivery_at or delivery_week" in err.violations[0].message_en
    by_week = WF.move(
        d,
        "attente_fourniture",
        actor=CONTRACTOR,
        at=t(21, 13),
        comment="attente fourniture",
        data={"delivery_week": 14},
    ).dossier
    assert by_week.due_at == datetime(2023, 4, 7, 9, 0, tzinfo=PARIS)  # Friday of week 14
    by_date = WF.move(
        d,
        "attente_fourniture",
        actor=CONTRACTOR,
        at=t(21, 13),
        comment="attente fourniture",
        data={"delivery_at": t(5, month=5)},
    ).dossier
    assert by_date.due_at == t(5, month=5)
    err = refused(
        WF.move,
        d,
        "attente_fourniture",
        actor=CONTRACTOR,
        at=t(21, 13),
        comment="x",
        data={"delivery_week": 60},
    )
    assert "week must be between 1 and 53" in err.violations[0].message_en
    err = refused(
        WF.move,
        d,
        "attente_fourniture",
        actor=CONTRACTOR,
        at=t(21, 13),
        comment="x",
        data={"delivery_week": "2023-W53"},
    )
    assert err.violations[0].message_en == (
        "'attente_fourniture': data field delivery_week is invalid: week 53 does not exist in 2023."
    )
    moved = WF.move(
        d,
        "attente_fourniture",
        actor=CONTRACTOR,
        at=t(21, 13),
        comment="x",
        data={"delivery_week": "2026-W53"},
    ).dossier
    assert moved.due_at == datetime(2026, 12, 31, 9, tzinfo=PARIS)  # Friday 1 Jan is off


def test_given_deadline_without_a_date_is_refused() -> None:
    d = dossier_in("contact_client_devis")
    err = refused(WF.move, d, "attente_cie", actor=HANDLER, at=t(1, 10), comment="cie")
    assert err.rules == ("data_required",)
    assert "needs its due date given (due)" in err.violations[0].message_en


# --- contact_attempts_required -----------------------------------------------------------


def test_unreachable_client_needs_three_attempts() -> None:
    d = dossier_in("contact_client_devis")
    err = refused(
        WF.move,
        d,
        "client_injoignable",
        actor=CONTRACTOR,
        at=t(1, 10),
        comment="répondeur",
        due=t(3),
    )
    assert err.rules == ("contact_attempts_required",)
    assert "(0 recorded)" in err.violations[0].message_en
    for hour in (10, 11, 12):
        d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=t(1, hour)).dossier
    assert d.contact_attempts == 3
    moved = WF.move(
        d, "client_injoignable", actor=CONTRACTOR, at=t(1, 13), comment="répondeur", due=t(3)
    ).dossier
    assert moved.state == "client_injoignable"


def test_attempts_are_facts_of_the_trail_not_a_number_claimed_with_the_move() -> None:
    d = dossier_in("contact_client_devis")
    err = refused(
        WF.move,
        d,
        "client_injoignable",
        actor=CONTRACTOR,
        at=t(1, 10),
        comment="nrp",
        due=t(3),
        data={"attempts": 3},
    )
    assert err.rules == ("contact_attempts_required",)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        d.model_validate({**d.model_dump(), "contact_attempts": -1})


def test_attempts_reset_when_the_file_moves_on() -> None:
    d = dossier_in("contact_client_devis")
    d = WF.record_contact_attempt(d, actor=CONTRACTOR, at=t(1, 10)).dossier
    d = WF.move(
        d, "premiere_visite", actor=CONTRACTOR, at=t(1, 11), data={"appointment_at": t(3)}
    ).dossier
    assert d.contact_attempts == 0


# --- actor_not_allowed: the grid slot becomes a visit when the contractor changes it ------


def test_grid_slot_becomes_a_visit_when_the_contractor_changes_it() -> None:
    """« L'artisan doit confirmer le RDV et changer en « Première visite » »: that change is
    the confirmation (no data field carries it), and only the contractor (or MA) makes it."""
    d = dossier_in("premiere_visite_grille", data={"appointment_at": t(3)})
    err = refused(
        WF.move, d, "premiere_visite", actor=SURVEYOR, at=t(1, 10), data={"appointment_at": t(3)}
    )
    assert err.rules == ("actor_not_allowed", "actor_not_allowed")
    assert [v.state for v in err.violations] == ["premiere_visite_grille", "premiere_visite"]
    moved = WF.move(
        d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10), data={"appointment_at": t(3)}
    ).dossier
    assert moved.state == "premiere_visite"


# --- appointment_too_far -----------------------------------------------------------------


def test_first_visit_beyond_seven_days_needs_the_client_request_state() -> None:
    d = dossier_in("contact_client_devis", t(7, month=2))
    far = datetime(2023, 2, 20, 9, tzinfo=PARIS)  # the history in the procedure: 13 days out
    err = refused(
        WF.move,
        d,
        "premiere_visite",
        actor=CONTRACTOR,
        at=t(7, 16, month=2),
        data={"appointment_at": far},
    )
    assert err.rules == ("appointment_too_far",)
    assert "premiere_visite_plus_7j" in err.violations[0].message_en
    moved = WF.move(
        d,
        "premiere_visite_plus_7j",
        actor=CONTRACTOR,
        at=t(7, 16, month=2),
        data={"appointment_at": far},
    ).dossier
    assert moved.due_at == far


# --- deadline_passed ---------------------------------------------------------------------


def test_quote_chase_within_48h_relaunches_the_surveyor() -> None:
    d = dossier_in("etude_devis", t(1, 17, 4))  # Wednesday
    assert d.due_at == t(3, 17, 4)
    moved = WF.move(d, "demande_traitement_devis", actor=INSURER, at=t(2, 9))
    assert moved.dossier.due_at == d.due_at  # a chase does not buy time
    assert moved.effects == (
        SurveyorRelaunch(
            dossier_id="D-1", state="demande_traitement_devis", at=t(2, 9), due_at=d.due_at
        ),
    )


def test_quote_chase_after_48h_is_refused_with_a_complaint() -> None:
    d = dossier_in("etude_devis", t(1, 17, 4))
    err = refused(WF.move, d, "demande_traitement_devis", actor=INSURER, at=t(3, 17, 5))
    assert err.rules == ("deadline_passed",)
    assert err.effects == (
        ComplaintToOpen(
            dossier_id="D-1",
            state="etude_devis",
            at=t(3, 17, 5),
            overdue_since=t(3, 17, 4),
            reason=err.violations[0].message_en,
        ),
    )


def test_report_chase_only_within_five_business_days() -> None:
    d = dossier_in("rapport_attente_traitement", t(3, 10))  # Friday
    assert d.due_at == t(10, 10)  # 5 business days later: next Friday
    assert WF.move(d, "demande_traitement_rapport", actor=INSURER, at=t(10, 10))
    err = refused(WF.move, d, "demande_traitement_rapport", actor=INSURER, at=t(10, 10, 1))
    assert err.rules == ("deadline_passed",)
    assert isinstance(err.effects[0], ComplaintToOpen)


# --- effects, refusal purity, naive datetimes ------------------------------------------


def test_sinapps_wait_emits_the_anomaly_report() -> None:
    d = dossier_in("contact_client_devis", channel="sinapps")
    moved = WF.move(d, "attente_cie", actor=HANDLER, at=t(1, 10), comment="cie", due=t(9))
    assert moved.effects == (
        SinappsAnomaly(dossier_id="D-1", state="attente_cie", at=t(1, 10), comment="cie"),
    )
    plain = dossier_in("contact_client_devis")
    assert (
        WF.move(plain, "attente_cie", actor=HANDLER, at=t(1, 10), comment="cie", due=t(9)).effects
        == ()
    )


def test_refusal_reports_every_rule_and_changes_nothing() -> None:
    d = dossier_in("contact_client_devis", t(5, month=6))
    before = d.model_copy(deep=True)
    err = refused(
        WF.move,
        d,
        "attente_retour_prestataire",
        actor=HANDLER,
        at=t(4, month=6),
        comment=" ",
        due=t(9, month=6),
    )
    assert set(err.rules) == {"out_of_order", "comment_required", "season_restricted"}
    assert d == before and len(d.history) == 1


def test_naive_datetimes_are_refused_with_a_clear_error() -> None:
    d = dossier_in("etude_devis")
    with pytest.raises(NaiveDatetimeError, match=r"^at must be timezone-aware") as info:
        WF.move(d, "devis_demande_info", actor=SURVEYOR, at=datetime(2023, 3, 2, 9))
    assert info.value.value == datetime(2023, 3, 2, 9)
    with pytest.raises(NaiveDatetimeError, match=r"^due must be timezone-aware"):
        WF.reschedule(d, datetime(2023, 3, 9), actor=SURVEYOR, at=t(2))


def test_explain_lists_violations_without_raising() -> None:
    d = dossier_in("contact_client_devis")
    assert WF.explain(d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10)) == (
        WF.explain(d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10))
    )
    found = WF.explain(d, "client_injoignable", actor=CONTRACTOR, at=t(1, 10))
    assert [v.rule for v in found] == [
        "comment_required",
        "contact_attempts_required",
        "data_required",
    ]
    assert (
        WF.explain(
            d, "premiere_visite", actor=CONTRACTOR, at=t(1, 10), data={"appointment_at": t(2)}
        )
        == ()
    )


def test_allowed_moves_gives_verdicts_and_needs() -> None:
    d = dossier_in("contact_client_devis", insurer="MAIF")
    verdicts = {v.target: v for v in WF.allowed_moves(d, actor=CONTRACTOR, at=t(1, 10))}
    assert set(verdicts) == set(WF.targets("contact_client_devis"))
    assert verdicts["premiere_visite"].allowed
    assert verdicts["premiere_visite"].needs == ("appointment_at",)
    assert verdicts["attente_sechage"].needs == ("comment", "humidity", "due")
    assert not verdicts["az_appel_24h"].allowed
    assert [v.rule for v in verdicts["az_appel_24h"].violations] == [
        "actor_not_allowed",
        "insurer_restricted",
    ]
    assert not verdicts["client_injoignable"].allowed
    assert not verdicts["dossier_annule"].allowed  # the contractor does not cancel
