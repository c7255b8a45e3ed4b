"""The grammars the bundled recognizer is given: exact-length numbers, every escape, a domain model.

Real decoding of synthesized callers through the telephone path (see conftest.say)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.nlu.grammar import load_grammar
from app.nlu.numbers import extract_order_number
from app.nlu.speech_phrases import build, sample_sentences
from app.speech.jsgf import jsgf_for, number_rules
from tests.speech.conftest import stream

GRAMMAR = load_grammar(Path(__file__).resolve().parents[2] / "grammars" / "en")
YES_NO = ("yes", "no", "agent", "repeat", "help", "goodbye", "start_over")
ASK_NUMBER = ("order_status", "return_item", "refund_status", "cancel_order", "yes",
              "agent", "repeat", "help", "goodbye", "start_over")


@pytest.fixture(scope="module")
def engine(pocketsphinx_engine):
    if not pocketsphinx_engine.has_domain:
        pocketsphinx_engine.set_domain(sample_sentences(GRAMMAR))
    return pocketsphinx_engine


def _hear(engine, say, text, expect, numbers=False, voice="en-us"):
    recognizer = engine.new_recognizer()
    try:
        spec = build(GRAMMAR, expect, numbers, (5,), sentences=not numbers and "order_status" in expect)
        return stream(recognizer, say(text, voice=voice), spec)[0]
    finally:
        recognizer.close()


def test_number_rule_counts_digits_as_callers_say_them():
    rules = number_rules((5,))
    assert "<digit> <digit> <digit> <digit> <digit>" in rules
    assert "double <digit> <digit> <digit> <digit>" in rules and "triple <digit> <digit> <digit>" in rules
    assert "<digit>+" not in jsgf_for(["{digits}"], (), (5,))


def test_the_words_around_a_number_share_one_number_rule():
    # The JSGF compiler copies a rule at each reference: one per phrase took ~3 s to compile,
    # holding the GIL while every call in the worker went deaf (ivr bench calls).
    phrases = ["{digits}", "it is {digits}", "my order number is {digits}", "{digits} please",
               "order {digits} please", "where is my order"]
    jsgf = jsgf_for(phrases, (), (5,))
    assert jsgf.count("<number>") == 2 + 1      # two endings, and the rule itself
    assert "/3/ (<NULL> | it is | my order number is) <number> |" in jsgf
    assert "/2/ (<NULL> | order) <number> please" in jsgf and "/1/ where is my order" in jsgf


def test_every_listening_point_is_compiled_before_the_first_call(pocketsphinx_engine):
    spec = build(GRAMMAR, ASK_NUMBER, True, (5,), sentences=False)
    pocketsphinx_engine.prepare([spec, None])
    name, _ = pocketsphinx_engine.grammar(spec)
    slot = pocketsphinx_engine.acquire()
    try:
        assert name in slot.searches
    finally:
        pocketsphinx_engine.release(slot)


@pytest.mark.parametrize("text", ["three oh five one two", "it's three oh five one two",
                                  "my order number is three oh five one two"])
def test_order_numbers_are_heard_with_the_words_around_them(engine, say, text):
    final = _hear(engine, say, text, ASK_NUMBER, numbers=True)
    assert extract_order_number(final.text) == "30512"


@pytest.mark.parametrize("text", ["four eight two one seven", "double four eight one oh", "seven seven two oh one"])
def test_an_order_number_is_always_heard_as_five_digits(engine, say, text):
    # The synthetic voice's "seven" is often heard as another digit (docs/benchmarks.md): the
    # read-back catches that; what must never happen is a 6- or 7-digit number.
    final = _hear(engine, say, text, ASK_NUMBER, numbers=True)
    assert final.text == "" or len(extract_order_number(final.text) or "") == 5


ESCAPES = ("agent", "operator", "representative", "customer service", "i want to speak to a real person",
           "let me talk to a bloody person")


def test_escapes_are_heard_at_a_yes_no_question_in_three_voices(engine, say):
    # The escape rule is in the yes/no grammar whole, whatever the cap on its own phrases. The
    # bundled 16 kHz model loses sibilants on 8 kHz audio ("customer service" -> "not really"), so
    # not every synthetic rendering is heard; the floor sits below what was measured (see
    # docs/benchmarks.md) and a miss is never taken for another intent's phrase of an escape.
    heard = [(text, voice, _hear(engine, say, text, YES_NO, voice=voice).text)
             for text in ESCAPES for voice in ("en-us", "en-gb", "en-us+f3")]
    hits = [h for h in heard if h[0] == h[2]]
    assert len(hits) >= len(heard) // 3, heard


def test_a_sentence_the_grammar_does_not_list_comes_back_as_words(engine, say):
    # Which words come back depends on the voice and the decoders' learned means (a listed
    # phrase the sentence was forced onto, or the open pass's guess, marked as such); what must
    # hold is that the caller's speech comes back as words, never as nothing.
    final = _hear(engine, say, "hi i am calling to check on my order", ("order_status", "store_hours") + YES_NO)
    assert final.text and not final.out_of_grammar


MENU = ("order_status", "return_item", "refund_status", "cancel_order", "store_hours", "store_location",
        "billing_issue", "complaint", "agent", "repeat", "help", "goodbye", "start_over")


def _heard_at(engine, say, text, expect, voice, numbers=False):
    recognizer = engine.new_recognizer()
    try:
        return stream(recognizer, say(text, voice=voice), build(GRAMMAR, expect, numbers, (5,), sentences=False))[0]
    finally:
        recognizer.close()


@pytest.mark.parametrize("text, voice", [("i want to speak to a real person", "en-gb"),
                                         ("let me talk to a bloody person", "en-gb"),
                                         ("transfer me to an agent please", "en-us+f3")])
def test_an_escape_is_heard_though_its_first_words_were_taken_for_silence(engine, say, text, voice):
    # The grammar path had these words, but put 200-500 ms of the speech in the leading silence,
    # and the absorbed-speech check made them no-matches: a caller asking for a person, unheard.
    # Which escape comes back may differ ("a bloody agent" for "a bloody person"): any reaches a person.
    final = _heard_at(engine, say, text, MENU, voice)
    search = engine.grammar(build(GRAMMAR, MENU, False, (5,), sentences=False))
    assert not final.out_of_grammar and engine.is_escape(search, final.words), final.text


@pytest.mark.parametrize("text, expect, numbers", [("no", YES_NO, False), ("yes", YES_NO, False),
                                                   ("four eight two one seven", ASK_NUMBER, True)])
def test_answers_are_not_taken_for_escapes(engine, say, text, expect, numbers):
    for voice in ("en-us", "en-gb", "en-us+f3"):
        final = _heard_at(engine, say, text, expect, voice, numbers)
        assert not engine.is_escape(engine.grammar(build(GRAMMAR, expect, numbers, (5,), sentences=False)),
                                    final.words), (voice, final.text)


def test_only_whole_escape_phrases_count_as_escapes(pocketsphinx_engine):
    from app.speech.recognizer import Word
    search = pocketsphinx_engine.grammar(build(GRAMMAR, YES_NO, False, (5,), sentences=False))
    words = lambda text: [Word(w, 0.5, 0.0, 0.1) for w in text.split()]  # noqa: E731
    assert pocketsphinx_engine.is_escape(search, words("customer service"))
    assert pocketsphinx_engine.is_escape(search, words("uh let me talk to a bloody person"))
    assert not pocketsphinx_engine.is_escape(search, words("no"))
    assert not pocketsphinx_engine.is_escape(search, words("talk to a"))
    assert not pocketsphinx_engine.is_escape(None, words("agent"))


def test_only_long_escapes_may_have_more_speech_taken_for_silence(pocketsphinx_engine):
    # A single word heard as "zero" or "human" with 400-470 ms labelled silence was Speech
    # Commands' "dog" and "sheila": those stay out of grammar.
    from app.speech.pocketsphinx import ABSORBED_SPEECH_MS, ESCAPE_ABSORBED_MS
    from app.speech.recognizer import Word
    recognizer = pocketsphinx_engine.new_recognizer()
    recognizer.set_phrases(build(GRAMMAR, MENU, False, (5,), sentences=False))
    words = lambda text: [Word(w, 0.5, 0.0, 0.1) for w in text.split()]  # noqa: E731
    assert recognizer._absorbed_limit(words("i want to speak to a real person")) == ESCAPE_ABSORBED_MS
    assert recognizer._absorbed_limit(words("zero")) == ABSORBED_SPEECH_MS
    assert recognizer._absorbed_limit(words("a real person")) == ABSORBED_SPEECH_MS
    assert recognizer._absorbed_limit(words("where is my order")) == ABSORBED_SPEECH_MS
    recognizer.close()
