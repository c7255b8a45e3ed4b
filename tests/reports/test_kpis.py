"""KPI arithmetic over hand-made records: every figure checked against its definition."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.reports.kpis import compute
from app.store.records import CallRecord, TurnRecord

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


def turn(node: str, intent: str | None, confidence: float | None = None, text: str = "x") -> TurnRecord:
    return TurnRecord(T0, node, text, intent, confidence, None, "bot")


def call(sid: str, outcome: str, seconds: float | None, turns: tuple[TurnRecord, ...] = (),
         reason: str = "", satisfaction: int | None = None) -> CallRecord:
    ended = T0 + timedelta(seconds=seconds) if seconds is not None else None
    return CallRecord(sid, T0, ended, "+15550100", "", "en", outcome, reason, "", "", "", "", satisfaction, turns)


GREETING = turn("start", None, text="")
CALLS = [
    call("CA1", "resolved", 60, (GREETING, turn("menu", "store_hours", 0.95), turn("anything_else", "no", 0.85)),
         satisfaction=5),
    call("CA2", "transferred", 30, (GREETING, turn("menu", "none", 0.35), turn("menu", "none", 0.42)),
         reason="not understood twice"),
    call("CA3", "transferred", 20, (GREETING, turn("menu", "agent", 1.0)), reason="asked for a person",
         satisfaction=2),
    call("CA4", "abandoned", 10, (GREETING, turn("collect_order", "no_input", text=""))),
    call("CA5", "voicemail", 40, (GREETING, turn("collect_order", "keypad", text="48217"),
                                  turn("voicemail", "message", text="call me"))),
    call("CA6", "", None, (GREETING, turn("menu", "order_status", 0.7))),     # live: only counted as live
]


def test_outcome_rates_count_ended_calls_only() -> None:
    k = compute(CALLS)
    assert (k.calls, k.live) == (5, 1)
    assert k.outcomes == {"resolved": 1, "transferred": 2, "voicemail": 1, "abandoned": 1}
    assert (k.containment_rate, k.transfer_rate, k.voicemail_rate, k.abandonment_rate) == (0.2, 0.4, 0.2, 0.2)
    assert k.transfer_reasons == {"not understood twice": 1, "asked for a person": 1}


def test_handle_time_and_turns_per_call() -> None:
    k = compute(CALLS)
    assert k.average_handle_time_s == 32.0                 # (60 + 30 + 20 + 10 + 40) / 5
    assert k.caller_turns == 8 and k.turns_per_call == 8 / 5   # the greetings are not caller turns


def test_no_match_and_no_input_overall_and_per_state() -> None:
    k = compute(CALLS)
    assert k.no_match_rate == 2 / 8 and k.no_input_rate == 1 / 8
    rates = {n.node: (n.turns, n.no_match, n.no_input) for n in k.by_node}
    assert rates == {"menu": (4, 2, 0), "anything_else": (1, 0, 0), "collect_order": (2, 0, 1), "voicemail": (1, 0, 0)}
    assert k.by_node[0].node == "menu" and k.by_node[0].no_match_rate == 0.5
    assert k.by_node[1].node == "collect_order" and k.by_node[1].no_input_rate == 0.5


def test_confidence_histogram_and_intent_mix() -> None:
    k = compute(CALLS)
    histogram = dict(k.confidence_histogram)
    assert list(histogram) == [f"{i / 10:.1f}-{(i + 1) / 10:.1f}" for i in range(10)]
    assert (histogram["0.3-0.4"], histogram["0.4-0.5"], histogram["0.8-0.9"], histogram["0.9-1.0"]) == (1, 1, 1, 2)
    assert sum(histogram.values()) == 5                      # speech turns only; 1.0 lands in the last bucket
    assert k.intent_mix == {"none": 2, "store_hours": 1, "agent": 1}     # what they asked for
    assert k.input_modes == {"speech": 5, "keys": 1, "silence": 1, "voicemail message": 1}   # how they answered


def test_satisfaction_average_and_counts() -> None:
    k = compute(CALLS)
    assert (k.average_satisfaction, k.satisfaction_responses) == (3.5, 2)
    assert k.satisfaction_counts == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}


def test_no_calls_gives_no_rates_instead_of_dividing_by_zero() -> None:
    k = compute([])
    assert (k.calls, k.containment_rate, k.average_handle_time_s, k.turns_per_call) == (0, None, None, None)
    assert (k.no_match_rate, k.average_satisfaction, k.by_node) == (None, None, ())


def test_to_dict_is_json_ready() -> None:
    import json
    data = json.loads(json.dumps(compute(CALLS).to_dict()))
    assert data["by_node"][0] == {"node": "menu", "turns": 4, "no_match": 2, "no_input": 0,
                                  "no_match_rate": 0.5, "no_input_rate": 0.0}
    assert data["confidence_histogram"]["0.9-1.0"] == 2 and data["satisfaction_counts"]["5"] == 1


def test_calls_and_containment_per_language() -> None:
    from dataclasses import replace
    french = [replace(call("CA7", "resolved", 30), lang="fr"), replace(call("CA8", "transferred", 30), lang="fr")]
    k = compute(CALLS + french)
    assert k.languages == {"en": 5, "fr": 2}
    assert k.containment_by_language == {"en": 1 / 5, "fr": 1 / 2}


def test_the_text_report_lists_languages_only_when_there_are_several() -> None:
    from dataclasses import replace
    from app.cli.report import render_text
    assert "Languages" not in render_text(compute(CALLS))
    text = render_text(compute(CALLS + [replace(call("CA7", "resolved", 30), lang="fr")]))
    assert "Languages:" in text and "contained 100.0%" in text.split("Languages:")[1]
