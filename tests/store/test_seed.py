"""Seeding the demo data: exact contents, idempotence, and the `ivr seed` command."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from app.store.business import SqlBusinessData
from app.store.database import make_engine
from app.store.seed import AlreadySeeded, is_seeded, seed_demo
from tests.store.conftest import TODAY

ORDERS = {"48217": "shipped", "30512": "processing", "55129": "delivered", "10347": "delayed",
          "77201": "cancelled", "44810": "delivered", "33602": "returned"}


def all_orders(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT number, status FROM orders")).all())


def test_seeds_exactly_the_demo_data(engine: sa.Engine) -> None:
    assert not is_seeded(engine)
    seed_demo(engine, TODAY)
    assert is_seeded(engine)
    assert all_orders(engine) == ORDERS
    with engine.connect() as conn:
        customers = conn.execute(sa.text("SELECT name, phone FROM customers ORDER BY name")).all()
    assert customers == [("Jane Doe", "+15550100"), ("Sam Lee", "+15550166")]


def test_seeding_twice_without_replace_refuses(engine: sa.Engine) -> None:
    seed_demo(engine, TODAY)
    with pytest.raises(AlreadySeeded):
        seed_demo(engine, TODAY)


def test_replace_restores_the_demo_and_redates_it(engine: sa.Engine) -> None:
    seed_demo(engine, TODAY)
    data = SqlBusinessData(engine)
    data.cancel_order("30512")
    seed_demo(engine, date(2030, 1, 1), replace=True)
    assert all_orders(engine) == ORDERS
    assert data.order("48217").expected_delivery == date(2030, 1, 3)
    assert len(data.stores()) == 6


def test_is_seeded_sees_an_operators_own_data(engine: sa.Engine) -> None:
    SqlBusinessData(engine)  # tables, no rows
    assert not is_seeded(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO stores (city, position, address, hours) VALUES "
                             "('Reno', 0, '1 Main Street', '[]')"))
    assert is_seeded(engine)


def run_seed(*args: str, env: dict[str, str] | None = None):
    from app.cli import main

    return CliRunner().invoke(main, ["seed", *args], env=env, catch_exceptions=False)


def test_cli_seed_if_absent_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/ivr.db"
    first = run_seed("--if-absent", "--database-url", url, "--today", "2026-03-10")
    assert first.exit_code == 0, first.output
    assert "seeded" in first.output
    second = run_seed("--if-absent", "--database-url", url)
    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    engine = make_engine(url)
    assert all_orders(engine) == ORDERS
    assert SqlBusinessData(engine).order("48217").expected_delivery == date(2026, 3, 12)


def test_cli_seed_reads_database_url_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/env.db"
    result = run_seed(env={"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": None})
    assert result.exit_code == 0, result.output
    assert is_seeded(make_engine(url))


def test_cli_seed_over_data_needs_a_choice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ivr.db"
    assert run_seed("--database-url", url).exit_code == 0
    again = run_seed("--database-url", url)
    assert again.exit_code == 1 and "--replace" in again.output
    assert run_seed("--database-url", url, "--replace").exit_code == 0
    assert run_seed("--database-url", url, "--replace", "--if-absent").exit_code == 2


def test_cli_seed_postgres(postgres_server) -> None:
    url = postgres_server.new_database("cli")
    assert run_seed("--if-absent", "--database-url", url).exit_code == 0
    assert run_seed("--if-absent", "--database-url", url).exit_code == 0
    assert all_orders(make_engine(url)) == ORDERS


def test_cli_seed_rejects_other_databases_naming_where_the_url_came_from() -> None:
    given = run_seed("--database-url", "mysql://localhost/ivr")
    assert given.exit_code == 1
    assert given.output == ("Error: --database-url: expected sqlite:///path or postgresql://..., "
                            "got 'mysql://localhost/ivr'\n")
    from_env = run_seed("--if-absent", env={"DATABASE_URL": "nonsense://x"})
    assert from_env.exit_code == 1
    assert from_env.output == "Error: DATABASE_URL: expected sqlite:///path or postgresql://..., got 'nonsense://x'\n"


def test_cli_seed_says_in_one_line_that_the_database_is_unreachable() -> None:
    from tests.servers import free_port

    port = free_port()
    result = run_seed("--if-absent", env={"DATABASE_URL": f"postgresql://ivr@127.0.0.1:{port}/ivr"})
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"Error: DATABASE_URL: cannot use postgresql+psycopg://ivr@127.0.0.1:{port}/ivr: ")
