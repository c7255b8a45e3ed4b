"""Scripted calls leave call records (SQLite file and real PostgreSQL): turns, outcome, callbacks."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.factory import build_services
from app.services import Services
from app.store.records import CallRecord
from app.store.sessions import MemorySessions
from tests.callrun import demo_settings, run_call
from tests.conftest import TODAY


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Services:
    """Services whose records go to an SQLite file or to the real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ivr.db"
    else:
        url = request.getfixturevalue("postgres_server").new_database("records")
    return build_services(demo_settings(url), MemorySessions(), today=lambda: TODAY)


def only_call(services: Services) -> CallRecord:
    calls = services.records.recent()
    assert len(calls) == 1
    return calls[0]


def test_a_transferred_call_keeps_turns_outcome_reason_and_summary(services: Services) -> None:
    run_call(services, "order_status_then_person.yaml")
    call = only_call(services)
    assert (call.caller, call.caller_name, call.lang) == ("+15550100", "Jane Doe", "en")
    assert (call.outcome, call.transfer_reason) == ("transferred", "asked for a person")
    assert (call.task, call.order_number, call.order_status) == ("order_status", "48217", "shipped")
    assert "Caller Jane Doe" in call.summary and "48217" in call.summary
    assert call.duration_s is not None and call.duration_s >= 0
    assert [(t.node, t.caller_text, t.intent) for t in call.turns] == [
        ("start", "", None),
        ("offer_order", "where is my order", "order_status"),
        ("collect_order", "it's four eight two one seven", "order_status"),
        ("anything_else", "", "no_input"),
        ("anything_else", "0", "keypad"),
    ]
    assert call.turns[0].bot_text.startswith("Hi Jane, thanks for calling Northwind Outfitters.")
    assert "has shipped with UPS" in call.turns[2].bot_text
    assert call.turns[1].confidence is not None and call.turns[3].confidence is None


def test_a_caller_who_hangs_up_unserved_is_abandoned(services: Services) -> None:
    run_call(services, {"name": "hang up", "steps": [{"say": "where is my order"}, {"expect_outcome": "hangup"}]})
    call = only_call(services)
    assert call.outcome == "abandoned" and call.ended_at is not None


def test_a_resolved_call(services: Services) -> None:
    run_call(services, "store_hours.yaml")
    call = only_call(services)
    assert call.outcome == "resolved" and call.task == "store_hours" and call.transfer_reason == ""


def test_a_live_call_has_no_outcome_yet(services: Services) -> None:
    services.engine.start("CAlive", "+15550123", "+15550000")
    services.engine.hear("CAlive", "what are your hours")
    assert [c.call_sid for c in services.records.live()] == ["CAlive"]
    assert services.records.get("CAlive").ended_at is None


def test_voicemail_leaves_an_open_callback_with_transcript(services: Services) -> None:
    run_call(services, "voicemail.yaml")
    call = only_call(services)
    assert call.outcome == "voicemail"
    assert call.turns[-1].intent == "message"
    [request] = services.records.callbacks()
    assert (request.call_sid, request.phone, request.status) == (call.call_sid, "+15550123", "open")
    assert request.transcript == "please call me back about my jacket"
    assert "asked for a person" in request.note
