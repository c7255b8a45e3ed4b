"""`ivr report` after a set of scripted calls shows the KPIs those calls imply (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from app.cli import main
from app.cli.report import parse_since
from app.factory import build_services
from app.store.sessions import MemorySessions
from tests.callrun import demo_settings, run_call
from tests.conftest import TODAY

HANG_UP = {"name": "hangs up unserved", "steps": [{"say": "where is my order"}, {"expect_outcome": "hangup"}]}
# Outcomes these imply: resolved 2, transferred 3 (one reason each), voicemail 1, abandoned 1.
CALLS = ["store_hours.yaml", "order_status_then_person.yaml", "no_input_twice.yaml", "no_match_twice.yaml",
         "voicemail.yaml", HANG_UP, "survey/rating_after_store_hours.yaml"]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that has seen the scripted calls above (the survey is on)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ivr.db"
    else:
        url = request.getfixturevalue("postgres_server").new_database("report")
    services = build_services(demo_settings(url, survey=True), MemorySessions(), today=lambda: TODAY)
    for call in CALLS:
        run_call(services, call)
    return url


def report(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["report", *args], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    return result.output


def test_json_report_shows_what_the_calls_imply(database_url: str) -> None:
    k = json.loads(report(database_url, "--json"))
    assert (k["calls"], k["live"], k["since"]) == (7, 0, None)
    assert k["outcomes"] == {"resolved": 2, "transferred": 3, "voicemail": 1, "abandoned": 1}
    assert k["containment_rate"] == pytest.approx(2 / 7) and k["transfer_rate"] == pytest.approx(3 / 7)
    assert k["abandonment_rate"] == pytest.approx(1 / 7)
    assert k["transfer_reasons"] == {"asked for a person": 1, "silent twice": 1, "not understood twice": 1}
    # caller turns: hours 3, order 4, silence 2, not understood 2, voicemail 3, hang-up 1, rating 3
    assert k["caller_turns"] == 18 and k["turns_per_call"] == pytest.approx(18 / 7)
    assert k["no_match_rate"] == pytest.approx(2 / 18) and k["no_input_rate"] == pytest.approx(3 / 18)
    menu = next(n for n in k["by_node"] if n["node"] == "menu")
    assert (menu["turns"], menu["no_match"], menu["no_input"]) == (8, 2, 2)
    assert k["by_node"][0]["node"] == "menu"                      # where callers get stuck most
    assert k["intent_mix"] == {"store_hours": 3, "order_status": 3, "none": 2, "agent": 1}
    assert k["input_modes"]["keys"] == 2
    assert sum(k["confidence_histogram"].values()) == 12          # the spoken turns
    assert (k["average_satisfaction"], k["satisfaction_responses"]) == (4.0, 1)
    assert k["average_handle_time_s"] > 0


def test_text_report_names_every_figure(database_url: str) -> None:
    text = report(database_url)
    assert text.startswith("Calls: 7 ended, 0 live (all recorded calls)")
    for line in ("Contained (resolved by the bot):    28.6%  (2)", "Transferred to a person:            42.9%  (3)",
                 "Abandoned:                          14.3%  (1)", "  silent twice                 1",
                 "Caller turns per call: 2.6", "No-match: 11.1% of caller turns; no-input: 16.7%",
                 "Satisfaction: 4.00 / 5 (1 answer(s))", "Average handle time: 0:0",
                 "  menu                          8     25.0%     25.0%", "  0.9-1.0                     12  ###",
                 "  0.0-0.1                      0\n"):
        assert line in text, f"{line!r} missing from:\n{text}"


def test_since_leaves_out_older_calls(database_url: str) -> None:
    assert json.loads(report(database_url, "--json", "--since", "7d"))["calls"] == 7
    assert json.loads(report(database_url, "--json", "--since", "2999-01-01"))["calls"] == 0


def test_since_parses_days_and_dates() -> None:
    now = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
    assert parse_since("7d", now) == datetime(2026, 11, 14, 12, tzinfo=timezone.utc)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert parse_since(None, now) is None
    with pytest.raises(click.BadParameter):
        parse_since("last week", now)


def test_a_bad_since_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--since", "yesterday"],
                                env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.exit_code == 2 and "--since" in result.output
