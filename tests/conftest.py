"""Test profiles: the README's fast default, CI's bounded one, and the opt-in deep one.

Hypothesis profiles: ``ci`` (30 examples, reproducible) when ``CI`` is set, ``dev`` (50,
random, failures remembered in ``.hypothesis/``) otherwise, ``deep`` (1000) with ``pytest
--deep`` or ``ETATMACHINE_DEEP=1``, which also runs the tests marked ``deep`` (1M-entry
replays, big concurrency runs, the benchmark smoke run). Property tests are most of the
suite's time: more examples are depth, so they are opt-in. ``HYPOTHESIS_PROFILE`` picks a
profile explicitly. None has a per-example deadline: walks over the workflow build
pydantic models, and a shared 2-core runner makes timings noisy.

The suite runs on every core (pytest-xdist, ``-n auto --dist loadfile`` in pyproject):
whole test files are shared out to the workers, the store suite's files all to one (they
share one PostgreSQL server). ``pytest -n 0`` runs it all in one process.
"""

from __future__ import annotations

import os
from typing import Any

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
settings.register_profile("dev", max_examples=50, deadline=None)
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


# Files whose tests share an outside resource run on one xdist worker together: the store
# suite talks to one PostgreSQL server (each test drops its tables first).
_SHARED = (("tests/store/", "tests/store"), ("tests/test_store", "tests/store"))


def _scope(nodeid: str) -> str:
    """The unit xdist hands to one worker: a test file, or a group of files sharing a
    resource."""
    path = nodeid.split("::", 1)[0]
    return next((group for prefix, group in _SHARED if path.startswith(prefix)), path)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadfile`` (pyproject): whole files per worker, so module fixtures
    such as the docs build run once, and the shared-resource files on one worker."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    return FileScheduling(config, log)


def _skip_if_compiled(item: pytest.Item) -> None:
    """``@pytest.mark.pure_python("etatmachine.x", ...)``: the test needs those modules as
    plain Python (it monkeypatches their internals, weak-references or subclasses their
    classes), so it is skipped when this process runs any of them compiled (the compiled
    core, etatmachine.build_info); bare ``@pytest.mark.pure_python``: skipped when any module
    of the core is compiled. The pure run still runs it."""
    marker = item.get_closest_marker("pure_python")
    if marker is None:
        return
    if not all(isinstance(name, str) for name in marker.args):
        raise pytest.UsageError(f"{item.nodeid}: pure_python takes module names")
    from etatmachine.build_info import compiled_modules

    compiled = compiled_modules()
    blocking = sorted(set(marker.args) & set(compiled)) if marker.args else sorted(compiled)
    if blocking:
        item.add_marker(pytest.mark.skip(reason=f"needs pure Python: {', '.join(blocking)}"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deep tests (1M-entry replays, big concurrency runs, the benchmark smoke run) are
    opt-in: ``--deep``. Tests marked ``pure_python`` skip against the compiled core."""
    deep = config.getoption("--deep")
    skip = pytest.mark.skip(reason="deep test: run with --deep or ETATMACHINE_DEEP=1")
    for item in items:
        if not deep and "deep" in item.keywords:
            item.add_marker(skip)
        _skip_if_compiled(item)


# Not a doctest module: under --doctest-modules it would clash with docs/conftest.py.
collect_ignore = ["conftest.py"]
