"""The in-process simulator set-up: an engine over a private demo database."""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from app.factory import build_services
from app.config import Settings
from app.services import Services
from typing import Callable

from app.sim.driver import InProcessDriver
from app.sim.script import Script
from app.store.database import make_engine
from app.store.seed import seed_demo
from app.store.sessions import MemorySessions


def demo_settings(settings: Settings, workdir: Path) -> Settings:
    """Settings pointing at a freshly seeded demo database in `workdir`."""
    url = f"sqlite:///{workdir / 'sim.db'}"
    seed_demo(make_engine(url), date.today())
    return settings.replace(database_url=url, redis_url=None)


def local_services(settings: Settings, use_demo_data: bool = True,
                   audio: bool = False) -> tuple[Services, tempfile.TemporaryDirectory]:
    """Services for in-process calls; the caller keeps the temp dir alive while calling.

    With audio, the services carry the live voice kit of the streaming transport (recognizer,
    endpointing, prompt audio), as a server hearing callers builds it."""
    workdir = tempfile.TemporaryDirectory(prefix="ivr-sim-")
    if use_demo_data:
        settings = demo_settings(settings, Path(workdir.name))
    if audio:
        settings = settings.replace(transport="stream")
    return build_services(settings, sessions=MemorySessions()), workdir


def local_driver(services: Services, script: Script,
                 voice: Callable[[str], bytes] | None = None) -> InProcessDriver:
    """A driver for one scripted call against in-process services.

    With `voice` (text -> caller audio), the caller's lines are spoken into an in-process phone
    line and heard through the live voice path; without it they reach the engine as text."""
    if voice is not None:
        from app.sim.linedriver import LineDriver
        return LineDriver(services, script.caller, script.agent, voice)
    settings = services.settings
    return InProcessDriver(services.engine, script.caller, script.agent,
                           agent_number=settings.agent_numbers[0], no_input_s=settings.no_input_s)
