"""The in-process simulator set-up: an engine over a private demo database."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from app.factory import build_services
from app.config import Settings
from app.services import Services
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


@contextmanager
def local_services(settings: Settings, use_demo_data: bool = True,
                   audio: bool = False) -> Iterator[Services]:
    """Services for in-process calls, in a private directory that outlives their records.

    With audio, the services carry the live voice kit of the streaming transport (recognizer,
    endpointing, prompt audio), as a server hearing callers builds it; without it the engine
    alone answers, and no recognizer or prompt audio is loaded (the keypad transport)."""
    with tempfile.TemporaryDirectory(prefix="ivr-sim-") as workdir:
        if use_demo_data:
            settings = demo_settings(settings, Path(workdir))
        settings = settings.replace(transport="stream" if audio else "keypad")
        services = build_services(settings, sessions=MemorySessions())
        try:
            yield services
        finally:
            services.records.close()    # the call's records are stored before the directory goes


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
                           agent_number=settings.agent_numbers[0], no_input_s=settings.no_input_s,
                           called=script.to)


def script_settings(settings: Settings, script: Script) -> Settings:
    """The settings a scripted call runs under in-process: a script that names its language
    (`lang: fr`) is answered in it, unless IVR_LANG_BY_NUMBER already routes its `to` there."""
    if not script.lang or settings.lang_for(script.to) == script.lang:
        return settings
    return settings.replace(lang=script.lang)
