"""WSGI entry point for gunicorn: settings from the environment, one clear line if they are bad."""
from __future__ import annotations

import logging
import sys

from app import create_app
from app.config import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"ivr: cannot start: {exc}", file=sys.stderr)
        sys.exit(2)


settings = _settings()
logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
app = create_app(settings)
