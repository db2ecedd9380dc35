"""The bundled catalogue's content, and the checks every catalogue goes through."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from strategies import tiny_catalogue

from etatmachine import CatalogueError, UnknownStateError, Workflow
from etatmachine.catalogue import (
    DeadlineKind,
    StateKind,
    default_catalogue,
    load_catalogue,
    parse_catalogue,
)

CAT = default_catalogue()
SEED_PHASES = ["ouverture", "devis", "rapport_expert", "travaux", "attente", "specifique"]


def raw() -> dict[str, Any]:
    """The bundled catalogue as data, to break on purpose."""
    return copy.deepcopy(CAT.to_dict())


def state_entry(data: dict[str, Any], code: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(s for s in data["states"] if s["code"] == code)
    return entry


def test_every_phase_of_the_procedure_plus_the_closing_addition() -> None:
    assert [p.code for p in CAT.phases] == [*SEED_PHASES, "cloture"]
    assert [p.code for p in CAT.phases if p.addition] == ["cloture"]
    assert CAT.phase("specifique").columns == (
        "service_clientele",
        "message_prestataire",
        "az",
        "sinapps",
        "cie",
    )


def test_state_and_move_counts() -> None:
    per_phase = {p: sum(1 for s in CAT if s.phase == p) for p in [*SEED_PHASES, "cloture"]}
    assert per_phase == {
        "ouverture": 6,
        "devis": 7,
        "rapport_expert": 6,
        "travaux": 4,
        "attente": 11,
        "specifique": 8,
        "cloture": 2,
    }
    assert len(CAT) == 44
    assert CAT.move_count == 518


def test_codes_are_stable_ascii_identifiers() -> None:
    for s in CAT:
        assert s.code.isascii() and s.code.isidentifier() and s.code == s.code.lower()


def test_the_two_supply_waits_are_two_states_with_one_label() -> None:
    wait = CAT.state("attente_fourniture")
    complaint = CAT.state("attente_fourniture_reclamation")
    assert wait.label == complaint.label == "En attente de fourniture"
    assert (wait.phase, complaint.phase) == ("attente", "specifique")
    assert complaint.column == "service_clientele" and not complaint.resolvable


def test_history_only_label_and_additions_are_marked() -> None:
    assert CAT.state("contact_client_rdv_reco_chiffrage").source == "history"
    terminals = [s for s in CAT if s.kind is StateKind.TERMINAL]
    assert {s.code for s in terminals} == {"travaux_termines", "dossier_annule"}
    assert all(s.source == "addition" for s in terminals)
    # a closed file is only reopened for a complaint's site control after the works
    assert set(CAT.moves_from("travaux_termines")) == {"attente_controle_chantier"}
    assert not CAT.moves_from("dossier_annule")


@pytest.mark.parametrize(
    ("code", "kind", "amount", "figure"),
    [
        ("contact_client_devis", DeadlineKind.BUSINESS_HOURS, 24, "24h"),
        ("etude_devis", DeadlineKind.BUSINESS_HOURS, 48, "48h"),
        ("rapport_attente_traitement", DeadlineKind.BUSINESS_DAYS, 5, "5 jours ouvrés"),
        ("contact_client_travaux_15j", DeadlineKind.CALENDAR_DAYS, 15, "15 jours"),
        ("attente_autre_reparation", DeadlineKind.CALENDAR_DAYS, 15, "15j"),
        ("attente_fourniture", DeadlineKind.GIVEN, None, "date de réception prévue"),
        ("demande_traitement_devis", DeadlineKind.INHERIT, None, "48h de l'étude"),
    ],
)
def test_deadlines_carry_the_procedures_figure(
    code: str, kind: DeadlineKind, amount: int | None, figure: str
) -> None:
    d = CAT.state(code).deadline
    assert (d.kind, d.amount, d.figure) == (kind, amount, figure)


def test_locked_states_are_the_opening_and_works_phases_and_the_do_not_touch_ones() -> None:
    locked = {s.code for s in CAT if s.rule("due_date_locked")}
    expected = {s.code for s in CAT if s.phase in {"ouverture", "travaux"}}
    assert locked == expected | {"attente_information_expert", "attente_fourniture_reclamation"}


def test_every_wait_needs_a_comment() -> None:
    for s in CAT:
        if s.phase == "attente":
            assert s.rule("comment_required") is not None, s.code


def test_every_non_obvious_move_says_why() -> None:
    for s in CAT:
        for m in s.moves:
            obvious = m.to.startswith("@") or m.to in {
                "premiere_visite",
                "premiere_visite_plus_7j",
                "premiere_visite_grille",
                "devis_reponse_metreur",
                "date_debut_travaux",
                "travaux_en_cours",
                "travaux_termines",
            }
            assert obvious or m.why, (s.code, m.to)
    assert all(gm.why for gm in CAT.group_moves)


def test_unknown_code_raises_with_candidates() -> None:
    with pytest.raises(UnknownStateError) as info:
        CAT.state("etude_devi")
    assert info.value.label == "etude_devi"
    assert info.value.candidates[0] == "etude_devis"
    assert str(info.value) == "unknown state 'etude_devi'; closest: etude_devis"


def test_export_reads_back_to_the_same_catalogue() -> None:
    again = parse_catalogue(json.loads(json.dumps(CAT.to_dict())))
    assert [s.code for s in again] == [s.code for s in CAT]
    for s in CAT:
        assert dict(again.moves_from(s.code)) == dict(CAT.moves_from(s.code))
        assert again.resume_targets(s.code) == CAT.resume_targets(s.code)


def test_a_users_catalogue_file_loads_through_the_same_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(CAT.to_dict()), encoding="utf-8")
    wf = Workflow.from_file(path)
    assert wf.catalogue.file == str(path) and len(wf.catalogue) == len(CAT)


# --- broken catalogues: one error type naming the file, the state and the field ---------


def broken(data: dict[str, Any], tmp_path: Path) -> CatalogueError:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.file == str(path)
    return info.value


def test_move_to_unknown_state(tmp_path: Path) -> None:
    data = raw()
    state_entry(data, "etude_devis")["moves"].append({"to": "nulle_part"})
    err = broken(data, tmp_path)
    assert (err.state, err.field) == (
        "etude_devis",
        f"moves[{len(CAT.moves_from('etude_devis'))}].to",
    )
    assert "unknown state 'nulle_part'" in str(err)


def test_duplicate_code(tmp_path: Path) -> None:
    data = raw()
    data["states"].append(copy.deepcopy(state_entry(data, "etude_devis")))
    err = broken(data, tmp_path)
    assert (err.state, err.field, err.reason) == ("etude_devis", "code", "duplicate state code")


def test_missing_field_names_the_state_and_field(tmp_path: Path) -> None:
    data = raw()
    del state_entry(data, "premiere_visite")["label"]
    err = broken(data, tmp_path)
    assert (err.state, err.field) == ("premiere_visite", "label")
    assert "Field required" in str(err)


def test_wrong_type(tmp_path: Path) -> None:
    data = raw()
    state_entry(data, "etude_devis")["deadline"]["amount"] = "quarante-huit"
    err = broken(data, tmp_path)
    assert (err.state, err.field) == ("etude_devis", "deadline.amount")


def test_unknown_rule_code(tmp_path: Path) -> None:
    data = raw()
    state_entry(data, "etude_devis")["rules"] = [{"code": "be_nice"}]
    err = broken(data, tmp_path)
    assert err.state == "etude_devis" and err.field is not None and err.field.startswith("rules")


def test_unreachable_state(tmp_path: Path) -> None:
    data = raw()
    data["states"].append(
        {
            "code": "orpheline",
            "label": "Orpheline",
            "phase": "devis",
            "owner": "surveyor",
            "meaning": "x",
            "meaning_en": "x",
            "deadline": {"kind": "business_hours", "amount": 1},
            "moves": [{"to": "dossier_annule"}],
        }
    )
    err = broken(data, tmp_path)
    assert (err.state, err.reason) == ("orpheline", "unreachable from any initial state")


tiny = tiny_catalogue


def test_tiny_catalogue_is_valid() -> None:
    cat = parse_catalogue(tiny({"start": ["middle"], "middle": ["end"]}))
    assert len(cat) == 3 and cat.move_count == 2


def test_state_with_no_way_out(tmp_path: Path) -> None:
    err = broken(tiny({"start": ["middle", "end"]}), tmp_path)
    assert (err.state, err.field, err.reason) == (
        "middle",
        "moves",
        "no way out of a non-terminal state",
    )


def test_cycle_with_no_exit(tmp_path: Path) -> None:
    err = broken(tiny({"start": ["middle", "end"], "middle": ["start2"]}), tmp_path)
    assert "unknown state 'start2'" in str(err)
    data = tiny({"start": ["middle", "end"], "middle": ["other"]})
    other = copy.deepcopy(data["states"][1])
    other.update(code="other", moves=[{"to": "middle"}])
    data["states"].append(other)
    err = broken(data, tmp_path)
    assert (err.reason, err.field) == ("a cycle with no way to a terminal state", "moves")
    assert err.state in {"middle", "other"}


def test_terminal_state_with_exits(tmp_path: Path) -> None:
    data = raw()
    state_entry(data, "dossier_annule")["moves"] = [{"to": "contact_client_devis"}]
    err = broken(data, tmp_path)
    assert err.state == "dossier_annule" and err.field == "moves"
    assert "a terminal state may only be reopened into a wait" in str(err)


def test_unknown_group(tmp_path: Path) -> None:
    data = raw()
    state_entry(data, "etude_devis")["moves"].append({"to": "@nowhere"})
    err = broken(data, tmp_path)
    assert err.state == "etude_devis" and "unknown group '@nowhere'" in str(err)


def test_invalid_toml_and_json_and_bytes(tmp_path: Path) -> None:
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("name = 'x'\n[[states]\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"^file .*bad\.toml: invalid TOML"):
        load_catalogue(bad_toml)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"invalid JSON"):
        load_catalogue(bad_json)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogueError, match=r"not UTF-8 text \(byte 0\)"):
        load_catalogue(binary)
    top = tmp_path / "list.json"
    top.write_text("[]", encoding="utf-8")
    with pytest.raises(CatalogueError, match="top level must be a table"):
        load_catalogue(top)
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.toml")


def test_loading_never_executes_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = tmp_path / "evil.toml"
    payload.write_text(
        f"name = \"__import__('os').system('touch {marker}')\"\nversion = \"1\"\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError):
        load_catalogue(payload)
    assert not marker.exists()
