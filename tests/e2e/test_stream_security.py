"""The Media Streams websocket against a hostile peer, over the network (issue 11 items 1, 2, 4;
issue 12 item 2): a captured handshake cannot open another call, a CallSid never steers a REST
URL, and a stream that never starts, goes idle or sends a huge message is closed."""
from __future__ import annotations

import base64
import json
import time
import xml.etree.ElementTree as ET

import pytest
import requests
import websocket

from app.sim.script import parse_script
from app.telephony.security import SignatureChecker, StreamTokens
from tests.e2e.conftest import TOKEN, LiveServer
from tests.e2e.test_live_calls import driver

MEDIA = {"event": "media", "streamSid": "MZ" + "e" * 32,
         "media": {"track": "inbound", "timestamp": "0", "payload": base64.b64encode(b"\xff" * 160).decode()}}
INJECTED_SID = "CAx/../../../Accounts/ACattacker/IncomingPhoneNumbers/PN123?Evil=1#"


def post(server: LiveServer, url: str, form: dict[str, str]) -> requests.Response:
    """A webhook as Twilio posts it, signed."""
    signature = SignatureChecker(TOKEN, server.url).sign_url(url, form)
    return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)


def signed_post(server: LiveServer, url: str, form: dict[str, str]) -> ET.Element:
    """A webhook as Twilio posts it; the TwiML answer, parsed."""
    response = post(server, url, form)
    assert response.status_code == 200, response.text
    return ET.fromstring(response.text)


def place_call(server: LiveServer, call_sid: str) -> ET.Element:
    """/voice/incoming for a new call: the <Connect><Stream> TwiML it answers."""
    return signed_post(server, server.url + "/voice/incoming",
                       {"CallSid": call_sid, "From": "+15550123", "To": "+15550000"})


def stream_parameters(doc: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in doc.iter("Parameter")}


def open_socket(server: LiveServer) -> websocket.WebSocket:
    """A websocket with the one valid handshake signature (the same for every call)."""
    url = server.settings.stream_url
    signature = SignatureChecker(TOKEN, server.url).sign_url(url, {})
    ws = websocket.create_connection(url, header=[f"X-Twilio-Signature: {signature}"], timeout=15)
    ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    return ws


def start_message(call_sid: str, parameters: dict[str, str]) -> str:
    return json.dumps({"event": "start", "streamSid": "MZ" + "e" * 32,
                       "start": {"streamSid": "MZ" + "e" * 32, "callSid": call_sid,
                                 "accountSid": "AC" + "0" * 32, "customParameters": parameters}})


def received_until_closed(ws: websocket.WebSocket) -> list[str]:
    """Every message the server sends before it closes the socket (fails if it never does)."""
    got: list[str] = []
    while True:
        try:
            message = ws.recv()
        except websocket.WebSocketConnectionClosedException:
            return got
        except websocket.WebSocketTimeoutException:
            pytest.fail(f"the server kept the socket open; it sent {got}")
        if not message:
            return got
        got.append(message)


def closed_within(ws: websocket.WebSocket, feed: dict | None, limit_s: float) -> float:
    """Seconds until the server closes the socket, feeding it `feed` every 20 ms meanwhile."""
    began = time.monotonic()
    ws.settimeout(0.02)
    while time.monotonic() - began < limit_s:
        try:
            if feed is not None:
                ws.send(json.dumps(feed))
            if ws.recv() == "":
                return time.monotonic() - began
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, BrokenPipeError, ConnectionResetError):
            return time.monotonic() - began
    pytest.fail(f"the socket was still open after {limit_s} s")


def test_a_captured_handshake_cannot_take_over_another_live_call(live_server: LiveServer) -> None:
    victim = driver(live_server, parse_script({"steps": []}))
    try:
        victim.start()                                   # greeted, waiting at the menu
        own = stream_parameters(place_call(live_server, "CA" + "a" * 32))   # the attacker's own call
        updates_before = len(live_server.api.auth_seen)
        for parameters in ({}, {"call_sid": victim.call_sid, "token": own["token"]},
                           {"call_sid": victim.call_sid, "token": own["token"].split(".")[0] + ".00"},
                           {"call_sid": own["call_sid"], "token": own["token"]}):
            ws = open_socket(live_server)
            ws.send(start_message(victim.call_sid, parameters))
            ws.send(json.dumps({"event": "dtmf", "dtmf": {"digit": "0"}}))
            assert received_until_closed(ws) == []          # not one prompt of the victim's call
        assert len(live_server.api.auth_seen) == updates_before    # and no transfer of it
        turn = victim.press("1")                         # the victim's own stream still works
        assert "order number" in " ".join(turn.texts).lower()
    finally:
        victim.finish()
    assert "refused: missing, expired or foreign stream token" in live_server.log.read_text()


def test_a_stream_for_an_ended_call_is_refused(live_server: LiveServer) -> None:
    call_sid = "CA" + "b" * 32
    parameters = stream_parameters(place_call(live_server, call_sid))
    post(live_server, live_server.url + "/voice/status", {"CallSid": call_sid, "CallStatus": "completed"})
    ws = open_socket(live_server)
    ws.send(start_message(call_sid, parameters))
    assert received_until_closed(ws) == []


def test_a_callsid_carrying_a_path_never_reaches_the_rest_api(live_server: LiveServer) -> None:
    seen = len(live_server.api.auth_seen)
    token = StreamTokens(TOKEN).issue(INJECTED_SID)      # even with a token the server would accept
    ws = open_socket(live_server)
    ws.send(start_message(INJECTED_SID, {"call_sid": INJECTED_SID, "token": token}))
    ws.send(json.dumps({"event": "dtmf", "dtmf": {"digit": "0"}}))
    assert received_until_closed(ws) == []
    assert len(live_server.api.auth_seen) == seen        # no request of any kind went to "Twilio"
    for form in ({"CallSid": INJECTED_SID}, {"CallSid": "CAx", "ParentCallSid": INJECTED_SID}):
        url = live_server.url + ("/voice/incoming" if "ParentCallSid" not in form else "/voice/whisper")
        response = post(live_server, url, form)
        assert response.status_code == 400 and "malformed" in response.json()["error"]


def test_a_stream_that_never_starts_is_closed_and_the_call_recovers(live_server: LiveServer) -> None:
    call_sid = "CA" + "c" * 32
    doc = place_call(live_server, call_sid)
    ws = open_socket(live_server)
    waited = closed_within(ws, MEDIA, limit_s=20)        # 20 s of media frames, no `start`
    assert 4.0 <= waited <= 7.0
    # Twilio then runs the verb after <Connect>: the reconnect opens a fresh, working stream.
    again = signed_post(live_server, (doc.findtext("Redirect") or "").strip(),
                        {"CallSid": call_sid, "From": "+15550123", "To": "+15550000"})
    parameters = stream_parameters(again)
    assert parameters["call_sid"] == call_sid and parameters["token"]
    ws = open_socket(live_server)
    ws.send(start_message(call_sid, parameters))
    ws.settimeout(15)
    first = json.loads(ws.recv())
    assert first["event"] == "media"                     # the greeting is spoken on the new stream
    ws.close()


def test_an_idle_stream_is_closed(live_server: LiveServer) -> None:
    call_sid = "CA" + "d" * 32
    ws = open_socket(live_server)
    ws.send(start_message(call_sid, stream_parameters(place_call(live_server, call_sid))))
    waited = closed_within(ws, None, limit_s=20)         # nothing at all after `start`
    assert 9.0 <= waited <= 13.0


def test_an_oversized_message_closes_the_stream_before_it_is_held(live_server: LiveServer) -> None:
    ws = open_socket(live_server)
    big = "x" * (4 * 1024 * 1024)
    with pytest.raises((websocket.WebSocketConnectionClosedException, BrokenPipeError, ConnectionResetError)):
        for _ in range(50):                              # 200 MB, if the server read it all
            ws.send(big)
    assert requests.get(live_server.url + "/healthz", timeout=5).status_code == 200


def test_unsigned_floods_of_fields_are_refused_before_they_are_parsed(live_server: LiveServer) -> None:
    url = live_server.url + "/voice/incoming"
    for body in ("a=1&" * 200_000, "a=&" * 1000, "x=" + "y" * 100_000):   # 800 KB; 1000 fields; 100 KB
        began = time.monotonic()
        response = requests.post(url, data=body, timeout=10,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 413 and time.monotonic() - began < 2.0
    assert place_call(live_server, "CA" + "f" * 32).find("Connect") is not None   # real calls still served
