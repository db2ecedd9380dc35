"""examples/store_service.py, the service written against docs/store.md, on every SQL
backend: the same day at the desk gives the same lines."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "store_service.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("store_service_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("store_url", ["memory", "sqlite-file", "postgresql"], indirect=True)
def test_the_example_service_runs_on_every_backend(store_url: str) -> None:
    example = _example()
    expected = [
        line.strip()
        for line in (example.demo.__doc__ or "").splitlines()
        if line.strip() and not line.strip().startswith((">>>", "...", "A day"))
    ]
    assert example.demo(store_url) == expected
