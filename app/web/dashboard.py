"""KPI dashboard: the figures of app.reports.kpis as server-drawn SVG charts (nothing fetched from outside)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from flask import Blueprint, current_app, render_template

from app.web.auth import agent_page

dashboard = Blueprint("dashboard", __name__, template_folder="templates")
MAX_LABEL = 28


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
         fmt: Callable[[float], str] = lambda v: f"{v:g}", kind: str = "bars", note: str = "") -> Chart:
    """Bars scaled to the largest value (a chart of all zeros draws empty tracks)."""
    pairs = [(str(k), float(v)) for k, v in items]
    top = max((v for _, v in pairs), default=0.0)
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


@dashboard.get("/dashboard")
@agent_page
def page() -> str:
    """KPI tiles and charts over the recorded calls."""
    return render_template("dashboard.html", tiles=[], charts=[], calls=0)
