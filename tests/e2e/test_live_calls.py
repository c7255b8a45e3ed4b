"""Whole calls over the network, as Twilio makes them: signed webhooks, the signed Media Streams
websocket with real-time-paced μ-law frames, caller speech synthesized by espeak-ng and
recognised by the server's real recognizer (PocketSphinx), keypad over the stream, barge-in, and
transfers through a local fake of Twilio's REST API."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import websocket

from app.bench.vad import coughs
from app.sim.remote import RemoteDriver
from app.sim.runner import run_script
from app.sim.script import load_script, parse_script
from app.speech.audio import mix_noise, pcm16_to_ulaw
from tests.e2e.conftest import LiveServer

AUDIO_CALLS = sorted((Path(__file__).parents[1] / "calls_audio").glob("*.yaml"))
SPEED = 2.0     # twice real time: the server's clock is the audio itself, so nothing else changes


def driver(server: LiveServer, script, speed: float = SPEED) -> RemoteDriver:
    server.api.fail_updates = 0
    return RemoteDriver(server.settings, server.url, script, speed=speed, api=server.api)


@pytest.mark.parametrize("path", AUDIO_CALLS, ids=[p.stem for p in AUDIO_CALLS])
def test_scripted_audio_call_over_the_network(live_server: LiveServer, path: Path) -> None:
    script = load_script(path)
    result = run_script(script, driver(live_server, script))
    assert result.passed, json.dumps(result.to_dict(), indent=1)
    spoken = [t["latency_ms"] for t in result.turns if t["caller"] and not t["caller"].startswith("[")]
    assert all(latency is not None for latency in spoken)


def test_unsigned_websocket_handshake_is_refused(live_server: LiveServer) -> None:
    url = live_server.url.replace("http://", "ws://") + "/media"
    for header in ([], ["X-Twilio-Signature: forged"]):
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            websocket.create_connection(url, header=header, timeout=5)
        assert info.value.status_code == 403


def test_barge_in_clears_the_prompt_and_is_heard(live_server: LiveServer) -> None:
    call = driver(live_server, parse_script({"steps": []}))
    try:
        call.start_without_waiting()
        stream = call.stream
        time.sleep(1.0 / SPEED)                  # the greeting is still playing
        stream.speak(call.voice("i was charged twice"))
        turn = call.collect(require_reply=True)
        assert stream.clears >= 1
        assert turn.transfer is not None and "billing" in turn.transfer["summary"]
    finally:
        call.finish()


def test_failed_transfer_is_told_to_the_caller(live_server: LiveServer) -> None:
    script = parse_script({"agent": "answer", "steps": [{"press": "0"}, {"silence": 3},
                                                        {"press": "2"}, {"expect_say": "call you back"}]})
    call = driver(live_server, script)
    call.api.fail_updates = 100                  # Twilio refuses every live-call update
    result = run_script(script, call)
    assert result.passed, json.dumps(result.to_dict(), indent=1)
    # Told after "connecting you" or during the silence, as the server's timing has it.
    assert "no one is available" in " ".join(turn["bot"] for turn in result.turns[1:3])


def test_dropped_websocket_reconnects_with_state_kept(live_server: LiveServer) -> None:
    script = parse_script({"steps": []})
    call = driver(live_server, script)
    try:
        call.start()
        call.press("1")                          # now asking for the order number
        call.stream.ws.close()                   # the connection drops without a stop message
        call.stream.closed.set()
        again = call.follow_redirect_after_stream()
        assert "order number" in " ".join(again.texts).lower()
        assert "thanks for calling" not in " ".join(again.texts).lower()
    finally:
        call.finish()


def test_coughs_and_line_noise_during_a_prompt_do_not_cut_it(live_server: LiveServer) -> None:
    """No false barge-in: a burst of coughing over a noisy line while the greeting plays."""
    noise = coughs(-14.0, seed=21)[: 2 * 8000 * 3]           # two coughs in 3 s, louder than speech
    noise = mix_noise(noise, 15, "pink", seed=22, speech_dbfs=-20)
    call = driver(live_server, parse_script({"steps": []}))
    try:
        call.start_without_waiting()
        stream = call.stream
        time.sleep(0.5 / SPEED)                  # the greeting is playing
        stream.speak(pcm16_to_ulaw(noise))
        turn = call.collect(require_reply=True)
        assert stream.clears == 0
        assert "how can i help you today" in " ".join(turn.texts).lower(), turn.texts
    finally:
        call.finish()
