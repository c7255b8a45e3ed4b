"""Helpers for tests that run scripted calls in-process and read what they left behind."""
from __future__ import annotations

from pathlib import Path

from app.config import Settings
from app.services import Services
from app.sim.local import local_driver
from app.sim.runner import SimResult, run_script
from app.sim.script import Script, load_script, parse_script
from app.store.database import make_engine
from app.store.seed import seed_demo
from tests.conftest import ROOT, TODAY

CALLS = ROOT / "tests" / "calls"


def script(source: str | Path | dict) -> Script:
    """A script from a path (relative to tests/calls), or from a dict in the script format."""
    if isinstance(source, dict):
        return parse_script(source)
    path = Path(source)
    return load_script(path if path.is_absolute() else CALLS / path)


def run_call(services: Services, source: str | Path | dict) -> SimResult:
    """Play one scripted call against the services' engine; fail loudly if it did not pass."""
    played = script(source)
    result = run_script(played, local_driver(services, played))
    if services.records is not None:
        services.records.flush()          # what the call left is in the database for other readers
    assert result.passed, "\n".join(result.failures + [str(t) for t in result.turns])
    return result


def demo_settings(database_url: str, **changes: object) -> Settings:
    """Keypad-transport settings over a freshly seeded demo database at `database_url`."""
    seed_demo(make_engine(database_url), TODAY)
    return Settings(twilio_auth_token="test-auth-token", public_url="https://ivr.example.test",
                    database_url=database_url, transport="keypad", grammars_dir=ROOT / "grammars",
                    prompts_dir=ROOT / "prompts", agent_numbers=("+15550199",)).replace(**changes)
