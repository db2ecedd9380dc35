"""The optional compiled core: its one list of modules, the build that reads it, and the truth
of what runs (etatmachine.build_info). CI runs this suite twice, against src/ (pure) and
against a compiled wheel with ``ETATMACHINE_EXPECT_COMPILED=1``, so that a compiled build
that silently fell back to Python fails here instead of passing as "tested compiled"."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

import etatmachine
from etatmachine import build_info
from etatmachine.build_info import COMPILED_MODULES, compiled_modules, core_description
from etatmachine.cli import main

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
EXPECT_COMPILED = os.environ.get("ETATMACHINE_EXPECT_COMPILED") == "1"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def backend() -> ModuleType:
    sys.path.insert(0, str(ROOT / "build_backend"))
    try:
        return _load(ROOT / "build_backend" / "etatmachine_build.py", "etatmachine_build")
    finally:
        sys.path.remove(str(ROOT / "build_backend"))


@pytest.mark.parametrize("name", COMPILED_MODULES)
def test_compiled_modules_are_real_modules_of_the_package(name: str) -> None:
    assert name.startswith("etatmachine.") and COMPILED_MODULES.count(name) == 1
    source = SRC.joinpath(*name.split(".")).with_suffix(".py")
    assert source.is_file(), f"{name}: no {source.relative_to(ROOT)}"
    assert importlib.import_module(name).__name__ == name


@pytest.mark.parametrize("name", COMPILED_MODULES)
def test_compiled_modules_define_no_pydantic_model(name: str) -> None:
    """pydantic cannot build models defined in a mypyc-compiled module: models stay in plain
    modules, which the compiled ones import."""
    tree = ast.parse(SRC.joinpath(*name.split(".")).with_suffix(".py").read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(base) for base in node.bases}
            assert not any("BaseModel" in base for base in bases), f"{name}.{node.name}"


def test_setup_reads_the_same_list_without_importing_the_package() -> None:
    setup = _load(ROOT / "setup.py", "etatmachine_setup")
    assert setup.compiled_modules() == COMPILED_MODULES


def test_compiled_modules_tells_the_file_each_module_loads_from() -> None:
    """In a fresh interpreter: build_info imports none of the listed modules (nor pydantic),
    and what it says before they are imported is what their ``__file__`` says after."""
    script = """
import importlib, json, sys
from importlib.machinery import EXTENSION_SUFFIXES
from etatmachine.build_info import COMPILED_MODULES, compiled_modules
loaded = sorted(m for m in (*COMPILED_MODULES, "pydantic") if m in sys.modules)
before = compiled_modules()
loaded += sorted(m for m in (*COMPILED_MODULES, "pydantic") if m in sys.modules)
files = [importlib.import_module(m).__file__ for m in COMPILED_MODULES]
truth = [m for m, f in zip(COMPILED_MODULES, files) if f.endswith(tuple(EXTENSION_SUFFIXES))]
print(json.dumps([loaded, before, compiled_modules(), truth]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded, before, after, truth = json.loads(done.stdout)
    assert loaded == []
    assert before == after == truth == list(compiled_modules())


@pytest.mark.skipif(not EXPECT_COMPILED, reason="ETATMACHINE_EXPECT_COMPILED=1: the compiled run")
def test_every_listed_module_is_compiled_when_ci_expects_it() -> None:
    assert compiled_modules() == COMPILED_MODULES
    assert not Path(etatmachine.__file__).resolve().is_relative_to(SRC), etatmachine.__file__


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("etatmachine.trusted", "trusted"),
        ("etatmachine.judge", "last_change"),
        ("etatmachine.history.parser", "iter_file"),
    ],
)
def test_a_module_tells_its_own_build(module: str, function: str) -> None:
    """`runs_compiled` agrees with where the module was loaded from: the modules that take a
    faster path when compiled (``object.__setattr__`` as a direct C call) take it exactly
    then, and each build's path runs under its own test suite."""
    loaded = importlib.import_module(module)
    assert build_info.runs_compiled(getattr(loaded, function)) is (module in compiled_modules())
    assert loaded._COMPILED is (module in compiled_modules())


@pytest.mark.skipif(EXPECT_COMPILED, reason="the pure run")
def test_an_editable_install_runs_pure_python() -> None:
    if Path(etatmachine.__file__).resolve().is_relative_to(SRC):
        assert compiled_modules() == ()
        assert core_description() == "pure Python"


@pytest.mark.pure_python("etatmachine.evidence")
def test_pure_python_marker_skips_when_its_module_is_compiled() -> None:
    assert "etatmachine.evidence" not in compiled_modules()


def test_version_says_which_core_runs() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"etatmachine {etatmachine.__version__} ({core_description()})\n"


@pytest.mark.parametrize(
    ("compiled", "text"),
    [
        ((), "pure Python"),
        (COMPILED_MODULES[:1], f"compiled core: 1 of {len(COMPILED_MODULES)} module, mypyc"),
        (COMPILED_MODULES, f"compiled core: {len(COMPILED_MODULES)} modules, mypyc"),
    ],
)
def test_core_description(
    monkeypatch: pytest.MonkeyPatch, compiled: tuple[str, ...], text: str
) -> None:
    monkeypatch.setattr(build_info, "compiled_modules", lambda: compiled)
    assert core_description() == text


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("", False), ("0", False), (None, False)]
)
def test_compiling_reads_the_variable(
    monkeypatch: pytest.MonkeyPatch, backend: ModuleType, value: str | None, expected: bool
) -> None:
    if value is None:
        monkeypatch.delenv("ETATMACHINE_COMPILE", raising=False)
    else:
        monkeypatch.setenv("ETATMACHINE_COMPILE", value)
    assert backend.compiling() is expected


@pytest.mark.parametrize("compile_", [True, False])
def test_mypy_is_a_build_requirement_only_when_compiling(
    monkeypatch: pytest.MonkeyPatch, backend: ModuleType, compile_: bool
) -> None:
    seen: list[str | None] = []

    def setuptools_requires(config_settings: object = None) -> list[str]:
        seen.append(os.environ.get("ETATMACHINE_COMPILE"))  # setup.py runs pure here
        return ["wheel"]

    monkeypatch.setattr("setuptools.build_meta.get_requires_for_build_wheel", setuptools_requires)
    if compile_:
        monkeypatch.setenv("ETATMACHINE_COMPILE", "1")
    else:
        monkeypatch.delenv("ETATMACHINE_COMPILE", raising=False)
    requires = backend.get_requires_for_build_wheel()
    assert requires[0] == "wheel" and seen == [None]
    mypy = [r for r in requires if r.startswith("mypy")]
    assert mypy == ([f"mypy=={backend.MYPY_VERSION}", "mypy_extensions>=1.0"] if compile_ else [])
    assert os.environ.get("ETATMACHINE_COMPILE") == ("1" if compile_ else None)


def test_the_dev_mypy_is_the_one_the_compiled_build_pins(backend: ModuleType) -> None:
    """``mypy --strict src`` (the dev extra, CI) and mypyc (the compiled build) are one
    release: code that type-checks is code that compiles the same way."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dev = project["optional-dependencies"]["dev"]
    assert f"mypy=={backend.MYPY_VERSION}" in dev


@pytest.mark.parametrize("hook", ["build_editable", "build_sdist"])
def test_editable_and_sdist_builds_are_always_pure(
    monkeypatch: pytest.MonkeyPatch, backend: ModuleType, hook: str
) -> None:
    """A compiled .so beside the edited .py would shadow the edit, and an sdist holds
    sources: those hooks run with ETATMACHINE_COMPILE unset, and it is back afterwards."""
    seen: list[str | None] = []
    monkeypatch.setattr(
        f"setuptools.build_meta.{hook}",
        lambda *args, **kwargs: seen.append(os.environ.get("ETATMACHINE_COMPILE")) or "out",
    )
    monkeypatch.setenv("ETATMACHINE_COMPILE", "1")
    assert getattr(backend, hook)("dist") == "out"
    assert seen == [None] and os.environ["ETATMACHINE_COMPILE"] == "1"


def test_a_pure_build_has_no_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ETATMACHINE_COMPILE", raising=False)
    assert _load(ROOT / "setup.py", "etatmachine_setup").extensions() == {}


def test_mypy_extensions_is_a_dependency_once_the_source_imports_it() -> None:
    """``mypyc_attr`` decorators import mypy_extensions at run time, in both builds: then it
    must be a runtime dependency, not only the build requirement of the compiled build."""
    importers = [
        path.relative_to(SRC).as_posix()
        for path in sorted((SRC / "etatmachine").rglob("*.py"))
        if "mypy_extensions" in path.read_text("utf-8")
        and any(
            isinstance(node, ast.Import | ast.ImportFrom)
            and "mypy_extensions"
            in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module])
            for node in ast.walk(ast.parse(path.read_text("utf-8")))
        )
    ]
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
        "dependencies"
    ]
    declared = any(d.replace("-", "_").startswith("mypy_extensions") for d in dependencies)
    assert declared or not importers, f"{importers} import mypy_extensions: add it to dependencies"


def test_what_the_built_modules_import_at_run_time_is_a_dependency() -> None:
    """Compiled code may import mypyc's runtime helpers (``librt``) or ``mypy_extensions``:
    in this build, whatever importing every listed module loads of them is declared."""
    script = f"""
import importlib, json, sys
for name in {COMPILED_MODULES!r}:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in ("librt", "mypy_extensions") if m in sys.modules)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
        "dependencies"
    ]
    declared = {d.replace("-", "_").split(">")[0].split("=")[0] for d in dependencies}
    assert set(json.loads(done.stdout)) <= declared
