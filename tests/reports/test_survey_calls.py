"""Scripted calls with IVR_SURVEY on: the rating reaches the call record."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.factory import build_services
from app.store.sessions import MemorySessions
from tests.callrun import CALLS, run_call
from tests.conftest import TODAY


@pytest.mark.parametrize("path", sorted((CALLS / "survey").glob("*.yaml")), ids=lambda p: p.stem)
def test_scripted_survey_calls(path: Path, settings) -> None:
    services = build_services(settings.replace(survey=True), MemorySessions(), today=lambda: TODAY)
    run_call(services, path)
    [call] = services.records.recent()
    assert call.outcome == "resolved"
    assert call.satisfaction == (4 if path.stem == "rating_after_store_hours" else None)


def test_the_setting_reaches_the_flow(settings) -> None:
    assert Settings.from_env({"TWILIO_AUTH_TOKEN": "t", "IVR_SURVEY": "true"}).survey is True
    assert Settings.from_env({"TWILIO_AUTH_TOKEN": "t"}).survey is False
    services = build_services(settings.replace(survey=True), MemorySessions(), today=lambda: TODAY)
    services.engine.start("CAs", "+15550123")
    assert services.engine.state("CAs").survey is True
