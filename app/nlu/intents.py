"""Intent matching: caller text -> intent, calibrated confidence and slots.

How a turn is matched (everything heavy is precomputed once in `PhraseIndex`):
1. Normalise, drop fillers, mask the order number and city as `{order_number}` / `{city}`.
2. A keyword of an override intent (`agent`) wins at once: callers must always escape.
3. An exact expanded phrase wins (confidence 0.99).
4. A bare slot answer ("it's four eight two one seven") goes to the first expected intent
   that takes the slot, else `none` with the slot (0.95).
5. Otherwise every intent gets a score = phrase similarity + KEYWORD_GAIN x keyword evidence
   (+ EXPECT_BONUS for expected intents, GLOBAL_BONUS for global ones, when something is
   expected). Phrase similarity is rapidfuzz's ratio between the sorted content words
   (stopwords and slot values left out) and every expanded phrase, stretched above chance
   and reduced for each content word that belongs to other intents only. Keyword evidence
   sums the cue phrases found anywhere in the utterance (longer cues weigh more).
6. The winner's features (score, lead over the runner-up, content words the grammar never
   saw -- unless a wildcard cue such as "where are my *" explains them -- and keyword
   evidence) go through a logistic curve, `calibrate`. Its weights, CALIBRATION, are a
   logistic regression of "was the top intent right?" over the dev set and
   tests/nlu/tuning_utterances.tsv (`ivr nlu-eval --fit`), so the confidence is the
   probability of being right and 0.5 is a coin flip. Below 0.5 the answer is `none`, with
   confidence 1 - p: how sure we are that no intent was meant.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from app.nlu.grammar import Grammar
from app.nlu.index import ORDER_SLOT, PhraseIndex, Prepared, sort_key
from app.nlu.numbers import normalize

GLOBAL_INTENTS = ("agent", "repeat", "help", "goodbye", "start_over")
NONE = "none"
KEYWORD_GAIN = 0.3  # one content word of keyword evidence is worth 0.3 of phrase similarity
KEYWORD_CAP = 3.0  # beyond three keyword words more evidence says little
SIMILARITY_FLOOR = 0.5  # ratio below this is chance level between short strings: counts as 0
MARGIN_CAP = 0.3  # a lead bigger than this over the runner-up tells nothing more
FOREIGN_PENALTY = 0.15  # per content word the grammar knows only from other intents ("fee" for repeat)
GENERIC_PENALTY = 0.05  # the same for a word many intents use ("order" for yes)
EXPECT_BONUS = 0.25  # what the dialog expects is likelier: "yeah right" is yes when asked
GLOBAL_BONUS = 0.1  # globals are always welcome, but must not beat a clearly better other intent
# Logistic calibration, fitted offline (see module docstring): bias, score, margin, unknown, keywords.
CALIBRATION = (-1.58, 1.81, 0.77, -1.7, 2.82)
EXACT_CONFIDENCE = 0.99
OVERRIDE_CONFIDENCE = 0.97
ANSWER_CONFIDENCE = 0.95
LOOSE_ANSWER_CONFIDENCE = 0.8


@dataclass(frozen=True)
class Match:
    """What the caller meant: intent, calibrated confidence 0..1, slots, and the input text."""

    intent: str
    confidence: float
    slots: dict[str, str] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class Scored:
    """Per-turn scores before calibration."""

    intent: str
    score: float  # phrase similarity + keyword gain (+ expectation bonus) of the best intent
    margin: float  # lead over the runner-up
    unknown: int  # content words the grammar has never seen
    keywords: float  # the best intent's keyword evidence (capped)


@dataclass(frozen=True)
class Evidence:
    """Keyword evidence of one turn: weight per intent, and intents that matched a wildcard cue."""

    weights: dict[str, float]
    wild: frozenset[str] = frozenset()


def features(scored: Scored) -> tuple[float, ...]:
    """Calibration inputs, in the order of CALIBRATION."""
    return (1.0, scored.score, min(scored.margin, MARGIN_CAP), float(scored.unknown),
            min(scored.keywords, KEYWORD_CAP))


def calibrate(scored: Scored) -> float:
    """Probability that the best-scoring intent is what the caller meant."""
    z = sum(w * x for w, x in zip(CALIBRATION, features(scored)))
    return 1.0 / (1.0 + math.exp(-z))


class Matcher:
    """Matches caller text against one grammar; build once, call `match` per turn."""

    def __init__(self, grammar: Grammar) -> None:
        """Precompute expansions, cue tables and the fuzzy-choice arrays."""
        self.grammar = grammar
        self.index = PhraseIndex(grammar)
        self.intents = list(grammar.intents)
        position = {name: i for i, name in enumerate(self.intents)}
        self._owner = np.array([position[i] for i in self.index.choice_intents], dtype=np.intp)
        self._overrides = {n for n, r in grammar.intents.items() if r.override}
        self._slot_takers = {slot: [n for n, r in grammar.intents.items() if slot in r.slots]
                             for slot in grammar.slots}
        complete = grammar.options.get("order_number", {}).get("complete_at", 5)
        self._complete_at = int(complete)

    @property
    def overrides(self) -> frozenset[str]:
        """Intents that win from anywhere (asking for a person)."""
        return frozenset(self._overrides)

    def match(self, text: str, expect: Sequence[str] = ()) -> Match:
        """Classify one utterance, preferring the expected intents."""
        prepared = self.index.prepare(normalize(text, self.grammar.lang).split())
        evidence = self._evidence(prepared)
        early = self._decide_early(prepared, evidence, expect, text)
        if early is not None:
            return early
        scored = self._score(prepared, evidence, expect)
        probability = calibrate(scored)
        if probability >= 0.5:
            return Match(scored.intent, round(probability, 4), prepared.slots, text)
        if self._takers(prepared.slots, expect) and scored.unknown == 0:
            # "i think it's four eight two one seven": a slot answer in other words.
            return self._answer(prepared, expect, text, LOOSE_ANSWER_CONFIDENCE)
        return Match(NONE, round(1 - probability, 4), prepared.slots, text)

    def _decide_early(self, prepared: Prepared, evidence: Evidence,
                      expect: Sequence[str], text: str) -> Match | None:
        """Decisions that need no scoring: silence, override keywords, exact phrases, bare answers."""
        if not prepared.words:
            return Match(NONE, 1.0, prepared.slots, text)
        override = [i for i in evidence.weights if i in self._overrides]
        if override:  # "agent" from anywhere, whatever else was said
            return Match(override[0], OVERRIDE_CONFIDENCE, prepared.slots, text)
        exact = self.index.exact.get(" ".join(prepared.words))
        if exact:
            return Match(exact, EXACT_CONFIDENCE, prepared.slots, text)
        if prepared.words in self.index.answers:
            return self._answer(prepared, expect, text, ANSWER_CONFIDENCE)
        return None

    def explain(self, text: str, expect: Sequence[str] = ()) -> Scored | None:
        """The uncalibrated scores behind a fuzzy decision; None when no scoring was needed."""
        prepared = self.index.prepare(normalize(text, self.grammar.lang).split())
        evidence = self._evidence(prepared)
        if self._decide_early(prepared, evidence, expect, text) is not None:
            return None
        return self._score(prepared, evidence, expect)

    def _evidence(self, prepared: Prepared) -> Evidence:
        """Keyword evidence per intent, from the words, the content words or the shape."""
        plain = self.index.spot(prepared.words)
        for intent, value in self.index.spot(prepared.core).items():
            plain[intent] = max(value, plain.get(intent, 0.0))
        shaped = self.index.spot(prepared.shape)
        # More from the shape than from the words: a wildcard cue ("where are my *") matched,
        # so this intent explains the unknown words (product names and the like).
        wild = frozenset(i for i, v in shaped.items() if v > plain.get(i, 0.0))
        weights = {i: max(plain.get(i, 0.0), shaped.get(i, 0.0)) for i in {*plain, *shaped}}
        return Evidence(weights, wild)

    def _takers(self, slots: dict[str, str], expect: Sequence[str]) -> list[str]:
        """Expected intents that take one of these slots, in expect order."""
        return [i for i in expect for s in slots if i in self._slot_takers.get(s, ())]

    def _answer(self, prepared: Prepared, expect: Sequence[str], text: str, confidence: float) -> Match:
        """A bare slot answer: the first expected intent taking the slot, else none."""
        takers = self._takers(prepared.slots, expect)
        return Match(takers[0] if takers else NONE, confidence, prepared.slots, text)

    def _score(self, prepared: Prepared, evidence: Evidence, expect: Sequence[str]) -> Scored:
        """Best intent by phrase similarity + keyword evidence (+ expectation bonus)."""
        scores = self._similarity(prepared.core)
        for i, name in enumerate(self.intents):
            scores[i] += KEYWORD_GAIN * min(evidence.weights.get(name, 0.0), KEYWORD_CAP)
            if expect:
                scores[i] += EXPECT_BONUS if name in expect else GLOBAL_BONUS if name in GLOBAL_INTENTS else 0.0
        order = np.argsort(scores)[::-1]
        best, second = scores[order[0]], scores[order[1]] if len(order) > 1 else 0.0
        winner = self.intents[order[0]]
        unknown = 0 if winner in evidence.wild else self.index.unknown_words(prepared.core)
        return Scored(winner, float(best), float(best - second), unknown, evidence.weights.get(winner, 0.0))

    def _similarity(self, core: Sequence[str]) -> np.ndarray:
        """Per intent, the best token-sort similarity (0..1) of the content words to a phrase.

        An intent whose phrases share no content word with the utterance scores 0, so
        a lookalike sentence about something else cannot ride on shared function words.
        """
        scores = np.zeros(len(self.intents))
        known = [w for w in core if w in self.index.vocabulary]
        if len(known) < 2 and not any(w not in self.index.generic for w in known):
            return scores  # one word every intent uses ("what", "how"): fuzzy would only guess
        raw = process.cdist([sort_key(core)], self.index.choice_keys, scorer=fuzz.ratio, workers=1)[0]
        np.maximum.at(scores, self._owner, raw / 100.0)
        # Stretch above chance: one extra short word costs ~12% ratio but ~25% here.
        scores = np.clip((scores - SIMILARITY_FLOOR) / (1 - SIMILARITY_FLOOR), 0.0, 1.0)
        self._adjust(scores, core, known)
        return scores

    def _adjust(self, scores: np.ndarray, core: Sequence[str], known: Sequence[str]) -> None:
        """Exact content-word matches count fully; words of other intents count against."""
        exact = self.index.core_exact.get(" ".join(core), set())
        for i, name in enumerate(self.intents):
            own = self.index.intent_words[name]
            if name in exact:
                scores[i] = 1.0
            elif not own.intersection(core):
                scores[i] = 0.0
            else:
                foreign = sum(GENERIC_PENALTY if w in self.index.generic else FOREIGN_PENALTY
                              for w in known if w not in own)
                scores[i] = max(0.0, scores[i] - foreign)

    def is_complete(self, partial_text: str, expect: Sequence[str] = ()) -> bool:
        """True when partial recogniser text is already a whole expected answer (ends the turn early).

        Complete means: an order number of `complete_at` digits (grammar option, default 5)
        while an intent taking it is expected, or an exact phrase of an expected intent or
        of an override intent ("agent").
        """
        prepared = self.index.prepare(normalize(partial_text, self.grammar.lang).split())
        number = prepared.slots.get("order_number", "")
        if number and len(number) >= self._complete_at and self._takers({"order_number": number}, expect):
            return prepared.words[-1] == ORDER_SLOT
        exact = self.index.exact.get(" ".join(prepared.words))
        return bool(exact) and (exact in expect or exact in self._overrides)
