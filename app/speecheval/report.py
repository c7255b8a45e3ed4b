"""Figures from speech-eval outcomes: per recording set, dialog state and line condition."""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from app.speecheval.runner import (ASKED_AGAIN, RIGHT_FIRST, RIGHT_READ_BACK, WRONG_ACTED, WRONG_READ_BACK,
                                   Outcome)

NUMBER_OUTCOMES = (RIGHT_FIRST, RIGHT_READ_BACK, WRONG_READ_BACK, WRONG_ACTED, ASKED_AGAIN)


@dataclass(frozen=True)
class Figures:
    """Aggregates of one group of outcomes."""

    group: str
    count: int
    intent_accuracy: float
    numbers: dict[str, int]           # number outcome -> count (items with an order number)
    no_match_rate: float              # turns heard as "none"
    no_input_rate: float              # turns taken for silence
    cpu_per_audio_s: float            # live-path CPU seconds per second of caller audio
    latency_p50_ms: float | None      # end of the caller's words -> first reply audio

    @property
    def number_right(self) -> float | None:
        """Share of order numbers right first time or after one read-back."""
        total = sum(self.numbers.values())
        return (self.numbers[RIGHT_FIRST] + self.numbers[RIGHT_READ_BACK]) / total if total else None

    @property
    def wrong_acted(self) -> float | None:
        """Share of order numbers where a wrong number was acted on without a read-back."""
        total = sum(self.numbers.values())
        return self.numbers[WRONG_ACTED] / total if total else None

    def as_dict(self) -> dict:
        """JSON-ready."""
        return {"group": self.group, "count": self.count, "intent_accuracy": round(self.intent_accuracy, 4),
                "numbers": self.numbers, "number_right": _round(self.number_right),
                "wrong_number_acted": _round(self.wrong_acted), "no_match_rate": round(self.no_match_rate, 4),
                "no_input_rate": round(self.no_input_rate, 4), "cpu_per_audio_s": round(self.cpu_per_audio_s, 3),
                "latency_p50_ms": _round(self.latency_p50_ms, 1)}


def figures(group: str, outcomes: Sequence[Outcome]) -> Figures:
    """The figures of one group (must not be empty)."""
    n = len(outcomes)
    numbers = {name: 0 for name in NUMBER_OUTCOMES}
    for outcome in outcomes:
        if outcome.number_outcome:
            numbers[outcome.number_outcome] += 1
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    audio = sum(o.audio_s for o in outcomes) or 1.0
    return Figures(group, n, sum(o.intent_right for o in outcomes) / n, numbers,
                   sum(o.intent == "none" for o in outcomes) / n, sum(o.no_input for o in outcomes) / n,
                   sum(o.cpu_s for o in outcomes) / audio,
                   statistics.median(latencies) if latencies else None)


def grouped(outcomes: Iterable[Outcome]) -> list[Figures]:
    """Figures per set / state / condition, then per set, then over everything."""
    outcomes = list(outcomes)
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[f"{o.item.set_name} / {o.item.state} / {o.item.condition}"].append(o)
        groups[f"{o.item.set_name} (all)"].append(o)
    rows = [figures(name, members) for name, members in sorted(groups.items())]
    return rows + ([figures("ALL", outcomes)] if outcomes else [])


def render(rows: Sequence[Figures]) -> str:
    """A plain-text table, one line a group."""
    lines = [f"{'group':58} {'n':>4} {'intent':>7} {'number':>7} {'wrongact':>8} {'nomatch':>7} "
             f"{'noinput':>7} {'cpu/s':>6} {'p50ms':>6}"]
    for r in rows:
        lines.append(f"{r.group[:58]:58} {r.count:4d} {r.intent_accuracy:7.1%} {_pct(r.number_right):>7} "
                     f"{_pct(r.wrong_acted):>8} {r.no_match_rate:7.1%} {r.no_input_rate:7.1%} "
                     f"{r.cpu_per_audio_s:6.3f} {_num(r.latency_p50_ms):>6}")
    return "\n".join(lines)


def misses(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per wrong item: what was said and what the bot did."""
    return [f"MISS {o.item.set_name} {o.item.state} {o.item.path.name} said={o.item.text!r} "
            f"expected={o.item.intent} {o.item.number} got={o.intent} number={o.number!r} "
            f"{o.number_outcome} no_input={o.no_input}"
            for o in outcomes if not o.intent_right]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
