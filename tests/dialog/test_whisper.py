"""The agent's whisper: about ten seconds, who / what / order / why, one quote at most."""
from __future__ import annotations

import pytest

from app.dialog.events import CallStarted, OrderLookedUp
from app.dialog.flow import step
from app.dialog.state import CallState
from app.dialog.summary import render, whisper
from tests.dialog.shipped_words import EN
from tests.dialog.test_flow import DELAYED, JANE, SHIPPED, TODAY, heard, transfer_of


def handed_over(*events, customer=None, caller=None):
    if caller is None:      # a customer calls from their phone; "" is a withheld number, kept as given
        caller = customer.phone if customer else "+15550123"
    state, actions = step(CallState("CA1"), CallStarted("CA1", caller, "", customer, None, TODAY))
    for event in events:
        state, actions = step(state, event)
    return transfer_of(actions).summary


def test_a_known_caller_with_an_order_is_said_once_each():
    summary = handed_over(heard("order_status", words="where is my order"),
                          heard("none", 0.95, "it's four eight two one seven", order_number="48217"),
                          OrderLookedUp("48217", SHIPPED), heard("agent"), customer=JANE)
    assert whisper(summary, EN) == "Jane Doe, about order status. Order 48217, on its way. Reason: asked for a person."
    # The call page keeps the detail the whisper leaves out.
    assert 'Said: "agent"' in render(summary) and "Bot told them: order 48217 is on its way" in render(summary)


def test_words_that_add_something_are_quoted_when_heard_surely():
    summary = handed_over(heard("billing_issue", 0.9, "i was charged twice for one jacket"))
    assert whisper(summary, EN) == ('Unknown caller, about a billing problem. Reason: billing question. '
                                'Said: "i was charged twice for one jacket".')


def test_a_mishearing_is_not_quoted():
    summary = handed_over(heard("billing_issue", 0.3, "eye wash charge tries"))
    assert whisper(summary, EN) == "Unknown caller, about a billing problem. Reason: billing question."


@pytest.mark.parametrize("words", ["agent", "it's four eight two one seven", "yes please", "order status"])
def test_words_that_add_nothing_are_not_quoted(words):
    summary = handed_over(heard("order_status", words="where is my order"),
                          heard("none", 0.99, words, order_number="10347"), OrderLookedUp("10347", DELAYED),
                          heard("agent", 0.99, words))
    assert "Said" not in whisper(summary, EN)


def test_one_quote_at_most_the_most_telling():
    summary = handed_over(heard("none", 0.9, "what's the weather like"),
                          heard("none", 0.9, "my parcel came soaked and torn open"))
    said = whisper(summary, EN)
    assert said.count("Said:") == 1 and '"my parcel came soaked and torn open"' in said


def test_a_caller_without_a_number_is_number_withheld():
    summary = handed_over(heard("agent"), caller="")
    assert whisper(summary, EN) == "Caller number withheld. Reason: asked for a person."


@pytest.mark.parametrize("events", [
    (heard("complaint", 0.9, "this is the third time my tent came broken and nobody called"),),
    (heard("order_status", 0.9, "where is my order"), heard("none", 0.9, "one oh three four seven", order_number="10347"),
     OrderLookedUp("10347", DELAYED), heard("none", 0.9, "the tent was for a trip this weekend"),
     heard("none", 0.9, "this is useless")),
], ids=["complaint", "delayed order"])
def test_a_full_whisper_takes_about_ten_seconds_to_say(events):
    from app.dialog.wording import speakable
    from app.speech.tts import synthesize

    pcm, rate = synthesize(speakable(whisper(handed_over(*events, customer=JANE), EN)))
    assert len(pcm) / 2 / rate <= 11.0
