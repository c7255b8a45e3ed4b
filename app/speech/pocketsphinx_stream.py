"""The streaming PocketSphinx recognizer of one call: 8 kHz PCM into pooled decoders, words out.

Audio: telephone audio (8 kHz) is upsampled to 16 kHz and decoded with the bundled 16 kHz model as
is. Running the decoder at 8 kHz needs a narrower filterbank (upperf <= 4000), which no longer
matches what the model was trained on. Measured on 120 espeak-ng phrases through the phone path
(4 voices, 2 speeds): grammar accuracy 80/80 upsampled vs 6/80 at 8 kHz; free decoding word error
rate 0.87 vs 1.04. (audioop.ratecv upsampling did as well as an ideal FFT interpolator: 80 vs 79.)
"""
from __future__ import annotations

import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from app.nlu.speech_phrases import SpeechGrammar
from app.speech.audio import RATE, Resampler, frame_levels, noise_floor
from app.speech.jsgf import GARBAGE_PREFIX, HESITATIONS
from app.speech.pocketsphinx_decoders import DOMAIN, FREE, GRAMMAR, Slot
from app.speech.recognizer import UNK, Result, Word, make_result, text_result

if TYPE_CHECKING:
    import pocketsphinx

    from app.speech.pocketsphinx import PocketSphinxEngine

MODEL_RATE = 16000
FRAME_S = 0.01  # PocketSphinx frame rate is 100 per second
DECODER_FRAME_SAMPLES = 80  # one decoder frame of the 8 kHz line (10 ms)
ABSORBED_SPEECH_MS = 200  # speech-level audio inside <sil>/noise segments -> out of grammar
# A turn heard as an escape of several words may have more speech labelled silence than that: on
# 44 synthesized escape lines (4 espeak-ng voices) the grammar path had the right words but put
# the start of the speech ("i want to", "let me") in the leading silence, and 6 callers asking for
# a person were no-matches (29 -> 35 of 44 reach a person with 500 ms). Not for short escapes:
# with them too, Speech Commands' "dog" and "sheila" (heard as "zero", "human", 400-470 ms
# absorbed) were transferred; a run of several escape words in order is evidence of its own.
ESCAPE_ABSORBED_MS = 500
ESCAPE_MIN_WORDS = 4
ABSORBED_REL_DB = 30.0  # "speech-level": within this many dB of the utterance's loudest frame ...
# ... and this far above the line's noise floor (the utterance's 10th-percentile frame, in the
# trailing silence): with steady line noise at 15 dB SNR, the noise itself was "speech-level",
# every pause counted as absorbed speech and 90 % of noisy turns became no-matches.
ABSORBED_OVER_FLOOR_DB = 10.0
DIGITAL_SILENCE_DB = -85.0   # frame_levels of exact zeros is -90 dB; no line's noise is this low
DITHER_DBFS = -60.0  # see _dither


class PocketSphinxRecognizer:
    """Streams 8 kHz PCM into pooled PocketSphinx decoders: a grammar (and domain LM) or free."""

    def __init__(self, engine: PocketSphinxEngine) -> None:
        self.engine = engine
        self._held: list[Slot] = []            # the decoders of the utterance in progress, if any
        self._finalizer = weakref.finalize(self, _release_all, engine, self._held)
        self._resample = Resampler(RATE, MODEL_RATE)
        self._rng = np.random.default_rng(0)
        self._search: tuple[str, str] | None = None
        self._grammar = False
        self._sentences = False
        self._levels: list[np.ndarray] = []
        self._last_partial = ""

    def close(self) -> None:
        """Return any decoder to the engine's pool now (also happens when garbage-collected)."""
        _release_all(self.engine, self._held)

    def set_phrases(self, phrases: "SpeechGrammar | Sequence[str] | None") -> None:
        """Restrict to the phrases plus a phone-loop garbage path; None = the free language model."""
        self.reset()
        self._search = self.engine.grammar(phrases) if phrases is not None else None
        self._grammar = self._search is not None
        self._sentences = (self._grammar and isinstance(phrases, SpeechGrammar) and phrases.sentences
                           and self.engine.has_domain)

    @property
    def _decoder(self) -> "pocketsphinx.Decoder":
        """The decoder of the utterance in progress (taken from the pool at its first audio)."""
        if not self._held:
            slot = self.engine.acquire(GRAMMAR if self._grammar else FREE)
            slot.activate(self._search)
            self._held.append(slot)
            if self._sentences:
                domain = self.engine.acquire(DOMAIN)
                domain.activate(None)
                self._held.append(domain)
        return self._held[0].decoder

    def accept(self, pcm16_8k: bytes) -> Result | None:
        """Feed audio; a partial result when the hypothesis text changed."""
        if not pcm16_8k:
            return None
        decoder = self._decoder
        samples = np.frombuffer(pcm16_8k, dtype="<i2")
        self._levels.append(samples)
        audio = self._resample(_dither(samples, self._rng))
        for slot in self._held:
            if not slot.in_utterance:
                slot.start()
            slot.decoder.process_raw(audio, False, False)
        hyp = decoder.hyp()
        text = _clean(hyp.hypstr if hyp else "")
        if text == self._last_partial:
            return None
        self._last_partial = text
        return text_result(text, final=False)

    def finish(self) -> Result:
        """End the utterance: final words with confidences; resets for the next utterance."""
        if not self._held or not self._held[0].in_utterance:
            return Result(text="", final=True, confidence=0.0)
        for slot in self._held:
            slot.decoder.end_utt()
            slot.in_utterance = False
        words = self._words(self._held[0].decoder)
        if self._grammar and self._absorbed_ms() >= self._absorbed_limit(words):
            # The grammar path explained the speech as silence/noise: the caller said something else.
            words = [Word(UNK, 1.0, words[0].start, words[-1].end)] if words else [Word(UNK, 1.0, 0.0, 0.0)]
        result = make_result(_merge_unk(words), final=True)
        if len(self._held) > 1 and (result.out_of_grammar or not result.text):
            # None of the listed phrases: the caller's own words, from the domain model.
            spoken = self._words(self._held[1].decoder)
            if spoken:
                result = replace(make_result(spoken, final=True), open_words=True)
        self.reset()
        return result

    def _absorbed_limit(self, words: list[Word]) -> int:
        """How much speech the grammar path may label silence before the turn is out of grammar."""
        spoken = [w for w in words if w.text not in HESITATIONS]
        long_escape = len(spoken) >= ESCAPE_MIN_WORDS and self.engine.is_escape(self._search, spoken)
        return ESCAPE_ABSORBED_MS if long_escape else ABSORBED_SPEECH_MS

    def _words(self, decoder: "pocketsphinx.Decoder") -> list[Word]:
        words = []
        for seg in decoder.seg() or []:
            token = _base(seg.word)
            if not token or _is_filler(token):
                continue
            frames = max(1, seg.end_frame - seg.start_frame + 1)
            words.append(Word(text=UNK if token.startswith(GARBAGE_PREFIX) else token,
                              confidence=_confidence(seg.ascore, frames),
                              start=round(seg.start_frame * FRAME_S, 2),
                              end=round((seg.end_frame + 1) * FRAME_S, 2)))
        return words

    def _absorbed_ms(self) -> int:
        """Milliseconds of speech-level audio the decoder labelled silence or noise."""
        if not self._levels:
            return 0
        # Aligned with the decoder's frames. The line's noise floor leaves out digital silence (a
        # line with silence suppression, or the zeros after synthesized speech, is not its noise).
        levels = frame_levels(np.concatenate(self._levels), DECODER_FRAME_SAMPLES)
        if not len(levels):
            return 0
        floor = noise_floor(levels, 10, above=DIGITAL_SILENCE_DB, empty=DIGITAL_SILENCE_DB)
        loud = levels > max(levels.max() - ABSORBED_REL_DB, floor + ABSORBED_OVER_FLOOR_DB)
        absorbed = 0
        for seg in self._held[0].decoder.seg() or []:
            if _is_filler(_base(seg.word)):
                absorbed += int(loud[max(seg.start_frame, 0):seg.end_frame + 1].sum())
        return int(absorbed * FRAME_S * 1000)

    def reset(self) -> None:
        """Drop the current utterance; its decoders go back to the pool."""
        _release_all(self.engine, self._held)
        self._levels = []
        self._last_partial = ""
        self._resample.reset()
        self._rng = np.random.default_rng(0)   # the same words decode the same way in every turn


def _release_all(engine: PocketSphinxEngine, held: list[Slot]) -> None:
    while held:
        engine.release(held.pop())


def _dither(samples: np.ndarray, rng: np.random.Generator) -> bytes:
    """Add -60 dBFS noise: stretches of digital silence (exact zeros, as in synthesized speech or
    silence-suppressed lines) give the model -inf log energies; with it grammar accuracy on
    synthesized phrases went from 72/80 to 80/80. Real lines are noisier than this anyway."""
    noise = rng.normal(0.0, 32768.0 * 10 ** (DITHER_DBFS / 20.0), len(samples))
    return np.clip(samples + noise, -32768, 32767).astype("<i2").tobytes()


def _confidence(ascore: float, frames: int) -> float:
    """Map the segment's acoustic score to 0..1.

    PocketSphinx scores each frame relative to its best-scoring senone, so the per-frame log score
    says how far the word's path is from the best local explanation of the audio (0 = perfect).
    Well-matched words measured about -1..-5 (x1e-3 nats per frame), forced ones -3..-7. This is an
    acoustic-fit measure, not a calibrated posterior (best-path lattice posteriors cost accuracy)."""
    per_frame = 1000.0 * np.log(max(ascore, 1e-300)) / frames
    return round(float(np.clip(np.exp(per_frame / 6.0), 0.0, 1.0)), 4)


def _base(word: str) -> str:
    """Strip the alternate-pronunciation suffix: "return(2)" -> "return"."""
    return word.split("(", 1)[0] if word and not word.startswith("(") else ""


def _is_filler(word: str) -> bool:
    return word.startswith("<") or word.startswith("[") or word.startswith("+")


def _clean(hypstr: str) -> str:
    """Hypothesis text for partials: garbage phones become one [unk], fillers vanish."""
    words = [UNK if w.startswith(GARBAGE_PREFIX) else _base(w) for w in hypstr.split()]
    out: list[str] = []
    for word in words:
        if word and not (word == UNK and out and out[-1] == UNK):
            out.append(word)
    return " ".join(out)


def _merge_unk(words: list[Word]) -> list[Word]:
    """Collapse runs of garbage phones into one [unk] word spanning them."""
    merged: list[Word] = []
    for word in words:
        if word.text == UNK and merged and merged[-1].text == UNK:
            prev = merged.pop()
            word = Word(UNK, min(prev.confidence, word.confidence), prev.start, word.end)
        merged.append(word)
    return merged
