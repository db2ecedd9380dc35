"""The ``etatmachine`` command line: outputs, exit codes (0 ok, 1 breaches, 2 bad input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from etatmachine.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "histories"
WAKENSON = EXAMPLES / "b_wakenson_menuiseries.txt"


def _entries(out: str) -> list[dict[str, Any]]:
    (dossier,) = json.loads(out)["dossiers"]
    entries: list[dict[str, Any]] = dossier["entries"]
    return entries


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_replay_table_shows_every_entry_and_the_breaches() -> None:
    code, out, _ = run("replay", "--width", "120", str(WAKENSON))
    assert code == 0
    for state in ("contact_client_rdv_reco_chiffrage", "premiere_visite", "date_debut_travaux"):
        assert state in out
    assert "line 26: appointment_too_far" in out
    assert "WAKENSON MENUISERIES" in out
    assert "1 dossier, 10 entries: 9 accepted, 1 with breaches" in out


def _json(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)
    return data


def test_replay_json_has_one_shape_for_one_file_and_for_many() -> None:
    code, out, _ = run("replay", "--format", "json", str(WAKENSON))
    assert code == 0
    data = _json(out)
    assert set(data) == {"schema_version", "dossiers", "skipped", "problems", "summary"}
    assert data["schema_version"] == "2" and len(data["dossiers"]) == 1
    (dossier,) = data["dossiers"]
    assert dossier["dossier_id"] == f"{WAKENSON}#1" and len(dossier["entries"]) == 10
    entry = dossier["entries"][0]
    for key in (
        "line",
        "label",
        "state",
        "set_at",
        "due_at",
        "computed_due_at",
        "author",
        "role",
        "violations",
        "effects",
        "segment",
        "n",
        "late",
        "lateness_business_seconds",
        "lateness_last_agreed_business_seconds",
    ):
        assert key in entry
    assert data["summary"]["entries"] == 10 and data["summary"]["files"] == 1
    code, out, _ = run("replay", "--format", "json", str(EXAMPLES))
    assert code == 0
    many = _json(out)
    assert set(many) == set(data)
    assert [Path(r["source"]).name for r in many["dossiers"]] == sorted(
        p.name for p in EXAMPLES.glob("*.txt")
    )


def test_replay_jsonl_is_one_dossier_a_line_then_the_summary() -> None:
    code, out, _ = run("replay", "--format", "jsonl", str(EXAMPLES))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 7 and all("entries" in d for d in lines[:-1])
    assert lines[-1]["summary"]["dossiers"] == 6 and lines[-1]["summary"]["entries"] == 17


def test_an_archive_is_many_dossiers(tmp_path: Path) -> None:
    archive = tmp_path / "archive.txt"
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    opening = "OUVERTURE: -02.01.2023-08:00-(1000001) OUVERTURE SYNTHETIQUE\n"
    archive.write_text(
        "".join(("" if t.lstrip().startswith("OUVERTURE") else opening) + t + "\n" for t in texts),
        encoding="utf-8",
    )
    code, out, _ = run("replay", "--format", "json", str(archive))
    assert code == 0
    dossiers = _json(out)["dossiers"]
    assert [d["dossier_id"] for d in dossiers] == [f"{archive}#{i}" for i in range(1, 7)]
    assert sum(len(d["entries"]) for d in dossiers) == 17


def test_summary_prints_only_the_combined_summary() -> None:
    code, out, _ = run("replay", "--summary", "--width", "100", str(EXAMPLES))
    assert code == 0
    assert out.startswith("6 dossiers, 17 entries")
    assert "line " not in out and "lateness by owner" in out
    code, out, _ = run("replay", "--summary", "--format", "json", str(EXAMPLES))
    assert _json(out)["summary"]["entries"] == 17 and _json(out)["dossiers"] == []


def test_strict_exits_1_on_breaches_only() -> None:
    assert run("replay", "--strict", str(WAKENSON))[0] == 1
    assert run("replay", "--strict", str(EXAMPLES / "a_ouverture_nyco_deco.txt"))[0] == 0


def test_replay_attributes_change_the_verdicts() -> None:
    path = str(EXAMPLES / "e_allianz_appel_24h.txt")
    assert run("replay", "--strict", path)[0] == 0  # « AZ: Appels 24h »: an Allianz file
    assert run("replay", "--strict", "--insurer", "BPCE", path)[0] == 1
    assert run("replay", "--strict", "--insurer", "AZ", path)[0] == 0  # AZ is Allianz
    assert run("replay", "--strict", "--insurer", "allianz", path)[0] == 0


@pytest.mark.parametrize(
    ("option", "value", "listed"),
    [("--insurer", "FOOBAR", "ALLIANZ (AZ), BPCE"), ("--channel", "fax", "sinapps, darva")],
)
def test_unknown_insurer_or_channel_exits_2_listing_the_valid_ones(
    option: str, value: str, listed: str
) -> None:
    code, _, err = run("replay", option, value, str(EXAMPLES / "e_allianz_appel_24h.txt"))
    assert code == 2 and value in err and listed in err


def test_replay_directory_prints_a_combined_lateness_report() -> None:
    code, out, _ = run("replay", str(EXAMPLES))
    assert code == 0
    assert "6 dossiers, 17 entries" in out
    assert "lateness by owner" in out and "lateness by contractor" in out


def test_standard_input_is_dash() -> None:
    result = CliRunner().invoke(
        main, ["replay", "--format", "json", "-"], input=WAKENSON.read_bytes()
    )
    assert result.exit_code == 0
    (dossier,) = _json(result.stdout)["dossiers"]
    assert dossier["source"] == "-" and len(dossier["entries"]) == 10


def test_a_file_without_history_is_skipped_and_fails_strict(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    prose = tmp_path / "hostname.txt"
    prose.write_text("myhost\n", encoding="utf-8")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 50)
    code, out, err = run("replay", "--format", "json", str(tmp_path))
    assert code == 0
    assert err.count("skipped: not a history") == 3
    assert len(err) < 500  # one line each, never the bytes
    data = _json(out)
    assert data["dossiers"] == [] and {s["reason"] for s in data["skipped"]} == {
        "binary",
        "no ETAT entry",
    }
    for path in (empty, prose, binary):
        code, _, err = run("replay", "--strict", str(path))
        assert code == 2 and str(path) in err


def test_an_unreadable_etat_line_fails_strict(tmp_path: Path) -> None:
    history = tmp_path / "h.txt"
    history.write_text(
        WAKENSON.read_text(encoding="utf-8") + "ETAT: Etude de devis sans date\n",
        encoding="utf-8",
    )
    code, out, err = run("replay", str(history))
    assert code == 0 and "without a due date" in out + err
    code, _, err = run("replay", "--strict", "--insurer", "BPCE", str(history))
    assert code == 2 and "without a due date" in err


def test_a_year_9999_is_an_unresolved_entry_not_a_traceback(tmp_path: Path) -> None:
    history = tmp_path / "y.txt"
    history.write_text(
        "ETAT: Etude de devis 31/12/9999 23:59 (30/12/9999-N°1)\n"
        "30.12.9999-10:00-(3995) X .\n"
        "ETAT: Contact client pour devis 31/12/9999 23:59 (31/12/9999-N°2)\n"
        "31.12.9999-23:00-(3995) X .\n",
        encoding="utf-8",
    )
    code, out, err = run("replay", "--format", "json", str(history))
    assert code == 0 and "Traceback" not in err
    entries = json.loads(out)["dossiers"][0]["entries"]
    assert [(e["verdict"], [v["rule"] for v in e["violations"]]) for e in entries] == [
        ("unresolved", ["date_out_of_range"])
    ] * 2
    code, _, err = run("replay", "--strict", str(history))
    assert code == 1 and "Traceback" not in err  # unresolved entries: breaches


def test_a_catalogue_with_duplicate_labels_is_bad_input(tmp_path: Path) -> None:
    from etatmachine.catalogue import default_catalogue

    data = default_catalogue().to_dict()
    data["states"][1]["label"] = data["states"][0]["label"]
    bad = tmp_path / "dup.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run("replay", "--catalogue", str(bad), str(WAKENSON))
    assert code == 2 and "resolves to both" in err and "Traceback" not in err


def test_a_10_mb_unrecognised_line_prints_cut(tmp_path: Path) -> None:
    history = tmp_path / "long.txt"
    history.write_text(
        WAKENSON.read_text(encoding="utf-8") + "ETAT: " + "x" * 10_000_000 + "\n",
        encoding="utf-8",
    )
    code, out, _ = run("replay", "--width", "80", str(history))
    assert code == 0 and "more characters" in out and len(out) < 20_000


def test_parquet_needs_an_output() -> None:
    code, _, err = run("replay", "--format", "parquet", str(WAKENSON))
    assert code == 2 and "-o" in err


def test_bad_input_exits_2_with_the_file_named() -> None:
    code, _, err = run("replay", "nowhere.txt")
    assert code == 2 and err == "etatmachine: error: nowhere.txt: no such file or directory\n"
    code, _, err = run("replay")
    assert code == 2 and "give at least one history" in err
    code, _, err = run("due", "Etude du lundi", "--from", "2023-03-03T17:04")
    assert code == 2 and "unknown state 'Etude du lundi'; closest: etude_devis" in err
    code, _, err = run("due", "etude_devis", "--from", "31/02/2023")
    assert code == 2 and "not an ISO 8601 date-time" in err
    code, _, err = run("due", "etude_devis", "--from", "2023-03-03T17:04", "--subdivision", "99")
    assert code == 2 and err.startswith("etatmachine: error: --subdivision: ")
    assert "'99'" in err


def test_replay_schema_is_a_json_schema_with_descriptions() -> None:
    code, out, _ = run("replay", "--schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "ReplayOutput"
    assert {"dossiers", "summary"} <= set(schema["properties"])
    assert "ReplayReport" in schema["$defs"]
    assert schema["properties"]["dossiers"]["description"]


def test_due_prints_iso_8601_with_offset() -> None:
    assert run("due", "Etude de devis", "--from", "2023-03-03T17:04") == (
        0,
        "2023-03-07T17:04:00+01:00\n",
        "",
    )
    # Friday 15:04 + 24h = Monday 15:04
    assert run("due", "contact_client_devis", "--from", "2023-01-20T15:04:00+01:00")[1] == (
        "2023-01-23T15:04:00+01:00\n"
    )
    # 5 jours ouvrés from the Thursday before Easter, in Moselle (Good Friday is a holiday)
    assert (
        run(
            "due", "rapport_attente_traitement", "--from", "2023-04-06T10:00", "--subdivision", "57"
        )[1]
        == "2023-04-17T10:00:00+02:00\n"
    )
    code, _, err = run("due", "attente_cie", "--from", "2023-03-03T17:04")
    assert code == 2 and "given" in err


def test_catalogue_formats_and_phase_filter() -> None:
    code, out, _ = run("catalogue")
    assert code == 0 and "contact_client_devis" in out and "44 states" in out
    code, out, _ = run("catalogue", "--format", "json", "--phase", "travaux")
    states = json.loads(out)["states"]
    assert code == 0 and [s["code"] for s in states] == [
        "contact_client_travaux",
        "contact_client_travaux_15j",
        "date_debut_travaux",
        "travaux_en_cours",
    ]
    code, out, _ = run("catalogue", "--format", "markdown", "--phase", "devis")
    assert code == 0 and "Etude de devis" in out and "|" in out
    code, _, err = run("catalogue", "--phase", "nope")
    assert code == 2 and "unknown phase 'nope'" in err


def test_validate(tmp_path: Path) -> None:
    code, out, _ = run("validate", str(ROOT / "src" / "etatmachine" / "data" / "procedure.toml"))
    assert code == 0 and "44 states, 518 moves" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nversion = "1"\nphases = []\nstates = []\n', encoding="utf-8")
    code, _, err = run("validate", str(bad))
    assert code == 2 and str(bad) in err and "no initial state" in err


@pytest.mark.parametrize("argv", [["--help"], ["replay", "--help"], ["--version"]])
def test_console_script_runs(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "etatmachine.cli", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout


def test_diagram_formats(tmp_path: Path) -> None:
    golden = ROOT / "tests" / "golden" / "diagrams"
    code, out, _ = run("diagram")
    assert code == 0 and out == (golden / "all.mmd").read_text(encoding="utf-8")
    code, out, _ = run("diagram", "--phase", "devis", "--format", "dot")
    assert code == 0 and out == (golden / "devis.dot").read_text(encoding="utf-8")
    target = tmp_path / "travaux.mmd"
    assert run("diagram", "--phase", "travaux", "-o", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == (golden / "travaux.mmd").read_text("utf-8")
    code, _, err = run("diagram", "--phase", "nope")
    assert code == 2 and "nope" in err


def test_diagram_svg_or_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    if shutil.which("dot"):
        code, out, _ = run("diagram", "--format", "svg", "--phase", "attente")
        assert code == 0 and out.lstrip().startswith(("<?xml", "<svg"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, _, err = run("diagram", "--format", "svg")
    assert code == 2 and "apt-get install graphviz" in err


def test_replay_with_a_role_map(tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text('[roles]\n1002688 = "surveyor"\n', encoding="utf-8")
    code, out, _ = run("replay", "--format", "json", "--roles", str(roles), str(WAKENSON))
    assert code == 0
    by_author = {e["author"]: e["role"] for e in json.loads(out)["dossiers"][0]["entries"]}
    assert by_author["TANGUY TELLIER"] == "surveyor"
    roles.write_text('[roles]\n1002688 = "wizard"\n', encoding="utf-8")
    code, _, err = run("replay", "--roles", str(roles), str(WAKENSON))
    assert code == 2 and str(roles) in err and "wizard" in err


def test_replay_channel_and_flag_options_reach_the_rules(tmp_path: Path) -> None:
    history = tmp_path / "ren.txt"
    history.write_text(
        "ETAT: RE – Nouveau devis ren-expert à saisir (1) 10/03/2023 09:00 (09/03/2023-N°1)\n"
        "09.03.2023-09:00-(3995) SANDRINE SUTOR .\n"
        "ETAT: Devis envoyé à la cie en attente de retour 20/03/2023 09:00 (09/03/2023-N°2)\n"
        "09.03.2023-10:00-(3995) SANDRINE SUTOR .\n",
        encoding="utf-8",
    )
    code, out, _ = run("replay", "--format", "json", str(history))
    rules = [[v["rule"] for v in e["violations"]] for e in _entries(out)]
    assert code == 0
    assert rules == [
        ["insurer_restricted", "flag_required"],
        ["move_not_allowed", "channel_restricted"],
    ]
    code, out, _ = run(
        "replay",
        "--format",
        "json",
        "--insurer",
        "BPCE",
        "--flag",
        "ren_expert",
        "--channel",
        "sinapps",
        str(history),
    )
    rules = [[v["rule"] for v in e["violations"]] for e in _entries(out)]
    assert rules == [[], ["move_not_allowed"]]


def test_catalogue_option_uses_a_users_catalogue(tmp_path: Path) -> None:
    from etatmachine.catalogue import default_catalogue

    data = default_catalogue().to_dict()
    data["name"] = "autre-plateforme"
    for state in data["states"]:
        if state["code"] == "etude_devis":
            state["deadline"] = {"kind": "business_days", "amount": 3, "figure": "3 jours"}
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(data), encoding="utf-8")
    assert (
        run("due", "etude_devis", "--from", "2023-03-03T17:04", "--catalogue", str(mine))[1]
        == "2023-03-08T17:04:00+01:00\n"
    )
    code, out, _ = run("catalogue", "--format", "json", "--catalogue", str(mine))
    assert code == 0 and json.loads(out)["name"] == "autre-plateforme"
    assert run("replay", "--catalogue", str(mine), str(WAKENSON))[0] == 0
    code, _, err = run("replay", "--catalogue", str(tmp_path / "none.toml"), str(WAKENSON))
    assert code == 2 and "cannot read" in err


def test_an_unreadable_file_in_a_directory_is_reported_and_exits_2(tmp_path: Path) -> None:
    import os

    (tmp_path / "ok.txt").write_bytes(WAKENSON.read_bytes())
    locked = tmp_path / "locked.txt"
    locked.write_bytes(WAKENSON.read_bytes())
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # root reads anything
            pytest.skip("this user reads files without read permission")
        code, out, err = run("replay", "--format", "jsonl", str(tmp_path))
    finally:
        locked.chmod(0o644)
    assert code == 2 and "locked.txt: skipped: unreadable" in err
    assert json.loads(out.splitlines()[-1])["summary"]["entries"] == 10


def test_due_outside_the_supported_years_exits_2_naming_the_year() -> None:
    code, out, err = run("due", "etude_devis", "--from", "9999-01-01T09:00+01:00")
    assert code == 2 and not out
    assert "year 9999 is outside the supported range 1900-2999" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["replay", "--help"]])
def test_help_and_version_load_none_of_the_engine(argv: list[str]) -> None:
    """``--help`` and ``--version`` start in well under 0.15 s because they import nothing
    they do not print: no pydantic, transitions, holidays, rich, pyarrow (each costs
    tens of milliseconds; bench_startup times them)."""
    code = (
        "import sys\n"
        "from etatmachine.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = {'pydantic', 'transitions', 'holidays', 'rich', 'pyarrow', 'numpy', "
        "'dateutil', 'sqlalchemy', 'duckdb', 'dask'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"
    assert done.stdout


def test_a_large_binary_file_in_a_directory_is_one_skipped_line(tmp_path: Path) -> None:
    """A binary file larger than a span is sniffed where the directory is listed; a small
    one where it is read: either way one line, never its bytes."""
    from etatmachine.batch import WHOLE_BYTES

    (tmp_path / "ok.txt").write_bytes(WAKENSON.read_bytes())
    (tmp_path / "big.txt").write_bytes(bytes(range(256)) * (WHOLE_BYTES // 128))
    (tmp_path / "small.txt").write_bytes(b"\x00\x01" * 100)
    for jobs in ("1", "2"):
        code, out, err = run("replay", "--format", "jsonl", "--jobs", jobs, str(tmp_path))
        assert code == 0
        assert err.count("skipped: not a history (binary)") == 2 and len(err) < 500
        assert json.loads(out.splitlines()[-1])["summary"]["entries"] == 10
