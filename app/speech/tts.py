"""Prompt and caller audio: espeak-ng (pyttsx3 where the command is missing) to 8 kHz μ-law, cached."""
from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterable

from app.speech.audio import add_noise, mix_noise, pcm16_to_ulaw, read_wav, resample, RATE, ulaw_to_pcm16

log = logging.getLogger(__name__)

RENDER_TIMEOUT_S = 20.0


class SpeechSynthesisError(RuntimeError):
    """Neither pyttsx3 nor the espeak-ng command could render the text."""


class _Pyttsx3Worker:
    """Owns the one pyttsx3 engine on a dedicated thread (the engine is not thread-safe).

    Used when the espeak-ng command is missing (pyttsx3 then picks the platform's own driver).
    Every render waits for the driver's finished-utterance event with a timeout: runAndWait can
    return before the file is written, and its loop can spin forever if the driver's callback never
    comes (e.g. in a process forked after libespeak started its thread). After a timeout, or in a
    forked child, the worker is abandoned.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.broken = False
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pyttsx3")
        self._engine = None
        self._done = threading.Event()

    def render(self, text: str, voice: str, rate: int, pitch: int | None, wav: Path) -> None:
        """Write `text` spoken with `voice` to `wav`, or raise."""
        future = self._pool.submit(self._render, text, voice, rate, pitch, wav)
        try:
            future.result(timeout=RENDER_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            self.broken = True
            raise SpeechSynthesisError(f"pyttsx3 did not finish within {RENDER_TIMEOUT_S:.0f} s") from None

    def _render(self, text: str, voice: str, rate: int, pitch: int | None, wav: Path) -> None:
        engine = self._engine or self._start()
        self._done.clear()
        engine.setProperty("voice", voice)
        engine.setProperty("rate", rate)
        if pitch is not None:
            engine.setProperty("pitch", pitch)
        engine.save_to_file(text, str(wav))
        engine.runAndWait()
        if not self._done.wait(RENDER_TIMEOUT_S) or not wav.is_file():
            raise SpeechSynthesisError("pyttsx3 finished without writing the audio file")

    def _start(self):
        import pyttsx3
        try:
            import pyttsx3.drivers.espeak as espeak_driver
            # The espeak driver print()s "Audio saved to ..." for every file, which would corrupt
            # `ivr sim --json` output: shadow print in that module only.
            espeak_driver.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]
        except (ImportError, OSError):  # no libespeak here: another platform driver is used
            pass
        self._engine = pyttsx3.init()
        self._engine.connect("finished-utterance", lambda **_: self._done.set())
        return self._engine


_worker: _Pyttsx3Worker | None = None
_worker_lock = threading.Lock()


def _pyttsx3() -> _Pyttsx3Worker | None:
    """The process's pyttsx3 worker, or None when it cannot be trusted here."""
    global _worker
    with _worker_lock:
        if _worker is None or _worker.pid != os.getpid():
            _worker = _Pyttsx3Worker()
        return None if _worker.broken else _worker


def _espeak_exe() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


def _espeak_cli(exe: str, text: str, voice: str, rate: int, pitch: int | None, wav: Path) -> None:
    """espeak-ng through its command: a process per render, so nothing is shared or can hang."""
    cmd = [exe, "-v", voice, "-s", str(rate), "-w", str(wav)]
    if pitch is not None:
        cmd += ["-p", str(pitch)]
    done = subprocess.run(cmd + ["--", text], capture_output=True, timeout=RENDER_TIMEOUT_S)
    if done.returncode != 0 or not wav.is_file():
        raise SpeechSynthesisError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()}")


def synthesize(text: str, voice: str = "en-us", rate: int = 165, pitch: int | None = None) -> tuple[bytes, int]:
    """Speak `text`; return 16-bit mono PCM and its sample rate.

    espeak-ng's command first: measured against pyttsx3's espeak driver (the same libespeak-ng),
    the driver applied voice/rate changes late (3 of 15 alternating-rate renders came out at the
    previous rate, 39 of 40 once we waited for its finished event) and never gave the same samples
    twice; the command is deterministic, ~17 ms a render, and isolated per process. pyttsx3 is the
    fallback where the command is missing (its platform drivers: NSSpeech, SAPI5)."""
    with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
        wav = Path(tmp) / "out.wav"
        exe = _espeak_exe()
        if exe:
            _espeak_cli(exe, text, voice, rate, pitch, wav)
        else:
            worker = _pyttsx3()
            if worker is None:
                raise SpeechSynthesisError("no speech synthesizer: install espeak-ng (apt-get install espeak-ng)")
            worker.render(text, voice, rate, pitch, wav)
        return read_wav(wav)


class Synthesizer:
    """Renders prompt text to 8 kHz μ-law, cached under cache_dir by text, voice and rate."""

    def __init__(self, cache_dir: Path | None, voice: str = "en-us", rate: int = 165,
                 pitch: int | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.voice, self.rate, self.pitch = voice, rate, pitch
        self.hits = self.misses = 0

    def cache_path(self, text: str) -> Path | None:
        """Where the rendering of `text` is (or will be) cached."""
        if self.cache_dir is None:
            return None
        key = f"{text}|{self.voice}|{self.rate}" + (f"|{self.pitch}" if self.pitch is not None else "")
        return self.cache_dir / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()}.ulaw"

    def render(self, text: str) -> bytes:
        """μ-law 8 kHz audio of `text`, from the cache when present."""
        text = " ".join(text.split())
        if not text:
            return b""
        path = self.cache_path(text)
        if path is not None and path.is_file():
            self.hits += 1
            return path.read_bytes()
        self.misses += 1
        pcm, rate = synthesize(text, self.voice, self.rate, self.pitch)
        audio = pcm16_to_ulaw(resample(pcm, rate, RATE))
        if path is not None:
            _write_atomic(path, audio)
        return audio

    def render_many(self, texts: Iterable[str]) -> list[bytes]:
        """Render several texts ahead of time (fills the cache)."""
        return [self.render(text) for text in texts]


def _write_atomic(path: Path, data: bytes) -> None:
    # Several workers may render the same prompt at once: write aside, then rename into place.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


CALLER_VOICES = ("en-us", "en-gb", "en-us+f3", "en-us+m3")


def caller_audio(text: str, voice: str = "en-us", rate: int = 160, noise_db: float | None = None,
                 pitch: int | None = None, cache_dir: Path | None = None, snr_db: float | None = None,
                 noise_colour: str = "white") -> bytes:
    """μ-law 8 kHz telephone audio of a simulated caller saying `text`.

    snr_db adds steady line noise (white or pink) that far below the caller's speech level (e.g.
    15); noise_db adds white noise at an absolute level in dBFS instead (e.g. -45)."""
    audio = Synthesizer(cache_dir, voice=voice, rate=rate, pitch=pitch).render(text)
    if (noise_db is None and snr_db is None) or not audio:
        return audio
    pcm = ulaw_to_pcm16(audio)
    if snr_db is not None:
        return pcm16_to_ulaw(mix_noise(pcm, snr_db, noise_colour, seed=len(text)))
    return pcm16_to_ulaw(add_noise(pcm, noise_db, seed=len(text)))
