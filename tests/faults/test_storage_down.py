"""Storage gone mid-call: the caller hears a graceful line and reaches a person, never a 500.

Real servers are stopped under a running app: PostgreSQL (sessions, records and business data)
and Redis (sessions, REDIS_URL). When they come back, the calls of the outage are in the records
(kept in memory meanwhile, app.store.journal) and later calls are recorded as usual.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from app import create_app
from tests.callrun import demo_settings
from tests.conftest import TODAY, TwilioClient, eventually
from tests.faults.servers import restart_postgres, restart_redis, stop_postgres_keeping_data
from tests.servers import start_postgres, start_redis, stop_postgres, stop_redis

SORRY = "having a technical problem"


def app_for(database_url: str, redis_url: str | None = None) -> tuple[Flask, TwilioClient]:
    """A keypad app on this storage, and Twilio posting to it."""
    app = create_app(demo_settings(database_url, redis_url=redis_url), today=lambda: TODAY)
    return app, TwilioClient(app.test_client())


def assert_graceful_transfer(response) -> None:
    """200 TwiML that apologises and dials an agent: the caller is neither dropped nor left silent."""
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.data)
    assert SORRY in " ".join(say.text or "" for say in root.iter("Say"))
    assert root.find("Dial/Number") is not None


def start_call(twilio: TwilioClient, sid: str) -> None:
    """Incoming and one turn: the call waits for its order number."""
    assert "How can I help" in twilio.post("/voice/incoming", {"CallSid": sid, "From": "+15550123"}).text
    assert "order number" in twilio.post("/voice/gather", {"CallSid": sid, "Digits": "1"}).text


def complete_call(twilio: TwilioClient, sid: str) -> None:
    """A whole call that the bot answers (not from the order's phone: its last 4 digits keyed)."""
    start_call(twilio, sid)
    assert "last 4 digits" in twilio.post("/voice/gather", {"CallSid": sid, "Digits": "48217#"}).text
    assert "has shipped with UPS" in twilio.post("/voice/gather", {"CallSid": sid, "Digits": "0100"}).text
    assert "Goodbye" in twilio.post("/voice/gather", {"CallSid": sid, "Digits": "2"}).text
    assert twilio.post("/voice/status", {"CallSid": sid, "CallStatus": "completed"}).status_code == 204


def every_webhook_of_the_outage(twilio: TwilioClient, sid: str) -> None:
    """Each webhook Twilio may send during the outage degrades gracefully."""
    assert_graceful_transfer(twilio.post("/voice/gather", {"CallSid": sid, "Digits": "48217#"}))
    assert_graceful_transfer(twilio.post("/voice/incoming", {"CallSid": "CA" + "e" * 32, "From": "+15550100"}))
    whisper = twilio.post("/voice/whisper?attempt=0", {"CallSid": "CA0002", "ParentCallSid": sid})
    assert whisper.status_code == 200 and ET.fromstring(whisper.data).find("Gather/Say") is not None
    ended = twilio.post("/voice/dial-status?attempt=0", {"CallSid": sid, "DialCallStatus": "completed"})
    assert ended.status_code == 200 and ET.fromstring(ended.data).tag == "Response"
    assert twilio.post("/voice/status", {"CallSid": sid, "CallStatus": "completed"}).status_code == 204


@pytest.fixture
def postgres() -> Iterator[list]:
    """A PostgreSQL of this test's own (it is stopped under the app); the running one in [0]."""
    server = [start_postgres()]
    try:
        yield server
    finally:
        stop_postgres(server[0])


@pytest.fixture
def redis_server_own() -> Iterator[list]:
    """A redis-server of this test's own (it is stopped under the app); the running one in [0]."""
    server = [start_redis()]
    try:
        yield server
    finally:
        stop_redis(server[0])


def test_postgresql_down_mid_call_then_back(postgres) -> None:
    app, twilio = app_for(postgres[0].new_database("faults"))
    start_call(twilio, "CA" + "1" * 32)
    stop_postgres_keeping_data(postgres[0])
    every_webhook_of_the_outage(twilio, "CA" + "1" * 32)
    postgres[0] = restart_postgres(postgres[0])
    complete_call(twilio, "CA" + "2" * 32)
    records = app.extensions["ivr"].records
    record = records.get("CA" + "2" * 32)
    assert record.outcome == "resolved" and record.order_number == "48217"
    assert_recorded_as_handed_over(records, "CA" + "1" * 32, keyed=["1", "48217#"])
    assert_recorded_as_handed_over(records, "CA" + "e" * 32, keyed=[])


def assert_recorded_as_handed_over(records, sid: str, keyed: list[str]) -> None:
    """A call of the outage is in the records once storage is back: transferred, and why."""
    record = eventually(lambda: records.get(sid))
    assert (record.outcome, record.transfer_reason) == ("transferred", "storage unavailable")
    assert [t.caller_text for t in record.turns if t.intent] == keyed
    assert SORRY in record.turns[-1].bot_text


def test_redis_down_mid_call_then_back(redis_server_own, tmp_path: Path) -> None:
    app, twilio = app_for(f"sqlite:///{tmp_path / 'ivr.db'}", redis_server_own[0].url(3))
    start_call(twilio, "CA" + "3" * 32)
    redis_server_own[0].proc.terminate()
    redis_server_own[0].proc.wait(10)
    every_webhook_of_the_outage(twilio, "CA" + "3" * 32)
    redis_server_own[0] = restart_redis(redis_server_own[0])
    complete_call(twilio, "CA" + "4" * 32)
    assert app.extensions["ivr"].engine.state("CA" + "4" * 32).outcome == "resolved"
    assert app.extensions["ivr"].records.get("CA" + "4" * 32).outcome == "resolved"
    records = app.extensions["ivr"].records
    assert_recorded_as_handed_over(records, "CA" + "3" * 32, keyed=["1", "48217#"])
    assert records.get("CA" + "3" * 32).task == "order_status"     # what the bot learned stays
