"""WSGI entry point for gunicorn: settings from the environment, one clear line if they are bad."""
from __future__ import annotations

import sys

from app import create_app
from app.config import Settings, SettingsError
from app.logs import configure_logging


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"ivr: cannot start: {exc}", file=sys.stderr)
        sys.exit(2)


settings = _settings()
configure_logging(settings.log_level)
app = create_app(settings)
