"""Agent-page fixtures: an app with an agent token, in-memory call records, a logged-in client."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.store.records import CallbackRequest, CallRecord, TurnRecord
from tests.conftest import TODAY

AGENT_TOKEN = "agent-token-for-tests"
START = datetime(2026, 11, 21, 14, 3, 0, tzinfo=timezone.utc)


def turn(seconds: int, caller: str, intent: str | None, confidence: float | None, bot: str,
         node: str = "main_menu") -> TurnRecord:
    """A turn `seconds` into the sample call."""
    return TurnRecord(START + timedelta(seconds=seconds), node, caller, intent, confidence, 412.0, bot)


TRANSFERRED = CallRecord(
    call_sid="CA1111", started_at=START, ended_at=START + timedelta(seconds=95), caller="+15550100",
    caller_name="Jane Doe", lang="en", outcome="transferred", transfer_reason="asked for a person",
    summary="Caller Jane Doe. Wants order status. Order 48217, shipped.", task="order_status",
    order_number="48217", order_status="shipped", satisfaction=None,
    turns=(turn(0, "", None, None, "Thanks for calling Northwind Outfitters.", "start"),
           turn(9, "where is my order", "order_status", 0.91, "What is your order number?"),
           turn(21, "four eight two one seven", "order_number", 0.83, "Order 48217 has shipped."),
           turn(40, "let me talk to a human", "agent", 0.97, "Connecting you to a person now.")))
LIVE = replace(TRANSFERRED, call_sid="CA2222", started_at=START + timedelta(minutes=5), ended_at=None,
               caller="+15550123", caller_name="", outcome="", transfer_reason="", summary="",
               task="", order_number="", order_status="", turns=TRANSFERRED.turns[:1])
CALLBACK = CallbackRequest(id=7, call_sid="CA1111", phone="+15550100", note="no agent answered",
                           transcript="please call me about my jacket", created_at=START + timedelta(seconds=120),
                           status="open")


@dataclass
class MemoryRecords:
    """The CallRecords read side over lists, so page tests do not depend on the records store."""

    calls: list[CallRecord] = field(default_factory=lambda: [TRANSFERRED, LIVE])
    callback_list: list[CallbackRequest] = field(default_factory=lambda: [CALLBACK])

    def get(self, call_sid: str) -> CallRecord | None:
        return next((c for c in self.calls if c.call_sid == call_sid), None)

    def recent(self, limit: int = 50, since: datetime | None = None) -> list[CallRecord]:
        calls = [c for c in self.calls if since is None or c.started_at >= since]
        return sorted(calls, key=lambda c: c.started_at, reverse=True)[:limit]

    def live(self) -> list[CallRecord]:
        return [c for c in self.calls if not c.outcome]

    def callbacks(self, open_only: bool = True) -> list[CallbackRequest]:
        return [cb for cb in self.callback_list if cb.status == "open" or not open_only]

    def close_callback(self, callback_id: int) -> None:
        self.callback_list = [replace(cb, status="done") if cb.id == callback_id else cb
                              for cb in self.callback_list]


@pytest.fixture
def agent_settings(settings: Settings) -> Settings:
    """Test settings with the agent pages enabled."""
    return settings.replace(agent_token=AGENT_TOKEN)


@pytest.fixture
def memory_records() -> MemoryRecords:
    return MemoryRecords()


@pytest.fixture
def agent_app(agent_settings: Settings, memory_records: MemoryRecords) -> Flask:
    """An app whose agent pages read the in-memory records."""
    app = create_app(agent_settings, today=lambda: TODAY)
    app.extensions["ivr"].records = memory_records
    return app


def log_in(client: FlaskClient, token: str = AGENT_TOKEN):
    """Post the login form; returns the response."""
    return client.post("/agent/login", data={"token": token})


@pytest.fixture
def agent(agent_app: Flask) -> Iterator[FlaskClient]:
    """A browser-like client already logged in."""
    with agent_app.test_client() as client:
        assert log_in(client).status_code == 302
        yield client
