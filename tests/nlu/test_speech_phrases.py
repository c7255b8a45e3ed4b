"""Recognizer phrase lists from the grammars: short, slot-aware, digits only where expected."""
from __future__ import annotations

from pathlib import Path

from app.nlu.grammar import load_grammar
from app.nlu.speech_phrases import DIGITS, speech_phrases

GRAMMARS = Path(__file__).resolve().parents[2] / "grammars" / "en"
MENU = ("order_status", "return_item", "refund_status", "cancel_order", "store_hours",
        "store_location", "billing_issue", "complaint", "agent")


def test_menu_phrases_are_bounded_unique_and_slot_free() -> None:
    phrases = speech_phrases(load_grammar(GRAMMARS), MENU)
    assert len(phrases) == len(set(phrases)) <= 300
    assert {"where is my order", "agent"} <= set(phrases)
    assert not any("{" in p or "*" in p for p in phrases)


def test_cities_are_spelled_into_phrases() -> None:
    phrases = speech_phrases(load_grammar(GRAMMARS), ("store_location",))
    assert any("seattle" in p for p in phrases) and any("boston" in p for p in phrases)


def test_digit_runs_only_where_a_number_is_expected() -> None:
    grammar = load_grammar(GRAMMARS)
    asking = speech_phrases(grammar, ("order_status", "yes"), numbers=True)
    assert asking[0] == DIGITS and any(p.endswith(DIGITS) and p != DIGITS for p in asking)
    assert not any(DIGITS in p for p in speech_phrases(grammar, ("yes", "no")))


def test_yes_no_lists_stay_small() -> None:
    phrases = speech_phrases(load_grammar(GRAMMARS), ("yes", "no"), limit=50)
    assert {"yes", "no"} <= set(phrases) and len(phrases) <= 50


def test_escapes_are_never_capped_and_come_whole() -> None:
    from app.nlu.speech_phrases import build, expansions
    grammar = load_grammar(GRAMMARS)
    spec = build(grammar, ("yes", "no"), numbers=False, number_lengths=(5,), sentences=False, limit=5)
    assert len(spec.phrases) <= 5
    heard = set(expansions(spec.escapes))
    for phrase in ("agent", "operator", "representative", "human", "customer service",
                   "i want to speak to a real person", "let me talk to a bloody person",
                   "can i speak to somebody"):
        assert phrase in heard, phrase


def test_number_format_travels_with_the_listening_point() -> None:
    from app.nlu.speech_phrases import build
    grammar = load_grammar(GRAMMARS)
    asking = build(grammar, ("order_status",), numbers=True, number_lengths=(4, 5), sentences=True)
    assert asking.number_lengths == (4, 5) and DIGITS in asking.phrases and asking.sentences
    menu = build(grammar, ("order_status",), numbers=False, number_lengths=(5,), sentences=True)
    assert menu.number_lengths == () and DIGITS not in menu.phrases


def test_domain_sentences_cover_every_intent_and_are_reproducible() -> None:
    from app.nlu.speech_phrases import sample_sentences
    grammar = load_grammar(GRAMMARS)
    sentences = sample_sentences(grammar, per_intent=40)
    assert sentences == sample_sentences(grammar, per_intent=40)
    words = {w for s in sentences for w in s.split()}
    assert {"order", "refund", "hours", "agent", "portland", "seven"} <= words
    assert not any("{" in s or "*" in s for s in sentences)
