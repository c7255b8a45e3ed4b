"""End-of-turn detection: a small, pure state machine fed 20 ms PCM frames and partial texts."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

from app.speech.audio import RATE, dbfs


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


@dataclass(frozen=True)
class EndpointConfig:
    """Timing and level thresholds; the defaults suit 8 kHz telephone audio."""

    silence_ms: int = 600  # trailing silence that ends a turn
    complete_silence_ms: int = 180  # shorter trailing silence once the partial is a complete phrase
    max_utterance_s: float = 12.0  # a turn is cut after this much speech
    no_input_s: float | None = 6.0  # None: wait for speech forever
    min_speech_ms: int = 60  # voiced run needed to call it speech (clicks and pops are shorter)
    margin_db: float = 9.0  # voiced = this far above the noise floor ...
    min_speech_dbfs: float = -45.0  # ... and above this absolute level
    warmup_ms: int = 100  # first frames only measure the line: no speech is detected yet


WAITING, SPEECH, DONE = "waiting", "speech", "done"


class Endpointer:
    """Energy VAD with an adaptive noise floor, trailing-silence end, max length and no-input."""

    def __init__(self, config: EndpointConfig | None = None,
                 is_complete: Callable[[str], bool] | None = None,
                 noise_floor: float | None = None) -> None:
        self.config = config or EndpointConfig()
        self.is_complete = is_complete
        # None: learn it from the first frames (warm-up). Pass a previous turn's value to skip that.
        self.noise_floor = noise_floor
        self._warming = noise_floor is None
        self.reset()

    def reset(self) -> None:
        """Start a new turn: clear speech state and restart the clock; the noise floor is kept."""
        self.state = WAITING
        self.now_ms = 0
        self.speech_start_ms: int | None = None
        self.last_voiced_ms = 0
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
        level = dbfs(frame)
        if self._warming or self.noise_floor is None:
            # Warm-up (once per endpointer): the quietest frame is the floor, so a noisy line is
            # not taken for speech. Pass noise_floor= from the previous turn to skip it.
            self.noise_floor = level if self.noise_floor is None else min(self.noise_floor, level)
            self._warming = self.now_ms < self.config.warmup_ms
            return []
        voiced = level >= max(self.noise_floor + self.config.margin_db, self.config.min_speech_dbfs)
        self._track_floor(level, voiced)
        if self.state == WAITING:
            return self._waiting(voiced, start_ms, frame_ms)
        if self.state == SPEECH:
            return self._speaking(voiced)
        return []

    def _track_floor(self, level: float, voiced: bool) -> None:
        # Follow quiet frames down fast and up slowly, so speech does not drag the floor up.
        # While waiting, even "voiced" frames pull it up a little: noise that rises and stays
        # (a fan, a car) stops counting as speech after a few seconds.
        floor = self.noise_floor or 0.0
        if level < floor:
            self.noise_floor = floor + 0.5 * (level - floor)
        elif self.state != SPEECH:
            self.noise_floor = floor + (0.01 if voiced else 0.05) * (level - floor)

    def _waiting(self, voiced: bool, start_ms: int, frame_ms: int) -> list[EndpointEvent]:
        if voiced:
            if self._run_ms == 0:
                self.speech_start_ms = start_ms
            self._run_ms += frame_ms
            if self._run_ms >= self.config.min_speech_ms:
                self.state = SPEECH
                self.last_voiced_ms = self.now_ms
                return [EndpointEvent(EventKind.SPEECH_START, self.speech_start_ms or 0)]
            return []
        self._run_ms = 0
        no_input = self.config.no_input_s
        if no_input is not None and self.now_ms >= no_input * 1000:
            self.state = DONE
            return [EndpointEvent(EventKind.NO_INPUT, self.now_ms)]
        return []

    def _speaking(self, voiced: bool) -> list[EndpointEvent]:
        if voiced:
            self.last_voiced_ms = self.now_ms
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
