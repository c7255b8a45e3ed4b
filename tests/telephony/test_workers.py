"""One call, two workers: two apps on the same settings take the call's webhooks in turn.

Sessions go through SQLite (the default), a real Redis (REDIS_URL) and a real PostgreSQL.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import redis
from flask import Flask

from app import create_app
from tests.callrun import demo_settings
from tests.conftest import eventually, TODAY, TwilioClient
from tests.servers import postgres_server, redis_server  # noqa: F401  (session fixtures)

CALL = "CA0000000000000000000000000000a001"


@pytest.fixture(params=["sqlite", "redis", "postgresql"])
def workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TwilioClient, TwilioClient, Flask]]:
    """Two apps built from the same settings (two gunicorn workers or hosts), each with its Twilio."""
    url, redis_url = f"sqlite:///{tmp_path}/ivr.db", None
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_server").url(5)
        redis.Redis.from_url(redis_url).flushdb()
    elif request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").new_database("workers")
    settings = demo_settings(url, redis_url=redis_url, agent_numbers=("+15550199", "+15550198"))
    apps = [create_app(settings, today=lambda: TODAY) for _ in range(2)]
    assert apps[0].extensions["ivr"].engine.sessions is not apps[1].extensions["ivr"].engine.sessions
    # No `with`: a client kept open holds its request context, and two of them would interleave.
    yield TwilioClient(apps[0].test_client()), TwilioClient(apps[1].test_client()), apps[0]


def test_webhooks_of_one_call_alternate_between_workers(workers) -> None:
    a, b, app = workers
    turn = {"CallSid": CALL}
    assert "How can I help you today?" in a.post("/voice/incoming", {**turn, "From": "+15550123"}).text
    assert "order number" in b.post("/voice/gather", {**turn, "Digits": "1"}).text
    assert "last 4 digits" in a.post("/voice/gather", {**turn, "Digits": "48217"}).text
    answer = b.post("/voice/gather", {**turn, "Digits": "0100"}).text    # Jane's order: her digits
    assert "has shipped with UPS" in answer and "anything else I can help with" in answer
    assert "<Dial" in b.post("/voice/gather", {**turn, "Digits": "0"}).text
    whisper = a.post("/voice/whisper?attempt=0", {"CallSid": "CA0002", "ParentCallSid": CALL}).text
    assert "4 8 2 1 7" in whisper                                   # worker A reads what B and A stored
    b.post(f"/voice/whisper/answer?parent={CALL}", {"CallSid": "CA0002", "Digits": "1"})
    a.post("/voice/dial-status?attempt=0", {**turn, "DialCallStatus": "completed"})
    assert b.post("/voice/status", {**turn, "CallStatus": "completed"}).status_code == 204
    state = app.extensions["ivr"].engine.state(CALL)
    assert (state.node, state.outcome, state.order_number, state.agent_accepted) == \
        ("ended", "transferred", "48217", True)
    # Every webhook stepped the same state once (the whisper too: it marks the transfer's stage),
    # but the status callback: the call had ended.
    assert state.version == 8
    records = app.extensions["ivr"].records                         # worker B's records land a moment later
    assert eventually(lambda: [t.caller_text for t in records.get(CALL).turns if t.intent] == ["1", "48217", "****", "0"])
    record = records.get(CALL)
    assert record.outcome == "transferred" and record.order_number == "48217"


def test_a_retried_start_on_the_other_worker_does_not_restart_the_call(workers) -> None:
    a, b, app = workers
    a.post("/voice/incoming", {"CallSid": CALL, "From": "+15550123"})
    b.post("/voice/gather", {"CallSid": CALL, "Digits": "1"})
    again = b.post("/voice/incoming", {"CallSid": CALL, "From": "+15550123"}).text
    assert "order number" in again and "Thanks for calling" not in again
    assert app.extensions["ivr"].engine.state(CALL).node == "collect_order"
    assert len(app.extensions["ivr"].records.recent()) == 1
