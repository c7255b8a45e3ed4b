"""KPI dashboard: the figures of app.reports.kpis as server-drawn SVG charts (nothing fetched from outside)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Mapping

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from app.reports.kpis import Kpis, compute, is_caller_turn
from app.store.records import CallRecord
from app.web.auth import agent_json, agent_page

dashboard = Blueprint("dashboard", __name__, template_folder="templates")
MAX_LABEL = 28
PERIODS = {1: "last 24 hours", 7: "last 7 days", 30: "last 30 days", 90: "last 90 days"}
DEFAULT_DAYS = 30
# Enough for a busy line's month; the page says when the figures are over a truncated set.
MAX_CALLS = 20_000
HANDLE_BUCKETS = ((30, "<30s"), (60, "30-60s"), (120, "1-2m"), (300, "2-5m"), (None, "5m+"))
TURN_BUCKETS = ((1, "1"), (2, "2"), (3, "3"), (4, "4"), (6, "5-6"), (9, "7-9"), (None, "10+"))


@dataclass(frozen=True)
class Bar:
    """One bar: `fraction` is its length (0..1), `start` where it begins in a stacked bar."""

    label: str
    value: float
    text: str
    fraction: float
    start: float = 0.0


@dataclass(frozen=True)
class Chart:
    """A chart to draw: kind is 'bars' (horizontal), 'columns' (histogram) or 'stack' (shares)."""

    id: str
    title: str
    kind: str
    bars: tuple[Bar, ...]
    note: str = ""


@dataclass(frozen=True)
class Tile:
    """A headline figure."""

    id: str
    label: str
    value: str


def _label(text: str) -> str:
    text = str(text).replace("_", " ")
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def bars(chart_id: str, title: str, items: Iterable[tuple[str, float]],
         fmt: Callable[[float], str] = lambda v: f"{v:g}", kind: str = "bars", note: str = "",
         full: float | None = None) -> Chart:
    """Bars scaled to `full` (default: the largest value); all zeros draw empty tracks."""
    pairs = [(str(k), float(v)) for k, v in items]
    top = full if full is not None else max((v for _, v in pairs), default=0.0)
    return Chart(chart_id, title, kind, tuple(
        Bar(_label(k), v, fmt(v), v / top if top > 0 else 0.0) for k, v in pairs), note)


def stack(chart_id: str, title: str, counts: Mapping[str, float], note: str = "") -> Chart:
    """One bar split into the shares of a whole (outcomes of all calls, say)."""
    total = float(sum(counts.values()))
    parts, start = [], 0.0
    for key, count in counts.items():
        share = count / total if total else 0.0
        parts.append(Bar(_label(key), float(count), f"{share:.0%}", share, start))
        start += share
    return Chart(chart_id, title, "stack", tuple(parts), note)


def percent(value: float | None) -> str:
    """A rate as a percentage ('—' when there were no calls to compute it from)."""
    return "—" if value is None else f"{value:.0%}"


def seconds(value: float | None) -> str:
    """A duration as m:ss."""
    if value is None:
        return "—"
    whole = int(round(value))
    return f"{whole // 60}:{whole % 60:02d}"


def buckets(values: Iterable[float], edges: tuple[tuple[float | None, str], ...]) -> list[tuple[str, int]]:
    """Counts of values per bucket; a bucket holds values up to its edge (None: the rest)."""
    counts = {label: 0 for _, label in edges}
    for value in values:
        label = next(lbl for edge, lbl in edges if edge is None or value <= edge)
        counts[label] += 1
    return list(counts.items())


def tiles(k: Kpis) -> list[Tile]:
    """The headline figures."""
    rating = f"{k.average_satisfaction:.1f} / 5" if k.average_satisfaction is not None else "—"
    return [
        Tile("calls", "calls ended", str(k.calls)), Tile("live", "live now", str(k.live)),
        Tile("containment", "contained (resolved by the bot)", percent(k.containment_rate)),
        Tile("transfer", "transferred to a person", percent(k.transfer_rate)),
        Tile("abandonment", "abandoned", percent(k.abandonment_rate)),
        Tile("handle-time", "average handle time", seconds(k.average_handle_time_s)),
        Tile("turns", "caller turns per call", "—" if k.turns_per_call is None else f"{k.turns_per_call:.1f}"),
        Tile("satisfaction", f"satisfaction ({k.satisfaction_responses} answers)", rating),
    ]


def charts(k: Kpis, calls: list[CallRecord]) -> list[Chart]:
    """Every KPI chart, in reading order."""
    return _call_charts(k, [c for c in calls if c.outcome]) + _turn_charts(k)


def _call_charts(k: Kpis, ended: list[CallRecord]) -> list[Chart]:
    """How calls ended, why they went to a person, how long they took."""
    return [
        stack("outcomes", "How calls ended", k.outcomes),
        bars("transfer-reasons", "Why calls went to a person", k.transfer_reasons.items()),
        bars("handle-time", "Handle time", buckets(
            (c.duration_s for c in ended if c.duration_s is not None), HANDLE_BUCKETS), kind="columns",
            note=f"Average {seconds(k.average_handle_time_s)}."),
        bars("turns", "Caller turns per call", buckets(
            (sum(map(is_caller_turn, c.turns)) for c in ended), TURN_BUCKETS), kind="columns",
            note="Average " + ("—" if k.turns_per_call is None else f"{k.turns_per_call:.1f}") + "."),
        bars("satisfaction", "Satisfaction (keypad 1-5)",
             [(str(r), k.satisfaction_counts.get(r, 0)) for r in range(1, 6)], kind="columns",
             note=f"{k.satisfaction_responses} answers."),
    ]


def _turn_charts(k: Kpis) -> list[Chart]:
    """Where callers get stuck, how sure the recognizer was, what callers asked for."""
    return [
        bars("no-match", "Not understood, by dialog state", [(n.node, n.no_match_rate) for n in k.by_node],
             fmt=percent, full=1.0, note=f"Overall {percent(k.no_match_rate)} of caller turns."),
        bars("no-input", "Silence, by dialog state", [(n.node, n.no_input_rate) for n in k.by_node],
             fmt=percent, full=1.0, note=f"Overall {percent(k.no_input_rate)} of caller turns."),
        bars("confidence", "Recognition confidence", k.confidence_histogram, kind="columns",
             note="Speech turns by the confidence of what was understood."),
        bars("intents", "What callers asked for", k.intent_mix.items()),
        bars("input-modes", "How callers answered", k.input_modes.items(),
             note="Caller turns by how they came: speech, keys, silence, a voicemail message."),
    ] + _language_charts(k)


def _language_charts(k: Kpis) -> list[Chart]:
    """Calls and containment per language, where callers used more than one."""
    if len(k.languages) < 2:
        return []
    return [bars("languages", "Calls by language", k.languages.items(),
                 note="Contained: " + ", ".join(f"{lang} {percent(rate)}"
                                               for lang, rate in k.containment_by_language.items()) + "."),
            bars("language-containment", "Contained by the bot, by language",
                 k.containment_by_language.items(), fmt=percent, full=1.0)]


def _period() -> tuple[int, datetime]:
    """The days asked for in ?days= (one of PERIODS) and the moment they start."""
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else DEFAULT_DAYS
    return days, datetime.now(timezone.utc) - timedelta(days=days)


def _calls(since: datetime) -> list[CallRecord]:
    return current_app.extensions["ivr"].records.recent(limit=MAX_CALLS, since=since)


@dashboard.get("/dashboard")
@agent_page
def page() -> str:
    """KPI tiles and charts over the calls of a period."""
    days, since = _period()
    calls = _calls(since)
    kpis = compute(calls)
    return render_template("dashboard.html", tiles=tiles(kpis), charts=charts(kpis, calls),
                           days=days, periods=PERIODS, truncated=len(calls) >= MAX_CALLS)


@dashboard.get("/dashboard.json")
@agent_json
def page_json() -> Response:
    """The dashboard's figures as JSON (the same as `ivr report --json`), for other tools."""
    days, since = _period()
    return jsonify(days=days, since=since.isoformat(), kpis=compute(_calls(since)).to_dict())
