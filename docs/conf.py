"""Sphinx configuration: MyST pages, autodoc, and pages generated from the catalogue.

Build offline, warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The procedure, rules and deadline pages are written into ``docs/_generated/`` at build
time by ``_ext/etatmachine_docs.py``. Graphviz's ``dot`` must be installed (the build
stops with one line saying so); Mermaid is vendored from the npm registry on the first build
(``_ext/docs_mermaid.py`` holds the locked version).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
try:
    import etatmachine
except ImportError:  # building from a checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent / "src"))
    import etatmachine

project = "etatmachine"
author = "etatmachine contributors"
copyright = "etatmachine contributors"
release = etatmachine.__version__
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc", "etatmachine_docs"]
source_suffix = {".md": "markdown"}
exclude_patterns = [
    "_build",
    "_generated/include",
    "_generated/static",
    "_vendor",
    "Thumbs.db",
    ".DS_Store",
    "browser_check.py",
]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
nitpicky = False

html_theme = "alabaster"
html_title = f"etatmachine {release}"
html_theme_options = {
    # 1400 px windows: diagrams up to ~1060 px wide are shown at their natural size
    "page_width": "1340px",
    "body_max_width": "none",
    "sidebar_width": "220px",
    "description": "The action dates of a claims back office as a rule-checked state machine.",
}
html_static_path = ["_static"]
html_css_files = ["etatmachine.css"]
