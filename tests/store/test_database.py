"""make_engine: URL normalisation and SQLite settings."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.store.database import DriverStatement, create_schema, make_engine, normalise_url, thread_connections


@pytest.mark.parametrize("url", ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgres_urls_use_psycopg3(url: str) -> None:
    assert normalise_url(url) == "postgresql+psycopg://u@h/db"
    assert make_engine(url).dialect.driver == "psycopg"


def test_sqlite_file_gets_its_directory_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/a/b/ivr.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    assert (tmp_path / "a" / "b" / "ivr.db").exists()


def test_in_memory_sqlite_is_one_database(tmp_path: Path) -> None:
    engine = make_engine("sqlite://")
    create_schema(engine)
    assert {"customers", "orders", "stores", "sessions"} <= set(sa.inspect(engine).get_table_names())


def test_create_schema_is_idempotent(engine: sa.Engine) -> None:
    create_schema(engine)
    create_schema(engine)
    assert {"customers", "orders", "stores", "sessions"} <= set(sa.inspect(engine).get_table_names())


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        make_engine("mysql://localhost/ivr")


_NOTES = sa.Table("notes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("text", sa.String(20)))


def _notes_engine(tmp_path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/notes.db")
    _NOTES.metadata.create_all(engine)
    return engine


def test_a_kept_thread_connection_reads_what_others_commit(tmp_path: Path) -> None:
    engine = _notes_engine(tmp_path)
    own = thread_connections(engine)
    read = DriverStatement(sa.select(_NOTES.c.text).where(_NOTES.c.id == sa.bindparam("id")), engine, own)
    assert read.first({"id": 1}) is None
    with engine.begin() as conn:                       # another connection, as another worker
        conn.execute(_NOTES.insert(), {"id": 1, "text": "first"})
    assert read.first({"id": 1}) == ("first",)
    with engine.begin() as conn:
        conn.execute(_NOTES.update().values(text="second"))
    assert read.first({"id": 1}) == ("second",)
    assert not own.get().in_transaction               # no read snapshot held between webhooks


def test_a_failed_write_leaves_the_kept_connection_usable(tmp_path: Path) -> None:
    engine = _notes_engine(tmp_path)
    own = thread_connections(engine)
    insert = DriverStatement(_NOTES.insert(), engine, own)
    assert insert.write({"id": 1, "text": "a"}) == 1
    with pytest.raises(sqlite3.IntegrityError):
        insert.write({"id": 1, "text": "again"})
    assert not own.get().in_transaction               # rolled back, not left holding the write lock
    assert insert.write({"id": 2, "text": "b"}) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(_NOTES.c.text).order_by(_NOTES.c.id)).scalars().all() == ["a", "b"]


def test_each_thread_keeps_its_own_connection_outside_the_pool(tmp_path: Path) -> None:
    engine = _notes_engine(tmp_path)
    own = thread_connections(engine)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.extend([own.get(), own.get()])) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seen[i] is seen[i + 1] for i in range(0, len(seen), 2))   # kept per thread
    assert len({id(conn) for conn in seen}) == 20                        # not shared between threads
    assert engine.pool.checkedout() == 0                                  # and no pool slot held


def test_other_databases_keep_the_pool() -> None:
    assert thread_connections(make_engine("sqlite://")) is None          # one shared in-memory database
    assert thread_connections(make_engine("postgresql://u@h/db")) is None
