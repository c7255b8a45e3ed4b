"""Accuracy of a matcher on labelled utterances, and the fit of its confidence curve."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.nlu.intents import Match, Matcher, features


@dataclass(frozen=True)
class Example:
    """One labelled utterance: text, intent and slots."""

    text: str
    intent: str
    slots: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """How a matcher did on a set of examples."""

    total: int
    intents_right: int
    slots_right: int
    slot_lines: int
    slot_lines_right: int
    errors: tuple[tuple[Example, Match], ...]

    @property
    def intent_accuracy(self) -> float:
        """Share of utterances with the right intent."""
        return self.intents_right / self.total if self.total else 0.0

    @property
    def slot_accuracy(self) -> float:
        """Share of utterances whose slots are exactly right (no slot expected counts too)."""
        return self.slots_right / self.total if self.total else 0.0


def parse_examples(lines: Iterable[str], origin: str = "examples") -> list[Example]:
    """Examples from TSV lines `text<TAB>intent<TAB>slots JSON`; '#' lines are comments."""
    examples = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.rstrip("\r\n").split("\t")
        if len(cells) != 3:
            raise ValueError(f"{origin}:{number}: expected text<TAB>intent<TAB>slots")
        try:
            slots = json.loads(cells[2]) if cells[2].strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"{origin}:{number}: slots are not JSON: {exc}") from exc
        examples.append(Example(cells[0], cells[1], slots))
    return examples


def evaluate(matcher: Matcher, examples: Sequence[Example]) -> Report:
    """Intent and slot accuracy, with the misclassified examples."""
    errors = []
    intents_right = slots_right = slot_lines_right = 0
    for example in examples:
        match = matcher.match(example.text)
        intents_right += match.intent == example.intent
        slots_right += match.slots == example.slots
        slot_lines_right += bool(example.slots) and match.slots == example.slots
        if match.intent != example.intent or match.slots != example.slots:
            errors.append((example, match))
    slot_lines = sum(1 for e in examples if e.slots)
    return Report(len(examples), intents_right, slots_right, slot_lines, slot_lines_right, tuple(errors))


def fit_calibration(matcher: Matcher, examples: Sequence[Example], l2: float = 1.0, steps: int = 30) -> tuple[float, ...]:
    """Logistic-regression weights (bias, score, margin, unknown, keywords) for `intents.CALIBRATION`.

    Each example's top fuzzy-scored intent is labelled right or wrong; a light L2 penalty
    keeps the weights sane on a few hundred examples.
    """
    rows, labels = [], []
    for example in examples:
        scored = matcher.explain(example.text)
        if scored is None:  # decided by an exact phrase or keyword override: not on the curve
            continue
        rows.append(features(scored))
        labels.append(1.0 if scored.intent == example.intent else 0.0)
    x, y = np.array(rows), np.array(labels)
    weights = np.zeros(x.shape[1])
    ridge = np.diag([0.0] + [l2] * (x.shape[1] - 1))  # the bias is not shrunk
    for _ in range(steps):  # Newton's method: a tiny convex problem, no extra dependency
        p = 1.0 / (1.0 + np.exp(-x @ weights))
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + ridge
        weights -= np.linalg.solve(hessian, x.T @ (p - y) + ridge @ weights)
    return tuple(round(float(w), 2) for w in weights)


def reliability(matcher: Matcher, examples: Sequence[Example], bins: int = 5) -> list[tuple[float, int, float, float]]:
    """Per confidence bin: (bin floor, count, mean confidence, accuracy) of the final answers."""
    table: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for example in examples:
        match = matcher.match(example.text)
        index = min(int(match.confidence * bins), bins - 1)
        table[index].append((match.confidence, match.intent == example.intent))
    return [(i / bins, len(b), float(np.mean([c for c, _ in b])), float(np.mean([r for _, r in b])))
            for i, b in enumerate(table) if b]

