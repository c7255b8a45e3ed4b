"""French: normalisation, spoken order numbers, and accuracy on the French development set."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.nlu.evaluation import evaluate, parse_examples
from app.nlu.grammar import load_grammar
from app.nlu.intents import Matcher
from app.nlu.numbers import extract_order_number, normalize, spell_digits

ROOT = Path(__file__).resolve().parents[2]
FR_DEV = Path(__file__).resolve().parent / "fr_dev_utterances.tsv"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_grammar(ROOT / "grammars" / "fr", "fr"))


@pytest.mark.parametrize(("text", "expected"), [
    ("Qu'est-ce que vous pouvez faire ?", "qu est ce que vous pouvez faire"),
    ("S’il vous plaît", "s il vous plaît"),
    ("Où EN est ma commande", "où en est ma commande"),
])
def test_french_normalisation_keeps_accents_and_splits_elisions(text: str, expected: str) -> None:
    assert normalize(text, "fr") == expected


@pytest.mark.parametrize(("text", "digits"), [
    ("quatre huit deux un sept", "48217"),                       # digit by digit
    ("quarante-huit, vingt et un, sept", "48217"),               # in pairs
    ("quarante-huit mille deux cent dix-sept", "48217"),         # the whole number
    ("euh c'est le trois zéro cinq... un deux", "30512"),        # fillers and zero
    ("sept sept deux zero un", "77201"),                         # zero typed without its accent
    ("soixante-dix-sept deux cent un", "77201"),
])
def test_french_order_numbers(text: str, digits: str) -> None:
    assert extract_order_number(text, "fr") == digits


def test_french_articles_are_not_order_numbers() -> None:
    assert extract_order_number("je voudrais un conseiller pour une commande", "fr") is None


def test_digits_read_back_in_french() -> None:
    assert spell_digits("48217", "fr") == "quatre huit deux un sept"
    assert spell_digits("30512", "fr") == "trois zéro cinq un deux"


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no spoken-number support for language 'xx'"):
        normalize("hola", "xx")


def test_french_development_set_meets_the_thresholds(matcher: Matcher) -> None:
    examples = parse_examples(FR_DEV.read_text(encoding="utf-8").splitlines(), str(FR_DEV))
    report = evaluate(matcher, examples)
    misses = "\n".join(f"{e.text!r}: {e.intent} {e.slots} -> {m.intent} {m.slots}" for e, m in report.errors)
    assert report.total >= 100
    assert {e.intent for e in examples} == {
        "order_status", "return_item", "refund_status", "cancel_order", "store_hours", "store_location",
        "billing_issue", "complaint", "agent", "yes", "no", "repeat", "help", "goodbye", "start_over", "none"}
    assert report.intent_accuracy >= 0.97, misses
    assert report.slot_accuracy >= 0.95, misses


def test_same_intent_catalog_as_english() -> None:
    english = load_grammar(ROOT / "grammars" / "en")
    french = load_grammar(ROOT / "grammars" / "fr", "fr")
    assert set(french.intents) == set(english.intents)
    assert french.slots["city"] == english.slots["city"]


def test_asking_for_a_person_wins_from_anywhere_in_french(matcher: Matcher) -> None:
    match = matcher.match("c'est pour ma commande mais passez-moi un conseiller", ("order_status",))
    assert match.intent == "agent"
