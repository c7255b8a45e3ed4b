"""KPIs over call records: pure computation, no I/O (the CLI and the dashboard render them).

Definitions (over ended calls; live calls are only counted in `live`):
- containment: resolved by the bot / all ended calls; transfer and abandonment likewise.
- abandoned at: where abandoned callers hung up: talking to the bot, or during a transfer
  (while the agent's phone rang, or while the agent heard the whisper).
- handle time: from the call's start to the moment the bot finished with it (hand-off or end).
- caller turns: turns with a caller input (speech, keys, a silent window, a voicemail).
- no-match: speech turns whose intent is "none"; no-input: silent windows (intent "no_input");
  both as a share of the caller turns at that dialog state.
- confidence: of speech turns, in ten buckets of 0.1; intent mix: speech intents plus "keypad".
- languages: ended calls per language (the one each call ended in), and containment in each.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Iterable, Mapping

from app.store.records import KEYPAD, MESSAGE, NO_INPUT, NO_MATCH, OUTCOMES, CallRecord, TurnRecord

CONFIDENCE_BUCKETS = 10
BOT_STAGE = "talking to the bot"
# Turn markers and answers that are how a caller replied, not what they asked for.
NOT_REQUESTS = (KEYPAD, NO_INPUT, MESSAGE, "yes", "no")


@dataclass(frozen=True)
class NodeRates:
    """How callers fared at one dialog state."""

    node: str
    turns: int
    no_match: int
    no_input: int

    @property
    def no_match_rate(self) -> float:
        """Share of caller turns here that were not understood."""
        return self.no_match / self.turns if self.turns else 0.0

    @property
    def no_input_rate(self) -> float:
        """Share of caller turns here that were silent."""
        return self.no_input / self.turns if self.turns else 0.0


@dataclass(frozen=True)
class Kpis:
    """The figures that say whether the bot helps; rates are None when there is nothing to divide."""

    calls: int
    live: int
    outcomes: Mapping[str, int]
    containment_rate: float | None
    transfer_rate: float | None
    abandonment_rate: float | None
    voicemail_rate: float | None
    transfer_reasons: Mapping[str, int]
    average_handle_time_s: float | None
    turns_per_call: float | None
    caller_turns: int
    no_match_rate: float | None
    no_input_rate: float | None
    by_node: tuple[NodeRates, ...]
    confidence_histogram: tuple[tuple[str, int], ...]
    intent_mix: Mapping[str, int]          # what callers asked for (not how they answered)
    average_satisfaction: float | None
    satisfaction_responses: int
    satisfaction_counts: Mapping[int, int] = field(default_factory=dict)
    abandoned_at: Mapping[str, int] = field(default_factory=dict)
    input_modes: Mapping[str, int] = field(default_factory=dict)   # speech, keys, silence, messages
    languages: Mapping[str, int] = field(default_factory=dict)     # ended calls per language
    containment_by_language: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready data (`ivr report --json`)."""
        data = asdict(self)
        data["by_node"] = [{**asdict(n), "no_match_rate": n.no_match_rate, "no_input_rate": n.no_input_rate}
                           for n in self.by_node]
        data["confidence_histogram"] = dict(self.confidence_histogram)
        data["satisfaction_counts"] = {str(k): v for k, v in self.satisfaction_counts.items()}
        return data


def compute(records: Iterable[CallRecord]) -> Kpis:
    """All KPIs over these call records."""
    records = list(records)
    ended = [c for c in records if c.outcome]
    caller_turns = [t for c in ended for t in c.turns if is_caller_turn(t)]
    outcomes = {o: sum(c.outcome == o for c in ended) for o in OUTCOMES}
    ratings = [c.satisfaction for c in ended if c.satisfaction is not None]
    return Kpis(
        calls=len(ended), live=len(records) - len(ended),
        outcomes=outcomes,
        containment_rate=_share(outcomes["resolved"], len(ended)),
        transfer_rate=_share(outcomes["transferred"], len(ended)),
        abandonment_rate=_share(outcomes["abandoned"], len(ended)),
        voicemail_rate=_share(outcomes["voicemail"], len(ended)),
        transfer_reasons=_most_common(c.transfer_reason or "unknown" for c in ended if c.outcome == "transferred"),
        average_handle_time_s=_mean(c.duration_s for c in ended if c.duration_s is not None),
        turns_per_call=_share(len(caller_turns), len(ended)),
        caller_turns=len(caller_turns),
        no_match_rate=_share(sum(t.intent == NO_MATCH for t in caller_turns), len(caller_turns)),
        no_input_rate=_share(sum(t.intent == NO_INPUT for t in caller_turns), len(caller_turns)),
        by_node=node_rates(caller_turns),
        confidence_histogram=confidence_histogram(caller_turns),
        intent_mix=_most_common(t.intent for t in caller_turns if t.intent not in NOT_REQUESTS),
        input_modes=input_modes(caller_turns),
        average_satisfaction=_mean(ratings), satisfaction_responses=len(ratings),
        satisfaction_counts={r: ratings.count(r) for r in range(1, 6)},
        abandoned_at=_most_common(c.abandoned_at or BOT_STAGE for c in ended if c.outcome == "abandoned"),
        languages=_most_common(c.lang for c in ended),
        containment_by_language=containment_by_language(ended),
    )


def containment_by_language(ended: list[CallRecord]) -> dict[str, float]:
    """Share of each language's ended calls the bot resolved itself."""
    langs = _most_common(c.lang for c in ended)
    return {lang: sum(c.outcome == "resolved" for c in ended if c.lang == lang) / n for lang, n in langs.items()}


def input_modes(turns: list[TurnRecord]) -> dict[str, int]:
    """How callers answered: speaking, keys, silence, a voicemail message."""
    modes = {KEYPAD: "keys", NO_INPUT: "silence", MESSAGE: "voicemail message"}
    counted = Counter(modes.get(t.intent or "", "speech") for t in turns)
    return {mode: counted[mode] for mode in ("speech", "keys", "silence", "voicemail message") if counted[mode]}


def is_caller_turn(turn: TurnRecord) -> bool:
    """A turn answering something the caller did (not one the bot started on its own)."""
    return turn.intent is not None


def node_rates(turns: list[TurnRecord]) -> tuple[NodeRates, ...]:
    """No-match and no-input per dialog state, worst no-match first."""
    by_node: dict[str, list[TurnRecord]] = {}
    for turn in turns:
        by_node.setdefault(turn.node, []).append(turn)
    rates = [NodeRates(node, len(ts), sum(t.intent == NO_MATCH for t in ts), sum(t.intent == NO_INPUT for t in ts))
             for node, ts in by_node.items()]
    return tuple(sorted(rates, key=lambda r: (-r.no_match_rate, -r.no_input_rate, r.node)))


def confidence_histogram(turns: list[TurnRecord]) -> tuple[tuple[str, int], ...]:
    """Counts of speech-turn confidences in buckets 0.0-0.1 ... 0.9-1.0 (1.0 in the last)."""
    counts = [0] * CONFIDENCE_BUCKETS
    for turn in turns:
        if turn.confidence is not None and turn.intent not in (KEYPAD, NO_INPUT, MESSAGE):
            index = min(int(max(turn.confidence, 0.0) * CONFIDENCE_BUCKETS), CONFIDENCE_BUCKETS - 1)
            counts[index] += 1
    step = 1 / CONFIDENCE_BUCKETS
    return tuple((f"{i * step:.1f}-{(i + 1) * step:.1f}", n) for i, n in enumerate(counts))


def _share(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return fmean(values) if values else None


def _most_common(values: Iterable[str | None]) -> dict[str, int]:
    return dict(Counter(v for v in values if v is not None).most_common())
