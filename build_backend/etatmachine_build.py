"""The build backend: setuptools' own, plus mypy as a build requirement only when compiling.

``ETATMACHINE_COMPILE=1 pip install .`` (or ``pip wheel .``, ``python -m build``) compiles the
modules listed in ``src/etatmachine/build_info.py`` with mypyc (setup.py does it); without the
variable the build is pure Python, exactly setuptools' ``build_meta``. mypyc type-checks the
code as ``mypy --strict src`` does (the ``[tool.mypy]`` table of pyproject.toml, the pydantic
plugin included), so a compiling build also needs the runtime dependencies and type stubs in
its isolated environment: without them mypy fails, or would see ``Any`` where the venv sees
types and compile slower, different code from what the tests checked.

Editable installs are always pure: their wheel points at src/, and a compiled ``.so`` beside
an edited ``.py`` would shadow the edit (the import system prefers extensions). The editable
hooks therefore run with ``ETATMACHINE_COMPILE`` removed, and so do the sdist hooks (an sdist
holds sources; a wheel built from it compiles or not) and the hooks before the wheel's build
(requirements, metadata), which setuptools answers by running setup.py: only `build_wheel`
compiles.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (every hook this module does not override)

__all__ = [
    "MYPY_VERSION",
    "build_editable",
    "build_sdist",
    "compiling",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]

# The mypy (and so mypyc) release the compiled core was tested with; the dev extra's mypy
# pins the same one (a test checks), so that what type-checks is what compiles.
MYPY_VERSION = "2.4.1"
# What mypy must see to type the code as ``mypy --strict src`` does, besides the project's
# dependencies (read from pyproject.toml): stubs, and the extras of the modules mypy follows
# imports into (``etatmachine`` names ``DossierStore``, so mypy reads store/sql.py, which
# needs SQLAlchemy's types). The other extras are ``ignore_missing_imports`` in [tool.mypy].
_TYPE_REQUIREMENTS = ("mypy_extensions>=1.0", "types-python-dateutil")
_TYPED_EXTRAS = ("sql",)


def _project_requirements() -> list[str]:
    """``[project] dependencies`` and the `_TYPED_EXTRAS` of pyproject.toml (the backend runs
    in the source tree)."""
    with open("pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)["project"]
    extras = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(r for e in _TYPED_EXTRAS for r in extras.get(e, []))]


def compiling() -> bool:
    """Whether this build compiles the core: ``ETATMACHINE_COMPILE`` set to 1 (or true/yes)."""
    return os.environ.get("ETATMACHINE_COMPILE", "").strip().lower() in {"1", "true", "yes"}


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    """setuptools' requirements, plus mypy and what it needs to type the code when compiling.

    setuptools runs setup.py to find its own requirements: it runs pure here (mypy is not
    installed yet), as it does for the metadata; only `build_wheel` compiles."""
    with _pure():
        requires = list(_setuptools.get_requires_for_build_wheel(config_settings))
    if compiling():
        requires += [f"mypy=={MYPY_VERSION}", *_TYPE_REQUIREMENTS, *_project_requirements()]
    return requires


@contextmanager
def _pure() -> Iterator[None]:
    """Run a hook with ``ETATMACHINE_COMPILE`` unset (setuptools runs setup.py in-process)."""
    saved = os.environ.pop("ETATMACHINE_COMPILE", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["ETATMACHINE_COMPILE"] = saved


def _pure_hook(name: str) -> Callable[..., Any]:
    """setuptools' hook ``name`` (looked up when called), run pure."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with _pure():
            return getattr(_setuptools, name)(*args, **kwargs)

    run.__name__ = name
    run.__doc__ = f"setuptools' {name}, always pure Python (see the module notes)."
    return run


get_requires_for_build_sdist = _pure_hook("get_requires_for_build_sdist")
build_sdist = _pure_hook("build_sdist")  # sources only: a wheel built from it may compile
prepare_metadata_for_build_wheel = _pure_hook("prepare_metadata_for_build_wheel")
get_requires_for_build_editable = _pure_hook("get_requires_for_build_editable")
prepare_metadata_for_build_editable = _pure_hook("prepare_metadata_for_build_editable")
build_editable = _pure_hook("build_editable")
