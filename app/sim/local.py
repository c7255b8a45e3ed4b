"""The in-process simulator set-up: an engine over a private demo database."""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from app.factory import build_services
from app.config import Settings
from app.services import Services
from app.sim.driver import Hearer, InProcessDriver
from app.sim.script import Script
from app.store.database import make_engine
from app.store.seed import seed_demo
from app.store.sessions import MemorySessions


def demo_settings(settings: Settings, workdir: Path) -> Settings:
    """Settings pointing at a freshly seeded demo database in `workdir`."""
    url = f"sqlite:///{workdir / 'sim.db'}"
    seed_demo(make_engine(url), date.today())
    return settings.replace(database_url=url, redis_url=None)


def local_services(settings: Settings, use_demo_data: bool = True) -> tuple[Services, tempfile.TemporaryDirectory]:
    """Services for in-process calls; the caller keeps the temp dir alive while calling."""
    workdir = tempfile.TemporaryDirectory(prefix="ivr-sim-")
    if use_demo_data:
        settings = demo_settings(settings, Path(workdir.name))
    return build_services(settings, sessions=MemorySessions()), workdir


def local_driver(services: Services, script: Script, hearer: Hearer | None = None) -> InProcessDriver:
    """A driver for one scripted call against in-process services."""
    settings = services.settings
    return InProcessDriver(services.engine, script.caller, script.agent,
                           agent_number=settings.agent_numbers[0], no_input_s=settings.no_input_s,
                           hearer=hearer)
