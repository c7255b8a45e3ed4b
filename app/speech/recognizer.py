"""The recognizer contract every speech engine adapter implements, plus shared helpers."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence, runtime_checkable

log = logging.getLogger(__name__)

# Out-of-grammar marker: speech that matched none of the expected phrases. Engines map their own
# garbage/unknown tokens to it, so callers can tell "said something else" from "said nothing".
UNK = "[unk]"


class EngineError(RuntimeError):
    """A speech engine cannot be chosen or loaded; the message is one line that says what to do."""


@dataclass(frozen=True)
class Word:
    """One recognised word with its confidence (0..1) and times in seconds from utterance start."""

    text: str
    confidence: float
    start: float
    end: float


@dataclass(frozen=True)
class Result:
    """A partial or final hypothesis. `text` never contains [unk]; `words` may (out-of-grammar)."""

    text: str
    final: bool
    confidence: float
    words: tuple[Word, ...] = ()
    # The words come from an open pass (a language model), not from the listed phrases: they are
    # the engine's best guess at a sentence the grammar does not hold, and may be invented.
    open_words: bool = False

    @property
    def out_of_grammar(self) -> bool:
        """True when the caller spoke but nothing matched the expected phrases."""
        return any(w.text == UNK for w in self.words)


@runtime_checkable
class Recognizer(Protocol):
    """One per call: streams 8 kHz 16-bit mono PCM in, hypotheses out."""

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        """Restrict decoding to these phrases plus an out-of-grammar path; None = free decoding."""

    def accept(self, pcm16_8k: bytes) -> Result | None:
        """Feed audio; return a partial (final=False) when the hypothesis changed, else None."""

    def finish(self) -> Result:
        """End of utterance: the final result with word confidences; resets for the next one."""

    def reset(self) -> None:
        """Drop the current utterance without a result."""


@runtime_checkable
class Engine(Protocol):
    """Process-wide: loaded once, shared by all calls."""

    name: str

    def new_recognizer(self) -> Recognizer:
        """A fresh recognizer for one call."""


_PUNCT = re.compile(r"[^\w\s'\[\]{}-]+", re.UNICODE)
# In a phrase, DIGITS stands for "one or more digit words" (an order number spoken digit by digit).
DIGITS = "{digits}"
DIGIT_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def normalize_phrase(phrase: str) -> str:
    """Lower-case, strip punctuation and collapse spaces: the form grammars are built from."""
    return " ".join(_PUNCT.sub(" ", phrase.lower()).split())


def unique_phrases(phrases: Iterable[str]) -> list[str]:
    """Normalised, non-empty phrases in first-seen order without duplicates."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        norm = normalize_phrase(phrase)
        if norm and norm != UNK:
            seen.setdefault(norm, None)
    return list(seen)


def make_result(words: Sequence[Word], final: bool, text: str | None = None) -> Result:
    """Build a Result: text from in-grammar words, confidence = their mean scaled by coverage."""
    known = [w for w in words if w.text != UNK]
    if text is None:
        text = " ".join(w.text for w in known)
    if not known:
        return Result(text=text, final=final, confidence=0.0, words=tuple(words))
    mean = sum(w.confidence for w in known) / len(known)
    # Out-of-grammar stretches lower our belief that `text` is what the caller meant.
    coverage = len(known) / len(words) if words else 1.0
    return Result(text=text, final=final, confidence=round(mean * coverage, 4), words=tuple(words))


def text_result(text: str, final: bool) -> Result:
    """A result with text only (partials, where engines give no word scores)."""
    words = text.split()
    clean = " ".join(w for w in words if w != UNK)
    return Result(text=clean, final=final, confidence=0.0)
