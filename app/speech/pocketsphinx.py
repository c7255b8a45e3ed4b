"""PocketSphinx adapter: the bundled US English model, the offline fallback when no Vosk model exists.

The engine here pools decoders (configured in pocketsphinx_decoders) and turns speech grammars
into their searches; each call streams its audio through a recognizer (pocketsphinx_stream).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import tempfile
import threading
from typing import Sequence

import pocketsphinx
from pocketsphinx.lm import ArpaBoLM

from app.nlu.speech_phrases import SpeechGrammar, expansions, pattern
from app.nlu.templates import Template
from app.speech.jsgf import HESITATIONS, jsgf_for
from app.speech.pocketsphinx_decoders import DOMAIN, FREE, GRAMMAR, SEARCHES_KEPT, Slot, new_slot
from app.speech.pocketsphinx_stream import (ABSORBED_SPEECH_MS, ESCAPE_ABSORBED_MS,
                                            PocketSphinxRecognizer)
from app.speech.recognizer import DIGITS, Word, unique_phrases

# The recognizer's names, importable from the adapter as before the split.
__all__ = ["ABSORBED_SPEECH_MS", "ESCAPE_ABSORBED_MS", "PocketSphinxEngine", "PocketSphinxRecognizer"]

log = logging.getLogger(__name__)

PRELOAD_DECODERS = 4      # made before gunicorn forks: growing the pool holds the GIL 0.1-0.25 s

_WORD = re.compile(r"^[a-z][a-z'.-]*$")


class PocketSphinxEngine:
    """Pools decoders; a recognizer holds one only while an utterance is being decoded.

    Measured under `ivr bench calls` (20 calls, 2 workers): with a decoder per call and the
    language model in each, a worker grew past 1.7 GB and every new decoder held the GIL for
    0.3-0.9 s, stalling the worker's other calls. Callers speak a fraction of the time, so the
    pool now follows the utterances in progress, and grammar decoders leave out the language model
    (64 of a decoder's 91 MB, 0.3 of its 0.4 s start); only free decoding (messages) loads it.
    Decoders made before gunicorn forks are shared copy-on-write by the workers. Each decoder keeps
    its own cepstral mean, learned from whichever calls it decoded: carrying a call's own mean
    from decoder to decoder instead heard the weakest test voice less often (32 vs 55 of 90;
    36 with a decoder per call).

    Where callers answer in their own words, a second decoder runs a small domain language model
    built from the grammars (`set_domain`) beside the phrase grammar, and its words are used when
    the grammar path heard none of its phrases (a second pass on the same audio, in step).
    """

    name = "pocketsphinx"

    def __init__(self, preload: int = PRELOAD_DECODERS) -> None:
        self.model_path = pocketsphinx.get_model_path()
        self._idle: dict[str, list[Slot]] = {GRAMMAR: [], FREE: [], DOMAIN: []}
        self._lock = threading.Lock()
        self._grammars: dict[object, tuple[str, str] | None] = {}
        self._escapes: dict[str, frozenset[str]] = {}          # search name -> its escape phrases
        self._warned: set[str] = set()
        self._domain_lm: str | None = None
        self._words = new_slot(GRAMMAR).decoder      # dictionary lookups only
        for _ in range(preload):
            self._idle[GRAMMAR].append(new_slot(GRAMMAR))

    def set_domain(self, sentences: Sequence[str]) -> int:
        """Build the domain language model from sample sentences (words the dictionary knows).

        Uses PocketSphinx's own ARPA builder (pocketsphinx.lm.ArpaBoLM, trigram, Good-Turing-like
        discounting). Returns the number of sentences kept; 0 leaves sentences to the grammar."""
        kept = [s for s in dict.fromkeys(sentences) if s and all(self.knows(w) for w in s.split())]
        if not kept:
            return 0
        model = ArpaBoLM(text="\n".join(kept), add_start=True)
        model.compute()
        with tempfile.NamedTemporaryFile("w", suffix=".arpa", prefix="ivr-domain-", delete=False) as out:
            model.write(out)
        with self._lock:
            self._domain_lm = out.name
            self._idle[DOMAIN] = []
        # Made now, before gunicorn forks (shared copy-on-write): made at a caller's first words
        # in each worker, the model load held the worker for seconds and the bench's calls were
        # answered only after its window.
        slots = [new_slot(DOMAIN, self._domain_lm) for _ in range(PRELOAD_DECODERS // 2)]
        with self._lock:
            self._idle[DOMAIN] += slots
        return len(kept)

    @property
    def has_domain(self) -> bool:
        """True once set_domain built a language model."""
        return self._domain_lm is not None

    def knows(self, word: str) -> bool:
        """True when the pronunciation dictionary has the word."""
        return bool(_WORD.match(word)) and self._words.lookup_word(word) is not None

    def acquire(self, kind: str = GRAMMAR) -> Slot:
        """An idle decoder slot of that kind, or a new one."""
        with self._lock:
            if self._idle[kind]:
                return self._idle[kind].pop()
        return new_slot(kind, self._domain_lm)

    def release(self, slot: Slot) -> None:
        """Give a slot back to the pool, ready for another utterance."""
        if slot.in_utterance:
            slot.decoder.end_utt()
            slot.in_utterance = False
        with self._lock:
            self._idle[slot.kind].append(slot)

    @property
    def pool_size(self) -> int:
        """Idle decoders (for tests and metrics)."""
        return sum(len(slots) for slots in self._idle.values())

    def grammar(self, phrases: "SpeechGrammar | Sequence[str]") -> tuple[str, str] | None:
        """(search name, JSGF) for what the dictionary knows of the phrases; None when nothing is left."""
        spec = SpeechGrammar.of(phrases)
        with self._lock:
            if spec not in self._grammars:
                kept = self._in_dictionary(unique_phrases(spec.phrases))
                escapes = [p for p in (pattern(t.nodes, self.knows) for t in spec.escapes) if p]
                jsgf = jsgf_for(kept, tuple(dict.fromkeys(escapes)), spec.number_lengths or (5,))
                name = "g" + hashlib.sha1(jsgf.encode()).hexdigest()[:16]
                self._grammars[spec] = (name, jsgf) if kept or escapes else None
                self._escapes[name] = _escape_phrases(spec.escapes)
            return self._grammars[spec]

    def is_escape(self, search: tuple[str, str] | None, words: Sequence[Word]) -> bool:
        """True when the words (hesitations aside) are one of that grammar search's escapes."""
        text = " ".join(w.text for w in words if w.text not in HESITATIONS)
        return search is not None and text in self._escapes.get(search[0], ())

    def prepare(self, grammars: Sequence["SpeechGrammar | None"]) -> None:
        """Compile these grammars into every idle grammar decoder now, not at a caller's turn."""
        searches = [s for s in (self.grammar(g) for g in grammars if g is not None) if s is not None]
        with self._lock:     # out of the pool while compiling: no call can hold them meanwhile
            idle, self._idle[GRAMMAR] = self._idle[GRAMMAR], []
        try:
            for slot in idle:
                for search in searches[-SEARCHES_KEPT:]:
                    slot.activate(search)
        finally:
            with self._lock:
                self._idle[GRAMMAR] += idle

    def _in_dictionary(self, phrases: list[str]) -> list[str]:
        kept = []
        for phrase in phrases:
            missing = [w for w in phrase.split() if w != DIGITS and not self.knows(w)]
            if not missing:
                kept.append(phrase)
            elif not self._warned.issuperset(missing):
                # Once per word, not per turn: the same lists are rebuilt for every call's states.
                self._warned.update(missing)
                log.warning("words not in the PocketSphinx dictionary, phrases with them not listened for: %s",
                            ", ".join(sorted(set(missing))))
        return kept

    def new_recognizer(self) -> "PocketSphinxRecognizer":
        """A streaming recognizer for one call."""
        return PocketSphinxRecognizer(self)


@functools.lru_cache(maxsize=16)
def _escape_phrases(templates: tuple[Template, ...]) -> frozenset[str]:
    """Every phrase the escape templates stand for. Every dialog state has the same escapes, and
    expanding them is 30,000 phrases and a quarter of a second (English grammar): once each."""
    return frozenset(expansions(templates))
