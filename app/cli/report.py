"""`ivr report`: the KPIs of the recorded calls, as text or JSON."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Mapping

import click

from app.cli import main
from app.config import Settings, SettingsError

if TYPE_CHECKING:  # SQLAlchemy loads only when a command runs, so `ivr --help` stays fast
    from app.reports.kpis import Kpis
    from app.store.records import SqlCallRecords

# Operator tools never check Twilio signatures; the token is only required by the server.
TOOLS_TOKEN = "not-used-by-operator-tools"
MAX_CALLS = 1_000_000
_DAYS = re.compile(r"^(\d+)d$")


def tool_settings() -> Settings:
    """Settings for operator commands (DATABASE_URL, REDIS_URL...) from the environment."""
    try:
        return Settings.from_env(defaults={"TWILIO_AUTH_TOKEN": TOOLS_TOKEN})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def open_records(settings: Settings) -> "SqlCallRecords":
    """The call records in the configured database."""
    from app.store.database import make_engine
    from app.store.records import SqlCallRecords

    return SqlCallRecords(make_engine(settings.database_url))


def parse_since(raw: str | None, now: datetime) -> datetime | None:
    """`2026-11-01` (UTC midnight) or `7d` (seven days before now); None for all calls."""
    if raw is None:
        return None
    days = _DAYS.match(raw.strip())
    if days:
        return now - timedelta(days=int(days.group(1)))
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2026-11-01 or a span like 7d, got {raw!r}",
                                 param_hint="--since") from None


@main.command("report")
@click.option("--since", help="Only calls started from this day (2026-11-01) or this many days back (7d).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def report(since: str | None, as_json: bool) -> None:
    """KPIs of the recorded calls: containment, transfers, handle time, where callers get stuck."""
    from app.reports.kpis import compute

    start = parse_since(since, datetime.now(timezone.utc))
    records = open_records(tool_settings())
    kpis = compute(records.recent(limit=MAX_CALLS, since=start))
    if as_json:
        click.echo(json.dumps({"since": start.isoformat() if start else None, **kpis.to_dict()}))
    else:
        click.echo(render_text(kpis, start))


def render_text(k: "Kpis", since: datetime | None = None) -> str:
    """The report as plain text for a terminal."""
    head = f"since {since:%Y-%m-%d %H:%M} UTC" if since else "all recorded calls"
    lines = [f"Calls: {k.calls} ended, {k.live} live ({head})"]
    for label, rate, outcome in (("Contained (resolved by the bot)", k.containment_rate, "resolved"),
                                 ("Transferred to a person", k.transfer_rate, "transferred"),
                                 ("Voicemail / callback", k.voicemail_rate, "voicemail"),
                                 ("Abandoned", k.abandonment_rate, "abandoned")):
        lines.append(f"{label + ':':34}{_pct(rate):>7}  ({k.outcomes[outcome]})")
    lines += _counts("Transfer reasons", k.transfer_reasons)
    lines += _counts("Abandoned at", k.abandoned_at)
    lines.append(f"Average handle time: {_duration(k.average_handle_time_s)}")
    lines.append(f"Caller turns per call: {_num(k.turns_per_call)}")
    lines.append(f"No-match: {_pct(k.no_match_rate)} of caller turns; no-input: {_pct(k.no_input_rate)}")
    if k.by_node:
        lines.append("By dialog state:            turns  no-match  no-input")
        lines += [f"  {n.node:24}{n.turns:7}{_pct(n.no_match_rate):>10}{_pct(n.no_input_rate):>10}"
                  for n in k.by_node]
    lines += _counts("Recognizer confidence", dict(k.confidence_histogram), bars=True)
    lines += _counts("Intent mix", k.intent_mix)
    lines += _counts("Input modes", k.input_modes)
    if len(k.languages) > 1:       # a one-language line says nothing
        lines += ["Languages:"] + [f"  {lang:24}{n:7}  contained {_pct(k.containment_by_language[lang])}"
                                    for lang, n in k.languages.items()]
    rating = f"{k.average_satisfaction:.2f} / 5" if k.average_satisfaction is not None else "-"
    lines.append(f"Satisfaction: {rating} ({k.satisfaction_responses} answer(s))")
    return "\n".join(lines)


def _counts(title: str, counts: Mapping[str, int], bars: bool = False) -> list[str]:
    if not any(counts.values()):
        return [f"{title}: -"]
    top = max(counts.values())
    return [f"{title}:"] + [(f"  {key:24}{value:6}  " + ("#" * round(30 * value / top) if bars else "")).rstrip()
                            for key, value in counts.items()]


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
