"""Cases from real phone networks, replayed over the real protocol against gunicorn: signed
webhooks, the signed Media Streams websocket, the agent's leg and Twilio's REST API (a local fake)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import websocket

from app.sim.remote import RemoteDriver
from app.sim.runner import run_script
from app.sim.script import parse_script
from app.telephony.security import SignatureChecker
from tests.e2e.conftest import TOKEN, LiveServer, serve_live

SPEED = 4.0     # the server's clock is the call's audio: faster than real time changes nothing else


def driver(server: LiveServer, steps: list[dict], speed: float = SPEED, **script: object) -> RemoteDriver:
    server.api.fail_updates = 0
    return RemoteDriver(server.settings, server.url, parse_script({"steps": steps, **script}), speed=speed,
                        api=server.api)


def play(server: LiveServer, steps: list[dict], **script: object) -> dict:
    """One scripted call over the network; fails with the whole result when an expectation did not hold."""
    result = run_script(parse_script({"steps": steps, **script}), driver(server, steps, **script))
    assert result.passed, json.dumps(result.to_dict(), indent=1)
    return result.to_dict()


def twilio_urls(doc: ET.Element) -> list[str]:
    """Every URL a TwiML document gives Twilio: stream, actions, whisper, redirects."""
    urls = [el.get(name, "") for el in doc.iter() for name in ("url", "action") if el.get(name)]
    return urls + [(el.text or "").strip() for el in doc.iter("Redirect")]


# -- 1. PUBLIC_URL with a path prefix -------------------------------------------------------------

def test_behind_a_path_prefix_proxy_every_url_keeps_the_prefix(tmp_path: Path) -> None:
    with serve_live(tmp_path, prefix="/ivr") as server:
        assert server.url.endswith("/ivr")
        call = driver(server, [])
        try:
            greeting = call.start()                 # the stream opened through the proxy, signed
            assert "automated assistant" in " ".join(greeting.texts)
            call.press("0")                         # transfer: REST update, whisper, dial-status
            incoming = call._post(server.url + "/voice/incoming",
                                  {"CallSid": "CA" + "1" * 32, "From": "+15550123", "To": "+15550000"})
            for url in twilio_urls(incoming):
                assert url.split("://", 1)[1].startswith(server.url.split("://", 1)[1] + "/"), url
        finally:
            call.finish()
        transfer = server.api.updates[-1]["Twiml"]
        assert all("/ivr/voice/" in url for url in twilio_urls(ET.fromstring(transfer)))


def test_behind_a_path_prefix_proxy_the_handshake_is_checked_against_the_prefixed_url(tmp_path: Path) -> None:
    with serve_live(tmp_path, prefix="/ivr") as server:
        public = server.url.replace("http://", "ws://") + "/media"
        signer = SignatureChecker(TOKEN, server.url)
        ws = websocket.create_connection(public, header=[f"X-Twilio-Signature: {signer.sign_url(public, {})}"],
                                         timeout=5)
        ws.close()
        unprefixed = public.replace("/ivr/media", "/media")
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            websocket.create_connection(public, timeout=5,
                                        header=[f"X-Twilio-Signature: {signer.sign_url(unprefixed, {})}"])
        assert info.value.status_code == 403
        call = driver(server, [])
        try:
            call.start()
            call.press("1")                         # asking for the order number
            call.stream.ws.close()                  # the socket drops: Twilio follows <Redirect>
            call.stream.closed.set()
            assert call.after_stream_url == server.url + "/voice/reconnect?attempt=1"
            again = call.follow_redirect_after_stream()
            assert "order number" in " ".join(again.texts).lower()
        finally:
            call.finish()
