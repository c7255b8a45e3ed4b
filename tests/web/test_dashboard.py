"""The KPI dashboard through Flask's test client, and the chart geometry it draws from."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from flask import Flask
from flask.testing import FlaskClient

from app.web.dashboard import bars, buckets, percent, seconds, stack
from tests.web.conftest import AGENT_TOKEN, TRANSFERRED, MemoryRecords

CHART_IDS = ("outcomes", "transfer-reasons", "handle-time", "turns", "satisfaction",
             "no-match", "no-input", "confidence", "intents", "input-modes")


def _recent_calls(memory_records: MemoryRecords) -> None:
    """Move the sample calls into the dashboard's default period (it counts back from now)."""
    shift = datetime.now(timezone.utc) - TRANSFERRED.started_at - timedelta(hours=1)
    memory_records.calls = [replace(c, started_at=c.started_at + shift,
                                    ended_at=c.ended_at and c.ended_at + shift,
                                    turns=tuple(replace(t, at=t.at + shift) for t in c.turns))
                            for c in memory_records.calls]


def test_bars_scale_to_the_largest_value_or_to_full() -> None:
    chart = bars("x", "X", [("a_b", 2), ("c", 4)])
    assert [(b.label, b.fraction, b.text) for b in chart.bars] == [("a b", 0.5, "2"), ("c", 1.0, "4")]
    assert [b.fraction for b in bars("r", "R", [("a", 0.25)], full=1.0).bars] == [0.25]
    assert [b.fraction for b in bars("z", "Z", [("a", 0), ("b", 0)]).bars] == [0.0, 0.0]


def test_stack_shares_start_where_the_previous_ends() -> None:
    chart = stack("o", "O", {"resolved": 3, "transferred": 1, "abandoned": 0})
    assert [(b.fraction, b.start, b.text) for b in chart.bars] == [(0.75, 0.0, "75%"), (0.25, 0.75, "25%"),
                                                                    (0.0, 1.0, "0%")]
    assert all(b.fraction == 0 for b in stack("e", "E", {"resolved": 0}).bars)


def test_buckets_and_formats() -> None:
    edges = ((30, "<30s"), (60, "30-60s"), (None, "more"))
    assert buckets([5, 30, 31, 600], edges) == [("<30s", 2), ("30-60s", 1), ("more", 1)]
    assert (percent(None), percent(0.456), seconds(None), seconds(95.4)) == ("—", "46%", "—", "1:35")


def test_dashboard_draws_every_kpi_chart(agent: FlaskClient, memory_records: MemoryRecords) -> None:
    _recent_calls(memory_records)
    html = agent.get("/dashboard").get_data(as_text=True)
    for chart_id in CHART_IDS:
        assert f'<svg class="chart' in html and f'id="chart-{chart_id}"' in html, chart_id
    tile = re.search(r'id="tile-transfer"><div class="value">([^<]+)<', html).group(1)
    assert tile == "100%"                         # the one ended call was transferred
    assert re.search(r'id="tile-live"><div class="value">1<', html)
    assert "asked for a person" in html and "order status" in html
    # Charts drawn on the server; the one script is the desk's own (local times), nothing inline.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/agent/static/agent.js" defer>']
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_dashboard_with_no_calls_still_renders(agent: FlaskClient, memory_records: MemoryRecords) -> None:
    memory_records.calls = []
    response = agent.get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'id="tile-containment"><div class="value">—<', html)
    assert "No data yet." in html                 # e.g. no transfer reasons to chart


def test_dashboard_period(agent: FlaskClient, memory_records: MemoryRecords) -> None:
    now = datetime.now(timezone.utc)
    memory_records.calls = [replace(TRANSFERRED, call_sid="CAold", started_at=now - timedelta(days=20),
                                    ended_at=now - timedelta(days=20) + timedelta(seconds=60)),
                            replace(TRANSFERRED, call_sid="CAnew", started_at=now - timedelta(days=3),
                                    ended_at=now - timedelta(days=3) + timedelta(seconds=60))]
    week = agent.get("/dashboard.json?days=7").get_json()
    assert week["days"] == 7 and week["kpis"]["calls"] == 1
    assert agent.get("/dashboard.json").get_json()["kpis"]["calls"] == 2        # 30 days by default
    assert agent.get("/dashboard.json?days=12345").get_json()["days"] == 30     # unknown period


def test_dashboard_json_for_a_token_holder(agent_app: Flask, memory_records: MemoryRecords) -> None:
    _recent_calls(memory_records)
    client = agent_app.test_client()
    assert client.get("/dashboard.json").status_code == 401
    body = client.get("/dashboard.json", headers={"Authorization": f"Bearer {AGENT_TOKEN}"}).get_json()
    assert body["kpis"]["transfer_rate"] == 1.0 and body["kpis"]["live"] == 1
    assert body["kpis"]["transfer_reasons"] == {"asked for a person": 1}


def test_what_callers_asked_for_shows_intents_and_input_modes_apart(agent: FlaskClient,
                                                                    memory_records: MemoryRecords) -> None:
    from app.reports.kpis import compute

    from tests.web.conftest import TRANSFERRED, turn

    keyed = replace(TRANSFERRED, call_sid="CA3333", turns=(
        turn(0, "", None, None, "Thanks for calling."), turn(5, "where is my order", "order_status", 0.9, "Number?"),
        turn(9, "48217", "keypad", None, "Is it 48217?"), turn(12, "yes", "yes", 0.9, "Shipped."),
        turn(20, "", "no_input", None, "Anything else?"), turn(26, "no", "no", 0.9, "Goodbye.")))
    memory_records.calls.append(keyed)
    _recent_calls(memory_records)
    turns = [t for c in memory_records.calls for t in c.turns if t.intent]
    kpis = compute(memory_records.calls)
    assert not set(kpis.intent_mix) & {"keypad", "no_input", "message", "yes", "no"}
    assert kpis.input_modes["keys"] == sum(t.intent == "keypad" for t in turns)
    html = agent.get("/dashboard").get_data(as_text=True)
    asked = html.split('id="chart-intents"', 1)[1].split("</svg>", 1)[0]
    answered = html.split('id="chart-input-modes"', 1)[1].split("</svg>", 1)[0]
    assert ">keypad<" not in asked and ">yes<" not in asked and ">keys<" in answered
    assert 'id="chart-rates"' not in html and "Containment, transfers, abandonment" not in html


def test_dashboard_charts_calls_per_language_when_callers_used_several(agent: FlaskClient,
                                                                       memory_records: MemoryRecords) -> None:
    _recent_calls(memory_records)
    assert 'id="chart-languages"' not in agent.get("/dashboard").get_data(as_text=True)   # one language
    french = replace(memory_records.calls[0], call_sid="CAfr", lang="fr", outcome="resolved")
    memory_records.calls = memory_records.calls + [french]
    html = agent.get("/dashboard").get_data(as_text=True)
    assert 'id="chart-languages"' in html and 'id="chart-language-containment"' in html
    assert agent.get("/dashboard.json").get_json()["kpis"]["languages"] == {"en": 1, "fr": 1}
