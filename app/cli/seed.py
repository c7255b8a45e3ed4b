"""`ivr seed`: write the demo business data (ARCHITECTURE section 5) into the database."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from app.cli import main

if TYPE_CHECKING:
    from sqlalchemy import Engine


@main.command("seed")
@click.option("--if-absent", is_flag=True, help="Do nothing when business data is already there.")
@click.option("--replace", is_flag=True, help="Delete the business data there and seed afresh.")
@click.option("--database-url", envvar="DATABASE_URL", default="sqlite:///var/ivr.db", show_default=True,
              help="Database to seed (env DATABASE_URL).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date the demo dates are relative to (default: today).")
def seed_command(if_absent: bool, replace: bool, database_url: str, today: object) -> None:
    """Seed the demo customer, orders and stores."""
    # Imported here so `ivr --help` does not load SQLAlchemy.
    from app.store.seed import (DEMO_CUSTOMERS, DEMO_STORES, AlreadySeeded, demo_orders, is_seeded,
                                seed_demo)

    if if_absent and replace:
        raise click.UsageError("--if-absent and --replace contradict each other; pick one")
    day = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    engine = _open(database_url)
    try:
        if if_absent and is_seeded(engine):
            click.echo("business data already present; left as is")
            return
        seed_demo(engine, day, replace=replace)
    except AlreadySeeded:
        raise click.ClickException("business data already present: use --replace to overwrite it "
                                   "or --if-absent to keep it") from None
    finally:
        engine.dispose()
    click.echo(f"seeded {len(DEMO_CUSTOMERS)} customer(s), {len(demo_orders(day))} orders, "
               f"{len(DEMO_STORES)} stores (dates relative to {day.isoformat()})")


def _open(database_url: str) -> "Engine":
    """The database, reachable and with its tables; else one line naming where the URL came from."""
    from app.config import Settings, SettingsError
    from app.store.database import create_schema, make_engine

    source = click.get_current_context().get_parameter_source("database_url")
    name = "DATABASE_URL" if source is click.core.ParameterSource.ENVIRONMENT else "--database-url"
    try:
        # The server's own parser and first connection: `make run` seeds before it serves.
        Settings.from_env({"TWILIO_AUTH_TOKEN": "-", "DATABASE_URL": database_url})
        engine = make_engine(database_url)
        create_schema(engine)
    except SettingsError as exc:
        raise click.ClickException(str(exc).replace("DATABASE_URL", name, 1)) from None
    return engine
