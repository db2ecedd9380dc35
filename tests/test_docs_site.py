"""The documentation site builds offline with warnings as errors, diagrams included.

One Sphinx build (a copy of ``docs/`` in a temporary directory, so the checkout is not
touched), shared by the tests of this module. Skipped where Sphinx, MyST or Graphviz's
``dot`` is missing; CI installs them (the ``docs`` extra and ``apt-get install graphviz``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from etatmachine.catalogue import default_catalogue
from etatmachine.rules import RULES

sphinx_build = pytest.importorskip("sphinx.cmd.build", reason="Sphinx is not installed")
pytest.importorskip("myst_parser", reason="myst-parser is not installed")
pytestmark = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz `dot` is not installed"
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
PHASES = [p.code for p in default_catalogue().phases]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    source = root / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "_generated"))
    out = root / "html"
    status = sphinx_build.build_main(
        ["-W", "--keep-going", "-q", "-b", "html", str(source), str(out)]
    )
    assert status == 0, "sphinx -W failed: see the warnings above"
    return out


@pytest.mark.parametrize("phase", PHASES)
def test_phase_page_shows_its_diagram(site: Path, phase: str) -> None:
    page = (site / "_generated" / "procedure" / f"{phase}.html").read_text(encoding="utf-8")
    images = re.findall(r'<img [^>]*src="([^"]+\.svg)"', page)
    assert images, f"{phase}.html has no SVG diagram"
    for src in images:
        svg = (site / "_generated" / "procedure" / src).resolve()
        assert svg.is_file(), svg
        text = svg.read_text(encoding="utf-8")
        assert "<svg" in text
    for state in default_catalogue():
        if state.phase == phase:
            assert f"<title>{state.code}</title>" in text
            assert state.code in page


def test_overview_and_rules_pages(site: Path) -> None:
    overview = (site / "_generated" / "procedure" / "index.html").read_text(encoding="utf-8")
    assert "all.svg" in overview
    for phase in PHASES:
        assert f'href="{phase}.html"' in overview
    rules = (site / "_generated" / "rules.html").read_text(encoding="utf-8")
    for code in RULES:
        assert f'id="rule-{code.replace("_", "-")}"' in rules


def test_no_page_loads_anything_from_the_internet(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', text), page
