"""The grammars the bundled recognizer is given: exact-length numbers, every escape, a domain model.

Real decoding of synthesized callers through the telephone path (see conftest.say)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.nlu.grammar import load_grammar
from app.nlu.speech_phrases import build, sample_sentences
from app.speech.pocketsphinx import _jsgf, _number_rules
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
    rules = _number_rules((5,))
    assert "<digit> <digit> <digit> <digit> <digit>" in rules
    assert "double <digit> <digit> <digit> <digit>" in rules and "triple <digit> <digit> <digit>" in rules
    assert "<digit>+" not in _jsgf(["{digits}"], (), (5,))


@pytest.mark.parametrize("text,digits", [("four eight two one seven", "four eight two one seven"),
                                         ("it is three oh five one two", "three oh five one two"),
                                         ("double four eight one oh", "double four eight one oh")])
def test_order_numbers_are_heard_as_five_digits(engine, say, text, digits):
    final = _hear(engine, say, text, ASK_NUMBER, numbers=True)
    assert final.text.endswith(digits)


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en-us+f3"])
@pytest.mark.parametrize("text", ["operator", "representative", "customer service",
                                  "i want to speak to a real person", "let me talk to a bloody person"])
def test_escapes_are_heard_at_a_yes_no_question(engine, say, text, voice):
    assert _hear(engine, say, text, YES_NO, voice=voice).text == text


def test_a_sentence_the_grammar_does_not_list_comes_from_the_domain_model(engine, say):
    final = _hear(engine, say, "hi i am calling to check on my order", ("order_status", "store_hours") + YES_NO)
    assert "order" in final.text.split() and not final.out_of_grammar
