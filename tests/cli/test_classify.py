"""`ivr classify` and `ivr nlu-eval` through click's CliRunner."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]
GRAMMARS = ["--grammars-dir", str(ROOT / "grammars")]


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_classify_writes_one_exact_json_line_per_input_line() -> None:
    code, out, _ = run(["classify", *GRAMMARS],
                       "where is my order\n\nit's four eight two one seven\nI want a REAL person!\nhelp\r\n")
    assert code == 0
    assert out.splitlines() == [
        '{"text": "where is my order", "intent": "order_status", "confidence": 0.99, "slots": {}}',
        '{"text": "", "intent": "none", "confidence": 1.0, "slots": {}}',
        '{"text": "it\'s four eight two one seven", "intent": "none", "confidence": 0.95, '
        '"slots": {"order_number": "48217"}}',
        '{"text": "I want a REAL person!", "intent": "agent", "confidence": 0.97, "slots": {}}',
        '{"text": "help", "intent": "help", "confidence": 0.99, "slots": {}}',
    ]


def test_classify_fields_types_and_rounding() -> None:
    code, out, _ = run(["classify", "--lang", "en", *GRAMMARS],
                       "is there a store in portland\nwhat's the weather like\nyeah right\n")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in records] == ["is there a store in portland", "what's the weather like", "yeah right"]
    assert [r["intent"] for r in records] == ["store_location", "none", "yes"]
    assert records[0]["slots"] == {"city": "portland"}
    for record in records:
        assert list(record) == ["text", "intent", "confidence", "slots"]
        assert 0.0 <= record["confidence"] <= 1.0
        assert round(record["confidence"], 3) == record["confidence"]


def test_classify_expect_option_prefers_expected_intents() -> None:
    code, out, _ = run(["classify", "--expect", "order_status", *GRAMMARS], "four eight two one seven\n")
    assert code == 0
    assert json.loads(out) == {"text": "four eight two one seven", "intent": "order_status",
                               "confidence": 0.95, "slots": {"order_number": "48217"}}


def test_classify_no_input_writes_nothing() -> None:
    assert run(["classify", *GRAMMARS], "") == (0, "", "")


def test_unknown_language_is_a_clear_usage_error() -> None:
    code, out, err = run(["classify", "--lang", "xx", *GRAMMARS], "hello\n")
    assert code == 2
    assert out == ""
    assert "no grammar for language 'xx'" in err and "available: en" in err


def test_broken_grammar_is_reported(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "bad.yaml").write_text("intents:\n  help:\n    phrases: ['[help']\n")
    code, _, err = run(["classify", "--grammars-dir", str(tmp_path)], "help\n")
    assert code == 1
    assert "bad.yaml: intent 'help': template '[help': missing ']'" in err


def test_nlu_eval_prints_accuracy_and_misses(tmp_path: Path) -> None:
    data = tmp_path / "set.tsv"
    data.write_text("# text\tintent\tslots\nwhere is my order\torder_status\t{}\n"
                    "track order four eight two one seven\torder_status\t{\"order_number\": \"48217\"}\n"
                    "help\tgoodbye\t{}\n")
    code, out, _ = run(["nlu-eval", str(data), *GRAMMARS])
    assert code == 0
    assert "intent accuracy: 66.7% (2/3)" in out
    assert "slot accuracy:   100.0% (3/3); on lines with slots 1/1" in out
    assert "MISS 'help': expected goodbye {}, got help 0.99 {}" in out


def test_nlu_eval_rejects_a_malformed_file(tmp_path: Path) -> None:
    data = tmp_path / "bad.tsv"
    data.write_text("no tabs here\n")
    code, _, err = run(["nlu-eval", str(data), *GRAMMARS])
    assert code == 1
    assert "bad.tsv:1: expected text<TAB>intent<TAB>slots" in err
