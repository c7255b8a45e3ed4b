"""Intent matching: exact, keyword and fuzzy paths, expectations, slots, calibration (app/nlu/intents.py)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from app.nlu.grammar import load_grammar, parse_grammar
from app.nlu.intents import GLOBAL_INTENTS, Match, Matcher, Scored, calibrate

GRAMMARS = Path(__file__).resolve().parents[2] / "grammars"
YES_NO = ("yes", "no")


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_grammar(GRAMMARS / "en"))


def test_global_intents_constant() -> None:
    assert GLOBAL_INTENTS == ("agent", "repeat", "help", "goodbye", "start_over")


def test_match_returns_text_intent_confidence_and_slots(matcher: Matcher) -> None:
    match = matcher.match("Where's my order?")
    assert match == Match("order_status", 0.99, {}, "Where's my order?")


@pytest.mark.parametrize(("text", "intent"), [
    ("yeah right", "yes"), ("sure", "yes"), ("yep that's it", "yes"), ("uh huh", "yes"),
    ("i guess so", "yes"), ("nah", "no"), ("nope not really", "no"), ("no that's wrong", "no"),
])
def test_yes_no_answers_when_a_question_was_asked(matcher: Matcher, text: str, intent: str) -> None:
    assert matcher.match(text, YES_NO).intent == intent


def test_expected_intents_win_close_calls(matcher: Matcher) -> None:
    text = "i'd like to cancel and get a refund"
    assert matcher.match(text).intent == "cancel_order"
    assert matcher.match(text, ("refund_status",)).intent == "refund_status"


def test_a_global_intent_is_still_heard_while_something_else_is_expected(matcher: Matcher) -> None:
    assert matcher.match("can you say that again", YES_NO).intent == "repeat"
    assert matcher.match("i want to start over", ("order_status",)).intent == "start_over"


@pytest.mark.parametrize("text", [
    "agent", "representative", "human", "operator", "a real person", "talk to someone",
    "no i want to talk to an agent", "where is my order just give me a representative",
    "i want to speak to a human about my refund", "cancel that and get me an operator",
    "can i speak to someone about my bill", "yes operator please", "customer service representative",
    "your service is terrible let me talk to a real person", "um uh agent",
])
def test_asking_for_a_person_always_reaches_an_agent(matcher: Matcher, text: str) -> None:
    for expect in ((), YES_NO, ("order_status",), ("store_hours", "store_location")):
        assert matcher.match(text, expect).intent == "agent", (text, expect)


@pytest.mark.parametrize("text", [
    "what's the weather like", "i'd like to order a pizza", "tell me a joke", "book me a flight to paris",
    "what is the capital of france", "play some music", "how are you today", "where are you from",
    "the quick brown fox jumps over the lazy dog", "i need a plumber", "what time is it",
])
def test_out_of_domain_requests_are_none(matcher: Matcher, text: str) -> None:
    match = matcher.match(text)
    assert match.intent == "none", match
    assert match.confidence > 0.5


@pytest.mark.parametrize("text", ["", "   ", "um", "uh uh"])
def test_silence_and_fillers_are_none(matcher: Matcher, text: str) -> None:
    assert matcher.match(text) == Match("none", 1.0, {}, text)


def test_bare_order_number_without_context_is_none_with_the_slot(matcher: Matcher) -> None:
    match = matcher.match("it's four eight two one seven")
    assert (match.intent, match.slots) == ("none", {"order_number": "48217"})


@pytest.mark.parametrize(("expect", "intent"), [
    (("order_status",), "order_status"),
    (("yes", "cancel_order", "order_status"), "cancel_order"),
    (("refund_status", "return_item"), "refund_status"),
])
def test_bare_order_number_goes_to_the_first_expected_order_intent(matcher: Matcher, expect: tuple, intent: str) -> None:
    for text in ("it's four eight two one seven", "four eight two one seven", "48217",
                 "um the order number is four eight two one seven", "i think it is four eight two one seven"):
        match = matcher.match(text, expect)
        assert (match.intent, match.slots) == (intent, {"order_number": "48217"}), text


def test_bare_city_goes_to_the_expected_store_intent(matcher: Matcher) -> None:
    assert matcher.match("seattle").intent == "none"
    match = matcher.match("the one in seattle please", ("store_location",))
    assert (match.intent, match.slots) == ("store_location", {"city": "seattle"})


@pytest.mark.parametrize(("text", "intent", "slots"), [
    ("track my order four eight two one seven", "order_status", {"order_number": "48217"}),
    ("cancel order three oh five one two", "cancel_order", {"order_number": "30512"}),
    ("what time does the seattle store close", "store_hours", {"city": "seattle"}),
    ("is there a store in Portland?", "store_location", {"city": "portland"}),
    ("do you have a store in seatle", "store_location", {"city": "seattle"}),
    ("what's the weather in denver", "none", {"city": "denver"}),
    ("i want to settle my bill", "billing_issue", {}),
])
def test_slots_are_extracted_for_any_intent(matcher: Matcher, text: str, intent: str, slots: dict) -> None:
    match = matcher.match(text)
    assert (match.intent, match.slots) == (intent, slots)


def test_wildcard_keywords_accept_product_names(matcher: Matcher) -> None:
    assert matcher.match("hi this is mike calling to see where my headphones are").intent == "order_status"
    assert matcher.match("can i return a blender without the receipt").intent == "return_item"


def test_confidence_is_a_probability_ordered_by_evidence(matcher: Matcher) -> None:
    exact = matcher.match("where is my order").confidence
    paraphrase = matcher.match("any idea when my parcel gets here").confidence
    weak = matcher.match("do you ship to canada").confidence
    assert 1.0 >= exact >= paraphrase > weak >= 0.0
    assert matcher.match("where is my order").intent == "order_status"


def test_calibration_is_monotone_and_a_coin_flip_is_the_floor() -> None:
    def p(score: float, margin: float = 0.2, unknown: int = 0, keywords: float = 0.0) -> float:
        return calibrate(Scored("x", score, margin, unknown, keywords))
    assert p(0.2) < p(0.5) < p(0.8) < p(1.2)
    assert p(0.8, unknown=2) < p(0.8, unknown=1) < p(0.8)
    assert p(0.8, margin=0.0) < p(0.8, margin=0.3)
    assert p(0.3, keywords=0.0) < p(0.3, keywords=1.0)
    assert p(0.0, margin=0.0) < 0.5 < p(1.0, margin=0.3)


def test_none_confidence_says_how_sure_nothing_was_meant(matcher: Matcher) -> None:
    gibberish = matcher.match("banana telescope purple")
    borderline = matcher.match("i have a question")
    assert gibberish.intent == borderline.intent == "none"
    assert gibberish.confidence > borderline.confidence > 0.5


@pytest.mark.parametrize(("text", "expect", "complete"), [
    ("four eight two one seven", ("order_status",), True),
    ("it is four eight two one seven", ("cancel_order",), True),
    ("four eight two one", ("order_status",), False),
    ("four eight two one seven", (), False),
    ("four eight two one seven and", ("order_status",), False),
    ("yes", YES_NO, True),
    ("no", YES_NO, True),
    ("ye", YES_NO, False),
    ("yes", (), False),
    ("agent", YES_NO, True),
    ("where is my", ("order_status",), False),
])
def test_is_complete(matcher: Matcher, text: str, expect: tuple, complete: bool) -> None:
    assert matcher.is_complete(text, expect) is complete


def test_inline_grammar_is_enough_to_match() -> None:
    grammar = parse_grammar([yaml.safe_load("""
slots: {city: [portland]}
intents:
  store_hours:
    slots: [city]
    phrases: ["what are your hours [in {city}]", "when do you open"]
    keywords: ["(hours | open)"]
  agent:
    override: true
    phrases: [agent]
    keywords: ["(agent | human)"]
""")])
    matcher = Matcher(grammar)
    assert matcher.match("what are your hours in portland") == Match(
        "store_hours", 0.99, {"city": "portland"}, "what are your hours in portland")
    assert matcher.match("hours please i need a human").intent == "agent"
    assert matcher.match("when do you guys open").intent == "store_hours"


def test_match_is_fast(matcher: Matcher) -> None:
    texts = ["where is my order", "i placed an order last week and i still haven't received it",
             "um yeah so the jacket i bought doesn't fit and i'd like to send it back for a refund",
             "what's the weather like", "it's four eight two one seven"]
    matcher.match("warm up")
    start = time.perf_counter()
    for _ in range(40):
        for text in texts:
            matcher.match(text, YES_NO)
    per_call_ms = (time.perf_counter() - start) * 1000 / 200
    assert per_call_ms < 5.0
