"""The legacy history parser: real excerpts from the seed, malformed input, no line ever lost."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from etatmachine.legacy import (
    PARIS,
    ActionRecord,
    AssignmentRecord,
    AuthorRecord,
    AutonomyLimitRecord,
    ContactRecord,
    ControlRecord,
    EtatRecord,
    MensajeRecord,
    MessageRecord,
    NoteRecord,
    OpeningRecord,
    ParsedHistory,
    RealisationRecord,
    Record,
    RecordAdapter,
    RoleMap,
    RoleMapError,
    SubAssignmentRecord,
    UnrecognisedRecord,
    iter_file,
    iter_records,
    parse_file,
    parse_text,
    split_lines,
)
from etatmachine.roles import Role

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parent / "data" / "seed.txt"
EXAMPLES = ROOT / "examples" / "histories"
NEWLINE = re.compile(r"\r\n|\r|\n")


def paris(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=PARIS)


def input_lines(text: str) -> list[str]:
    """The documented line rule, restated independently of the parser."""
    lines = NEWLINE.split(text)
    return lines[:-1] if lines[-1] == "" else lines


def decode_lines(data: bytes) -> list[str]:
    """The documented decoding rule, line by line: UTF-8, else cp1252, else latin-1; no BOM."""
    out = []
    for chunk in io.BytesIO(data):
        for encoding in ("utf-8", "cp1252", "latin-1"):
            try:
                out.append(chunk.decode(encoding))
                break
            except UnicodeDecodeError:
                continue
    if out:
        out[0] = out[0].removeprefix("\ufeff")
    return out


def assert_partition(records: Sequence[Record], lines: list[str]) -> None:
    """The records' ranges tile the input and their raw texts give back its lines."""
    expected_first = 1
    rebuilt: list[str] = []
    for record in records:
        assert record.first_line == expected_first
        raw = record.raw.split("\n")
        assert len(raw) == record.last_line - record.first_line + 1
        rebuilt.extend(raw)
        expected_first = record.last_line + 1
    assert rebuilt == lines


@pytest.fixture(scope="module")
def seed() -> ParsedHistory:
    return parse_file(SEED)


def etat(history: ParsedHistory, label_start: str, nth: int = 0) -> EtatRecord:
    return [e for e in history.etats if e.label.startswith(label_start)][nth]


R = TypeVar("R", bound=BaseModel)


def only(history: ParsedHistory, kind: type[R], nth: int = 0) -> R:
    return [r for r in history.records if isinstance(r, kind)][nth]


# --- the seed ---------------------------------------------------------------------------------

SEED_LABELS = [
    "Contact client pour devis",
    "Contact client pour RdV de reconnaissance selon chiffrage existant",
    "Première visite",
    "En attente demande de prix fournisseur",
    "Etude de devis.",
    "PT - Devis - demande info complémentaire",
    "DEVIS - Réponse vers mètreur",
    "Devis transmis en attente accord EXPERT",
    "Contact client pour travaux et signature de l'attestation du choix de fourniture",
    "En attente de fournitures",
    "Date Début Travaux",
    "En attente de séchage",
    "En attente de séchage",
    "client injoignable",
    "AZ: Appels 24h",
    "Contact client pour travaux et signature de l'attestation du choix de fourniture",
    "En attente gestion MA",
]


def test_seed_parses_without_problems_into_17_etats(seed: ParsedHistory) -> None:
    assert seed.problems == ()
    assert not any(isinstance(r, UnrecognisedRecord) for r in seed.records)
    assert [e.label for e in seed.etats] == SEED_LABELS
    assert [e.n for e in seed.etats] == [
        2,
        1,
        7,
        5,
        5,
        2,
        2,
        21,
        2,
        None,
        60,
        45,
        45,
        7,
        None,
        2,
        None,
    ]
    assert seed.source == str(SEED)


def test_seed_line_ranges_partition_the_file(seed: ParsedHistory) -> None:
    assert_partition(seed.records, input_lines(SEED.read_text(encoding="utf-8")))
    assert seed.line_count == 433


def test_first_etat_and_its_automatic_author(seed: ParsedHistory) -> None:
    e = seed.etats[0]
    assert (e.first_line, e.last_line) == (50, 53)  # entry, set date, signature, blank line
    assert e.due_at == paris(2023, 1, 19, 15, 4)
    assert e.due_at.utcoffset() == timedelta(hours=1)
    assert (e.comment, e.set_on, e.set_number) == (None, date(2023, 1, 18), 1)
    assert e.author is not None
    assert e.author.at == paris(2023, 1, 18, 15, 4)
    assert (e.author.user_id, e.author.name, e.author.role) == (
        "996",
        "ASIGNACIÓN AUTOMÁTICA ZONAL",
        Role.SYSTEM,
    )


def test_wrapped_label_and_wrapped_due_date(seed: ParsedHistory) -> None:
    e = etat(seed, "Contact client pour RdV")
    assert e.due_at == paris(2023, 2, 8, 9, 0)
    assert e.author is not None
    assert e.author.name == "SANDRINE SUTOR"
    assert e.author.role is Role.CASE_HANDLER
    pt = etat(seed, "PT - Devis")
    assert pt.due_at == paris(2023, 3, 10, 11, 30)  # "10/03/2023\n11:30"
    assert pt.comment == (
        "Bonjour,votre fourniture rmplace celle chiffré par l'expert?"
        "En vous remerciant.Tanguy TELLIER"
    )
    assert (pt.set_on, pt.set_number) == (date(2023, 3, 8), 1)
    assert pt.author is not None
    assert pt.author.user_id == "1002688"


def test_comments_set_numbers_and_extras(seed: ParsedHistory) -> None:
    assert etat(seed, "En attente demande de prix").comment == "ATTENTE DEVIS"
    assert etat(seed, "Etude de devis.").comment == "Devis WEB"
    expert = etat(seed, "Devis transmis")
    assert (expert.due_at, expert.comment) == (paris(2023, 4, 6, 13, 30), "sup a expert")
    assert expert.due_at - paris(2023, 3, 16, 13, 30) == timedelta(days=21)
    wet1, wet2 = etat(seed, "En attente de séchage"), etat(seed, "En attente de séchage", 1)
    assert (wet1.n, wet1.humidity, wet1.set_number) == (45, 100, 3)
    assert wet1.due_at == paris(2023, 4, 5, 17, 0)
    assert wet1.comment == "Rendez vous pris avec l'assuré le 05/04 entre 11h et 12h"
    assert (wet2.humidity, wet2.comment, wet2.set_on, wet2.set_number) == (
        60,
        "TH 60",
        date(2023, 4, 5),
        4,
    )
    assert wet2.due_at.utcoffset() == timedelta(hours=2)  # summer time
    supplies = etat(seed, "En attente de fournitures")
    assert (supplies.label, supplies.n, supplies.week) == ("En attente de fournitures", None, 14)
    assert (supplies.due_at, supplies.comment) == (paris(2023, 5, 5, 9, 0), "attente fourniture")
    reply = etat(seed, "DEVIS - Réponse")
    assert reply.comment is not None
    assert reply.comment.startswith("Bonjour, oui, ceci est le prix")
    assert reply.comment.endswith("habitué. Cordialement.")


def test_entries_without_n_and_their_signatures(seed: ParsedHistory) -> None:
    az = etat(seed, "AZ: Appels 24h")
    assert (az.n, az.due_at, az.set_number) == (None, paris(2023, 6, 14, 9, 0), 2)
    assert az.comment == "Assuré souhaite faire le point avec prest concernant rdv du 16/06/2023."
    assert az.author is not None
    assert az.author.name == "CHRISTIANA NOBINE"
    ma = etat(seed, "En attente gestion MA")
    assert (ma.due_at, ma.set_on) == (paris(2023, 2, 7, 16, 11), date(2023, 2, 5))
    assert ma.author is not None  # a bare "05.02.2023-16:11" after a blank line
    assert (ma.author.user_id, ma.author.name, ma.author.role) == (None, None, Role.SYSTEM)
    injoignable = etat(seed, "client injoignable")
    assert injoignable.comment == "Message laissé sur le répondeur"
    assert injoignable.author is not None
    assert injoignable.author.role is Role.CONTRACTOR


def test_message_block(seed: ParsedHistory) -> None:
    first = only(seed, MessageRecord)
    assert isinstance(first, MessageRecord)
    assert (first.first_line, first.last_line) == (74, 82)  # leading signature .. blank line
    assert first.author is not None
    assert first.author.at == paris(2023, 2, 7, 14, 47)
    assert (first.sender.user_id, first.sender.name, first.sender.tag) == (
        "3995",
        "SANDRINE SUTOR",
        "M.A.",
    )
    assert first.sender.role is Role.CASE_HANDLER
    assert first.recipient is not None
    assert (first.recipient.user_id, first.recipient.tag, first.recipient.role) == (
        "72a3181",
        "PRESTATAIRE",
        Role.CONTRACTOR,
    )
    assert first.recipient.name == "XXXXXXXXXXXX XXXXXXXXXXXX XXXXXXXXXXXX"
    assert first.delivered is not None
    assert first.delivered.at == paris(2023, 2, 7, 16, 40)
    assert (first.delivered.user_id, first.delivered.name, first.delivered.role) == (
        "995",
        "INTERNET",
        Role.CONTRACTOR,
    )
    assert first.body == (
        "Contact client pour RdV de reconnaissance selon chiffrage existant (1)- 08/02/2023 09:00"
    )
    second = only(seed, MessageRecord, 1)
    assert isinstance(second, MessageRecord)
    assert second.sender.name == "TANGUY TELLIER"
    assert second.body.endswith("Tanguy TELLIER 10/03/2023 11:30")


def test_other_record_kinds(seed: ParsedHistory) -> None:
    opening = only(seed, OpeningRecord)
    assert opening.author.at == paris(2023, 1, 18, 14, 58)
    assert (opening.author.user_id, opening.author.name) == ("1002823", "LEENDRINA NIAMDILA")
    limit = only(seed, AutonomyLimitRecord)
    assert isinstance(limit, AutonomyLimitRecord)
    assert limit.amount == Decimal("1550.00")
    assert limit.caveat is not None
    assert limit.caveat.startswith("(ATTENTION : Pour RC,FAIENCE")
    assert limit.caveat.endswith("VOIR LES AIDES)")
    realisation = only(seed, RealisationRecord)
    assert isinstance(realisation, RealisationRecord)
    assert (realisation.what, realisation.on) == ("PREMIERE DATE DE REALISATION", date(2023, 1, 18))
    assign = only(seed, AssignmentRecord)
    assert isinstance(assign, AssignmentRecord)
    assert assign.assignee_id == "71a0918"
    sub = only(seed, SubAssignmentRecord)
    assert isinstance(sub, SubAssignmentRecord)
    assert (sub.contractor_id, sub.contractor_name, sub.at) == (
        "47269",
        "NYCO DECO",
        paris(2023, 1, 18, 15, 4),
    )
    contact = only(seed, ContactRecord)
    assert isinstance(contact, ContactRecord)
    assert (contact.number, contact.contacted_at) == (1, paris(2023, 2, 7, 16, 50))
    control = only(seed, ControlRecord)
    assert isinstance(control, ControlRecord)
    assert control.detail == "client contacté par le prestataire"
    mensaje = only(seed, MensajeRecord)
    assert isinstance(mensaje, MensajeRecord)
    assert (mensaje.sender, mensaje.contractor_id) == ("72a3135#79", "72a3135")
    assert mensaje.text.endswith("il annule la prestation")


def test_acceptance_actions(seed: ParsedHistory) -> None:
    info, nyco, wakenson = (r for r in seed.records if isinstance(r, ActionRecord))
    assert info.text == "Sms et Email Information assignation envoyé au prestataire"
    assert info.contractor_id is None
    assert (nyco.contractor_name, nyco.contractor_id, nyco.accepted_at) == (
        "NYCO DECO",
        "47269",
        paris(2023, 1, 18, 17, 17),
    )
    assert nyco.author is not None
    assert nyco.author.user_id is None
    assert (wakenson.contractor_name, wakenson.contractor_id, wakenson.accepted_at) == (
        "WAKENSON MENUISERIES",
        "48629",
        paris(2023, 2, 7, 16, 32),
    )


def test_author_attachment_rule(seed: ParsedHistory) -> None:
    lone = [r for r in seed.records if isinstance(r, AuthorRecord)]
    # 68: stands before an entry; 308: the record before is already signed; 417: likewise
    assert [r.first_line for r in lone] == [68, 308, 417]
    assert lone[2].author.role is Role.SYSTEM  # (007) PROCESSUS INFORMATIQUES
    call = next(r for r in seed.records if isinstance(r, NoteRecord) and r.first_line == 409)
    assert call.author is not None
    assert call.author.name == "BEATRIZ MONTAVA SORIANO"
    last = seed.records[-1]
    assert isinstance(last, NoteRecord)
    assert last.text.startswith("allo ass//nrp lm")
    assert last.author is not None
    assert last.author.name == "JOSE TAMAYO CALLE"


# --- the example histories --------------------------------------------------------------------

EXAMPLE_ETATS = {
    "a_ouverture_nyco_deco.txt": SEED_LABELS[0:1],
    "b_wakenson_menuiseries.txt": SEED_LABELS[1:11],
    "c_sechage.txt": SEED_LABELS[11:13],
    "d_client_injoignable.txt": SEED_LABELS[13:14],
    "e_allianz_appel_24h.txt": SEED_LABELS[14:16],
    "f_annulation.txt": SEED_LABELS[16:17],
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_ETATS))
def test_example_history(name: str) -> None:
    path = EXAMPLES / name
    history = parse_file(path)
    assert history.problems == ()
    assert [e.label for e in history.etats] == EXAMPLE_ETATS[name]
    assert all(e.author is not None for e in history.etats)
    lines = input_lines(path.read_text(encoding="utf-8"))
    assert_partition(history.records, lines)
    seed_lines = set(input_lines(SEED.read_text(encoding="utf-8")))
    assert set(lines) <= seed_lines  # verbatim lines of the seed, nothing invented


def test_examples_cover_every_seed_etat() -> None:
    found = [e for name in sorted(EXAMPLE_ETATS) for e in parse_file(EXAMPLES / name).etats]
    assert len(found) == 17


# --- roles ------------------------------------------------------------------------------------


def test_role_map_defaults_and_overrides() -> None:
    default = RoleMap()
    assert default.role_of("995") is Role.CONTRACTOR
    assert default.role_of("996") is Role.SYSTEM
    assert default.role_of("007") is Role.SYSTEM
    assert default.role_of("1002688") is Role.CASE_HANDLER
    assert default.role_of(None) is Role.SYSTEM
    custom = RoleMap({"1002688": Role.SURVEYOR}, default=Role.CUSTOMER_SERVICE)
    assert custom.role_of("1002688") is Role.SURVEYOR
    assert custom.role_of("42") is Role.CUSTOMER_SERVICE
    assert custom.role_of("995") is Role.CONTRACTOR


def test_role_map_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "roles.toml"
    path.write_text('default = "case_handler"\n[roles]\n"1002688" = "surveyor"\n', "utf-8")
    roles = RoleMap.from_toml(path)
    history = parse_file(SEED, roles=roles)
    pt = etat(history, "PT - Devis")
    assert pt.author is not None
    assert pt.author.role is Role.SURVEYOR
    message = only(history, MessageRecord, 1)
    assert isinstance(message, MessageRecord)
    assert message.sender.role is Role.SURVEYOR


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[roles]\n"1002688" = "metreur"\n', "roles.1002688"),
        ('default = "boss"\n', "default"),
        ('colour = "blue"\n', "colour"),
    ],
)
def test_role_map_errors_name_the_file_and_key(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(RoleMapError) as caught:
        RoleMap.from_toml(path)
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert str(path) in str(caught.value)
    assert key in str(caught.value)


def test_role_map_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[roles\n", "utf-8")
    with pytest.raises(RoleMapError, match=r"broken\.toml"):
        RoleMap.from_toml(path)


# --- malformed and odd input ------------------------------------------------------------------

GOOD = (
    "ETAT: Première visite (7) 20/02/2023 09:00 (07/02/2023-N°1)\n07.02.2023-16:54-(995) INTERNET"
)


def test_impossible_date_is_unrecognised_and_parsing_goes_on() -> None:
    text = (
        "\nETAT: Etude de devis (2) 31/02/2023 10:00 comment\n(18/01/2023-N°1)\n"
        "18.01.2023-15:04-(996) ASIGNACIÓN AUTOMÁTICA ZONAL\n\n" + GOOD
    )
    history = parse_text(text, source="bad.txt")
    bad, good = history.records
    assert isinstance(bad, UnrecognisedRecord)
    assert (bad.first_line, bad.last_line, bad.line) == (1, 5, 2)
    assert bad.text == "ETAT: Etude de devis (2) 31/02/2023 10:00 comment\n(18/01/2023-N°1)"
    assert bad.author is not None
    assert bad.author.role is Role.SYSTEM
    (problem,) = history.problems
    assert problem.line == 2
    assert "impossible due date 31/02/2023" in problem.message
    assert problem.text.startswith("ETAT: Etude de devis (2) 31/02/2023")
    assert str(problem).startswith("line 2: impossible due date")
    assert isinstance(good, EtatRecord)
    assert good.label == "Première visite"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ETAT: Contact client pour devis (2)", "without a due date"),
        ("ETAT: Contact client pour devis (2) 19/01/2023", "without a due date"),
        ("ETAT: 19/01/2023 15:04 (18/01/2023-N°1)", "without a label"),
        ("ETAT: X (2) 19/01/2023 15:04 (30/02/2023-N°1)", "impossible set date"),
        ("ETAT: X (2) 19/01/2023 25:04", "impossible due date"),
        ("31.02.2023-10:00-(995) INTERNET", "impossible signature date"),
        ("garbage\x00\x01\x02", "control characters"),
        ("La limite maximum d'autonomie de MA pour ce SINISTRE est de :\nbeaucoup", "amount"),
        ("REALISATION: PREMIERE DATE DE REALISATION:", "without a date"),
        ("ASSIGNER: personne", "without an (id)"),
        ("MESSAGE DE personne", "without a sender"),
    ],
)
def test_unreadable_entries_are_reported(text: str, message: str) -> None:
    history = parse_text(text)
    (problem,) = history.problems
    assert problem.line == 1
    assert message in problem.message
    assert_partition(history.records, input_lines(text))


def test_truncated_etat_stops_at_the_next_record() -> None:
    text = "ETAT: Contact client pour devis (2)\n" + GOOD
    bad, good = parse_text(text).records
    assert isinstance(bad, UnrecognisedRecord)
    assert bad.last_line == 1
    assert isinstance(good, EtatRecord)
    assert good.author is not None


def test_entry_without_set_date_is_kept() -> None:
    (e,) = parse_text("ETAT: Travaux en cours 01/06/2023 08:00 pose").etats
    assert (e.label, e.comment, e.set_on, e.set_number) == ("Travaux en cours", "pose", None, None)


def test_crlf_lone_cr_and_nbsp_read_like_plain_text() -> None:
    plain = SEED.read_text(encoding="utf-8")
    reference = [r.model_dump(exclude={"raw"}) for r in parse_text(plain).records]
    for variant in (plain.replace("\n", "\r\n"), plain.replace("\n", "\r")):
        history = parse_text(variant)
        assert [r.model_dump(exclude={"raw"}) for r in history.records] == reference
        assert_partition(history.records, input_lines(plain))
    nbsp = plain.replace(" (", "\u00a0(").replace("09:00", "09:00\u202f")
    history = parse_text(nbsp)
    assert [e.label for e in history.etats] == SEED_LABELS
    assert history.problems == ()
    assert_partition(history.records, input_lines(nbsp))  # raw keeps the NBSPs


def test_pdf_style_hyphenated_and_indented_entry() -> None:
    text = (
        "   ETAT: Contact client pour RdV de recon-\n"
        "   naissance (1) 08/02/2023\n09:00 (07/02/2023-N°1)"
    )
    (e,) = parse_text(text).etats
    assert e.label == "Contact client pour RdV de recon- naissance"
    assert (e.n, e.due_at) == (1, paris(2023, 2, 8, 9, 0))


def test_binary_garbage_never_crashes(tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    data = bytes(range(256)) * 8 + b"\xff\xfe\r\n\x81\x8d ETAT: x\n" + bytes(range(255, -1, -1))
    path.write_bytes(data)
    history = parse_file(path)
    assert history.problems
    assert_partition(history.records, input_lines("".join(decode_lines(data))))


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_files_with_any_line_ending(tmp_path: Path, newline: str) -> None:
    text = SEED.read_text(encoding="utf-8")
    path = tmp_path / "seed.txt"
    path.write_bytes(text.replace("\n", newline).encode("utf-8") + newline.encode())
    history = parse_file(path)
    assert [e.label for e in history.etats] == SEED_LABELS
    assert_partition(history.records, input_lines(text))


def test_cp1252_file_and_byte_order_mark(tmp_path: Path) -> None:
    cp = tmp_path / "cp1252.txt"
    cp.write_bytes(GOOD.encode("cp1252"))
    assert [e.label for e in parse_file(cp).etats] == ["Première visite"]
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    history = parse_file(bom)
    assert [e.label for e in history.etats] == ["Première visite"]
    assert history.records[0].raw.startswith("ETAT:")


@pytest.mark.parametrize("prefix", ["", "ETAT: ", "18.01.2023-14:58-(", "Action réalisée: "])
def test_ten_megabyte_single_line(prefix: str) -> None:
    line = prefix + ("x 1/1/( " * 1_310_720)[: 10_000_000 - len(prefix)]
    history = parse_text(line)
    (record,) = history.records
    assert (record.first_line, record.last_line) == (1, 1)
    assert len(record.raw) == 10_000_000


def test_blank_lines() -> None:
    assert parse_text("").records == ()
    (only_blank,) = parse_text("\n \n\u00a0\n").records
    assert isinstance(only_blank, NoteRecord)
    assert only_blank.text == ""
    assert (only_blank.first_line, only_blank.last_line) == (1, 3)
    first, second = parse_text("\n\nnote one\n\n\nnote two\n\n").records
    assert (first.first_line, first.last_line, second.first_line, second.last_line) == (1, 5, 6, 7)


def test_signature_across_blank_line_and_before_message() -> None:
    text = (
        "ETAT: A (2) 19/01/2023 15:04 (18/01/2023-N°1)\n\n"
        "18.01.2023-15:04-(1) ANNE .\n"
        "18.01.2023-15:05-(2) BOB\n"
        "18.01.2023-15:06-(3) CLAIRE\n"
        "MESSAGE DE .(3) CLAIRE(M.A.)\nPOUR:(9) PREST (PRESTATAIRE)\nnot a REMIS DE: a note\n"
    )
    e, lone, message, note = parse_text(text).records
    assert isinstance(e, EtatRecord)
    assert e.author is not None
    assert e.author.name == "ANNE"
    assert (e.first_line, e.last_line) == (1, 3)
    assert isinstance(lone, AuthorRecord)
    assert lone.author.name == "BOB"
    assert isinstance(message, MessageRecord)
    assert message.author is not None
    assert message.author.name == "CLAIRE"
    assert message.first_line == 5
    assert message.delivered is None
    assert message.body == ""
    assert message.recipient is not None
    assert message.recipient.name == "PREST"
    assert isinstance(note, NoteRecord)
    assert note.author is None


def test_daylight_saving_rules() -> None:
    autumn, spring = parse_text(
        "ETAT: A 29/10/2023 02:30 (28/10/2023-N°1)\nETAT: B 26/03/2023 02:30 (25/03/2023-N°1)"
    ).etats
    assert autumn.due_at.utcoffset() == timedelta(hours=2)  # first of the two 02:30s
    assert spring.due_at.utcoffset() == timedelta(hours=1)  # offset before the gap


def test_streaming_is_lazy() -> None:
    def endless() -> Iterator[str]:
        for k in itertools.count():
            yield f"ETAT: Première visite (7) 20/02/2023 09:{k % 60:02d} (07/02/2023-N°1)"
            yield "07.02.2023-16:54-(995) INTERNET"
            yield ""

    first = list(itertools.islice(iter_records(endless()), 5))
    assert [r.first_line for r in first] == [1, 4, 7, 10, 13]
    assert all(isinstance(r, EtatRecord) for r in first)


def test_iter_file_streams_the_same_records(tmp_path: Path) -> None:
    assert list(iter_file(SEED)) == list(parse_file(SEED).records)
    problems = [r for r in iter_records(["ETAT: x"]) if isinstance(r, UnrecognisedRecord)]
    assert problems[0].problem.message.startswith("ETAT entry without a due date")


def test_records_round_trip_through_json(seed: ParsedHistory) -> None:
    for record in seed.records:
        assert RecordAdapter.validate_json(RecordAdapter.dump_json(record)) == record


def test_records_are_frozen(seed: ParsedHistory) -> None:
    field = "label"
    with pytest.raises(ValueError, match="frozen"):
        setattr(seed.etats[0], field, "x")


# --- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    "",
    " ",
    "\r",
    "\r\n",
    "ETAT: ",
    "Etude de devis (2) ",
    "01/03/2023 17:04",
    "31/02/2023 10:00",
    "(01/03/2023-N°1)",
    "01.03.2023-17:04-(995) INTERNET",
    "18.01.2023-17:17",
    "MESSAGE DE .(3995) SANDRINE SUTOR .(M.A.)",
    "POUR:(72a3181) XX",
    " (PRESTATAIRE)",
    "REMIS DE:07.02.2023-16:40-(995) INTERNET",
    "Action réalisée: Le professionnel X (1), accepte cette intervention le 18/01/2023 a 17:17.",
    "NTACT 1: -Date du contact avec le client: 07/02/2023 16:50",
    "La limite maximum d'autonomie de MA pour ce SINISTRE est de :",
    "1 550,00 (ATTENTION",
    "Mensaje de 72a3135#79 Bonjour",
    "Intervention sous-assignée à: - [47269] NYCO DECO 18/01/2023 15:04",
    "% d'humidité 60. ",
    "Semaine: 14. ",
    "\u00a0",
    "\x00",
]


def check_never_loses_a_line(text: str) -> None:
    history = parse_text(text)
    lines = input_lines(text)
    assert_partition(history.records, lines)
    streamed = list(iter_records(io.StringIO(text, newline="")))
    assert streamed == list(history.records)
    for problem in history.problems:
        assert 1 <= problem.line <= len(lines)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_never_crashes_or_loses_a_line(text: str) -> None:
    check_never_loses_a_line(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=40).map("".join))
def test_history_like_text_never_crashes_or_loses_a_line(text: str) -> None:
    check_never_loses_a_line(text)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    lines = decode_lines(data)
    assert_partition(list(iter_records(lines)), input_lines("".join(lines)))


def test_split_lines_matches_the_documented_rule() -> None:
    assert split_lines("a\r\nb\rc\nd\n") == ["a", "b", "c", "d"]
    assert split_lines("a\u2028b\x0c") == ["a\u2028b\x0c"]
    assert split_lines("\n") == [""]
    assert split_lines("") == []


def test_records_of_one_shape_share_a_fields_set_nobody_can_change() -> None:
    """One frozen fields-set per shape of record, shared (not one set per record); a copy
    with updates gets a set of its own, and the shared one stays as it was."""
    text = (
        "ETAT: Première visite (7) 20/02/2023 09:00 (07/02/2023-N°1)\n"
        "07.02.2023-16:54-(995) INTERNET\n"
        "ETAT: Première visite (8) 21/02/2023 09:00 (07/02/2023-N°2)\n"
        "07.02.2023-16:55-(995) INTERNET\n"
    )
    first, second = parse_text(text).etats
    assert first.model_fields_set is second.model_fields_set
    assert first.author is not None and second.author is not None
    assert first.author.model_fields_set is second.author.model_fields_set
    shared = set(first.model_fields_set)
    with pytest.raises(AttributeError):
        first.model_fields_set.add("poison")  # type: ignore[attr-defined]
    moved = first.model_copy(update={"comment": "vu"})
    assert moved.comment == "vu" and moved.model_fields_set == shared | {"comment"}
    assert first.model_fields_set == shared == second.model_fields_set
