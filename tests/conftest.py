"""Hypothesis profiles: ``ci`` (bounded, reproducible) when ``CI`` is set, else ``dev``.

``HYPOTHESIS_PROFILE`` picks one explicitly. Both drop the per-example deadline: walks over
the workflow build pydantic models, and a shared 2-core runner makes timings noisy.
"""

from __future__ import annotations

import os

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

# Not a doctest module: under --doctest-modules it would clash with docs/conftest.py.
collect_ignore = ["conftest.py"]
