"""The one place SQLAlchemy engines are made; the shared table registry (Core, not ORM)."""
from __future__ import annotations

import fcntl
import importlib
import os
import threading
import weakref
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from app.config import SettingsError

metadata = sa.MetaData()

# Modules that define tables on `metadata`; create_schema imports them so every table is known.
TABLE_MODULES = ("app.store.business", "app.store.sessions", "app.store.records", "app.store.agent_sessions")

SQLITE_BUSY_MS = 5000


# The kernel wakes a process waiting on flock the moment the lock is free; SQLite's own busy
# handler sleeps 1, 2, 5 ... 100 ms and tries again, so workers meeting there starve each other.
class WriteGate:
    """Lets one writer at a time at an SQLite file: threads by a lock, processes by flock."""

    def __init__(self, lock_path: Path | None) -> None:
        self._path = lock_path          # None: an in-memory database, one process
        self._lock = threading.Lock()
        self._fd, self._pid = -1, 0

    # `with gate:` holds it for one write. A plain context manager rather than @contextmanager:
    # it runs around every webhook's write, and a generator-based one costs several times more.
    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            fd = self._file()
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._fd >= 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    @property
    def on_file(self) -> bool:
        """True for an SQLite file (an in-memory database has one connection, no file lock)."""
        return self._path is not None

    def __del__(self) -> None:
        if self._fd >= 0 and self._pid == os.getpid():
            os.close(self._fd)

    def _file(self) -> int:
        if self._path is not None and self._pid != os.getpid():
            # Opened per process: forked workers sharing the parent's open file would share its lock.
            self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd


_GATES: "weakref.WeakKeyDictionary[sa.Engine, WriteGate]" = weakref.WeakKeyDictionary()


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// use the psycopg 3 driver; other URLs pass unchanged."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> sa.Engine:
    """Build an engine for an sqlite:// or postgresql:// URL, tuned for several worker processes."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    elif parsed.get_backend_name() == "postgresql":
        # pre-ping: a restarted database should cost one retry, not a failed webhook.
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    else:
        raise ValueError(f"unsupported database URL {url!r}: expected sqlite:///path or postgresql://...")
    _guard_fork(engine)
    return engine


def _guard_fork(engine: sa.Engine) -> None:
    """gunicorn preloads the app then forks: a worker must never reuse its parent's connections.

    SQLAlchemy's recipe for pools across os.fork(): remember the owning pid, and make a
    connection checked out in another process look disconnected so the pool opens a fresh one.
    """
    @sa.event.listens_for(engine, "connect")
    def _remember_pid(_dbapi_connection: object, record: object) -> None:
        record.info["pid"] = os.getpid()  # type: ignore[attr-defined]

    @sa.event.listens_for(engine, "checkout")
    def _check_pid(_dbapi_connection: object, record: object, proxy: object) -> None:
        if record.info.get("pid") != os.getpid():  # type: ignore[attr-defined]
            record.dbapi_connection = proxy.dbapi_connection = None  # type: ignore[attr-defined]
            raise sa.exc.DisconnectionError("connection belongs to another process")


def private_file(path: Path) -> None:
    """Create `path` (and its directory) readable by this user only; tighten it if it exists.

    The database holds callers' numbers and transcripts: no other local user may read it.
    SQLite gives its -wal and -shm files the database file's mode.
    """
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        os.chmod(path, 0o600)


def _sqlite_engine(url: URL) -> sa.Engine:
    """SQLite: WAL so readers never block the writer, a busy timeout so writers queue instead of failing."""
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    if not in_memory and not database.startswith("file:"):
        private_file(Path(database).expanduser())
    options: dict[str, object] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}}
    if in_memory:
        # One shared connection, or every pooled connection would see its own empty database.
        options["poolclass"] = StaticPool
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    plain_file = not in_memory and not database.startswith("file:")
    _GATES[engine] = WriteGate(Path(f"{Path(database).expanduser()}-lock") if plain_file else None)
    return engine


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for writes; on SQLite each statement commits by itself, one writer at a time."""
    # SQLite has one write lock per file. Inside BEGIN ... COMMIT it stays held while the thread
    # waits for the GIL between statements (32 threads per gunicorn worker), and a writer that
    # finds it taken sleeps in the busy handler instead of being woken: measured, those waits were
    # most of a webhook's time (docs/benchmarks.md). An autocommit statement holds the lock only
    # inside SQLite's C code, and the WriteGate queues writers before they reach it. So callers
    # write statements that are each complete on their own (a compare-and-set UPDATE, an INSERT).
    if engine not in _GATES:
        with engine.begin() as conn:
            yield conn
        return
    with write_turn(engine), engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction for several writes (a batch): on SQLite, one writer at a time."""
    with write_turn(engine), engine.begin() as conn:
        yield conn


_NO_GATE = nullcontext()


def write_turn(engine: sa.Engine) -> AbstractContextManager[None]:
    """Hold SQLite's write gate (nothing for other databases) around a write made another way."""
    return _GATES.get(engine) or _NO_GATE


class ThreadConnections:
    """One DBAPI connection per thread for an SQLite file, taken from the engine and kept.

    Every webhook reads and writes its session: checking a connection out of SQLAlchemy's pool
    and back (events, reset, bookkeeping) cost about as much CPU as SQLite's own work.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._local = threading.local()

    def get(self) -> Any:
        """This thread's connection (a new one after a fork: connections never cross processes)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            fairy = self.engine.raw_connection()      # made by the engine: its PRAGMAs applied
            local.conn = fairy.dbapi_connection
            fairy.detach()                            # the pool forgets it and keeps its slot free
            local.pid = os.getpid()
        return local.conn


def thread_connections(engine: sa.Engine) -> ThreadConnections | None:
    """Per-thread connections for an SQLite file; None for other databases (their pool stays)."""
    gate = _GATES.get(engine)
    return ThreadConnections(engine) if gate is not None and gate.on_file else None


class DriverStatement:
    """A Core statement compiled once for the engine's driver, run on a DBAPI connection.

    For the two statements every webhook runs (session read and compare-and-set): going through
    SQLAlchemy's Connection costs more CPU per statement than SQLite takes to answer it.
    """

    def __init__(self, statement: sa.Executable, engine: sa.Engine,
                 own: ThreadConnections | None = None) -> None:
        compiled = statement.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
        self.engine = engine
        self.sql = str(compiled)
        self._names = compiled.positiontup          # bind names in order (qmark, format); else None
        self._own = own

    def params(self, values: dict[str, object]) -> tuple[object, ...] | dict[str, object]:
        """The values as the driver's paramstyle wants them."""
        return tuple(values[name] for name in self._names) if self._names else values

    def first(self, values: dict[str, object]) -> tuple[object, ...] | None:
        """Run a query; its first row."""
        if self._own is not None:
            return self._read(self._own.get(), values)
        conn = self.engine.raw_connection()
        try:
            return self._read(conn, values)
        finally:
            conn.close()                              # back to the pool, which rolls back

    def write(self, values: dict[str, object]) -> int:
        """Run a write and commit it (under the SQLite write gate); the rows it changed."""
        with write_turn(self.engine):
            if self._own is not None:
                return self._commit(self._own.get(), values)
            conn = self.engine.raw_connection()
            try:
                return self._commit(conn, values)
            finally:
                conn.close()

    def _read(self, conn: Any, values: dict[str, object]) -> tuple[object, ...] | None:
        # On a kept SQLite connection the SELECT runs outside a transaction (sqlite3 begins one
        # only before a write), so it sees the latest commit; read to the end and closed, so no
        # read snapshot stays open between webhooks (it would hold back the WAL checkpoint).
        cursor = conn.cursor()
        cursor.execute(self.sql, self.params(values))
        rows = cursor.fetchall()
        cursor.close()
        return rows[0] if rows else None

    def _commit(self, conn: Any, values: dict[str, object]) -> int:
        try:
            cursor = conn.cursor()
            cursor.execute(self.sql, self.params(values))
            conn.commit()
            return int(cursor.rowcount)
        except BaseException:
            conn.rollback()                           # never leave a kept connection mid-transaction
            raise


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """Per-connection SQLite settings (they do not persist in the file, except WAL)."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut may lose the
    # last commits but never corrupts the file, and each webhook's commits stop costing an fsync.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def ensure_tables(engine: sa.Engine, tables: list[sa.Table] | None = None) -> None:
    """Create the given tables (default: all registered) unless they exist; add columns they lack."""
    try:
        metadata.create_all(engine, tables=tables)
    except sa.exc.DBAPIError:
        # Two workers starting together can both see a table missing; the loser's CREATE fails.
        # The second pass finds the table and creates nothing; a real error is raised again.
        metadata.create_all(engine, tables=tables)
    for table in tables if tables is not None else metadata.sorted_tables:
        add_missing_columns(engine, table)


def add_missing_columns(engine: sa.Engine, table: sa.Table) -> None:
    """A database made by an older version gets the nullable columns added since (no data moves)."""
    present = {column["name"] for column in sa.inspect(engine).get_columns(table.name)}
    for column in table.columns:
        if column.name in present:
            continue
        if not column.nullable:
            raise RuntimeError(f"table {table.name} lacks column {column.name}: recreate the database")
        kind = column.type.compile(engine.dialect)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}')
        except sa.exc.DBAPIError:
            # Another worker added it first; a real failure shows again on the next check.
            if column.name not in {c["name"] for c in sa.inspect(engine).get_columns(table.name)}:
                raise


def create_schema(engine: sa.Engine) -> None:
    """Create every table the store modules define (idempotent)."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    try:
        ensure_tables(engine)
    except sa.exc.DBAPIError as exc:
        # The first connection is made here, at start-up: one line naming the setting, not
        # the driver's traceback.
        raise SettingsError(f"DATABASE_URL: cannot use {engine.url.render_as_string(hide_password=True)}: "
                            f"{first_line(exc.orig)}") from None


def first_line(error: BaseException | None) -> str:
    """A driver error's first line ("connection refused"), without its hints and SQL."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
