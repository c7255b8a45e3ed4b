"""The one place SQLAlchemy engines are made; the shared table registry (Core, not ORM)."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

metadata = sa.MetaData()

# Modules that define tables on `metadata`; create_schema imports them so every table is known.
TABLE_MODULES = ("app.store.business", "app.store.sessions", "app.store.records")

SQLITE_BUSY_MS = 5000


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


def _sqlite_engine(url: URL) -> sa.Engine:
    """SQLite: WAL so readers never block the writer, a busy timeout so writers queue instead of failing."""
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    if not in_memory and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, object] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}}
    if in_memory:
        # One shared connection, or every pooled connection would see its own empty database.
        options["poolclass"] = StaticPool
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """Per-connection SQLite settings (they do not persist in the file, except WAL)."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def ensure_tables(engine: sa.Engine, tables: list[sa.Table] | None = None) -> None:
    """Create the given tables (default: all registered) unless they exist."""
    try:
        metadata.create_all(engine, tables=tables)
    except sa.exc.DBAPIError:
        # Two workers starting together can both see a table missing; the loser's CREATE fails.
        # The second pass finds the table and creates nothing; a real error is raised again.
        metadata.create_all(engine, tables=tables)


def create_schema(engine: sa.Engine) -> None:
    """Create every table the store modules define (idempotent)."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    ensure_tables(engine)
