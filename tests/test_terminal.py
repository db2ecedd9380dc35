"""Text output is legible at 80, 100 and 120 columns: no line too long, no word broken."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from etatmachine.catalogue import default_catalogue
from etatmachine.cli import main
from etatmachine.terminal import table

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "histories"
WIDTHS = (80, 100, 120)
RULE_CODES = ("appointment_too_far", "contact_attempts_required")


def _words() -> set[str]:
    """Words that must appear whole: state codes, rule codes, contractor names' words."""
    return {s.code for s in default_catalogue()} | {"WAKENSON", "MENUISERIES"}


def _check(out: str, width: int, expected: set[str]) -> None:
    lines = out.splitlines()
    assert lines
    assert max(map(len, lines)) <= width, max(lines, key=len)
    tokens = set(re.findall(r"[A-Za-z0-9_]+", out))
    joined = re.sub(r"\s*\n\s*", "", out)  # a word broken over lines reads whole here
    for word in expected:
        if re.search(rf"(?<![A-Za-z0-9_]){word}(?![A-Za-z0-9_])", joined):
            assert word in tokens, word
    # no vertical words: no run of 3+ lines each holding one 1-3 letter fragment
    short = [bool(re.fullmatch(r"\s*\S{1,3}\s*", line)) for line in lines]
    assert not any(all(short[i : i + 3]) for i in range(len(short) - 2))


@pytest.mark.parametrize("width", WIDTHS)
def test_replay_table_at_each_width(width: int) -> None:
    result = CliRunner().invoke(main, ["replay", "--width", str(width), str(EXAMPLES)])
    assert result.exit_code == 0
    states = {s for s in _words() if s in result.stdout}
    assert "premiere_visite" in states and "appointment_too_far" in result.stdout
    _check(result.stdout, width, _words())


@pytest.mark.parametrize("width", WIDTHS)
def test_catalogue_table_at_each_width(width: int) -> None:
    result = CliRunner().invoke(main, ["catalogue", "--width", str(width)])
    assert result.exit_code == 0 and "contact_client_devis" in result.stdout
    _check(result.stdout, width, _words())


@pytest.mark.parametrize("width", WIDTHS)
def test_piped_output_follows_columns(width: int) -> None:
    env = {**os.environ, "COLUMNS": str(width)}
    done = subprocess.run(
        [sys.executable, "-m", "etatmachine.cli", "replay", str(EXAMPLES)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    _check(done.stdout, width, _words())


def test_table_falls_back_when_a_word_cannot_fit() -> None:
    assert table(["a", "b"], [["x" * 30, "y" * 30]], 50) is None
    laid = table(["a", "b"], [["one two three", "four"]], 12)
    assert laid is not None and all(len(line) <= 12 for line in laid.splitlines())
    assert "three" in laid.split()


@pytest.mark.parametrize(("label", "width"), [("mot " * 2_500_000, 80), ("x" * 10_000_000, 100)])
def test_a_10_mb_label_prints_cut_in_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, label: str, width: int
) -> None:
    """An ``ETAT:`` line with a date but a 10 MB label (words, or one word) resolves to no
    state: its cell, its breach message and the table stay a few lines (the whole label was
    printed, and wrapped, before)."""
    history = tmp_path / "long.txt"
    history.write_text(
        (EXAMPLES / "b_wakenson_menuiseries.txt").read_text(encoding="utf-8")
        + f"ETAT: {label} 20/02/2023 09:00 (07/02/2023-N°9)\n"
        "20.02.2023-09:00-(3995) SANDRINE SUTOR .\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # the dossier id (its path) is a word: keep it short
    result = CliRunner().invoke(main, ["replay", "--width", str(width), history.name])
    assert result.exit_code == 0
    assert "more characters" in " ".join(result.stdout.split()), result.stdout
    assert len(result.stdout) < 20_000
    assert "unknown_label" in result.stdout and len(result.stderr) < 1_000
    assert max(map(len, result.stdout.splitlines())) <= width
