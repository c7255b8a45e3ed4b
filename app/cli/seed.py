"""`ivr seed`: write the demo business data (ARCHITECTURE section 5) into the database."""
from __future__ import annotations

from datetime import date

import click

from app.cli import main


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
    from app.store.database import make_engine
    from app.store.seed import (DEMO_CUSTOMERS, DEMO_STORES, AlreadySeeded, demo_orders, is_seeded,
                                seed_demo)

    if if_absent and replace:
        raise click.UsageError("--if-absent and --replace contradict each other; pick one")
    day = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    try:
        engine = make_engine(database_url)
    except ValueError as exc:  # unsupported scheme; SQLAlchemy's ArgumentError is a ValueError too
        raise click.BadParameter(str(exc), param_hint="--database-url") from None
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
