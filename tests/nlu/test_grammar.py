"""Grammar parsing, expansion and recogniser vocabulary (app/nlu/grammar.py, templates.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.nlu.grammar import Grammar, GrammarError, expand, load_grammar, parse_grammar

GRAMMARS = Path(__file__).resolve().parents[2] / "grammars"
CATALOG = {"order_status", "return_item", "refund_status", "cancel_order", "store_hours", "store_location",
           "billing_issue", "complaint", "agent", "yes", "no", "repeat", "help", "goodbye", "start_over"}

SMALL = """
slots:
  city: [portland, seattle]
  order_number: {complete_at: 5}
macros:
  polite: "[please]"
intents:
  order_status:
    slots: [order_number]
    phrases:
      - "(where is | where's) my order <polite>"
      - "track order {order_number}"
  store_location:
    phrases:
      - "[is there a] store in {city}"
    keywords:
      - "(address | directions)"
      - "where is the store": 3
"""


def small() -> Grammar:
    return parse_grammar([yaml.safe_load(SMALL)])


def test_alternatives_optional_words_and_macros_expand() -> None:
    assert expand(small(), "order_status") == [
        "where is my order", "where is my order please", "track order four eight two one seven"]


def test_slots_are_filled_with_sample_values() -> None:
    assert expand(small(), "store_location") == ["store in portland", "is there a store in portland"]


def test_expand_limit() -> None:
    assert expand(small(), "order_status", limit=1) == ["where is my order"]


def test_parsed_rules_keep_slots_keywords_and_weights() -> None:
    grammar = small()
    assert grammar.slots["city"] == ("portland", "seattle")
    assert grammar.options["order_number"] == {"complete_at": 5}
    rule = grammar.intents["store_location"]
    assert [k.weight for k in rule.keywords] == [None, 3.0]
    assert grammar.intents["order_status"].slots == ("order_number",)


def test_documents_merge_and_word_lists_are_single_words() -> None:
    extra = {"intents": {"order_status": {"phrases": ["order status"]}},
             "fillers": ["um", "uh"], "stopwords": ["i'd"]}
    grammar = parse_grammar([yaml.safe_load(SMALL), extra])
    assert "order status" in expand(grammar, "order_status")
    assert grammar.fillers == {"um", "uh"}
    assert grammar.stopwords == {"i", "would"}  # "i'd" normalises to two words


@pytest.mark.parametrize(("body", "message"), [
    ({"intents": {"help": {"phrases": ["[please help"]}}}, "intent 'help': template '[please help': missing ']'"),
    ({"intents": {"help": {"phrases": ["help me)"]}}}, "unexpected ')'"),
    ({"intents": {"help": {"phrases": ["( | help)"]}}}, "empty alternative"),
    ({"intents": {"help": {"phrases": ["help in {town}"]}}}, "unknown slot {town}"),
    ({"intents": {"help": {"phrases": ["<nice> help"]}}}, "unknown macro <nice>"),
    ({"intents": {"help": {"phrases": "help"}}}, "intent 'help': phrases: expected a list"),
    ({"intents": {"help": {"phrases": [True]}}}, "got True (quote it in the YAML)"),
    ({"intents": {"help": {}}}, "intent 'help': needs a 'phrases' and/or 'keywords' list"),
    ({"intents": {"help": {"phrases": ["help"], "colour": "red"}}}, "unknown key(s): colour"),
    ({"intents": {"help": {"phrases": ["help"], "weight": 0}}}, "weight must be a number"),
    ({"intents": {"help": {"keywords": [{"help": "lots"}]}}}, "a weighted keyword is"),
    ({"intents": {"Help Me": {"phrases": ["help"]}}}, "intent names are lower-case identifiers"),
    ({"intents": {"help": {"phrases": ["help"], "slots": ["town"]}}}, "unknown slot 'town'"),
    ({"macros": {"a": "<b>", "b": "<a>"}, "intents": {"help": {"phrases": ["help"]}}}, "cycle"),
    ({"phrases": ["help"]}, "unknown section(s): phrases"),
    ({}, "grammar defines no intents"),
])
def test_malformed_grammar_errors_name_the_place(body: dict, message: str) -> None:
    with pytest.raises(GrammarError) as raised:
        parse_grammar([body], ["grammars/xx/bad.yaml"])
    assert message in str(raised.value)
    if "defines no intents" not in message:
        assert str(raised.value).startswith("grammars/xx/bad.yaml")


def test_load_grammar_reads_every_yaml_and_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SMALL)
    (tmp_path / "b.yaml").write_text("intents:\n  help:\n    phrases: ['(help']\n")
    with pytest.raises(GrammarError, match=r"b\.yaml: intent 'help': template '\(help': missing '\)'"):
        load_grammar(tmp_path)
    (tmp_path / "b.yaml").write_text("intents:\n  help:\n    phrases: [help, what can i say]\n")
    assert set(load_grammar(tmp_path).intents) == {"order_status", "store_location", "help"}


def test_load_grammar_rejects_invalid_yaml_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(GrammarError, match="no \\*.yaml grammar files"):
        load_grammar(tmp_path)
    (tmp_path / "broken.yaml").write_text("intents: [unclosed\n")
    with pytest.raises(GrammarError, match="broken.yaml: not valid YAML"):
        load_grammar(tmp_path)


def test_english_grammar_covers_the_catalog() -> None:
    grammar = load_grammar(GRAMMARS / "en")
    assert set(grammar.intents) == CATALOG
    assert grammar.slots["city"] == ("portland", "seattle", "denver", "austin", "boston", "chicago")
    assert grammar.intents["agent"].override
    for intent in CATALOG:
        assert expand(grammar, intent, limit=3), intent


