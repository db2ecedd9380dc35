"""Generate ``docs/reliability.md`` from the reliability and concurrency tests.

Run from the repository root: ``python tests/reliability_table.py > docs/reliability.md``
(``--check`` exits 1 when the committed page differs). The test ids come from
``pytest --collect-only -q``; each row's text is the test function's docstring, so the page
cannot say anything the tests do not check. `tests/test_reliability_table.py` fails when
the committed page is stale.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = (
    "tests/test_reliability.py",
    "tests/test_hardening_api.py",
    "tests/test_hardening_dossier.py",
    "tests/test_hardening_catalogue.py",
    "tests/test_concurrency.py",
)
PAGE = ROOT / "docs" / "reliability.md"
COMMAND = "python tests/reliability_table.py > docs/reliability.md"

# Bad input covered elsewhere (same outcome, not repeated): test id -> what was tried.
ELSEWHERE: tuple[tuple[str, str], ...] = (
    (
        "tests/test_rules.py::test_naive_datetimes_are_refused_with_a_clear_error",
        "Naive datetime for a move or a reschedule: NaiveDatetimeError.",
    ),
    (
        "tests/test_rules.py::test_move_dated_before_the_last_change_is_refused",
        "A move dated before the last history entry: MoveRefused (out_of_order).",
    ),
    (
        "tests/test_labels.py::test_unknown_label_carries_the_closest_candidates",
        "Unknown labels: UnknownStateError with up to three closest codes.",
    ),
    (
        "tests/test_labels.py::test_resolve_never_crashes_and_never_guesses",
        "Any text as a label (hypothesis): resolves or UnknownStateError, never a guess.",
    ),
    (
        "tests/test_catalogue.py::test_unknown_rule_code",
        "A rule code the engine does not know: CatalogueError.",
    ),
    (
        "tests/test_catalogue.py::test_invalid_toml_and_json_and_bytes",
        "Non-UTF-8 bytes, a JSON array at the top, a missing file: CatalogueError.",
    ),
    (
        "tests/test_catalogue.py::test_loading_never_executes_code",
        "A catalogue carrying Python code in a string: never executed.",
    ),
    (
        "tests/test_legacy.py::test_binary_garbage_never_crashes",
        "Binary garbage through etatmachine.legacy: parsed as unrecognised text, no crash.",
    ),
    (
        "tests/test_legacy.py::test_ten_megabyte_single_line",
        "A 10 MB single-line history through etatmachine.legacy: no crash, bounded time.",
    ),
    (
        "tests/test_legacy.py::test_arbitrary_bytes_never_crash",
        "Arbitrary bytes through etatmachine.legacy (hypothesis): never a crash.",
    ),
)


def _collect() -> list[str]:
    """Test ids, as pytest collects them (parametrized ids included), in file order."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if "::" in line]


def _docstrings(path: str) -> dict[str, str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            doc = ast.get_docstring(node) or ""
            out[node.name] = " ".join(doc.split())
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The page's text."""
    docs = {path: _docstrings(path) for path in FILES}
    ids = _collect()
    hardening = sum(1 for test_id in ids if "test_hardening_" in test_id)
    lines = [
        "# Reliability: what was tried, and what happened",
        "",
        f"Generated from the tests; do not edit. Regenerate with `{COMMAND}`",
        "(`tests/test_reliability_table.py` fails when this page is stale).",
        "",
        "Every row is a test that passes: what it tries is its docstring, the outcome is",
        "what it asserts (exact error type and message for bad input).",
        "",
        f"{len(ids)} tests: {hardening} of them in the hardening files (issue 14: every public",
        "entry point refuses bad input with the library's own error, catalogues load in",
        "bounded time, no dossier can be written that cannot be read back).",
        "",
        "| Test | What was tried and the outcome |",
        "| --- | --- |",
    ]
    for test_id in ids:
        path, _, name = test_id.partition("::")
        function = name.partition("[")[0]
        text = docs.get(path, {}).get(function, "")
        lines.append(f"| `{_cell(test_id)}` | {_cell(text)} |")
    lines += [
        "",
        "## Covered by other test files",
        "",
        "| Test | What was tried and the outcome |",
        "| --- | --- |",
    ]
    lines += [f"| `{_cell(test_id)}` | {_cell(text)} |" for test_id, text in ELSEWHERE]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Print the page, or with ``--check`` compare it with the committed one."""
    text = render()
    if "--check" in argv:
        same = PAGE.exists() and PAGE.read_text(encoding="utf-8") == text
        if not same:
            print(f"{PAGE} is stale: run `{COMMAND}`", file=sys.stderr)
        return 0 if same else 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
