"""Storage fixtures: engines over SQLite files and a real PostgreSQL, a real Redis."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from app.store.database import make_engine
from app.store.seed import seed_demo
from tests.servers import PostgresServer, postgres_server, redis_server  # noqa: F401  (fixtures)

TODAY = date(2026, 3, 10)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database: an SQLite file, or a fresh database on the real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ivr.db"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database("store")
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def seeded(engine: sa.Engine) -> sa.Engine:
    """The database with the demo data, dated relative to TODAY."""
    seed_demo(engine, TODAY)
    return engine
