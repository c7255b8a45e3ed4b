"""WSGI entry point for gunicorn: settings from the environment, one clear line if they are bad
(or if what they name cannot be reached: the database, Redis, the language files)."""
from __future__ import annotations

import sys

from flask import Flask

from app import create_app
from app.config import Settings, SettingsError
from app.logs import configure_logging


def _app() -> Flask:
    """The app, or one line on stderr naming the setting that stops it (exit status 2)."""
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        return create_app(settings)
    except SettingsError as exc:
        print(f"ivr: cannot start: {exc}", file=sys.stderr)
        sys.exit(2)


app = _app()
