"""``etatmachine db init | import | worklist | sweep`` and ``etatmachine diff``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from etatmachine.catalogue import default_catalogue
from etatmachine.catalogue_diff import diff_catalogues
from etatmachine.cli import main
from etatmachine.store import SqlStore

HISTORIES = Path(__file__).parents[2] / "examples" / "histories"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_is_idempotent(db: str) -> None:
    for _ in range(2):
        code, out, _ = run("db", "init", "--db", db)
        assert code == 0 and "schema version 1, 0 dossiers" in out


def test_import_adopts_each_history_with_its_recorded_due_dates(db: str) -> None:
    code, out, _ = run("db", "import", str(HISTORIES), "--db", db)
    assert code == 0, out
    assert "imported 6, already stored 0" in out
    store = SqlStore(db)
    d = store.get("b_wakenson_menuiseries")
    assert d.state == "date_debut_travaux" and len(d.history) == 10
    assert d.contractor == "WAKENSON MENUISERIES"
    assert d.due_at == d.history[-1].due_at  # the due date the history recorded
    code, out, _ = run("db", "import", str(HISTORIES / "c_sechage.txt"), "--db", db)
    assert code == 0 and "imported 0, already stored 1" in out


def test_worklist_and_sweep_on_imported_files(db: str) -> None:
    run("db", "import", str(HISTORIES), "--db", db)
    at = "2023-06-01T12:00:00+02:00"
    code, out, _ = run("db", "worklist", "--db", db, "--at", at, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["dossier_id"] == "a_ouverture_nyco_deco" and rows[0]["urgency"] == "overdue"
    lateness = [r["lateness_seconds"] for r in rows]
    assert lateness == sorted(lateness, reverse=True)
    code, out, _ = run("db", "worklist", "--db", db, "--at", at, "--role", "case_handler")
    assert code == 0 and out.split()[2] == "f_annulation"
    code, out, _ = run("db", "worklist", "--db", db, "--at", at, "--contractor", "nobody")
    assert code == 0 and out.strip() == "nothing to do"
    code, out, _ = run("db", "sweep", "--db", db, "--at", at)
    assert code == 0 and "4 breaches" in out
    code, out, _ = run("db", "sweep", "--db", db, "--at", at)
    assert code == 0 and "0 breaches" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db", "worklist", "--within", "soon"], "--within: not a duration"),
        (["db", "worklist", "--role", "boss"], "unknown role 'boss'"),
        (["db", "worklist", "--at", "yesterday"], "--at: not an ISO 8601"),
        (["db", "worklist", "--db", "mysql://x/y"], "only sqlite:// and postgresql://"),
        (["diff", "bundled", "missing.toml"], "missing.toml"),
    ],
)
def test_bad_input_exits_2_naming_it(db: str, args: list[str], message: str) -> None:
    if "--db" not in args:
        args = [*args, "--db", db] if args[0] == "db" else args
    run("db", "init", "--db", db)
    code, _, err = run(*args)
    assert code == 2 and message in err


def test_worklist_before_init_says_so(tmp_path: Path) -> None:
    code, _, err = run("db", "worklist", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 2 and "db init" in err


def _variant(tmp_path: Path) -> Path:
    data = default_catalogue().to_dict()
    data["version"] = "2099.1"
    states = data["states"]
    etude = next(s for s in states if s["code"] == "etude_devis")
    etude["deadline"] = {**etude["deadline"], "amount": 72, "figure": "72h"}
    etude["moves"] = [m for m in etude["moves"] if m["to"] != "dossier_annule"]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


def test_diff_lists_moves_and_deadlines_changed(tmp_path: Path) -> None:
    code, out, _ = run("diff", "bundled", str(_variant(tmp_path)))
    assert code == 0
    assert "2023.1 -> ma-deroulement-dossier 2099.1" in out
    assert "- etude_devis -> dossier_annule" in out
    assert "etude_devis.deadline" in out and "72" in out
    code, out, _ = run("diff", "bundled", str(_variant(tmp_path)), "--format", "json")
    data = json.loads(out)
    assert data["moves_removed"] == [["etude_devis", "dossier_annule"]]
    assert data["moves_added"] == [] and data["states_removed"] == []


def test_diff_reports_removed_states_and_their_migration() -> None:
    from etatmachine.catalogue import parse_catalogue

    data = default_catalogue().to_dict()
    data["version"] = "2099.2"
    data["states"] = [s for s in data["states"] if s["code"] != "az_appel_24h"]
    for s in data["states"]:
        s["moves"] = [m for m in s["moves"] if m["to"] != "az_appel_24h"]
    new = parse_catalogue(data)
    d = diff_catalogues(default_catalogue(), new)
    assert d.states_removed == ("az_appel_24h",) and d.unmapped == ("az_appel_24h",)
    assert ("etude_devis", "az_appel_24h") in d.moves_removed
    assert "without a migration" in d.to_text()
    data["migrations"] = {"2023.1": {"az_appel_24h": "attente_cie"}}
    assert diff_catalogues(default_catalogue(), parse_catalogue(data)).unmapped == ()
