"""docs/reliability.md is generated from the tests: it must not go stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_committed_reliability_page_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location(
        "reliability_table", HERE / "reliability_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = HERE.parent / "docs" / "reliability.md"
    assert page.read_text(encoding="utf-8") == module.render(), (
        "docs/reliability.md is stale: run `python tests/reliability_table.py > "
        "docs/reliability.md`"
    )
