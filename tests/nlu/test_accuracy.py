"""Accuracy thresholds on the development set and the held-out set (these can really fail)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.nlu.evaluation import Example, evaluate, fit_calibration, parse_examples, reliability
from app.nlu.grammar import load_grammar
from app.nlu.intents import Matcher

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "eval" / "dev_utterances.tsv"
HELDOUT = Path(__file__).resolve().parent / "heldout_utterances.tsv"
TUNING = Path(__file__).resolve().parent / "tuning_utterances.tsv"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_grammar(ROOT / "grammars" / "en"))


def _examples(path: Path) -> list[Example]:
    return parse_examples(path.read_text(encoding="utf-8").splitlines(), str(path))


def _dev_path() -> Path:
    # The shared development set lives beside the repository; CI clones keep it there too.
    assert DEV.exists(), f"missing development set {DEV}"
    return DEV


@pytest.mark.parametrize("path", [pytest.param("dev", id="dev"), pytest.param(HELDOUT, id="heldout"),
                                  pytest.param(TUNING, id="tuning")])
def test_accuracy_thresholds(matcher: Matcher, path: Path | str) -> None:
    examples = _examples(_dev_path() if path == "dev" else path)
    report = evaluate(matcher, examples)
    misses = "\n".join(f"{e.text!r}: {e.intent} {e.slots} -> {m.intent} {m.slots}" for e, m in report.errors)
    assert report.intent_accuracy >= 0.97, misses
    assert report.slot_accuracy >= 0.95, misses
    assert report.slot_lines_right >= 0.95 * report.slot_lines, misses


def test_heldout_set_is_big_and_covers_every_intent() -> None:
    examples = _examples(HELDOUT)
    assert len(examples) >= 150
    assert {e.intent for e in examples} == {
        "order_status", "return_item", "refund_status", "cancel_order", "store_hours", "store_location",
        "billing_issue", "complaint", "agent", "yes", "no", "repeat", "help", "goodbye", "start_over", "none"}


def test_parse_examples_rejects_malformed_lines() -> None:
    assert parse_examples(["# comment", "", "hi\tnone\t{}"]) == [Example("hi", "none", {})]
    with pytest.raises(ValueError, match="examples:1: expected text<TAB>intent<TAB>slots"):
        parse_examples(["just text"])
    with pytest.raises(ValueError, match="f.tsv:2: slots are not JSON"):
        parse_examples(["a\tnone\t{}", "b\tnone\t{oops"], "f.tsv")


def test_calibration_fit_and_reliability(matcher: Matcher) -> None:
    examples = _examples(TUNING)
    weights = fit_calibration(matcher, examples)
    assert len(weights) == 5
    bias, score, _margin, unknown, keywords = weights
    assert score > 0 and keywords > 0 and unknown < 0 and bias < 0
    table = reliability(matcher, _examples(HELDOUT))
    assert sum(count for _, count, _, _ in table) == len(_examples(HELDOUT))
    top = table[-1]
    assert top[0] >= 0.8 and top[3] >= 0.9  # confident answers are mostly right
