"""The documentation site builds offline with warnings as errors, and its pages teach the
procedure: the life of a dossier, one page per phase, one page per action date, the rules.

One Sphinx build (a copy of ``docs/`` in a temporary directory, so the checkout is not
touched), shared by the tests of this module. Skipped where Sphinx, MyST or Graphviz's
``dot`` is missing, or where Mermaid was never vendored and npm is absent; CI installs them
(the ``docs`` extra, ``apt-get install graphviz npm``). That the diagrams *render* is checked
in a real browser by ``docs/browser_check.py`` (run by ``.ci/run``).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etatmachine.catalogue import default_catalogue
from etatmachine.diagrams import MAIN_PATH, MAIN_SIDE, life_dot
from etatmachine.rules import RULES
from etatmachine.tables import deadline_words

sphinx_build = pytest.importorskip("sphinx.cmd.build", reason="Sphinx is not installed")
pytest.importorskip("myst_parser", reason="myst-parser is not installed")

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import docs_mermaid  # noqa: E402

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
CATALOGUE = default_catalogue()
PHASES = [p.code for p in CATALOGUE.phases]
MODULES = [
    "etatmachine.workflow",
    "etatmachine.judge",
    "etatmachine.catalogue",
    "etatmachine.rules",
    "etatmachine.roles",
    "etatmachine.labels",
    "etatmachine.dossier",
    "etatmachine.store",
    "etatmachine.business_calendar",
    "etatmachine.business_calendar.config",
    "etatmachine.business_calendar.engine",
    "etatmachine.business_calendar.kernel",
    "etatmachine.deadlines",
    "etatmachine.lateness",
    "etatmachine.lateness.models",
    "etatmachine.lateness.steps",
    "etatmachine.lateness.stats",
    "etatmachine.build_info",
    "etatmachine.legacy",
    "etatmachine.history",
    "etatmachine.history.records",
    "etatmachine.history.reading",
    "etatmachine.history.parser",
    "etatmachine.fields_sets",
    "etatmachine.replay",
    "etatmachine.replay.output",
    "etatmachine.replay.api",
    "etatmachine.replay.engine",
    "etatmachine.testing",
    "etatmachine.errors",
    "etatmachine.violations",
    "etatmachine.effects",
    "etatmachine.diagrams",
    "etatmachine.tables",
    "etatmachine.cli",
    "etatmachine.binding",
    "etatmachine.evidence",
    "etatmachine.arguments",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed")
    vendored = (docs_mermaid.vendor_dir(DOCS) / "mermaid.min.js").is_file()
    if not (vendored or shutil.which("npm") or os.environ.get("ETATMACHINE_MERMAID_JS")):
        pytest.skip("Mermaid is not vendored yet and npm is missing to fetch it")
    root = tmp_path_factory.mktemp("docs")
    source = root / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "_generated"))
    out = root / "html"
    status = sphinx_build.build_main(
        ["-W", "--keep-going", "-q", "-b", "html", str(source), str(out)]
    )
    assert status == 0, "sphinx -W failed: see the warnings above"
    return out


def _page(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def _text(page: str) -> str:
    """A page's text as written in the catalogue (entities decoded, straight apostrophes)."""
    return html.unescape(page).replace("’", "'")


def _diagrams(page: str) -> list[tuple[str, int, str]]:
    """Each ``.em-diagram`` of a page: its kind, the nodes it says it draws, its body."""
    found = re.findall(
        r'<(?:figure|div) class="em-diagram[^"]*" data-kind="(\w+)" data-name="[^"]+" '
        r'data-nodes="(\d+)">(.*?)</(?:figure|div)>',
        page,
        flags=re.S,
    )
    return [(kind, int(n), body) for kind, n, body in found]


def test_life_of_a_dossier_draws_the_main_path_with_links(site: Path) -> None:
    page = _page(site, "life-of-a-dossier.html")
    [(kind, nodes, body)] = _diagrams(page)
    assert kind == "graphviz"
    assert nodes == life_dot(CATALOGUE).nodes == len(MAIN_PATH) + len(MAIN_SIDE) + 1
    assert body.count('class="node"') == nodes
    for code in (*MAIN_PATH, *MAIN_SIDE):
        assert f'href="_generated/states/{code}.html"' in body, code
    for phase in ("devis", "rapport_expert", "attente", "specifique", "cloture"):
        assert f'href="_generated/procedure/{phase}.html"' in page, phase
    index = _page(site, "index.html")
    assert index.index("getting-started.html") < index.index("life-of-a-dossier.html")


@pytest.mark.parametrize("phase", PHASES)
def test_phase_page_draws_its_states_large_and_links_them(site: Path, phase: str) -> None:
    page = _page(site, f"_generated/procedure/{phase}.html")
    assert "<img" not in page, "diagrams are inlined, so that their boxes are links"
    [(kind, nodes, body)] = _diagrams(page)
    assert kind == "graphviz"
    assert body.count('class="node"') == nodes
    for state in CATALOGUE:
        if state.phase == phase:
            assert f"<title>{state.code}</title>" in body
            assert f'href="../states/{state.code}.html"' in body
            assert deadline_words(state.deadline) in _text(page)
    assert "<title>__groups__</title>" not in body, "group moves are in words, not drawn"


@pytest.mark.parametrize("code", [s.code for s in CATALOGUE])
def test_state_page(site: Path, code: str) -> None:
    state = CATALOGUE.state(code)
    page = _page(site, f"_generated/states/{code}.html")
    text = _text(page)
    assert text.index("« " + state.meaning[:30]) < text.index("In English:")
    assert "Who may set it" in page and "Who may leave it" in page
    assert deadline_words(state.deadline) in text
    [(kind, nodes, body)] = _diagrams(page)
    assert kind == "mermaid" and body.count("click ") >= 1 and nodes >= 2
    for rule in state.rules:
        assert f'href="../rules.html#rule-{rule.code.replace("_", "-")}"' in page


def test_state_pages_quote_real_history_lines(site: Path) -> None:
    page = _text(_page(site, "_generated/states/attente_sechage.html"))
    assert "En attente de séchage (45). % d'humidité 60." in page
    assert "examples/histories/c_sechage.txt" in page
    page = _text(_page(site, "_generated/states/devis_demande_info.html"))
    assert "PT - Devis - demande info complémentaire (2)" in page


def test_rules_reference_says_where_each_rule_applies(site: Path) -> None:
    rules = _page(site, "_generated/rules.html")
    for code in RULES:
        assert f'id="rule-{code.replace("_", "-")}"' in rules
    assert rules.count("Applies to:") == len(RULES)
    assert 'href="states/client_injoignable.html"' in rules  # contact_attempts_required


def test_api_reference_covers_every_public_module(site: Path) -> None:
    api = _page(site, "api.html")
    for module in MODULES:
        assert f'id="module-{module}"' in api, module


def test_mermaid_is_vendored_and_nothing_loads_from_the_internet(site: Path) -> None:
    assert (site / "_static" / "mermaid.min.js").stat().st_size > 1_000_000
    life = _page(site, "_generated/states/etude_devis.html")
    assert re.search(r'<script src="[./]*_static/mermaid\.min\.js', life)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', text), page


@needs_dot
def test_without_graphviz_the_build_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no `dot` on it
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(DOCS), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "install Graphviz" in lines[0] and "apt-get install graphviz" in lines[0]
