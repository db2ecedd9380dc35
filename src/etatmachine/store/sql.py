"""The SQL store: SQLite embedded (a file or ``:memory:``, WAL) or PostgreSQL (psycopg 3).

The URL chooses: ``sqlite:///etatmachine.db``, ``sqlite://`` (in memory),
``postgresql://user@host/db`` (psycopg 3 is used). Tables are created and versioned by the
library (`etatmachine.store.schema`). Every write is one transaction: the compare-and-set
``UPDATE etm_dossier … WHERE id = ? AND version = ? AND trail_len = ? AND trail_digest = ?``
(0 rows: `VersionConflict` or `NotDescendant`), the new ``etm_trail`` rows, the outbox
rows (deduplicated), the idempotency row. On SQLite a write transaction starts with
``BEGIN IMMEDIATE`` (writers queue on the lock instead of failing to upgrade it); on
PostgreSQL outbox claims take ``FOR UPDATE SKIP LOCKED``, so relays share the work.

>>> from datetime import datetime
>>> from etatmachine import Actor, Role, Workflow
>>> from etatmachine.business_calendar import PARIS
>>> store = SqlStore("sqlite://")
>>> handler = Actor(role=Role.CASE_HANDLER, id="7")
>>> opened = store.workflow.open("D-1", "etude_devis", actor=handler, mid_flow=True,
...                              at=datetime(2024, 3, 4, 9, tzinfo=PARIS)).dossier
>>> _ = store.add(opened)
>>> moved, effects = store.workflow.move(store.get("D-1"), "demande_traitement_devis",
...                                      actor=handler, at=datetime(2024, 3, 4, 10, tzinfo=PARIS))
>>> store.apply(moved, 0, effects).dossier.version
1
>>> [(m.kind, m.dedup_key) for m in store.claim("relay-1")]
[('relaunch_surveyor', 'D-1/1/relaunch_surveyor/0')]
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    String,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool, StaticPool

from etatmachine.dossier import Dossier, HistoryEntry
from etatmachine.effects import Effect
from etatmachine.errors import VersionConflict
from etatmachine.store import schema
from etatmachine.store.derive import (
    Extract,
    chain,
    effect_key,
    entry_json,
    extract,
    pinned,
    remember,
    utc,
)
from etatmachine.store.fastwrite import FastWriter
from etatmachine.store.protocol import (
    Applied,
    Candidate,
    NotDescendant,
    OutboxMessage,
    SchemaVersionError,
    UnknownDossier,
    effect_from_payload,
)
from etatmachine.store.queries import DeskQueries
from etatmachine.workflow import Workflow

__all__ = ["DEFAULT_URL", "SqlStore", "make_engine"]

DEFAULT_URL = "sqlite:///etatmachine.db"

_D, _T, _O, _K, _M = schema.dossier, schema.trail, schema.outbox, schema.idempotency, schema.meta
_READ = "etm_read"
_INIT_LOCK = 0x45544D31  # "ETM1": the advisory lock PostgreSQL stores take to create tables
_CAS = update(_D).where(
    and_(
        _D.c.id == bindparam("w_id"),
        _D.c.version == bindparam("w_version"),
        _D.c.trail_len == bindparam("w_trail_len"),
        _D.c.trail_digest == bindparam("w_trail_digest"),
    )
)
"""The compare-and-set: the SET clause comes from the parameters (every extracted column)."""
_BODY = select(_D.c.body, _D.c.version, _D.c.catalogue_name, _D.c.catalogue_version).where(
    _D.c.id == bindparam("id")
)
# the trail up to the body's version: under READ COMMITTED a writer may commit between the
# two reads, and its newer entries must not join an older body (seq runs 0..version)
_ENTRIES = (
    select(_T.c.entry)
    .where(_T.c.dossier_id == bindparam("id"), _T.c.seq <= bindparam("version"))
    .order_by(_T.c.seq)
)
_SERIAL: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_SERIAL_LOCK = threading.Lock()


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for the store: SQLite tuned (WAL, ``BEGIN IMMEDIATE`` for writes, one
    shared connection for ``:memory:``), PostgreSQL through psycopg 3."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 50)  # a connection held per thread
        options.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **options)
    if backend != "sqlite":
        raise ValueError(f"store URL {url!r}: only sqlite:// and postgresql:// are supported")
    memory = parsed.database in (None, "", ":memory:")
    connect_args = options.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", 60)
    # one shared connection for :memory:; else one per thread, held by the store
    options.setdefault("poolclass", StaticPool if memory else NullPool)
    engine = create_engine(parsed, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        read = conn.get_execution_options().get(_READ, False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine


def _utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _same(value: datetime) -> datetime:
    return value


def _now() -> datetime:
    return datetime.now(UTC)


def _extract_values(dossier: Dossier, c: Extract) -> dict[str, Any]:
    return {
        "catalogue_name": c.catalogue_name,
        "catalogue_version": c.catalogue_version,
        "state": c.state,
        "phase": c.phase,
        "owner_role": c.owner_role,
        "assignee": c.assignee,
        "assignees": json.dumps(c.assignees, sort_keys=True),
        "contractor": c.contractor,
        "insurer": dossier.insurer,
        "channel": dossier.channel,
        "subdivision": dossier.subdivision,
        "flags": json.dumps(sorted(dossier.flags)),
        "due_at": c.due_at,
        "step_started_at": c.step_started_at,
        "step_due_at": c.step_due_at,
        "step_seq": c.step_seq,
        "attention_at": c.attention_at,
        "terminal": c.terminal,
        "version": dossier.version,
        "trail_len": c.trail_len,
        "body": c.body,
    }


def _trail_rows(
    dossier_id: str, start: int, entries: Sequence[HistoryEntry]
) -> list[dict[str, Any]]:
    return [
        {
            "dossier_id": dossier_id,
            "seq": start + i,
            "kind": e.kind,
            "source": e.source,
            "target": e.target,
            "at": e.at,
            "actor_role": e.actor.role.value,
            "actor_id": e.actor.id,
            "due_at": e.due_at,
            "entry": entry_json(e),
        }
        for i, e in enumerate(entries)
    ]


def _outbox_row(dedup_key: str, effect: Effect, now: datetime) -> dict[str, Any]:
    return {
        "dedup_key": dedup_key,
        "dossier_id": effect.dossier_id,
        "kind": effect.kind,
        "payload": effect.model_dump_json(),
        "created_at": now,
        "attempts": 0,
    }


def _key_row(
    key: str, dossier: Dossier, effects: Sequence[Effect], now: datetime
) -> dict[str, Any]:
    return {
        "key": key,
        "dossier_id": dossier.id,
        "version": dossier.version,
        "body": dossier.to_json(),
        "effects": json.dumps([e.model_dump(mode="json") for e in effects]),
        "created_at": now,
    }


class _Held:
    """A thread's held connection, closed when the thread's storage goes (not after a
    fork: the child must not touch its parent's connections)."""

    __slots__ = ("__weakref__", "conn", "pid")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pid = os.getpid()

    def close(self) -> None:
        if self.pid == os.getpid() and not self.conn.closed:
            with suppress(Exception):  # closing at exit or in a finaliser: nothing to report
                self.conn.close()

    def __del__(self) -> None:
        self.close()


class _HeldRaw(_Held):
    """A thread's driver connection (a pool proxy) and its cursor, given back when the
    thread goes."""

    __slots__ = ("cursor",)

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self.cursor = conn.cursor()

    def close(self) -> None:
        if self.pid == os.getpid():
            with suppress(Exception):
                self.conn.close()


class SqlStore(DeskQueries):
    """The `Store` protocol on a SQL database (SQLAlchemy 2 Core)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        workflow: Workflow | None = None,
        engine: Engine | None = None,
        create: bool = True,
    ) -> None:
        self.url = url
        self.workflow = workflow or Workflow.default()
        self.engine = engine or make_engine(url)
        self.dialect = self.engine.dialect.name
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._fast = FastWriter(self.dialect)
        dbapi = self.engine.dialect.dbapi
        assert dbapi is not None
        self._integrity: type[Exception] = dbapi.IntegrityError
        memory = self.dialect == "sqlite" and make_url(url).database in (None, "", ":memory:")
        # one shared connection for an in-memory SQLite: transactions take turns (one lock
        # per engine, so stores sharing the engine share it)
        self._serial: threading.RLock | None = None
        if memory:
            with _SERIAL_LOCK:
                self._serial = _SERIAL.setdefault(self.engine, threading.RLock())
        self._insert: Callable[[Any], Any] = (
            postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        )
        self._queue_stmt = (
            self._insert(_O).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(_O.c.id)
        )
        if create:
            self.init()
        else:
            self.check_schema()

    # -- schema -----------------------------------------------------------------------

    def init(self) -> None:
        """Create the tables if missing and record the schema version (idempotent)."""
        with self._tx() as conn:
            if self.dialect == "postgresql":  # stores starting together create it once
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_INIT_LOCK})")
            schema.metadata.create_all(conn)
            for statement in schema.append_only_ddl(self.dialect):
                conn.exec_driver_sql(statement)
            conn.execute(
                self._insert(_M)
                .values(key="schema_version", value=schema.SCHEMA_VERSION)
                .on_conflict_do_nothing(index_elements=["key"])
            )
        self.check_schema()

    def check_schema(self) -> None:
        """`SchemaVersionError` unless the database holds this library's schema version."""
        with self._read() as conn:
            found = conn.execute(select(_M.c.value).where(_M.c.key == "schema_version")).scalar()
        if found != schema.SCHEMA_VERSION:
            raise SchemaVersionError(str(found), schema.SCHEMA_VERSION, self.url)

    def close(self) -> None:
        """Close the connections this store holds (every thread's) and the engine's pool."""
        for held in list(self._held):
            held.close()
        self.engine.dispose()

    def _connection(self) -> Connection:
        """This thread's connection: held between transactions (a pool checkout per write
        costs more than the write), opened again in a forked child."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid() or held.conn.closed:
            held = _Held(self.engine.connect())
            self._local.held = held
            self._held.add(held)
        conn: Connection = held.conn
        return conn

    @contextmanager
    def _transaction(self, read: bool) -> Iterator[Connection]:
        with self._serial or nullcontext():
            conn = self._connection()
            conn.execution_options(**{_READ: read})
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                if conn.in_transaction():  # a failed BEGIN leaves one to roll back
                    conn.rollback()
                raise

    def _tx(self) -> AbstractContextManager[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        return self._transaction(False)

    def _read(self) -> AbstractContextManager[Connection]:
        """A read transaction: one snapshot for the statements in it."""
        return self._transaction(True)

    # -- reads ------------------------------------------------------------------------

    def _load(self, conn: Connection, dossier_id: str) -> Dossier:
        row = conn.execute(_BODY, {"id": dossier_id}).first()
        if row is None:
            raise UnknownDossier(dossier_id)
        texts = conn.execute(_ENTRIES, {"id": dossier_id, "version": row.version}).scalars()
        entries = list(texts)
        body: str = row.body
        dossier = Dossier.from_json(f'{body[:-1]},"history":[{",".join(entries)}]}}')
        for entry, text in zip(dossier.history, entries, strict=True):
            remember(entry, text)
        return pinned(dossier, row.catalogue_name, row.catalogue_version, self.workflow)

    def get(self, dossier_id: str) -> Dossier:
        with self._read() as conn:
            return self._load(conn, dossier_id)

    def trail(self, dossier_id: str) -> tuple[HistoryEntry, ...]:
        with self._read() as conn:
            if conn.execute(select(_D.c.id).where(_D.c.id == dossier_id)).first() is None:
                raise UnknownDossier(dossier_id)
            texts = conn.execute(
                select(_T.c.entry).where(_T.c.dossier_id == dossier_id).order_by(_T.c.seq)
            ).scalars()
            return tuple(HistoryEntry.model_validate_json(t) for t in texts)

    def trail_seqs(self, dossier_id: str) -> list[int]:
        """The seq numbers of a dossier's trail rows (an audit: 0, 1, … without a gap)."""
        with self._read() as conn:
            rows = conn.execute(
                select(_T.c.seq).where(_T.c.dossier_id == dossier_id).order_by(_T.c.seq)
            )
            return list(rows.scalars())

    def applied(self, idempotency_key: str) -> Applied | None:
        with self._read() as conn:
            row = conn.execute(
                select(_K.c.body, _K.c.effects).where(_K.c.key == idempotency_key)
            ).first()
        if row is None:
            return None
        effects = tuple(effect_from_payload(p) for p in json.loads(row.effects))
        return Applied(Dossier.from_json(row.body), effects, replayed=True)

    def __len__(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(_D)).scalar_one())

    def ids(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(_D.c.id).order_by(_D.c.id)).scalars())

    def __iter__(self) -> Iterator[Dossier]:
        return (self.get(i) for i in self.ids())

    # -- writes -----------------------------------------------------------------------

    def add(
        self,
        dossier: Dossier,
        effects: Iterable[Effect] = (),
        *,
        idempotency_key: str | None = None,
    ) -> Applied:
        effects = tuple(effects)
        if idempotency_key is not None:
            hit = self.applied(idempotency_key)
            if hit is not None:
                return hit
        columns = extract(dossier, self.workflow)
        now = _now()
        values = _extract_values(dossier, columns)
        values.update(
            id=dossier.id, trail_digest=chain(dossier.history), created_at=now, updated_at=now
        )
        try:
            with self._tx() as conn:
                found = conn.execute(select(_D.c.version).where(_D.c.id == dossier.id)).first()
                if found is not None:
                    raise VersionConflict(dossier.id, -1, found.version)
                conn.execute(insert(_D), values)
                self._after_update(conn, dossier, 0, effects, idempotency_key, now)
        except IntegrityError:
            return self._lost_race(dossier, -1, idempotency_key)
        return Applied(dossier, effects)

    def add_many(self, dossiers: Iterable[Dossier], *, batch: int = 1000) -> int:
        """Store many new dossiers (an import), ``batch`` per transaction; returns how many.

        `VersionConflict` (expected -1) if an id is already stored: that batch is rolled
        back, the batches before it stay.
        """
        count = 0
        rows: list[dict[str, Any]] = []
        trails: list[dict[str, Any]] = []

        def flush() -> None:
            if not rows:
                return
            try:
                with self._tx() as conn:
                    conn.execute(insert(_D), rows)
                    conn.execute(insert(_T), trails)
            except IntegrityError:
                ids = [r["id"] for r in rows]
                with self._read() as conn:
                    taken = conn.execute(select(_D.c.id, _D.c.version).where(_D.c.id.in_(ids)))
                    first = taken.first()
                if first is None:
                    raise
                raise VersionConflict(first.id, -1, first.version) from None
            rows.clear()
            trails.clear()

        now = _now()
        for dossier in dossiers:
            values = _extract_values(dossier, extract(dossier, self.workflow))
            values.update(
                id=dossier.id, trail_digest=chain(dossier.history), created_at=now, updated_at=now
            )
            rows.append(values)
            trails += _trail_rows(dossier.id, 0, dossier.history)
            count += 1
            if len(rows) >= batch:
                flush()
        flush()
        return count

    def put(self, dossier: Dossier, expected_version: int) -> None:
        self.apply(dossier, expected_version)

    def apply(
        self,
        dossier: Dossier,
        expected_version: int,
        effects: Iterable[Effect] = (),
        *,
        idempotency_key: str | None = None,
    ) -> Applied:
        effects = tuple(effects)
        key = idempotency_key
        if key is not None:
            hit = self.applied(key)
            if hit is not None:
                return hit
        history = dossier.history
        # the stored trail's length, if every version since added one entry (the workflow's
        # changes do); a miss is diagnosed in the transaction
        stored_len = len(history) - (dossier.version - expected_version)
        now = _now()
        values = _extract_values(dossier, extract(dossier, self.workflow))
        values.update(trail_digest=chain(history), updated_at=now)
        fast = self._fast
        with self._serial or nullcontext():
            raw, cursor = self._raw()
            try:
                fast.begin(cursor)
                updated = 0
                if dossier.version > expected_version and 0 <= stored_len <= len(history):
                    params = fast.cas_params(
                        values, dossier.id, expected_version, stored_len, chain(history, stored_len)
                    )
                    cursor.execute(fast.cas, params)
                    updated = cursor.rowcount
                if updated != 1:
                    stored_len = self._fast_diagnose(cursor, dossier, expected_version)
                    params = fast.cas_params(
                        values, dossier.id, expected_version, stored_len, chain(history, stored_len)
                    )
                    cursor.execute(fast.cas, params)
                new = history[stored_len:]
                if new:
                    rows = fast.trail_tuples(dossier.id, stored_len, new)
                    cursor.executemany(fast.trail, rows) if len(rows) > 1 else cursor.execute(
                        fast.trail, rows[0]
                    )
                seq = len(history) - 1
                for i, effect in enumerate(effects):
                    cursor.execute(
                        fast.outbox,
                        fast.outbox_params(
                            _outbox_row(effect_key(dossier.id, seq, effect, i), effect, now)
                        ),
                    )
                    cursor.fetchall()
                if key is not None:
                    cursor.execute(fast.key, fast.key_params(_key_row(key, dossier, effects, now)))
                raw.commit() if not fast.sqlite else cursor.execute("COMMIT")
            except self._integrity:
                self._rollback(raw, cursor)
                return self._lost_race(dossier, expected_version, key)
            except BaseException:
                self._rollback(raw, cursor)
                raise
        return Applied(dossier, effects)

    def _rollback(self, raw: Any, cursor: Any) -> None:
        with suppress(Exception):  # the error that brought us here is the one to report
            if self._fast.sqlite:
                cursor.execute("ROLLBACK")
            else:
                raw.rollback()

    def _fast_diagnose(self, cursor: Any, dossier: Dossier, expected: int) -> int:
        """Why the compare-and-set matched no row: raise, or return the stored trail length
        when the dossier does descend (it added other than one entry per version)."""
        cursor.execute(self._fast.diagnose, (dossier.id,))
        row = cursor.fetchone()
        if row is None:
            raise VersionConflict(dossier.id, expected, -1)
        version, n, digest = int(row[0]), int(row[1]), row[2]
        if version != expected or dossier.version <= expected:
            raise VersionConflict(dossier.id, expected, version)
        if n > len(dossier.history) or chain(dossier.history, n) != digest:
            raise NotDescendant(dossier.id, expected, version, n)
        return n

    def _raw(self) -> tuple[Any, Any]:
        """This thread's driver connection and cursor for the write hot path (held, like
        `_connection`)."""
        held: _HeldRaw | None = getattr(self._local, "raw", None)
        if held is None or held.pid != os.getpid():
            held = _HeldRaw(self.engine.raw_connection())
            self._local.raw = held
            self._held.add(held)
        return held.conn, held.cursor

    def _version(self, conn: Connection, dossier: Dossier) -> int:
        found = conn.execute(select(_D.c.version).where(_D.c.id == dossier.id)).scalar()
        return -1 if found is None else int(found)

    def _cas(
        self,
        conn: Connection,
        dossier: Dossier,
        expected: int,
        stored_len: int,
        values: dict[str, Any],
    ) -> int:
        params = {
            **values,
            "w_id": dossier.id,
            "w_version": expected,
            "w_trail_len": stored_len,
            "w_trail_digest": chain(dossier.history, stored_len),
        }
        return int(conn.execute(_CAS, params).rowcount)

    def _diagnose(self, conn: Connection, dossier: Dossier, expected: int) -> int:
        """Why the compare-and-set matched no row: raise, or return the stored trail length
        when the dossier does descend (it added other than one entry per version)."""
        select_row = select(_D.c.version, _D.c.trail_len, _D.c.trail_digest).where(
            _D.c.id == dossier.id
        )
        if self.dialect == "postgresql":
            select_row = select_row.with_for_update()
        row = conn.execute(select_row).first()
        if row is None:
            raise VersionConflict(dossier.id, expected, -1)
        if row.version != expected:
            raise VersionConflict(dossier.id, expected, row.version)
        n = int(row.trail_len)
        if n > len(dossier.history) or chain(dossier.history, n) != row.trail_digest:
            raise NotDescendant(dossier.id, expected, row.version, n)
        return n

    def _after_update(
        self,
        conn: Connection,
        dossier: Dossier,
        stored_len: int,
        effects: tuple[Effect, ...],
        key: str | None,
        now: datetime,
    ) -> None:
        """The rest of the write's transaction: trail rows, outbox rows, idempotency row."""
        new = dossier.history[stored_len:]
        if new:
            conn.execute(insert(_T), _trail_rows(dossier.id, stored_len, new))
        seq = len(dossier.history) - 1
        self._queue(
            conn, [(effect_key(dossier.id, seq, e, i), e) for i, e in enumerate(effects)], now
        )
        if key is not None:
            conn.execute(
                insert(_K).values(
                    key=key,
                    dossier_id=dossier.id,
                    version=dossier.version,
                    body=dossier.to_json(),
                    effects=json.dumps([e.model_dump(mode="json") for e in effects]),
                    created_at=now,
                )
            )

    def _lost_race(self, dossier: Dossier, expected: int, key: str | None) -> Applied:
        """An insert hit a unique key another writer committed first: the same idempotency
        key (return its result) or the same new dossier id (a conflict)."""
        if key is not None:
            hit = self.applied(key)
            if hit is not None:
                return hit
        with self._read() as conn:
            raise VersionConflict(dossier.id, expected, self._version(conn, dossier))

    def _queue(self, conn: Connection, keyed: Sequence[tuple[str, Effect]], now: datetime) -> int:
        new = 0
        for dedup_key, effect in keyed:
            result = conn.execute(
                self._queue_stmt,
                {
                    "dedup_key": dedup_key,
                    "dossier_id": effect.dossier_id,
                    "kind": effect.kind,
                    "payload": effect.model_dump_json(),
                    "created_at": now,
                    "attempts": 0,
                },
            )
            new += len(result.all())
        return new

    def record_effects(self, effects: Iterable[Effect]) -> int:
        keyed = [(effect_key(e.dossier_id, -1, e, i), e) for i, e in enumerate(effects)]
        if not keyed:
            return 0
        with self._tx() as conn:
            return self._queue(conn, keyed, _now())

    # -- outbox -----------------------------------------------------------------------

    @staticmethod
    def _message(row: Row[Any]) -> OutboxMessage:
        return OutboxMessage(
            id=int(row.id),
            dedup_key=row.dedup_key,
            dossier_id=row.dossier_id,
            kind=row.kind,
            payload=json.loads(row.payload),
            created_at=row.created_at,
            attempts=int(row.attempts),
            done_at=row.done_at,
        )

    def claim(
        self, relay: str, *, limit: int = 100, lease: timedelta = timedelta(minutes=1)
    ) -> list[OutboxMessage]:
        now = _now()
        with self._tx() as conn:
            pick = (
                select(_O.c.id)
                .where(
                    and_(
                        _O.c.done_at.is_(None),
                        or_(_O.c.lease_until.is_(None), _O.c.lease_until <= now),
                    )
                )
                .order_by(_O.c.id)
                .limit(limit)
            )
            if self.dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = list(conn.execute(pick).scalars())
            if not ids:
                return []
            conn.execute(
                update(_O)
                .where(_O.c.id.in_(ids))
                .values(claimed_by=relay, lease_until=now + lease, attempts=_O.c.attempts + 1)
            )
            rows = conn.execute(select(_O).where(_O.c.id.in_(ids)).order_by(_O.c.id))
            return [self._message(r) for r in rows]

    def ack(self, message_ids: Iterable[int]) -> None:
        ids = list(message_ids)
        if not ids:
            return
        with self._tx() as conn:
            conn.execute(
                update(_O)
                .where(and_(_O.c.id.in_(ids), _O.c.done_at.is_(None)))
                .values(done_at=_now())
            )

    def outbox(self, *, include_done: bool = True) -> list[OutboxMessage]:
        query = select(_O).order_by(_O.c.id)
        if not include_done:
            query = query.where(_O.c.done_at.is_(None))
        with self._read() as conn:
            return [self._message(r) for r in conn.execute(query)]

    # -- worklists and sweeps ---------------------------------------------------------

    def _candidates(self, where: Any, limit: int | None = None) -> list[Candidate]:
        instants: tuple[Any, ...] = (_D.c.step_started_at, _D.c.due_at)
        raw = self.dialect == "sqlite"
        if raw:  # read SQLite's UTC text as is: parsing it ourselves is 10x faster
            instants = tuple(type_coerce(c, String) for c in instants)
        query = (
            select(
                _D.c.id,
                _D.c.state,
                _D.c.owner_role,
                _D.c.assignee,
                _D.c.contractor,
                _D.c.subdivision,
                *instants,
                _D.c.step_seq,
                _D.c.catalogue_version,
            )
            .where(where)
            .order_by(_D.c.due_at, _D.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        parse = _utc_text if raw else _same
        with self._read() as conn:
            return [
                Candidate(
                    dossier_id=r[0],
                    state=r[1],
                    owner_role=r[2],
                    assignee=r[3],
                    contractor=r[4],
                    subdivision=r[5],
                    step_started_at=None if r[6] is None else parse(r[6]),
                    due_at=parse(r[7]),
                    step_seq=int(r[8]),
                    catalogue_version=r[9],
                )
                for r in conn.execute(query)
            ]

    def candidates(
        self,
        *,
        due_before: datetime,
        attention_before: datetime,
        role: str | None = None,
        assignee: str | None = None,
        contractor: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> Sequence[Candidate]:
        filters = []
        if role is not None:
            filters.append(_D.c.owner_role == role)
        if assignee is not None:
            filters.append(_D.c.assignee == assignee)
        if contractor is not None:
            filters.append(_D.c.contractor == contractor)
        if after is not None:  # keyset paging on (due_at, id)
            mark, key = after
            filters.append(or_(_D.c.due_at > mark, and_(_D.c.due_at == mark, _D.c.id > key)))
        due = or_(_D.c.due_at <= due_before, _D.c.attention_at <= attention_before)
        return self._candidates(and_(due, *filters), limit)

    def due_between(self, after: datetime | None, until: datetime) -> Sequence[Candidate]:
        window = _D.c.due_at <= until
        if after is not None:
            window = and_(_D.c.due_at > after, window)
        return self._candidates(window)

    def last_sweep(self) -> datetime | None:
        with self._read() as conn:
            value = conn.execute(select(_M.c.value).where(_M.c.key == "last_sweep")).scalar()
        return None if value is None else datetime.fromisoformat(value)

    def record_sweep(self, at: datetime, effects: Sequence[Effect]) -> int:
        mark = utc(at)
        assert mark is not None
        keyed = [(effect_key(e.dossier_id, -1, e, i), e) for i, e in enumerate(effects)]
        with self._tx() as conn:
            new = self._queue(conn, keyed, _now())
            current = conn.execute(select(_M.c.value).where(_M.c.key == "last_sweep")).scalar()
            if current is None:
                conn.execute(insert(_M).values(key="last_sweep", value=mark.isoformat()))
            elif datetime.fromisoformat(current) < mark:
                conn.execute(
                    update(_M).where(_M.c.key == "last_sweep").values(value=mark.isoformat())
                )
            return new
