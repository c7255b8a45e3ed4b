"""In-process audio calls go the live way: 20 ms μ-law frames into a VoiceCall (endpointer,
recognizer with the dialog state's grammar, matcher, barge-in, no-input timing in frames), with
the bot's audio played out and its marks acknowledged on the call's own clock."""
from __future__ import annotations

import json
from dataclasses import replace
import time
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from app.cli import main
from app.config import Settings
from app.dialog.events import Heard, NoInput
from app.dialog.state import CallState
from app.factory import build_services
from app.services import Services
from app.sim.hearing import caller_voice
from app.sim.linedriver import LineDriver
from app.sim.local import local_driver
from app.sim.phoneline import PhoneLine, words_end
from app.sim.runner import run_script
from app.sim.script import load_script
from app.speech.audio import pcm16_to_ulaw, silence_ulaw, ulaw_to_pcm16
from app.speech.vad import DetectorPool, new_detector
from app.store.database import make_engine
from app.store.seed import seed_demo
from app.store.sessions import MemorySessions
from tests.conftest import PUBLIC_URL, ROOT, TODAY, TOKEN

AUDIO_CALLS = sorted((ROOT / "tests" / "calls_audio").glob("*.yaml"))
DIAL_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="https://ivr.example.test/voice/'
              'dial-status?attempt=0" answerOnBridge="true" method="POST" timeout="20"><Number method="POST" '
              'url="https://ivr.example.test/voice/whisper?attempt=0">+15550199</Number></Dial></Response>')


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """The streaming transport's services (voice kit and all), over a seeded demo database."""
    tmp = tmp_path_factory.mktemp("line")
    url = f"sqlite:///{tmp / 'ivr.db'}"
    seed_demo(make_engine(url), TODAY)
    settings = Settings(twilio_auth_token=TOKEN, public_url=PUBLIC_URL, database_url=url, transport="stream",
                        asr="pocketsphinx", grammars_dir=ROOT / "grammars", prompts_dir=ROOT / "prompts",
                        data_dir=tmp / "var", agent_numbers=("+15550199",))
    return build_services(settings, MemorySessions(), today=lambda: TODAY)


@pytest.fixture(scope="module")
def voice(services: Services) -> Callable[[str], bytes]:
    return caller_voice(services.settings)


@pytest.mark.parametrize("path", AUDIO_CALLS, ids=[p.stem for p in AUDIO_CALLS])
def test_scripted_audio_call_in_process(services: Services, voice: Callable[[str], bytes], path: Path) -> None:
    script = load_script(path)
    driver = local_driver(services, script, voice)
    assert isinstance(driver, LineDriver)
    result = run_script(script, driver)
    assert result.passed, json.dumps(result.to_dict(), indent=1)
    spoken = [t["latency_ms"] for t in result.turns if t["caller"] and not t["caller"].startswith("[")]
    assert all(latency is not None and 0 <= latency < 1500 for latency in spoken), spoken


def test_a_spoken_turn_goes_through_the_recognizer_faster_than_real_time(services: Services, voice) -> None:
    line = PhoneLine(services)
    greeting = line.start("+15550123")
    assert "How can I help" in " ".join(greeting.texts)
    audio = voice("what are your hours")
    began = time.perf_counter()
    turn = line.say(ulaw_to_pcm16(audio), encoding="pcm16")
    wall_ms = (time.perf_counter() - began) * 1000
    assert [type(e) for e in turn.events] == [Heard] and turn.intent == "store_hours"
    assert 0 < turn.confidence <= 1
    assert "9 am to 8 pm" in " ".join(turn.texts) and line.node == "anything_else"
    # The step lasted until the answer had played out, on the call's clock, not the wall's.
    assert turn.call_ms > 5000 and wall_ms < turn.call_ms / 2
    assert 0 < turn.cpu_ms and turn.wall_ms <= wall_ms
    assert 0 < turn.latency_ms < 1000
    line.hang_up()


def test_no_input_is_counted_in_frames_from_the_end_of_the_prompt(services: Services) -> None:
    line = PhoneLine(services)
    line.start("+15550123")
    almost = line.silence(services.settings.no_input_s - 0.1)
    assert almost.events == [] and almost.texts == [] and not almost.replied
    turn = line.silence(0.1)
    assert [type(e) for e in turn.events] == [NoInput]
    assert turn.texts == ["How can I help?"]
    line.hang_up()


def test_the_caller_barging_in_cuts_the_greeting_and_is_heard(services: Services, voice) -> None:
    line = PhoneLine(services)
    line.start("+15550123", wait=False)               # the greeting is still playing
    turn = line.say(voice("i was charged twice"), wait=False, lead_ms=1000)
    assert turn.barge_ins >= 1
    assert turn.intent == "billing_issue" and turn.transfer is not None
    assert turn.transfer.reason == "billing question" and turn.ended and not turn.hung_up
    assert turn.updates == [DIAL_TWIML]


def test_keys_are_heard_over_the_line(services: Services) -> None:
    line = PhoneLine(services)
    line.start("+15550100")                           # Jane: 48217 is hers, so she hears its details
    asked = line.press("2")                           # "no" to the order offered to a known caller
    asked = line.press("1")
    assert [type(e).__name__ for e in asked.events] == ["Digits"] and "order number" in asked.texts[0]
    answered = line.press("48217#")
    assert "Order 48217" in answered.texts[0] and answered.latency_ms is not None
    line.hang_up()
    assert services.engine.state(line.call_sid).node == "ended"
    assert line.watch not in services.engine.observers


def test_the_line_needs_the_live_voice_kit(settings: Settings) -> None:
    keypad = build_services(settings, MemorySessions(), today=lambda: TODAY)
    with pytest.raises(ValueError, match="transport=stream"):
        PhoneLine(keypad)


def test_words_end_where_the_audio_falls_silent() -> None:
    tone = pcm16_to_ulaw(b"\x00\x40\x00\xc0" * 800)    # 200 ms of a loud square wave
    assert words_end(silence_ulaw(100) + tone + silence_ulaw(300)) == 300.0
    assert words_end(b"") == 0.0


def test_a_call_can_begin_in_a_given_dialog_state(services: Services, voice) -> None:
    line = PhoneLine(services)
    asked = line.start("+15550100", state=CallState(
        call_sid="", node="confirm_number", caller="+15550100", task="order_status", pending_number="48217",
        last_says=[{"prompt": "confirm_number", "params": {"order_number": "48217"}}],
        last_listen={"params": {"order_number": "48217"}}))
    assert line.node == "confirm_number" and "48217" in " ".join(asked.texts)
    turn = line.say(voice("yes"))
    assert turn.intent == "yes" and "Order 48217" in " ".join(turn.texts)
    line.hang_up()


def test_ivr_sim_audio_runs_a_script_through_the_line(tmp_path: Path) -> None:
    script = ROOT / "tests" / "calls_audio" / "greeting_then_agent.yaml"
    env = {"IVR_DATA_DIR": str(tmp_path / "var"), "IVR_ASR": "pocketsphinx", "IVR_TRANSPORT": "keypad",
           "AGENT_NUMBER": "+15550199"}
    result = CliRunner().invoke(main, ["sim", "--script", str(script), "--audio", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] and report["outcome"] == "transferred"
    assert report["turns"][1]["intent"] == "agent" and 0 <= report["turns"][1]["latency_ms"] < 1500


@pytest.mark.parametrize("words", ["blah blah banana", "my cat likes to sleep in the sun"])
def test_speech_the_recognizer_cannot_place_is_never_counted_as_silence(services: Services, voice,
                                                                         words: str) -> None:
    line = PhoneLine(services)
    line.start("+15550123")
    turn = line.say(voice(words))
    assert [type(e) for e in turn.events] == [Heard], turn.events     # a turn heard, not a NoInput
    assert turn.latency_ms < 1500          # answered when the words ended, not at the no-input timer
    assert "How can I help?" not in turn.texts                          # the no-input re-prompt
    if turn.intent == "none":
        assert "didn't catch that" in turn.texts[0]
    line.hang_up()


class LateDetector:
    """Silero, noticing speech 440 ms late (as it noticed a synthesized "it's three" at the "three")."""

    def __init__(self, lag_frames: int = 22) -> None:
        self.inner, self.lag = new_detector(), lag_frames
        self.recent: list[float] = []

    def __call__(self, frame: bytes) -> float:
        self.recent = (self.recent + [self.inner(frame)])[-self.lag - 1:]
        return self.recent[0]

    def reset(self) -> None:
        self.inner.reset()
        self.recent = []


def test_the_words_are_heard_from_their_first_sound_when_the_detector_is_late(services: Services, voice) -> None:
    # A fixed 100 ms lead-in clipped "it's three" when the detector noticed speech late: the
    # number was read back as 05182 (CI saw it over the network). The onset is found by level.
    late = replace(services.voice, detectors=DetectorPool(factory=LateDetector))
    line = PhoneLine(replace(services, voice=late))
    line.start("+15550123")
    assert "order number" in " ".join(line.press("1").texts)
    turn = line.say(voice("it's three oh five one two"))
    assert "I heard 30512" in " ".join(turn.texts)
