"""A gunicorn worker killed mid-call: the next webhooks are served from the shared store."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from app.store.database import make_engine
from app.store.records import SqlCallRecords
from app.store.sessions import SqlSessions
from tests.conftest import eventually
from tests.faults.servers import Gunicorn, start_gunicorn, stop_gunicorn

CALL = "CA" + "c" * 32
TURN = {"CallSid": CALL}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Gunicorn, str]]:
    """The real server (2 workers, the project's gunicorn config) over a seeded SQLite file."""
    url = f"sqlite:///{tmp_path / 'ivr.db'}"
    running = start_gunicorn(tmp_path, url)
    try:
        yield running, url
    finally:
        stop_gunicorn(running)


def keyed_turns(url: str) -> list[str]:
    """What the caller keyed, as the call records have it so far."""
    record = SqlCallRecords(make_engine(url)).get(CALL)
    return [t.caller_text for t in record.turns if t.intent] if record else []


def test_a_call_goes_on_to_its_answer_after_every_worker_is_killed(server) -> None:
    gunicorn, url = server
    assert "How can I help you today?" in gunicorn.post("/voice/incoming", {**TURN, "From": "+15550123"}).text
    assert "order number" in gunicorn.post("/voice/gather", {**TURN, "Digits": "1"}).text
    # Killed mid-call, not mid-write: a SIGKILL loses the records a worker queued in its last
    # 50 ms (app.store.journal); the sessions that carry the call on are written at once.
    assert eventually(lambda: keyed_turns(url) == ["1"])
    first = gunicorn.workers()
    gunicorn.kill_workers(first)                  # whichever served the call is gone, with its memory
    verify = gunicorn.post("/voice/gather", {**TURN, "Digits": "48217#"})
    assert verify.status_code == 200 and "last 4 digits" in verify.text    # not the order's phone
    answer = gunicorn.post("/voice/gather", {**TURN, "Digits": "0100"})
    assert answer.status_code == 200 and "has shipped with UPS" in answer.text
    assert eventually(lambda: keyed_turns(url) == ["1", "48217#", "****"])   # the answer is not kept
    gunicorn.kill_workers(gunicorn.workers()[:1])  # and once more, one of the replacements
    assert "Goodbye" in gunicorn.post("/voice/gather", {**TURN, "Digits": "2"}).text
    assert gunicorn.post("/voice/status", {**TURN, "CallStatus": "completed"}).status_code == 204
    assert not set(first) & set(gunicorn.workers())
    engine = make_engine(url)
    state = SqlSessions(engine).load(CALL)
    # Five steps: the status callback after the goodbye has nothing to change.
    assert (state.node, state.outcome, state.order_number, state.version) == ("ended", "resolved", "48217", 5)
    assert eventually(lambda: keyed_turns(url) == ["1", "48217#", "****", "2"])
    assert SqlCallRecords(engine).get(CALL).outcome == "resolved"
