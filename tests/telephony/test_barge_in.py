"""Barge-in on a real line: only the caller's speech stops a prompt, and a barge-in that yields no
words says the prompt again. The shipped voice-activity detector hears synthesized callers and
non-speech sounds through the live voice loop."""
from __future__ import annotations

from dataclasses import replace
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.bench.vad import breathing, coughs
from app.speech.audio import ULAW_FRAME_BYTES, ULAW_SILENCE, frames, mix_noise, pcm16_to_ulaw, silence_ulaw
from app.speech.recognizer import Result
from app.speech.tts import caller_audio
from app.telephony.voice import VoiceCall
from tests.callrun import demo_settings
from tests.conftest import TODAY


class Sink:
    """Stands in for the websocket: what the bot said, and how often it cut itself off."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.clears = 0

    def play(self, ulaw: bytes, text: str) -> None:
        self.said.append(text)

    def clear(self) -> None:
        self.clears += 1

    def update_call(self, twiml_doc: str) -> None:
        raise AssertionError("the call should stay with the bot")


class HearsNothing:
    """A recognizer that makes out no words (a mumble, a sigh, words out of any grammar)."""

    def new_recognizer(self) -> "HearsNothing":
        return self

    def set_phrases(self, phrases) -> None:
        pass

    def accept(self, pcm16_8k: bytes) -> None:
        return None

    def finish(self) -> Result:
        return Result("", True, 0.0)

    def reset(self) -> None:
        pass


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("barge")
    settings = demo_settings(f"sqlite:///{tmp}/ivr.db", transport="stream", asr="pocketsphinx",
                             data_dir=tmp / "var")
    return create_app(settings, today=lambda: TODAY).extensions["ivr"].voice


def greeting_playing(kit, asr=None) -> tuple[VoiceCall, Sink]:
    sink = Sink()
    call = VoiceCall("CA" + uuid.uuid4().hex, kit if asr is None else replace(kit, asr=asr), sink)
    call.begin("+15550999")                      # the greeting is queued; no mark back yet
    assert len(sink.said) == 1
    return call, sink


def play(call: VoiceCall, ulaw: bytes) -> None:
    for frame in frames(ulaw, ULAW_FRAME_BYTES, pad=ULAW_SILENCE):
        call.on_audio(frame)


@pytest.mark.parametrize("sound", [coughs, breathing], ids=["coughs", "breathing"])
def test_coughs_breathing_and_line_noise_do_not_cut_the_prompt(kit, sound) -> None:
    call, sink = greeting_playing(kit)
    noisy = mix_noise(sound(-14.0, seed=5), 15, "pink", seed=6, speech_dbfs=-20)
    play(call, pcm16_to_ulaw(noisy))
    assert sink.clears == 0 and len(sink.said) == 1


def test_speech_during_the_prompt_stops_it_and_is_answered(kit, tmp_path: Path) -> None:
    call, sink = greeting_playing(kit)
    play(call, caller_audio("what are your hours", cache_dir=tmp_path) + silence_ulaw(1500))
    assert sink.clears >= 1
    assert any("9 am to 8 pm" in text for text in sink.said[1:]), sink.said


def test_a_barge_in_without_words_says_the_prompt_again(kit, tmp_path: Path) -> None:
    call, sink = greeting_playing(kit, asr=HearsNothing())
    play(call, caller_audio("um well let me see", cache_dir=tmp_path) + silence_ulaw(1500))
    assert sink.clears == 1
    assert sink.said == [sink.said[0], sink.said[0]]   # the greeting again, not silence


def test_a_finished_call_hands_its_detector_to_the_next(kit) -> None:
    call, _ = greeting_playing(kit)
    detector = call.detector
    call.close()
    assert call.detector is None
    again, _ = greeting_playing(kit)
    assert again.detector is detector        # no second model load for the next caller
    again.close()
