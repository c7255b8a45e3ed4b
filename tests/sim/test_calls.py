"""Every scripted call in tests/calls passes through the in-process simulator (text mode)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.factory import build_services
from app.sim.local import local_driver
from app.sim.runner import run_script
from app.sim.script import load_script
from app.store.sessions import MemorySessions
from tests.conftest import TODAY

CALLS = sorted((Path(__file__).parent.parent / "calls").glob("*.yaml"))


@pytest.mark.parametrize("path", CALLS, ids=[p.stem for p in CALLS])
def test_scripted_call(path: Path, settings) -> None:
    script = load_script(path)
    services = build_services(settings, MemorySessions(), today=lambda: TODAY)
    result = run_script(script, local_driver(services, script))
    assert result.passed, "\n".join(result.failures + [str(t) for t in result.turns])


def test_a_failing_expectation_fails(settings) -> None:
    from app.sim.script import parse_script
    script = parse_script({"name": "wrong", "steps": [{"say": "what are your hours"},
                                                      {"expect_say": "shipped"},
                                                      {"expect_outcome": "transferred"}]})
    services = build_services(settings, MemorySessions(), today=lambda: TODAY)
    result = run_script(script, local_driver(services, script))
    assert not result.passed
    assert result.failures[0].startswith("step 2: expected the bot to say 'shipped'")
    assert result.failures[1] == "step 3: expected outcome transferred, got resolved"
