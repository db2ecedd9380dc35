"""Replaying the real histories of the procedure: verdicts, due dates, lateness, golden JSON.

Regenerate the golden files after a deliberate change with
``ETATMACHINE_REGEN=1 pytest tests/test_replay.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from etatmachine import Workflow
from etatmachine.business_calendar import PARIS
from etatmachine.legacy import iter_records, parse_file, split_lines
from etatmachine.replay import (
    SCHEMA_VERSION,
    ReplayReport,
    combined_summary,
    iter_replays,
    replay_file,
    replay_records,
)

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = sorted((ROOT / "examples" / "histories").glob("*.txt"))
SEED = ROOT / "tests" / "data" / "seed.txt"
GOLDEN = ROOT / "tests" / "golden" / "replay"
REGEN = os.environ.get("ETATMACHINE_REGEN") == "1"


def golden(name: str, report: ReplayReport) -> None:
    source = Path(report.source).resolve().relative_to(ROOT).as_posix()  # clone-independent
    data = report.model_copy(update={"source": source}).model_dump(mode="json")
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    path = GOLDEN / f"{name}.json"
    if REGEN:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run ETATMACHINE_REGEN=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8"), f"{path} differs: regenerate and review"


@pytest.mark.parametrize("path", [*HISTORIES, SEED], ids=lambda p: p.stem)
def test_replay_matches_its_golden_json(path: Path) -> None:
    report = replay_file(path)
    golden(path.stem, report)
    assert report.schema_version == SCHEMA_VERSION
    assert ReplayReport.model_validate_json(report.model_dump_json()) == report


def test_the_seed_replays_all_seventeen_entries_and_resolves_them() -> None:
    report = replay_file(SEED)
    assert report.summary.entries == 17
    assert report.summary.unresolved == 0
    assert all(e.state for e in report.entries)
    assert report.unrecognised == ()


def test_wakenson_dossier_timeline() -> None:
    report = replay_file(ROOT / "examples" / "histories" / "b_wakenson_menuiseries.txt")
    states = [e.state for e in report.entries]
    assert states == [
        "contact_client_rdv_reco_chiffrage",
        "premiere_visite",
        "attente_prix_fournisseur",
        "etude_devis",
        "devis_demande_info",
        "devis_reponse_metreur",
        "devis_attente_accord_expert",
        "contact_client_travaux",
        "attente_fourniture",
        "date_debut_travaux",
    ]
    assert report.contractor == "WAKENSON MENUISERIES"
    # the visit was booked 13 days out without the client-request variant
    visit = report.entries[1]
    assert [v.rule for v in visit.violations] == ["appointment_too_far"]
    assert visit.due_at == datetime(2023, 2, 20, 9, 0, tzinfo=PARIS)
    # a kept appointment is an event, not a step owed by then: no lateness after the visit
    prices = report.entries[2]
    assert (prices.closes, prices.late, prices.contractor_clock) == ("premiere_visite", False, True)
    # « Etude de devis » recorded due at the minute it was set: measured against the 48h
    info = report.entries[4]
    assert info.closes == "etude_devis"
    assert info.closes_due_at == datetime(2023, 3, 3, 17, 4, tzinfo=PARIS)
    assert info.lateness_business_seconds == timedelta(hours=70, minutes=50).total_seconds()
    # the history's (21) is kept as written and is no deadline: the recorded due stands
    expert = report.entries[6]
    assert (expert.n, expert.computed_due_at) == (21, None)
    assert expert.due_at == datetime(2023, 4, 6, 13, 30, tzinfo=PARIS)
    # supplies announced for week 14 with a due date of 5 May
    supplies = report.entries[8]
    assert supplies.due_at == supplies.computed_due_at == datetime(2023, 5, 5, 9, tzinfo=PARIS)
    assert report.summary.lateness.by_contractor["WAKENSON MENUISERIES"].late == 0
    assert report.summary.lateness.by_owner["surveyor"].late == 2


def test_unreachable_client_without_attempts_is_a_breach() -> None:
    report = replay_file(ROOT / "examples" / "histories" / "d_client_injoignable.txt")
    assert [v.rule for v in report.entries[0].violations] == ["contact_attempts_required"]


def test_attributes_given_to_the_replay_are_read_by_the_rules() -> None:
    """« AZ: Appels 24h » says the file is Allianz's; an insurer given to the replay wins."""
    path = ROOT / "examples" / "histories" / "e_allianz_appel_24h.txt"
    read = replay_file(path)
    assert (read.insurer, read.entries[0].verdict) == ("ALLIANZ", "accepted")
    given = replay_file(path, insurer="BPCE")
    assert (given.insurer, given.entries[0].verdict) == ("BPCE", "refused")
    assert [v.rule for v in given.entries[0].violations] == ["insurer_restricted"]
    assert replay_file(path, insurer="AZ").entries[0].verdict == "accepted"  # AZ is Allianz


HISTORY = """\
ETAT: Contact client pour devis (2) 19/01/2023 15:04
(18/01/2023-N°1)
18.01.2023-15:04-(996) ASIGNACIÓN AUTOMÁTICA ZONAL
NTACT 1: -Date du contact avec le client: 18/01/2023 16:00
18.01.2023-16:00-(995) INTERNET
NTACT 2: -Date du contact avec le client: 18/01/2023 17:00
18.01.2023-17:00-(995) INTERNET
NTACT 3: -Date du contact avec le client: 18/01/2023 18:00
18.01.2023-18:00-(995) INTERNET
ETAT: client injoignable (7) 25/01/2023 17:00 Message laissé (18/01/2023-N°2)
18.01.2023-19:33-(995) INTERNET
ETAT: Contact client pour devis (2) 26/01/2023 15:04
(24/01/2023-N°1)
24.01.2023-15:04-(1002730) JOSE TAMAYO CALLE
ETAT: Etude de la lune (2) 26/01/2023 15:04
(24/01/2023-N°1)
24.01.2023-15:05-(1002730) JOSE TAMAYO CALLE
ETAT: Première visite 31/02/2023 09:00 (24/01/2023-N°1)
"""


def test_a_contact_made_is_not_a_failed_attempt_and_meets_the_contact_step() -> None:
    """« NTACT n: -Date du contact avec le client »: the insured was reached. That meets the
    24h contact step (its lateness stops there) and counts as no failed attempt."""
    report = replay_records(iter_records(split_lines(HISTORY)))
    unreachable = report.entries[1]
    assert [v.rule for v in unreachable.violations] == ["contact_attempts_required"]
    assert unreachable.closes == "contact_client_devis" and not unreachable.late
    slow = HISTORY.replace("18/01/2023 16:00", "20/01/2023 16:00").replace(
        "18.01.2023-16:00", "20.01.2023-16:00"
    )
    slow = (
        slow.split("NTACT 2:")[0]
        + "ETAT: client injoignable"
        + slow.split("ETAT: client injoignable")[1].replace("18.01.2023-19:33", "20.01.2023-19:33")
    )
    closed = replay_records(iter_records(split_lines(slow))).entries[1]
    # reached on Friday 20 at 16:00, due Thursday 19 at 15:04: 24 h 56 min late, not more
    assert closed.lateness_business_seconds == timedelta(hours=24, minutes=56).total_seconds()


CALLS = """\
ETAT: Contact client pour devis (2) 19/01/2023 15:04
(18/01/2023-N°1)
18.01.2023-15:04-(996) ASIGNACIÓN AUTOMÁTICA ZONAL
allo ass // nrp
18.01.2023-16:00-(995) INTERNET
allo ass // nrp
18.01.2023-16:00-(995) INTERNET
lm sur le portable
18.01.2023-17:00-(995) INTERNET
{last}
ETAT: client injoignable (7) 25/01/2023 17:00 Message laissé (18/01/2023-N°2)
18.01.2023-19:33-(995) INTERNET
"""


def test_failed_calls_are_read_from_call_notes_each_once() -> None:
    """Unanswered calls are the call notes (« nrp », « lm », « message laissé sur le
    répondeur »); a duplicated line counts once. Three are needed."""
    two = CALLS.format(last="Rendez-vous à prendre\n18.01.2023-18:00-(995) INTERNET")
    report = replay_records(iter_records(split_lines(two)))
    assert [v.rule for v in report.entries[1].violations] == ["contact_attempts_required"]
    assert "(2 recorded)" in report.entries[1].violations[0].message
    three = CALLS.format(last="message laissé sur le répondeur\n18.01.2023-18:00-(995) INTERNET")
    assert replay_records(iter_records(split_lines(three))).entries[1].verdict == "accepted"


def test_a_locked_due_date_changed_by_a_later_entry_is_reported() -> None:
    report = replay_records(iter_records(split_lines(HISTORY)))
    resumed = report.entries[2]
    assert resumed.state == "contact_client_devis"
    # resuming the interrupted step is allowed, but its due date was set 48 h out (24 h)
    assert [v.rule for v in resumed.violations] == ["due_beyond_deadline"]
    assert resumed.closes == "client_injoignable"
    assert resumed.closes_due_at == datetime(2023, 1, 25, 17, tzinfo=PARIS)
    changed = HISTORY.replace("ETAT: client injoignable", "ETAT: Contact client pour devis")
    report = replay_records(iter_records(split_lines(changed)))
    rules = [v.rule for v in report.entries[1].violations]
    assert "due_date_locked" in rules
    assert (
        "was changed by a later entry"
        in report.entries[1].violations[rules.index("due_date_locked")].message
    )


def test_unknown_labels_and_unreadable_lines_are_kept_not_dropped() -> None:
    report = replay_records(iter_records(split_lines(HISTORY)))
    unknown = report.entries[3]
    assert (unknown.verdict, unknown.state, unknown.label) == (
        "unresolved",
        None,
        "Etude de la lune",
    )
    assert unknown.violations[0].rule == "unknown_label"
    assert report.unrecognised[0].line == 18
    assert report.unrecognised[0].message == "impossible due date 31/02/2023 09:00"
    assert "31/02/2023" in report.unrecognised[0].text
    assert report.summary.unresolved == 1


def test_archive_streams_one_dossier_per_opening() -> None:
    opening = "OUVERTURE: -18.01.2023-14:58-(1002823) LEENDRINA NIAMDILA\n"
    text = (opening + HISTORY) * 3
    reports = list(iter_replays(iter_records(split_lines(text)), source="archive"))
    assert [r.dossier_id for r in reports] == ["archive#1", "archive#2", "archive#3"]
    assert all(r.summary.entries == 4 for r in reports)
    count, summary = combined_summary(reports)
    assert (count, summary.entries, summary.unresolved) == (3, 12, 3)


def test_replay_uses_the_dossier_calendar() -> None:
    # 24 business hours set on Thursday 6 April 2023 in Moselle skip Good Friday (a holiday
    # there only) and Easter Monday: due on Tuesday 11 April.
    text = (
        "ETAT: Contact client pour devis (2) 11/04/2023 10:00\n(06/04/2023-N°1)\n"
        "06.04.2023-10:00-(996) ASIGNACIÓN AUTOMÁTICA ZONAL\n"
    )
    national = replay_records(iter_records(split_lines(text)))
    moselle = replay_records(iter_records(split_lines(text)), subdivision="57")
    assert national.entries[0].computed_due_at == datetime(2023, 4, 7, 10, tzinfo=PARIS)
    assert moselle.entries[0].computed_due_at == datetime(2023, 4, 11, 10, tzinfo=PARIS)


def test_workflow_parameter_and_parse_file_agree() -> None:
    path = HISTORIES[0]
    assert replay_records(
        parse_file(path).records, Workflow.default(), dossier_id=path.stem, source=str(path)
    ) == replay_file(path)


def test_an_entry_dated_outside_the_supported_years_is_unresolved_and_the_file_goes_on() -> None:
    """A date no calendar reads (1899, 9999: placeholders of old exports) makes that entry
    unresolved (rule ``date_out_of_range``, the year in the message); the entries around it
    are replayed as if it were not there, and nothing is dropped."""
    entries = [
        "ETAT: Contact client pour devis (2) 19/01/2023 15:04\n(18/01/2023-N°1)\n"
        "18.01.2023-15:04-(996) ASIGNACIÓN AUTOMÁTICA ZONAL\n",
        "ETAT: Etude de devis 31/12/9999 23:59 (19/01/2023-N°2)\n19.01.2023-10:00-(995) INTERNET\n",
        "ETAT: Etude de devis 20/01/1899 10:00 (19/01/2023-N°3)\n19.01.1899-10:00-(995) INTERNET\n",
        "ETAT: client injoignable (7) 25/01/2023 17:00 Message laissé (18/01/2023-N°2)\n"
        "18.01.2023-19:33-(995) INTERNET\n",
    ]
    without = replay_records(iter_records(split_lines(entries[0] + entries[3])))
    report = replay_records(iter_records(split_lines("".join(entries))))
    verdicts = [(e.verdict, [v.rule for v in e.violations]) for e in report.entries]
    assert verdicts[1:3] == [("unresolved", ["date_out_of_range"])] * 2
    assert "9999" in report.entries[1].violations[0].message
    assert "1899" in report.entries[2].violations[0].message_fr
    assert [e.state for e in report.entries[1:3]] == [None, None]
    kept = [report.entries[0], report.entries[3]]
    assert [e.model_dump(exclude={"line", "last_line"}) for e in kept] == [
        e.model_dump(exclude={"line", "last_line"}) for e in without.entries
    ]
    assert report.summary.unresolved == 2
    assert report.summary.violations_by_rule["date_out_of_range"] == 2


def test_a_call_dated_outside_the_supported_years_is_not_a_call() -> None:
    text = HISTORY.replace("18.01.2023-16:00-(995) INTERNET", "18.01.9999-16:00-(995) INTERNET")
    text = text.replace("Date du contact avec le client: 18/01/2023 16:00", "Date du contact")
    report = replay_records(iter_records(split_lines(text)))
    assert (
        report.summary.entries == replay_records(iter_records(split_lines(HISTORY))).summary.entries
    )


def test_the_replay_checks_what_it_is_given_before_reading_anything() -> None:
    """Attributes, id and source are checked once per call, as `Workflow.open` checks them
    (the error names the argument), even for an empty history."""
    from etatmachine.errors import ArgumentTypeError, ArgumentValueError

    with pytest.raises(ArgumentValueError) as err:
        replay_records([], autonomy_limit="beaucoup")  # type: ignore[arg-type]
    assert err.value.argument == "autonomy_limit"
    with pytest.raises(ArgumentValueError) as err:
        list(iter_replays([], subdivision="zz"))
    assert err.value.argument == "subdivision"
    with pytest.raises(ArgumentValueError) as err:
        replay_records([], dossier_id="")
    assert err.value.argument == "dossier_id"
    with pytest.raises(ArgumentTypeError) as type_err:
        replay_records([], source=3)  # type: ignore[arg-type]
    assert type_err.value.argument == "source"


def test_the_replay_names_a_wrong_argument_in_both_builds() -> None:
    """The public functions check their arguments themselves (`etatmachine.replay.api`, never
    compiled): the compiled engine would answer with a bare TypeError naming nothing."""
    from etatmachine.errors import ArgumentTypeError

    calls: dict[str, Callable[[], object]] = {
        "workflow": lambda: replay_records([], workflow="default"),  # type: ignore[arg-type]
        "records": lambda: replay_records(3),  # type: ignore[arg-type]
        "path": lambda: replay_file(3),  # type: ignore[arg-type]
        "roles": lambda: replay_file(SEED, roles={"995": "contractor"}),  # type: ignore[arg-type]
        "source": lambda: iter_replays([], source=None),  # type: ignore[arg-type]
    }
    for argument, call in calls.items():
        with pytest.raises(ArgumentTypeError) as err:
            call()
        assert err.value.argument == argument


def test_a_record_of_a_subclass_is_read_as_its_base() -> None:
    """The replay tells the parser's record types apart by identity; a user's subclass of
    one (or of a record it does not read) is read as its nearest base, as before."""
    from etatmachine.legacy import EtatRecord, NoteRecord, OpeningRecord

    class MyEtat(EtatRecord):
        pass

    class MyNote(NoteRecord):
        pass

    class MyOpening(OpeningRecord):
        pass

    text = (
        "ETAT: Contact client pour devis (2) 19/01/2023 15:04\n(18/01/2023-N°1)\n"
        "18.01.2023-15:04-(996) ASIGNACIÓN AUTOMÁTICA ZONAL\n"
        + "nrp\n18.01.2023-16:00-(995) INTERNET\n"
        * 3
        + "ETAT: client injoignable (7) 25/01/2023 17:00 (18/01/2023-N°2)\n"
        "18.01.2023-19:33-(995) INTERNET\n"
    )
    records = list(iter_records(split_lines(text)))
    kinds = {EtatRecord: MyEtat, NoteRecord: MyNote}
    mine = [kinds.get(type(r), type(r)).model_validate(r.model_dump()) for r in records]
    assert {type(r) for r in mine} >= {MyEtat, MyNote}
    want = replay_records(records)
    got = replay_records(mine)
    assert got.entries == want.entries and got.summary == want.summary
    opening = "OUVERTURE: -18.01.2023-14:58-(1002823) LEENDRINA NIAMDILA\n"
    archive = list(iter_records(split_lines((opening + text) * 2)))
    kinds[OpeningRecord] = MyOpening
    mine = [kinds.get(type(r), type(r)).model_validate(r.model_dump()) for r in archive]
    assert sum(type(r) is MyOpening for r in mine) == 2
    assert [r.summary for r in iter_replays(mine)] == [r.summary for r in iter_replays(archive)]
    assert len(list(iter_replays(mine))) == 2
