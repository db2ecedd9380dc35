"""Store backends for the shared suite: in memory, SQLite (memory and file), PostgreSQL.

PostgreSQL is real: ``ETATMACHINE_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts
one); unset, a throwaway cluster is started here when PostgreSQL's binaries are found
(``initdb`` on the PATH or under /usr/lib/postgresql/*/bin), as the ``postgres`` user when
running as root. Only when no server can be started do the PostgreSQL tests skip, and the
terminal summary says so in capitals. ``ETATMACHINE_REQUIRE_POSTGRES=1`` turns that skip
into a failure (CI sets it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

URL_ENV = "ETATMACHINE_TEST_POSTGRES_URL"
REQUIRE_ENV = "ETATMACHINE_REQUIRE_POSTGRES"
_SKIPPED: list[str] = []
_RAN: list[str] = []

collect_ignore = ["conftest.py"]


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


class _Cluster:
    """A throwaway PostgreSQL cluster on a unix socket in a temporary directory."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="etm-pg-"))
        self.data = self.root / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as 'postgres'
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and no 'postgres' user to run as") from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            runuser = shutil.which("runuser")
            self.prefix = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-c"]

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.prefix and self.prefix[0] == "su":
            cmd = [*self.prefix, " ".join(cmd)]
        else:
            cmd = [*self.prefix, *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = f"-k {self.root} -c listen_addresses='' -F -c max_connections=100"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        return f"postgresql+psycopg://postgres@/postgres?host={self.root}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _reachable(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect: say which
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL to a real PostgreSQL database (skips, loudly, only if none can be started)."""
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install -e '.[test]')")
    url = os.environ.get(URL_ENV)
    cluster: _Cluster | None = None
    reason: str | None = None
    if url:
        problem = _reachable(url)
        if problem:
            pytest.fail(f"{URL_ENV}={url} is set but unreachable: {problem}")
    else:
        bindir = _binaries()
        if bindir is None:
            reason = "no PostgreSQL server: set ETATMACHINE_TEST_POSTGRES_URL or install postgresql"
        else:
            try:
                cluster = _Cluster(bindir)
                url = cluster.start()
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                stderr = getattr(exc, "stderr", b"") or b""
                reason = f"could not start PostgreSQL from {bindir}: {exc} {stderr.decode()[-300:]}"
                cluster = None
    if reason is not None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set: {reason}")
        _SKIPPED.append(reason)
        pytest.skip(reason)
    assert url is not None
    try:
        yield url
    finally:
        if cluster is not None:
            cluster.stop()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and "postgresql" in report.nodeid:
        _RAN.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SKIPPED:
        terminalreporter.write_sep("!", "POSTGRESQL STORE TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"WARNING: {_SKIPPED[0]}", red=True)
    elif _RAN:
        terminalreporter.write_line(
            f"store: {len(_RAN)} PostgreSQL tests ran against a real server"
        )


def _drop_all(url: str) -> None:
    from etatmachine.store import schema
    from etatmachine.store.sql import make_engine

    engine = make_engine(url)
    schema.metadata.drop_all(engine)
    engine.dispose()


BACKENDS = ["memory", "sqlite-memory", "sqlite-file", "postgresql"]
SQL_BACKENDS = ["sqlite-memory", "sqlite-file", "postgresql"]
URL_BACKENDS = ["sqlite-file", "postgresql"]


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL for the backend the test is parametrised with."""
    backend = request.param
    if backend == "memory":
        return "memory:"
    if backend == "sqlite-memory":
        return "sqlite://"
    if backend == "sqlite-file":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _drop_all(url)
    return url


@pytest.fixture
def make_store(store_url: str) -> Iterator[Callable[..., object]]:
    """Open stores on the test's fresh database (several for the same file or server)."""
    from etatmachine.store import open_store

    opened: list[object] = []
    shared: list[object] = []

    def make(**options: object) -> object:
        if store_url == "memory:":  # one process-local database: share it
            if not shared:
                shared.append(open_store(store_url, **options))
            return shared[0]
        if store_url == "sqlite://":  # the same in-memory database: share its engine
            if shared:
                options.setdefault("engine", shared[0].engine)  # type: ignore[attr-defined]
            store = open_store(store_url, **options)
            if not shared:
                shared.append(store)
            return store
        store = open_store(store_url, **options)
        opened.append(store)
        return store

    yield make
    for store in opened + shared:
        close = getattr(store, "close", None)
        if close is not None:
            close()


@pytest.fixture
def store(make_store: Callable[..., object]) -> object:
    return make_store()
