"""Precomputed lookup tables for a grammar: phrase cores, cue n-grams, vocabulary, slot masking."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from app.nlu.grammar import Grammar, Template, template_phrases
from app.nlu.templates import WILDCARD
from app.nlu.numbers import is_number_word, locate_order_number

ORDER_SLOT = "{order_number}"
CITY_SLOT = "{city}"
GENERIC_INTENTS = 4  # a content word used by this many intents is generic
CITY_FUZZY_CUTOFF = 88  # one letter off in a six-letter name ("seatle", "chicaco")


@dataclass(frozen=True)
class Prepared:
    """One utterance ready for matching."""

    words: tuple[str, ...]  # normalised, fillers dropped, slot values replaced by "{slot}"
    core: tuple[str, ...]  # words without stopwords and slot placeholders
    slots: dict[str, str]
    shape: tuple[str, ...] = ()  # words with each run of unknown words as one "*"


@dataclass(frozen=True)
class Cue:
    """A keyword hit: which intent it points at and how much evidence it is."""

    intent: str
    weight: float


def sort_key(core: Sequence[str]) -> str:
    """Sorted-token string: ratio over these equals token_sort_ratio, without re-sorting."""
    return " ".join(sorted(core))


class PhraseIndex:
    """Everything the matcher looks up per turn, built once from a grammar."""

    def __init__(self, grammar: Grammar) -> None:
        """Expand every template once and build the lookup tables."""
        self.grammar = grammar
        self.stopwords = grammar.stopwords
        self.cities = {v: v for v in grammar.slots.get("city", ())}
        self.exact: dict[str, str | None] = {}  # full phrase -> intent (None: ambiguous)
        self.core_exact: dict[str, set[str]] = defaultdict(set)
        self.intent_words: dict[str, set[str]] = defaultdict(set)
        self.vocabulary: set[str] = set(grammar.stopwords) | set(grammar.fillers) | set(self.cities)
        self.filler_pairs: set[tuple[str, ...]] = set()  # word pairs with a filler the grammar uses
        choices: dict[tuple[str, str], None] = {}
        for name, rule in grammar.intents.items():
            for template in rule.phrases:
                for tokens in template_phrases(template):
                    self._add_phrase(name, tokens, choices)
        self.cues = self._build_cues()
        self.max_cue = max((len(k) for k in self.cues), default=0)
        self.answers = {tuple(t) for a in grammar.answers for t in template_phrases(a)}
        self._finish(list(choices))

    def _finish(self, choices: list[tuple[str, str]]) -> None:
        """Find the generic words and keep the fuzzy choices that can be trusted."""
        # Words many intents use ("not", "how", "order") say little about which one is meant.
        counts = Counter(w for words in self.intent_words.values() for w in words)
        self.generic = {w for w, n in counts.items() if n >= GENERIC_INTENTS}
        # A phrase whose only content word is shared ("where you are" -> "where") is kept for
        # exact matching but not for fuzzy matching: "where are you from" must not hit it.
        fuzzy = [(k, i) for k, i in choices if " " in k or counts[k] == 1]
        for key in [k for k in self.core_exact if " " not in k and counts[k] > 1]:
            del self.core_exact[key]
        self.choice_keys = [key for key, _ in fuzzy]
        self.choice_intents = [intent for _, intent in fuzzy]

    def _add_phrase(self, intent: str, tokens: tuple[str, ...], choices: dict[tuple[str, str], None]) -> None:
        """Register one expanded phrase in the exact, core and fuzzy tables."""
        full = " ".join(tokens)
        self.exact[full] = intent if self.exact.get(full, intent) == intent else None
        core = self.core_of(tokens)
        self._note(intent, tokens, core)
        if core:
            self.core_exact[" ".join(core)].add(intent)
            choices[(sort_key(core), intent)] = None

    def _note(self, intent: str, tokens: tuple[str, ...], core: tuple[str, ...]) -> None:
        """Record the words a phrase or cue uses (vocabulary, intent words, filler pairs)."""
        self.vocabulary.update(t for t in tokens if t != WILDCARD)
        self.intent_words[intent].update(t for t in core if t != WILDCARD)
        fillers = self.grammar.fillers
        self.filler_pairs.update(p for p in zip(tokens, tokens[1:]) if p[0] in fillers or p[1] in fillers)

    def core_of(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Content words: no stopwords, no slot placeholders, no wildcards."""
        return tuple(t for t in tokens if t not in self.stopwords and not t.startswith("{") and t != WILDCARD)

    def _build_cues(self) -> dict[tuple[str, ...], list[Cue]]:
        """Keyword n-grams (full and stopword-free forms) -> the intents they point at."""
        cues: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
        for name, rule in self.grammar.intents.items():
            for template in rule.keywords:
                self._add_cue(cues, name, rule.weight, template)
        return {k: [Cue(i, w) for i, w in v.items()] for k, v in cues.items()}

    def _add_cue(self, cues: dict[tuple[str, ...], dict[str, float]], intent: str, weight: float,
                 template: Template) -> None:
        """Register a keyword template: longer cues (more content words) weigh more."""
        for tokens in template_phrases(template):
            core = self.core_of(tokens)
            value = weight * (template.weight if template.weight is not None else max(1, len(core)))
            self._note(intent, tokens, core)
            # A multi-word cue's stopword-free form counts only if it keeps two words and half
            # the cue: "what was that" must not turn every "what" into a repeat request, nor
            # "do not want my order" every "not ... order" into a cancellation.
            forms = {tokens, core} if len(core) >= 2 and 2 * len(core) >= len(tokens) else {tokens}
            for form in forms:
                cues[form][intent] = max(value, cues[form].get(intent, 0.0))

    def prepare(self, text_words: Sequence[str]) -> Prepared:
        """Drop fillers, mask the order number and city, split off the core words."""
        words = self._drop_fillers(text_words)
        slots: dict[str, str] = {}
        found = locate_order_number(words, self.grammar.lang)
        if found:
            digits, start, end = found
            slots["order_number"] = digits
            words[start:end] = [ORDER_SLOT]
        for i, word in enumerate(words):
            city = self._city(word)
            if city and "city" not in slots:
                slots["city"] = city
                words[i] = CITY_SLOT
        return Prepared(tuple(words), self.core_of(words), slots, self._shape(words))

    def _shape(self, words: Sequence[str]) -> tuple[str, ...]:
        """Words with every run of words the grammar does not know collapsed into one "*"."""
        shape: list[str] = []
        for word in words:
            known = word in self.vocabulary or word.startswith("{") or is_number_word(word, self.grammar.lang)
            if known or not shape or shape[-1] != WILDCARD:
                shape.append(word if known else WILDCARD)
        return tuple(shape)

    def _drop_fillers(self, words: Sequence[str]) -> list[str]:
        """Words without hesitations, except where the grammar uses them ("uh huh" is a yes)."""
        fillers = self.grammar.fillers
        pairs = self.filler_pairs
        return [w for i, w in enumerate(words) if w not in fillers
                or tuple(words[i:i + 2]) in pairs or (i > 0 and (words[i - 1], w) in pairs)]

    def _city(self, word: str) -> str | None:
        """The city a word names: exact, or a near miss that is no other known word."""
        if word in self.cities:
            return word
        if len(word) < 5 or word in self.vocabulary or not self.cities:
            return None
        best = process.extractOne(word, self.cities, scorer=fuzz.ratio, score_cutoff=CITY_FUZZY_CUTOFF)
        return best[0] if best else None

    def spot(self, words: Sequence[str]) -> dict[str, float]:
        """Keyword evidence per intent: strongest cues first, no word counted twice per intent."""
        hits = [(cue.weight, n, start, cue.intent)
                for n in range(1, min(self.max_cue, len(words)) + 1)
                for start in range(len(words) - n + 1)
                for cue in self.cues.get(tuple(words[start:start + n]), ())]
        evidence: dict[str, float] = defaultdict(float)
        used: dict[str, set[int]] = defaultdict(set)
        for weight, n, start, intent in sorted(hits, reverse=True):
            span = set(range(start, start + n))
            if not span & used[intent]:
                used[intent] |= span
                evidence[intent] += weight
        return evidence

    def unknown_words(self, core: Sequence[str]) -> int:
        """How many content words the grammar has never seen (a sign of an out-of-domain request)."""
        return sum(1 for w in core if w not in self.vocabulary and not is_number_word(w, self.grammar.lang))
