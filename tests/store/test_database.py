"""make_engine: URL normalisation and SQLite settings."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.store.database import create_schema, make_engine, normalise_url


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
