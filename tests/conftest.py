"""Test profiles: the README's fast default, CI's bounded one, and the opt-in deep one.

Hypothesis profiles: ``ci`` (30 examples, reproducible) when ``CI`` is set, ``dev`` (100)
otherwise, ``deep`` (1000) with ``pytest --deep`` or ``ETATMACHINE_DEEP=1``, which also runs
the tests marked ``deep`` (1M-entry replays, big concurrency runs). ``HYPOTHESIS_PROFILE``
picks a profile explicitly. None has a per-example deadline: walks over the workflow build
pydantic models, and a shared 2-core runner makes timings noisy.

The suite runs on every core (pytest-xdist, ``-n auto --dist loadfile`` in pyproject: a
file's tests stay on one worker, so module fixtures such as the docs build run once);
``pytest -n 0`` runs it in one process.
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
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deep",
        action="store_true",
        default=bool(os.environ.get("ETATMACHINE_DEEP")),
        help="run the slow depth tests (marked deep): also ETATMACHINE_DEEP=1",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Load the Hypothesis profile once the options are known (on each xdist worker too)."""
    default = "deep" if config.getoption("--deep") else "ci" if os.environ.get("CI") else "dev"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


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
