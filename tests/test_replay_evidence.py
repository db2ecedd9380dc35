"""What a replay reads from a history, as the procedure means it: segments, effects owed,
shared labels, due dates set beyond the procedure, moved appointments, the autonomy limit.

One test per history behaviour, on small histories written in the seed's format.
"""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from etatmachine.business_calendar import PARIS
from etatmachine.evidence import channels_named, failed_call, insurers_named, names_in
from etatmachine.legacy import RoleMap, iter_records, split_lines
from etatmachine.replay import ReplayReport, replay_records
from etatmachine.roles import Role


def replay(text: str, **attributes: object) -> ReplayReport:
    roles = RoleMap(roles={"77": Role.CUSTOMER_SERVICE, "88": Role.SURVEYOR})
    return replay_records(iter_records(split_lines(text), roles=roles), **attributes)  # type: ignore[arg-type]


def etat(label: str, due: str, set_at: str, who: str = "(995) INTERNET", comment: str = "") -> str:
    day = set_at.split("-")[0].replace(".", "/")
    text = f"ETAT: {label} {due}{' ' + comment if comment else ''} ({day}-N°1)\n"
    return text + f"{set_at}-{who}\n"


def test_time_going_back_starts_a_new_segment_measured_apart() -> None:
    text = etat("Contact client pour devis (2)", "07/03/2023 09:00", "06.03.2023-09:00") + etat(
        "Etude de devis", "01/02/2023 09:00", "30.01.2023-09:00"
    )
    report = replay(text)
    first, second = report.entries
    assert (first.segment, second.segment) == (1, 2)
    assert second.closes is None and not second.violations  # no out_of_order across excerpts
    assert report.summary.segments == 2


def test_an_entry_that_can_only_open_a_file_starts_a_new_segment() -> None:
    text = etat("Contact client pour devis (2)", "19/01/2023 15:04", "18.01.2023-15:04") + etat(
        "Contact client pour RdV de reconnaissance selon chiffrage existant (1)",
        "08/02/2023 09:00",
        "07.02.2023-14:47",
        "(3995) SANDRINE SUTOR",
    )
    report = replay(text)
    assert [e.segment for e in report.entries] == [1, 2]
    assert report.entries[1].closes is None  # 13 days of the other file are nobody's lateness


def test_another_contractor_accepting_starts_a_new_segment_billed_to_it() -> None:
    accept = (
        "Action réalisée: Le professionnel {name} (1), accepte cette\n"
        "intervention le 06/03/2023 a 10:00.\n06.03.2023-10:00\n"
    )
    text = (
        accept.format(name="NYCO DECO")
        + etat("Contact client pour devis (2)", "07/03/2023 10:00", "06.03.2023-10:00")
        + accept.format(name="WAKENSON MENUISERIES").replace("10:00", "11:00")
        + etat("Première visite (7)", "09/03/2023 09:00", "06.03.2023-12:00")
    )
    report = replay(text)
    assert [(e.segment, e.contractor) for e in report.entries] == [
        (1, "NYCO DECO"),
        (2, "WAKENSON MENUISERIES"),
    ]
    assert report.entries[1].closes is None


def test_a_chase_owes_the_surveyors_relaunch_and_a_late_one_a_complaint() -> None:
    quote = etat("Etude de devis", "03/03/2023 17:04", "01.03.2023-17:04")
    chase = "ETAT: Demande traitement Devis par Cie/Ass 03/03/2023 17:04 ({day}-N°1)\n{at}-(1) GR\n"
    early = replay(quote + chase.format(day="02/03/2023", at="02.03.2023-10:00"))
    assert early.entries[1].effects == ("relaunch_surveyor",)
    late = replay(quote + chase.format(day="08/03/2023", at="08.03.2023-10:00"))
    assert [v.rule for v in late.entries[1].violations] == ["deadline_passed"]
    assert late.entries[1].effects == ("relaunch_surveyor", "complaint_to_open")
    assert late.summary.effects_by_kind == {"complaint_to_open": 1, "relaunch_surveyor": 1}


def test_a_wait_on_a_sinapps_file_owes_the_anomaly_report() -> None:
    text = etat("Contact client pour devis (2)", "07/03/2023 09:00", "06.03.2023-09:00") + etat(
        "En attente de cie", "20/03/2023 09:00", "06.03.2023-10:00", comment="attente accord"
    )
    assert replay(text, channel="sinapps").entries[1].effects == ("sinapps_anomaly",)
    assert replay(text).entries[1].effects == ()


def test_customer_service_setting_the_shared_supply_label_is_its_complaint_state() -> None:
    """« En attente de fourniture » in the Service clientèle column: « Gestion de
    réclamation en cours ». Set by customer service, that state; by the contractor, the
    supply wait."""
    start = etat("Date début de travaux", "20/03/2023 09:00", "06.03.2023-09:00")
    by_service = replay(
        start + etat("En attente de fourniture", "30/03/2023 09:00", "07.03.2023-09:00", "(77) SC")
    )
    assert by_service.entries[1].state == "attente_fourniture_reclamation"
    assert by_service.entries[1].verdict == "accepted"
    by_contractor = replay(
        start
        + etat(
            "En attente de fourniture", "30/03/2023 09:00", "07.03.2023-09:00", comment="commande"
        )
    )
    assert by_contractor.entries[1].state == "attente_fourniture"


def test_a_locked_due_date_set_beyond_the_procedure_is_flagged_and_measured_on_it() -> None:
    """« Contact client pour travaux » due nine days out: flagged, and measured against the
    procedure's 48 h, not the typed date."""
    text = etat(
        "Contact client pour travaux et signature de l'attestation du choix de fourniture (2)",
        "15/03/2023 09:00",
        "06.03.2023-09:00",
        "(1) GR",
    ) + etat("Date début de travaux", "20/03/2023 09:00", "10.03.2023-09:00")
    report = replay(text)
    assert [v.rule for v in report.entries[0].violations] == ["due_beyond_deadline"]
    closed = report.entries[1]
    assert closed.closes_due_at == datetime(2023, 3, 8, 9, tzinfo=PARIS)
    assert closed.late and closed.lateness_business_seconds == 2 * 86400


def test_a_recorded_due_within_the_slot_rounding_is_not_flagged() -> None:
    text = etat(
        "Contact client pour travaux et signature de l'attestation du choix de fourniture (2)",
        "22/03/2023 15:30",
        "20.03.2023-15:17",
        "(1) GR",
    )
    assert replay(text).entries[0].verdict == "accepted"


def test_a_moved_appointment_is_a_breach_measured_from_the_original() -> None:
    text = (
        etat("Contact client pour devis (2)", "07/03/2023 09:00", "06.03.2023-09:00")
        + etat("Première visite", "08/03/2023 09:00", "06.03.2023-10:00")
        + etat("Première visite", "10/03/2023 09:00", "07.03.2023-10:00")
        + etat("Etude de devis", "14/03/2023 09:00", "13.03.2023-09:00")
    )
    report = replay(text)
    moved = report.entries[2]
    assert [v.rule for v in moved.violations] == ["due_date_locked"]
    quote = report.entries[3]
    assert quote.closes == "premiere_visite"
    assert quote.closes_due_at == datetime(2023, 3, 8, 9, tzinfo=PARIS)
    assert quote.closes_last_due_at == datetime(2023, 3, 10, 9, tzinfo=PARIS)
    # two business days of moving the visit, not the days between the visit and the quote
    assert quote.lateness_business_seconds == 2 * 86400


def test_the_autonomy_limit_and_a_quote_amount_are_read_from_the_history() -> None:
    limit = (
        "La limite maximum d'autonomie de MA pour ce SINISTRE est de :\n"
        "1550,00 (ATTENTION : Pour RC,FAIENCE,BRIS DE GLACE ET VOL, la\n"
        "limite pourra être inférieur, VOIR LES AIDES)\n"
        "06.03.2023-08:00-(1) GR\n"
    )
    quote = etat(
        "Etude de devis", "08/03/2023 09:00", "06.03.2023-09:00", comment="Devis WEB 1 850,40 €"
    )
    works = etat(
        "Contact client pour travaux et signature de l'attestation du choix de fourniture (2)",
        "09/03/2023 09:00",
        "07.03.2023-09:00",
        "(88) PT",
    )
    report = replay(limit + quote + works)
    assert str(report.autonomy_limit) == "1550.00"
    assert [v.rule for v in report.entries[1].violations] == ["autonomy_limit_exceeded"]
    within = replay(limit + quote.replace("1 850,40", "1 250,00") + works)
    assert within.entries[1].verdict == "accepted"


_NAME_LETTERS = "aAzZlLiInNbBpPcCeEsSdDrRvV ıİſ:é-\n"


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(["AZ", "Allianz", "bpce", "Sinapps", "DARVA", "ALLİANZ", "ſinapps"])
        | st.text(alphabet=_NAME_LETTERS, max_size=12),
        max_size=6,
    ).map(" ".join)
)
def test_names_are_found_as_the_case_insensitive_regex_finds_them(text: str) -> None:
    """The cheap substring test that spares the regex never misses a name it would find,
    whatever letters the text uses (« ı », « İ », « ſ » match ASCII letters in any case)."""
    insurers = {m.group(1).upper() for m in re.finditer(r"\b(AZ|ALLIANZ|BPCE)\b", text, re.I)}
    channels = {m.group(1).lower() for m in re.finditer(r"\b(SINAPPS|DARVA)\b", text, re.I)}
    assert insurers_named(text) == insurers
    assert channels_named(text) == channels


_CALL_NOTE = re.compile(
    r"\bnrp\b|\blm\b|\bne r[ée]pond pas\b|\bmessage laiss[ée]\b|\blaiss[ée] (?:un )?message\b"
    r"|\br[ée]pondeur\b|\binjoignable\b"
)


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(
            [
                "nrp",
                "NRP",
                "lm",
                "ne répond pas",
                "Message laissé",
                "laisse un message",
                "RÉPONDEUR",
                "injoignable",
                "rdv pris",
                "appel",
                "client",
                "allo",
            ]
        )
        | st.text(alphabet="nrplmaiséeuo /-", max_size=10),
        max_size=6,
    ).map(" ".join)
)
def test_failed_calls_are_read_as_the_call_note_words_say(text: str) -> None:
    """The substring test before the regex never hides a call note's words."""
    assert failed_call(text) == (_CALL_NOTE.search(text.casefold()) is not None)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["AZ", "az:", "Allianz", "BPCE", "sinapps", "DARVA", "İ", " ", "x", "é"])
        | st.text(max_size=4),
        max_size=8,
    ).map("".join)
)
def test_names_in_reads_what_the_two_readers_read(text: str) -> None:
    assert names_in(text) == (insurers_named(text), channels_named(text))
