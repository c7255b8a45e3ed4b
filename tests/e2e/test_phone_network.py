"""Cases from real phone networks, replayed over the real protocol against gunicorn: signed
webhooks, the signed Media Streams websocket, the agent's leg and Twilio's REST API (a local fake)."""
from __future__ import annotations

import json
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import websocket

from app.sim.remote import RemoteDriver
from app.sim.runner import run_script
from app.sim.script import load_script, parse_script
from app.sim.stream_client import StreamClient
from app.store.database import make_engine
from app.store.records import CallRecord, SqlCallRecords
from app.telephony.security import SignatureChecker, StreamTokens
from tests.conftest import ROOT
from tests.e2e.conftest import TOKEN, LiveServer, serve_live
from tests.servers import BIN

CALLS = ROOT / "tests" / "calls"

SPEED = 4.0     # the server's clock is the call's audio: faster than real time changes nothing else


def driver(server: LiveServer, steps: list[dict], speed: float = SPEED, **script: object) -> RemoteDriver:
    server.api.fail_updates = 0
    return RemoteDriver(server.settings, server.url, parse_script({"steps": steps, **script}), speed=speed,
                        api=server.api)


def play(server: LiveServer, steps: list[dict], **script: object) -> None:
    """Steps in the script format, played over the network."""
    result = run_script(parse_script({"steps": steps, **script}), driver(server, steps, **script))
    assert result.passed, json.dumps(result.to_dict(), indent=1)


def play_file(server: LiveServer, name: str) -> str:
    """A script from tests/calls played over the network; returns the call's CallSid."""
    script = load_script(CALLS / name)
    call = RemoteDriver(server.settings, server.url, script, speed=SPEED, api=server.api)
    result = run_script(script, call)
    assert result.passed, json.dumps(result.to_dict(), indent=1)
    return call.call_sid


def record(server: LiveServer, call_sid: str, outcome: str) -> CallRecord:
    """The call's record once it shows `outcome` (the workers write behind the call), else as it is."""
    records = SqlCallRecords(make_engine(server.env["DATABASE_URL"]))
    deadline = time.monotonic() + 10
    while True:
        found = records.get(call_sid)
        if (found is not None and found.outcome == outcome) or time.monotonic() > deadline:
            assert found is not None, f"no record of {call_sid}"
            return found
        time.sleep(0.05)


def report(server: LiveServer) -> dict:
    """`ivr report --json` over the server's database."""
    done = subprocess.run([str(BIN / "ivr"), "report", "--json"], env=server.env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


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


# -- 7. silence after an answer -------------------------------------------------------------------

def test_silence_after_an_answer_ends_the_call_as_resolved(live_server: LiveServer) -> None:
    before = report(live_server)["outcomes"]["resolved"]
    call_sid = play_file(live_server, "silent_after_answer.yaml")
    stored = record(live_server, call_sid, "resolved")
    assert (stored.outcome, stored.transfer_reason) == ("resolved", "")
    assert report(live_server)["outcomes"]["resolved"] == before + 1


# -- 5. the caller hangs up during the transfer ---------------------------------------------------

def transfer_started(server: LiveServer) -> tuple[RemoteDriver, ET.Element]:
    """A call the caller sends to a person (key 0): the <Dial> the server moved the live call to."""
    call = driver(server, [])
    call.start()
    call.stream.press("0")
    update = call.updates.get(timeout=30)
    call.stream.stop()                              # Twilio leaves the stream for the new TwiML
    call.stream = None
    dial = ET.fromstring(update["Twiml"]).find("Dial")
    assert dial is not None, update
    return call, dial


def test_caller_hanging_up_during_the_whisper_is_abandoned_and_the_agent_is_told(live_server: LiveServer) -> None:
    before = report(live_server)
    call, dial = transfer_started(live_server)
    agent_sid = "CA" + "a" * 32
    whisper = call._post(dial.find("Number").get("url"), {"CallSid": agent_sid, "ParentCallSid": call.call_sid})
    assert "Press 1 to take the call" in ET.tostring(whisper, encoding="unicode")
    call._post(live_server.url + "/voice/status", {"CallSid": call.call_sid, "CallStatus": "completed"})
    told = [u for u in live_server.api.updates if u["call_sid"] == agent_sid]
    gone = ('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">The caller hung up before you '
            'joined. Goodbye.</Say><Hangup /></Response>')
    assert [u["Twiml"] for u in told] == [gone]     # the agent's leg is switched to say so
    # An agent who presses 1 anyway is told too, and not bridged to nobody.
    answer = call.http.post(whisper.find("Gather").get("action"), data={"CallSid": agent_sid, "Digits": "1"},
                            headers={"X-Twilio-Signature": call.signer.sign_url(
                                whisper.find("Gather").get("action"), {"CallSid": agent_sid, "Digits": "1"})})
    assert answer.text == gone
    action = call._post(dial.get("action"), {"CallSid": call.call_sid, "DialCallStatus": "completed"})
    assert action.find("Dial") is None              # no next agent rung for a caller who left
    call.ended = True
    stored = record(live_server, call.call_sid, "abandoned")
    assert (stored.outcome, stored.abandoned_at) == ("abandoned", "agent whisper")
    after = report(live_server)
    assert after["outcomes"]["abandoned"] == before["outcomes"]["abandoned"] + 1
    assert after["abandoned_at"].get("agent whisper", 0) == before["abandoned_at"].get("agent whisper", 0) + 1
    assert after["abandonment_rate"] > 0


def test_caller_hanging_up_while_the_agent_rings_is_abandoned(live_server: LiveServer) -> None:
    call, dial = transfer_started(live_server)
    call._post(live_server.url + "/voice/status", {"CallSid": call.call_sid, "CallStatus": "completed"})
    call.ended = True
    stored = record(live_server, call.call_sid, "abandoned")
    assert (stored.outcome, stored.abandoned_at, stored.transfer_reason) == \
        ("abandoned", "agent ringing", "asked for a person")
    assert report(live_server)["abandoned_at"]["agent ringing"] >= 1


# -- 6. the fallback URL mid-call -----------------------------------------------------------------

def test_fallback_mid_call_runs_the_no_answer_path_and_ends_the_record(live_server: LiveServer) -> None:
    call = driver(live_server, [], agent="no-answer")
    try:
        call.start()
        call.press("1")                             # the bot asks for the order number
        call.stream.stop()                          # the stream drops and /voice/reconnect fails:
        call.stream = None                          # Twilio asks the fallback URL
        doc = call._post(live_server.url + "/voice/fallback",
                         {"CallSid": call.call_sid, "From": "+15550123", "ErrorCode": "11200",
                          "ErrorUrl": live_server.url + "/voice/reconnect?attempt=1"})
        assert "technical problem" in " ".join(s.text or "" for s in doc.iter("Say"))
        turn = call._run(doc)                       # nobody answers: the caller is not left in silence
        assert "no one is available" in " ".join(turn.texts)
        assert "call you back" in " ".join(call.press("2").texts)
    finally:
        call.finish()
    stored = record(live_server, call.call_sid, "voicemail")
    assert (stored.outcome, stored.transfer_reason) == ("voicemail", "technical problem")
    assert any(c.call_sid == call.call_sid for c in SqlCallRecords(make_engine(live_server.env["DATABASE_URL"])).callbacks())


# -- 3. two streams for one call ------------------------------------------------------------------

def test_a_second_stream_for_the_call_replaces_the_first_and_each_silence_counts_once(
        live_server: LiveServer) -> None:
    call = driver(live_server, [])
    first = None
    try:
        call.start()
        first = call.stream
        url = live_server.url.replace("http://", "ws://") + "/media"
        # The same <Stream> parameters, the call's token among them (issue 11: a stream is bound to its call).
        params = {"call_sid": call.call_sid, "caller": "+15550123", "token": StreamTokens(TOKEN).issue(call.call_sid)}
        # Twilio opens a new websocket for the call while the old one is still up.
        call.stream = StreamClient(url, call.signer.sign_url(url, {}), call.call_sid, params, SPEED,
                                   stream_sid="MZ" + "b" * 32)
        again = call.collect(require_reply=True)
        assert "how can i help" in " ".join(again.texts).lower()
        assert first.closed.wait(10), "the older stream was not closed"
        turn = call.silence(7)                      # one silence: one re-ask, not "silent twice"
        assert "how can i help" in " ".join(turn.texts).lower()
        assert turn.transfer is None and call.updates.empty()
        turn = call.silence(7)                      # the second silence, on the newer stream
        assert turn.transfer is not None and "silent twice" in turn.transfer["summary"]
    finally:
        if first is not None:
            first.stop()
        call.finish()
    stored = record(live_server, call.call_sid, "transferred")
    assert [t.intent for t in stored.turns].count("no_input") == 2


# -- 4. withheld caller ids -----------------------------------------------------------------------

def test_withheld_number_gets_a_keyed_callback_number_read_back_and_masked(live_server: LiveServer) -> None:
    call_sid = play_file(live_server, "withheld_number_callback.yaml")
    records = SqlCallRecords(make_engine(live_server.env["DATABASE_URL"]))
    stored = record(live_server, call_sid, "voicemail")
    assert [c.phone for c in records.callbacks() if c.call_sid == call_sid] == ["5550143"]
    turns = " ".join(t.caller_text + " " + t.bot_text for t in stored.turns)
    assert "555014" not in turns and "***0143" in turns        # turns keep it masked
    log = live_server.log.read_text()
    assert "5550143" not in log and "***0143" in log           # so do the server's logs


# -- 8. say only what the caller may hear ---------------------------------------------------------

def test_order_details_only_for_the_orders_customer(live_server: LiveServer) -> None:
    stranger = driver(live_server, [])
    try:
        stranger.start()
        stranger.press("1")
        asked = " ".join(stranger.press("55129#").texts)
        assert "last 4 digits of the phone number on the order" in asked
        assert "coffee grinder" not in asked and "FedEx" not in asked
        brief = " ".join(stranger.press("1234").texts)      # wrong digits: status and dates only
        assert "was delivered" in brief and "coffee grinder" not in brief
    finally:
        stranger.finish()
    canceller = driver(live_server, [])
    try:
        canceller.start()
        canceller.press("4")                                 # cancel an order
        asked = " ".join(canceller.press("30512#").texts)    # Jane's, from another phone
        assert "last 4 digits" in asked and "boots" not in asked
        refused = " ".join(canceller.press("0000").texts)
        assert "only cancel an order for the customer who placed it" in refused and "boots" not in refused
    finally:
        canceller.finish()
    play(live_server, [{"press": "2"}, {"press": "1"}, {"press": "48217#"},
                       {"expect_say": "your blue rain jacket, has shipped with UPS"}], **{"from": "+15550100"})
