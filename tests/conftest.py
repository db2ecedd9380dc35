"""Hypothesis profiles: ``ci`` (bounded, reproducible) when ``CI`` is set, else ``dev``.

``HYPOTHESIS_PROFILE`` picks one explicitly. Both drop the per-example deadline: walks over
the workflow build pydantic models, and a shared 2-core runner makes timings noisy.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deep",
        action="store_true",
        default=bool(os.environ.get("ETATMACHINE_DEEP")),
        help="run the slow depth tests (marked deep): also ETATMACHINE_DEEP=1",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deep tests (1M-entry replays, big concurrency runs) are opt-in: ``--deep``."""
    if config.getoption("--deep"):
        return
    skip = pytest.mark.skip(reason="deep test: run with --deep or ETATMACHINE_DEEP=1")
    for item in items:
        if "deep" in item.keywords:
            item.add_marker(skip)


# Not a doctest module: under --doctest-modules it would clash with docs/conftest.py.
collect_ignore = ["conftest.py"]
