"""The `ivr` command: one click group; each subcommand lives in its own module here."""
from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Tools for the voice IVR bot server: simulate calls, classify utterances, seed data,
    manage speech models, report KPIs, purge records, measure a running server.

    The server itself is the Procfile's gunicorn line (`make run`)."""


def _register() -> None:
    # Subcommand modules import heavy libraries lazily inside their commands, so `ivr --help` stays fast.
    from app.cli import bench  # noqa: F401
    from app.cli import classify  # noqa: F401
    from app.cli import evaluate  # noqa: F401
    from app.cli import models  # noqa: F401
    from app.cli import privacy  # noqa: F401
    from app.cli import report  # noqa: F401
    from app.cli import seed  # noqa: F401
    from app.cli import sim  # noqa: F401
    from app.cli import speecheval  # noqa: F401


_register()
