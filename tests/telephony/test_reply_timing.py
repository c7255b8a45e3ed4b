"""The live voice loop times each spoken turn: endpointer END -> the reply's first audio sent."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.speech.audio import ULAW_FRAME_BYTES, ULAW_SILENCE, frames, silence_ulaw
from app.speech.tts import caller_audio
from app.telephony.voice import VoiceCall
from tests.callrun import demo_settings
from tests.conftest import TODAY


class RecordingSink:
    """Stands in for the websocket: keeps what the bot said."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def play(self, ulaw: bytes, text: str) -> None:
        self.said.append(text)

    def clear(self) -> None:
        pass

    def update_call(self, twiml_doc: str) -> None:
        raise AssertionError("the call should stay with the bot")


def test_a_spoken_turn_is_timed_once_and_reaches_metrics(tmp_path: Path) -> None:
    settings = demo_settings(f"sqlite:///{tmp_path}/ivr.db", transport="stream", asr="pocketsphinx",
                             data_dir=tmp_path / "var")
    app = create_app(settings, today=lambda: TODAY)
    services, timings, sink = app.extensions["ivr"], [], RecordingSink()
    wired = services.voice.on_reply             # create_app's: the metrics histogram
    kit = replace(services.voice, on_reply=lambda seconds: (timings.append(seconds), wired(seconds)))
    call = VoiceCall("CAtiming", kit, sink)
    call.begin("+15550999")
    call.on_mark("greeting")                    # the greeting played: the bot listens
    assert timings == []                        # a greeting answers no caller turn
    speech = caller_audio("what are your hours", cache_dir=tmp_path / "callers")
    for frame in frames(silence_ulaw(300) + speech + silence_ulaw(1500), ULAW_FRAME_BYTES, pad=ULAW_SILENCE):
        call.on_audio(frame)
    assert any("9 am to 8 pm" in text for text in sink.said), sink.said
    assert len(timings) == 1 and 0 < timings[0] < 2.0
    scrape = app.test_client().get("/metrics").get_data(as_text=True)
    counts = [s.value for f in text_string_to_metric_families(scrape) for s in f.samples
              if s.name == "ivr_voice_reply_seconds_count"]
    assert counts == [1.0]
