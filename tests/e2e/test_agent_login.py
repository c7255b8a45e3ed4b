"""Agent login against gunicorn over HTTP (issue 11, item 6): guessing is throttled per client,
the cookie holds a random id and nothing derived from the token, logout ends the session
everywhere, and the pages carry security headers."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Iterator

import pytest
import requests

from tests.e2e.conftest import LiveServer, serve_live

AGENT_TOKEN = "agent-token-for-the-login-test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve_live(tmp_path_factory.mktemp("login"), IVR_AGENT_TOKEN=AGENT_TOKEN) as live:
        yield live


def log_in(url: str) -> requests.Session:
    browser = requests.Session()
    response = browser.post(url + "/agent/login", data={"token": AGENT_TOKEN}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.status_code
    return browser


def cookie_payload(browser: requests.Session) -> dict:
    """What Flask's signed cookie carries (signed, not encrypted: anyone holding it can read it)."""
    value = browser.cookies["ivr_agent"]
    compressed = value.startswith(".")
    data = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def test_the_cookie_holds_a_random_id_and_nothing_from_the_token(server: LiveServer) -> None:
    first, second = cookie_payload(log_in(server.url)), cookie_payload(log_in(server.url))
    assert first["agent"] != second["agent"] and len(first["agent"]) >= 32
    derived = hmac.new(AGENT_TOKEN.encode(), b"agent-login", hashlib.sha256).hexdigest()
    for payload in (first, second):
        assert AGENT_TOKEN not in str(payload) and derived not in str(payload)


def test_logout_ends_the_session_for_a_saved_copy_of_the_cookie(server: LiveServer) -> None:
    browser = log_in(server.url)
    saved = browser.cookies["ivr_agent"]
    page = browser.get(server.url + "/agent", timeout=10)
    assert page.status_code == 200
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert browser.post(server.url + "/agent/logout", data={"csrf_token": csrf}, allow_redirects=False,
                        timeout=10).status_code == 302
    replay = requests.get(server.url + "/agent.json", cookies={"ivr_agent": saved}, timeout=10)
    assert replay.status_code == 401
    again = requests.get(server.url + "/agent", cookies={"ivr_agent": saved}, allow_redirects=False, timeout=10)
    assert again.status_code == 302 and "/agent/login" in again.headers["Location"]


@pytest.mark.parametrize("path", ["/agent/login", "/agent", "/dashboard"])
def test_agent_pages_send_security_headers(server: LiveServer, path: str) -> None:
    response = log_in(server.url).get(server.url + path, timeout=10)
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers       # plain http here (https: see the unit test)


def test_guessing_the_token_is_throttled_and_the_right_one_waits_too(server: LiveServer) -> None:
    # Last in this module: it locks this client out for the rest of the minute.
    codes = [requests.post(server.url + "/agent/login", data={"token": f"guess-{n}"}, timeout=10).status_code
             for n in range(300)]
    assert set(codes) == {401, 429}
    assert codes.count(401) <= 10 * 4                  # ten a minute per worker (memory storage)
    right = requests.post(server.url + "/agent/login", data={"token": AGENT_TOKEN}, allow_redirects=False,
                          timeout=10)
    assert right.status_code == 429
    bearer = requests.get(server.url + "/agent.json", headers={"Authorization": "Bearer guess"}, timeout=10)
    assert bearer.status_code == 429                   # the JSON twins share the same count
