"""Agent pages through Flask's test client: who gets in, what they see, the JSON twins' shape."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.web.agent import mask_phone, mask_phones_in
from app.web.auth import session_key
from tests.conftest import TODAY
from tests.web.conftest import AGENT_TOKEN, TRANSFERRED, MemoryRecords, log_in

PAGES = ["/agent", "/agent/calls/CA1111", "/dashboard"]
JSON = ["/agent.json", "/agent/calls/CA1111.json"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_login(agent_app: Flask, path: str) -> None:
    response = agent_app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/agent/login?next={path}"


@pytest.mark.parametrize("path", JSON)
def test_anonymous_json_gets_401(agent_app: Flask, path: str) -> None:
    response = agent_app.test_client().get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.get_json()


@pytest.mark.parametrize("path", JSON)
@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Basic {AGENT_TOKEN}", "Bearer ", AGENT_TOKEN])
def test_wrong_bearer_gets_401(agent_app: Flask, path: str, header: str) -> None:
    assert agent_app.test_client().get(path, headers={"Authorization": header}).status_code == 401


def test_wrong_token_login_is_refused_and_opens_nothing(agent_app: Flask) -> None:
    client = agent_app.test_client()
    response = log_in(client, "not-the-token")
    assert response.status_code == 401
    assert "not right" in response.get_data(as_text=True)
    assert client.get("/agent").status_code == 302
    assert client.get("/agent.json").status_code == 401


def test_login_returns_to_the_page_asked_for(agent_app: Flask) -> None:
    client = agent_app.test_client()
    response = client.post("/agent/login?next=/agent/calls/CA1111", data={"token": AGENT_TOKEN})
    assert response.headers["Location"] == "/agent/calls/CA1111"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "agent"])
def test_login_never_redirects_off_site(agent_app: Flask, target: str) -> None:
    response = agent_app.test_client().post("/agent/login", data={"token": AGENT_TOKEN, "next": target})
    assert response.headers["Location"] == "/agent"


def test_session_cookie_is_signed_httponly_lax_and_secure_over_https(agent_app: Flask) -> None:
    client = agent_app.test_client()
    cookie = log_in(client).headers["Set-Cookie"]
    assert cookie.startswith("ivr_agent=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie            # the test PUBLIC_URL is https
    assert AGENT_TOKEN not in cookie


def test_the_cookie_key_owes_nothing_to_the_agent_token(agent_settings) -> None:
    # A cookie signed under a key derived from the agent token would let the token be guessed
    # offline from one cookie (issue 11, item 6).
    key = session_key(agent_settings)
    assert len(key) == 32
    assert key == session_key(agent_settings.replace(agent_token="other"))
    assert key != session_key(agent_settings.replace(twilio_auth_token="other"))


def test_a_rotated_token_ends_old_sessions(agent_app: Flask, agent_settings, memory_records) -> None:
    client = agent_app.test_client()
    log_in(client)
    rotated = create_app(agent_settings.replace(agent_token="rotated"), today=lambda: TODAY)
    rotated.extensions["ivr"].records = memory_records
    cookie = client.get_cookie("ivr_agent")
    other = rotated.test_client()
    other.set_cookie(cookie.key, cookie.value)
    assert other.get("/agent").status_code == 302


@pytest.mark.parametrize("path", PAGES + JSON + ["/agent/login"])
def test_no_token_configured_answers_403_with_the_fix(settings, path: str) -> None:
    app = create_app(settings, today=lambda: TODAY)
    app.extensions["ivr"].records = MemoryRecords()
    response = app.test_client().get(path, headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
    assert "set IVR_AGENT_TOKEN to enable the agent pages" in response.get_data(as_text=True)


def test_agent_list_masks_numbers_and_shows_live_recent_and_callbacks(agent: FlaskClient) -> None:
    html = agent.get("/agent").get_data(as_text=True)
    assert 'id="live-calls"' in html and 'id="recent-calls"' in html and 'id="callback-7"' in html
    assert "+15550100" not in html and "+15550123" not in html
    assert "+••••0100" in html
    assert "please call me about my jacket" in html
    assert 'href="/agent/calls/CA1111"' in html


def test_call_page_shows_everything_the_agent_needs(agent: FlaskClient) -> None:
    html = agent.get("/agent/calls/CA1111").get_data(as_text=True)
    for expected in ("Jane Doe", "+15550100", "Wants order status. Order 48217, shipped.", "48217",
                     "shipped", "asked for a person", "where is my order", "0.91",
                     "let me talk to a human", "14:03:09", "+0:09", "Order 48217 has shipped."):
        assert expected in html, expected


def test_transcript_is_escaped(agent: FlaskClient, memory_records: MemoryRecords) -> None:
    hostile = replace(TRANSFERRED.turns[1], caller_text="<script>alert(1)</script>")
    memory_records.calls[0] = replace(TRANSFERRED, turns=(hostile,))
    html = agent.get("/agent/calls/CA1111").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_unknown_call_is_a_404_page_and_json(agent: FlaskClient) -> None:
    page = agent.get("/agent/calls/CA9999")
    assert page.status_code == 404 and "Call not found" in page.get_data(as_text=True)
    assert agent.get("/agent/calls/CA9999.json").status_code == 404


def test_agent_json_shape(agent_app: Flask) -> None:
    client = agent_app.test_client()
    body = client.get("/agent.json", headers={"Authorization": f"Bearer {AGENT_TOKEN}"}).get_json()
    assert set(body) == {"live", "recent", "callbacks"}
    assert [c["call_sid"] for c in body["live"]] == ["CA2222"]
    assert [c["call_sid"] for c in body["recent"]] == ["CA2222", "CA1111"]
    row = body["recent"][1]
    assert row == {"call_sid": "CA1111", "started_at": "2026-11-21T14:03:00+00:00",
                   "ended_at": "2026-11-21T14:04:35+00:00", "duration_s": 95.0, "caller": "+••••0100",
                   "caller_name": "Jane Doe", "lang": "en", "outcome": "transferred",
                   "transfer_reason": "asked for a person", "task": "order_status", "order_number": "48217",
                   "turns": 4, "url": "/agent/calls/CA1111"}
    assert body["live"][0]["outcome"] == "live" and body["live"][0]["duration_s"] is None
    assert body["callbacks"][0]["phone"] == "+••••0100"
    assert body["callbacks"][0]["call_url"] == "/agent/calls/CA1111"


def test_call_json_shape(agent_app: Flask) -> None:
    client = agent_app.test_client()
    body = client.get("/agent/calls/CA1111.json", headers={"Authorization": f"Bearer {AGENT_TOKEN}"}).get_json()
    assert body["caller"] == "+15550100" and body["summary"].startswith("Caller Jane Doe")
    assert body["order_number"] == "48217" and body["order_status"] == "shipped"
    assert body["duration_s"] == 95.0 and body["transfer_reason"] == "asked for a person"
    assert body["turns"][1] == {"at": "2026-11-21T14:03:09+00:00", "node": "main_menu",
                                "caller_text": "where is my order", "intent": "order_status",
                                "confidence": 0.91, "asr_latency_ms": 412.0,
                                "bot_text": "What is your order number?"}
    assert body["callbacks"][0]["phone"] == "+15550100" and body["callbacks"][0]["status"] == "open"


def test_logged_in_browser_can_read_the_json_twin(agent: FlaskClient) -> None:
    assert agent.get("/agent.json").status_code == 200


def test_marking_a_callback_done_needs_the_csrf_token(agent: FlaskClient, memory_records: MemoryRecords) -> None:
    assert agent.post("/agent/callbacks/7/done").status_code == 400
    assert agent.post("/agent/callbacks/7/done", data={"csrf_token": "forged"}).status_code == 400
    assert memory_records.callbacks() != []
    token = _csrf(agent.get("/agent").get_data(as_text=True))
    response = agent.post("/agent/callbacks/7/done", data={"csrf_token": token})
    assert response.status_code == 302
    assert memory_records.callbacks() == []
    assert 'id="callback-7"' not in agent.get("/agent").get_data(as_text=True)


def test_anonymous_cannot_close_a_callback(agent_app: Flask, memory_records: MemoryRecords) -> None:
    assert agent_app.test_client().post("/agent/callbacks/7/done").status_code == 302
    assert len(memory_records.callbacks()) == 1


def test_logout_ends_the_session(agent: FlaskClient) -> None:
    token = _csrf(agent.get("/agent").get_data(as_text=True))
    assert agent.post("/agent/logout").status_code == 400
    assert agent.post("/agent/logout", data={"csrf_token": token}).status_code == 302
    assert agent.get("/agent").status_code == 302


@pytest.mark.parametrize("number,masked", [("+15550100", "+••••0100"), ("5550100", "•••0100"),
                                           ("", ""), ("123", "•••"), ("client:anna", "")])
def test_mask_phone(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


def test_phone_numbers_in_free_text_are_masked_but_order_numbers_stay() -> None:
    text = "Caller +15550177, not a known customer. Order 48217. Call me on 555-0123."
    assert mask_phones_in(text) == "Caller +••••0177, not a known customer. Order 48217. Call me on •••0123."


def test_hsts_is_sent_when_served_over_https(agent: FlaskClient) -> None:
    response = agent.get("/agent")                      # the test PUBLIC_URL is https
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Content-Security-Policy" not in agent.get("/healthz").headers   # webhooks are not pages
