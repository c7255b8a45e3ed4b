"""PocketSphinx adapter: synthesized callers, telephone path, 20 ms streaming, real decoding."""
from __future__ import annotations

import logging

import pytest

from app.speech.recognizer import UNK, Recognizer
from tests.speech.conftest import stream

MENU = ["where is my order", "agent", "four eight two one seven", "yes", "no",
        "cancel my order", "representative", "what are your opening hours"]


@pytest.fixture
def recognizer(pocketsphinx_engine):
    rec = pocketsphinx_engine.new_recognizer()
    yield rec
    rec.close()


def test_is_a_recognizer(recognizer):
    assert isinstance(recognizer, Recognizer)


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en-us+f3"])
@pytest.mark.parametrize("text", ["where is my order", "agent", "four eight two one seven", "yes"])
def test_grammar_phrases_are_recognised(recognizer, say, text, voice):
    final, partials = stream(recognizer, say(text, voice=voice), MENU)
    assert final.final and final.text == text
    assert partials and all(not p.final for p in partials)
    assert 0.0 < final.confidence <= 1.0
    assert [w.text for w in final.words] == text.split()
    assert all(0.0 <= w.start < w.end for w in final.words)
    assert final.words[0].start >= 0.2  # the 300 ms lead-in is silence, not a word


def test_partials_grow_towards_the_final_text(recognizer, say):
    final, partials = stream(recognizer, say("four eight two one seven"), MENU)
    assert len(partials) >= 2
    assert partials[-1].text == final.text or final.text.startswith(partials[-1].text.split()[0])
    texts = [p.text for p in partials]
    assert all(a != b for a, b in zip(texts, texts[1:]))  # a partial is reported only when it changed


@pytest.mark.parametrize("text", ["can you repeat that", "i have a billing problem", "start over"])
def test_out_of_grammar_speech_is_not_forced_onto_a_phrase(recognizer, say, text):
    final, _ = stream(recognizer, say(text), MENU)
    assert final.text == ""
    assert final.out_of_grammar and final.words[0].text == UNK
    assert final.confidence == 0.0


def test_free_decoding(recognizer, say):
    final, partials = stream(recognizer, say("can you repeat that"), None)
    assert final.text == "can you repeat that"
    assert partials and not final.out_of_grammar


def test_phrases_with_unknown_words_are_dropped_and_logged(recognizer, say, caplog):
    with caplog.at_level(logging.WARNING, logger="app.speech.pocketsphinx"):
        recognizer.set_phrases(["Agent!", "where is my zzqxorder", "order 48217", "yes"])
    assert "zzqxorder" in caplog.text and "48217" in caplog.text
    final, _ = stream(recognizer, say("agent"))
    assert final.text == "agent"  # normalised: lower case, punctuation gone


def test_only_unknown_phrases_means_free_decoding(recognizer, say):
    final, _ = stream(recognizer, say("can you repeat that"), ["zzqx zzqy"])
    assert final.text == "can you repeat that"


def test_consecutive_utterances_and_reset(recognizer, say):
    recognizer.set_phrases(MENU)
    recognizer.accept(say("cancel my order")[:8000])
    recognizer.reset()  # barge-in or a new prompt: the half utterance is dropped
    assert stream(recognizer, say("yes"))[0].text == "yes"
    assert stream(recognizer, say("no", voice="en-us+m3"))[0].text == "no"
    assert recognizer.finish().text == ""  # nothing fed since the last finish


def test_a_decoder_is_held_only_while_an_utterance_is_decoded(pocketsphinx_engine, say):
    idle = pocketsphinx_engine.pool_size
    rec = pocketsphinx_engine.new_recognizer()
    rec.set_phrases(MENU)
    assert pocketsphinx_engine.pool_size == idle           # a call between utterances holds none
    rec.accept(say("yes")[:3200])
    assert pocketsphinx_engine.pool_size == max(idle - 1, 0)
    rec.finish()
    assert pocketsphinx_engine.pool_size == max(idle, 1)   # back in the pool for any call
    rec.accept(say("yes")[:3200])
    rec.close()                                            # a call that hangs up mid-utterance
    assert pocketsphinx_engine.pool_size == max(idle, 1)
