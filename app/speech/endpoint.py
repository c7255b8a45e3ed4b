"""End-of-turn detection: a small state machine fed 20 ms PCM frames and partial texts.

Whether a frame is speech is the voice-activity detector's call (app.speech.vad); this module
only times it: speech start, trailing silence, the grammar-aware early end, max length, no-input.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Protocol, Sequence

from app.speech.audio import RATE, dbfs, noise_floor


class EventKind(str, Enum):
    """What the endpointer noticed."""

    SPEECH_START = "speech_start"  # the caller started talking (barge-in: stop the prompt)
    END = "end"  # the turn is over; `reason` says why
    NO_INPUT = "no_input"  # nothing was said before the no-input timeout


@dataclass(frozen=True)
class EndpointEvent:
    """One event, stamped with milliseconds since the turn started (last reset)."""

    kind: EventKind
    at_ms: int
    reason: str = ""  # for END: "silence", "complete" (grammar-aware early end) or "max_length"


class VoiceDetector(Protocol):
    """Speech probability (0..1) of each 20 ms frame of 8 kHz 16-bit PCM, in stream order."""

    def __call__(self, frame: bytes) -> float: ...
    def reset(self) -> None: ...


@dataclass(frozen=True)
class EndpointConfig:
    """Timing and detector thresholds; the defaults suit 8 kHz telephone audio."""

    silence_ms: int = 600  # trailing silence that ends a turn
    complete_silence_ms: int = 180  # shorter trailing silence once the partial is a complete phrase
    max_utterance_s: float = 12.0  # a turn is cut after this much speech
    no_input_s: float | None = 6.0  # None: wait for speech forever
    min_speech_ms: int = 60  # voiced run needed to call it speech (clicks and pops are shorter)
    threshold: float = 0.5  # detector probability that starts a voiced run ...
    release: float = 0.35  # ... and the lower one that keeps it going (hysteresis)
    min_speech_dbfs: float = -55.0  # frames quieter than this are never speech


WAITING, SPEECH, DONE = "waiting", "speech", "done"


class Endpointer:
    """Voice-activity detector + trailing-silence end, grammar-aware early end, max length, no-input."""

    def __init__(self, config: EndpointConfig | None = None,
                 is_complete: Callable[[str], bool] | None = None,
                 detector: VoiceDetector | None = None) -> None:
        self.config = config or EndpointConfig()
        self.is_complete = is_complete
        if detector is None:
            from app.speech.vad import new_detector
            detector = new_detector()
        self.detector = detector
        self.reset()

    def reset(self) -> None:
        """Start a new turn: clear speech state and restart the clock (the detector keeps its
        context: the line does not change between turns)."""
        self.state = WAITING
        self.now_ms = 0
        self.speech_start_ms: int | None = None
        self.last_voiced_ms = 0
        self.voiced_ms = 0  # voiced frames since SPEECH_START (barge-in asks for a minimum)
        self._run_ms = 0
        self._partial = ""
        self._complete = False

    def partial(self, text: str) -> None:
        """Record the recognizer's latest partial text (checked for completeness once, here)."""
        if text != self._partial:
            self._partial = text
            self._complete = bool(text and self.is_complete and self.is_complete(text))

    def feed(self, frame: bytes) -> list[EndpointEvent]:
        """Process one frame of 8 kHz 16-bit PCM (normally 20 ms); return the events it caused."""
        frame_ms = len(frame) * 1000 // (2 * RATE)
        start_ms, self.now_ms = self.now_ms, self.now_ms + frame_ms
        probability = self.detector(frame)
        if self.state == DONE:
            return []
        gate = self.config.release if self.state == SPEECH else self.config.threshold
        voiced = probability >= gate and dbfs(frame) >= self.config.min_speech_dbfs
        if self.state == WAITING:
            return self._waiting(voiced, start_ms, frame_ms)
        return self._speaking(voiced, frame_ms)

    def _waiting(self, voiced: bool, start_ms: int, frame_ms: int) -> list[EndpointEvent]:
        if voiced:
            if self._run_ms == 0:
                self.speech_start_ms = start_ms
            self._run_ms += frame_ms
            if self._run_ms >= self.config.min_speech_ms:
                self.state = SPEECH
                self.last_voiced_ms = self.now_ms
                self.voiced_ms = self._run_ms
                return [EndpointEvent(EventKind.SPEECH_START, self.speech_start_ms or 0)]
            return []
        self._run_ms = 0
        no_input = self.config.no_input_s
        if no_input is not None and self.now_ms >= no_input * 1000:
            self.state = DONE
            return [EndpointEvent(EventKind.NO_INPUT, self.now_ms)]
        return []

    def _speaking(self, voiced: bool, frame_ms: int) -> list[EndpointEvent]:
        if voiced:
            self.last_voiced_ms = self.now_ms
            self.voiced_ms += frame_ms
        silence = self.now_ms - self.last_voiced_ms
        if self.now_ms - (self.speech_start_ms or 0) >= self.config.max_utterance_s * 1000:
            return self._end("max_length")
        if silence >= self.config.silence_ms:
            return self._end("silence")
        if self._complete and silence >= self.config.complete_silence_ms:
            return self._end("complete")
        return []

    def _end(self, reason: str) -> list[EndpointEvent]:
        self.state = DONE
        return [EndpointEvent(EventKind.END, self.now_ms, reason)]

    @property
    def done(self) -> bool:
        """True once the turn has ended (END or NO_INPUT was reported)."""
        return self.state == DONE

    @property
    def in_speech(self) -> bool:
        """True between SPEECH_START and END."""
        return self.state == SPEECH


ONSET_OVER_FLOOR_DB = 10.0   # a frame this far above the line's noise floor is part of the words
ONSET_MIN_DBFS = -55.0       # ... and never quieter than the endpointer's speech minimum
DIGITAL_SILENCE_DBFS = -90.0  # quieter than any line's noise: digital silence
PRE_ROLL_FRAMES = 2          # line audio kept before the words' first sound (40 ms, as the old lead-in)
ONSET_GAP_FRAMES = 4         # quiet inside the words (a stop's closure, the "t" of "it's": ~80 ms)


def speech_onset(levels: Sequence[float], voiced_from: int) -> int:
    """Where the caller's words begin in the audio kept before the detector noticed them.

    `levels` are the dBFS of the kept 20 ms frames, oldest first; `voiced_from` indexes the frame
    where the detector's voiced run began. The detector notices a weak onset late (the "it's" of
    "it's three oh five one two", a nasal "no") and by an amount that shifts with its 32 ms
    window's phase, so a fixed lead-in clipped first syllables in some calls and not in others.
    Walking back while frames stand out from the line's floor (across gaps as short as a stop
    consonant's closure) finds the first sound; a short pre-roll of line audio goes before it (a
    long stretch of silence skews the recognizer's cepstral mean). Returns the index of the first
    frame to give the recognizer.
    """
    if not levels:
        return 0
    quietest = max(noise_floor(levels, percentile=0), DIGITAL_SILENCE_DBFS)   # digital silence as -90
    floor = max(quietest + ONSET_OVER_FLOOR_DB, ONSET_MIN_DBFS)
    start = index = min(max(voiced_from, 0), len(levels) - 1)
    while index > 0 and start - index <= ONSET_GAP_FRAMES:
        index -= 1
        if levels[index] >= floor:
            start = index
    return max(0, start - PRE_ROLL_FRAMES)
