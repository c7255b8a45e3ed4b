"""Telephone audio: μ-law <-> 16-bit PCM, resampling, 20 ms framing, energy and line noise."""
from __future__ import annotations

import io
import math
import warnings
import wave
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

with warnings.catch_warnings():
    # audioop is deprecated in 3.11/3.12 and comes from audioop-lts on 3.13+; same API either way.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

RATE = 8000  # telephone sample rate (Twilio Media Streams)
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000  # 160
ULAW_FRAME_BYTES = FRAME_SAMPLES  # one byte per μ-law sample
PCM_FRAME_BYTES = FRAME_SAMPLES * 2
ULAW_SILENCE = b"\xff"  # μ-law code for 0
SILENCE_DBFS = -96.0  # what digital silence measures as (16-bit floor)


def ulaw_to_pcm16(data: bytes) -> bytes:
    """Decode μ-law bytes to 16-bit little-endian PCM."""
    return audioop.ulaw2lin(data, 2)


def pcm16_to_ulaw(data: bytes) -> bytes:
    """Encode 16-bit PCM to μ-law bytes."""
    return audioop.lin2ulaw(data, 2)


def frames(data: bytes, size: int, pad: bytes | None = None) -> Iterator[bytes]:
    """Split into chunks of `size` bytes; the last is padded with `pad` (or dropped if None)."""
    for start in range(0, len(data), size):
        chunk = data[start:start + size]
        if len(chunk) < size:
            if pad is None:
                return
            chunk += pad * ((size - len(chunk)) // len(pad))
        yield chunk


def rms(pcm16: bytes) -> int:
    """Root-mean-square amplitude of 16-bit PCM."""
    return audioop.rms(pcm16, 2) if pcm16 else 0


def dbfs(pcm16: bytes) -> float:
    """Level in dB relative to full scale; digital silence gives SILENCE_DBFS."""
    return _rms_dbfs(rms(pcm16))


def _rms_dbfs(value: int) -> float:
    return 20.0 * math.log10(value / 32768.0) if value > 0 else SILENCE_DBFS


def frame_power(samples: np.ndarray, frame: int, pad: bool = False) -> np.ndarray:
    """Mean square of each `frame`-sample frame of 16-bit samples, in order. A part frame at the
    end is left out, or with `pad` filled out with digital silence."""
    x = np.asarray(samples, dtype=np.float64)
    count = -(-len(x) // frame) if pad else len(x) // frame
    if count * frame > len(x):
        x = np.concatenate([x, np.zeros(count * frame - len(x))])
    return (x[: count * frame].reshape(count, frame) ** 2).mean(axis=1)


def frame_levels(samples: np.ndarray, frame: int, pad: bool = False, full_scale: bool = False) -> np.ndarray:
    """dB level of each `frame`-sample frame (framed as frame_power does).

    By default 10·log10(mean square + 1e-9), in dB over one 16-bit step (digital silence: -90).
    full_scale: what dbfs() says of each frame (integer RMS against full scale, SILENCE_DBFS for
    digital silence), to the last bit."""
    power = frame_power(samples, frame, pad)
    if full_scale:
        return np.array([_rms_dbfs(int(value)) for value in np.sqrt(power)], dtype=np.float64)
    return 10.0 * np.log10(power + 1e-9)


def noise_floor(levels: Sequence[float] | np.ndarray, percentile: float = 10.0,
                above: float | None = None, empty: float = SILENCE_DBFS) -> float:
    """A line's steady noise from its frame levels (any unit: dB, RMS): the `percentile`-th
    frame, the quiet between and around the words. With `above`, only the levels above it count
    (digital silence is not the line's noise); `empty` when no frame is left."""
    values = np.asarray(levels, dtype=np.float64)
    if above is not None:
        values = values[values > above]
    return float(np.percentile(values, percentile)) if len(values) else empty


def silence_ulaw(ms: int) -> bytes:
    """μ-law digital silence of the given length at 8 kHz."""
    return ULAW_SILENCE * (RATE * ms // 1000)


def silence_pcm(ms: int, rate: int = RATE) -> bytes:
    """16-bit PCM silence of the given length."""
    return b"\x00\x00" * (rate * ms // 1000)


def duration_s(pcm16: bytes, rate: int = RATE) -> float:
    """Length of 16-bit mono PCM in seconds."""
    return len(pcm16) / 2 / rate


class Resampler:
    """Streaming 16-bit mono resampler (audioop.ratecv keeps its filter state between chunks)."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate, self.dst_rate = src_rate, dst_rate
        self._state: object = None

    def __call__(self, pcm16: bytes) -> bytes:
        """Resample the next chunk; identity when the rates match."""
        if self.src_rate == self.dst_rate or not pcm16:
            return pcm16
        out, self._state = audioop.ratecv(pcm16, 2, 1, self.src_rate, self.dst_rate, self._state)
        return out

    def reset(self) -> None:
        """Forget the filter state (a new, unrelated stream follows)."""
        self._state = None


def resample(pcm16: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Band-limited resampling of a whole buffer (FFT), for offline audio such as prompts."""
    if src_rate == dst_rate or not pcm16:
        return pcm16
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    n_out = max(1, int(round(len(x) * dst_rate / src_rate)))
    spectrum = np.fft.rfft(x)
    keep = min(len(spectrum), n_out // 2 + 1)
    # Dropping bins above the lower Nyquist is an ideal anti-alias filter; zero-padding upsamples.
    y = np.fft.irfft(spectrum[:keep], n_out) * (n_out / len(x))
    return _to_int16(y)


def _to_int16(samples: np.ndarray) -> bytes:
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


def read_wav(source: Path | bytes) -> tuple[bytes, int]:
    """Read a 16-bit WAV (path or bytes) as mono PCM and its sample rate."""
    handle = wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), "rb")
    with handle as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit WAV, got {8 * wav.getsampwidth()}-bit")
        pcm = wav.readframes(wav.getnframes())
        if wav.getnchannels() == 2:
            pcm = audioop.tomono(pcm, 2, 0.5, 0.5)
        return pcm, wav.getframerate()


def write_wav(path: Path, pcm16: bytes, rate: int = RATE) -> None:
    """Write 16-bit mono PCM as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm16)


def to_telephone(pcm16: bytes, rate: int) -> bytes:
    """Any-rate 16-bit PCM to 8 kHz μ-law, band-limited like a phone line."""
    return pcm16_to_ulaw(resample(pcm16, rate, RATE))


def ulaw_with_noise(samples: np.ndarray, rms: float, rng: np.random.Generator) -> bytes:
    """16-bit samples (floats; zeros for a line where no one speaks) plus white noise of that
    RMS (in 16-bit steps), as μ-law."""
    return pcm16_to_ulaw(_to_int16(samples + rng.normal(0.0, rms, len(samples))))


def add_noise(pcm16: bytes, noise_dbfs: float, seed: int = 0) -> bytes:
    """Add white noise at the given level (dBFS RMS), e.g. -50 for a noisy line."""
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    sigma = 32768.0 * 10 ** (noise_dbfs / 20.0)
    return _to_int16(x + np.random.default_rng(seed).normal(0.0, sigma, len(x)))


def pad_silence(pcm16: bytes, lead_ms: int, trail_ms: int, rate: int = RATE) -> bytes:
    """Surround PCM with digital silence (callers pause before and after speaking)."""
    return silence_pcm(lead_ms, rate) + pcm16 + silence_pcm(trail_ms, rate)


def active_level_dbfs(pcm16: bytes, rate: int = RATE, span_db: float = 30.0) -> float:
    """Speech level in dBFS: RMS over the 10 ms frames within `span_db` of the loudest one.

    A simplified active speech level (after ITU-T P.56): pauses and leading/trailing silence do
    not dilute it, so an SNR set against it means the same for a short "yes" and a long sentence."""
    x = np.frombuffer(pcm16, dtype="<i2")
    step = rate // 100
    if len(x) < step:
        return SILENCE_DBFS
    power = frame_power(x, step)
    if power.max() <= 0:
        return SILENCE_DBFS
    active = power[power >= power.max() * 10 ** (-span_db / 10)]
    return 10.0 * math.log10(active.mean() / 32768.0 ** 2)


def line_noise(n_samples: int, level_dbfs: float, color: str = "white", seed: int = 0) -> np.ndarray:
    """Gaussian line noise with the given RMS level: "white" (flat) or "pink" (-3 dB/octave)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 1.0, n_samples)
    if color == "pink":
        spectrum = np.fft.rfft(noise)
        freqs = np.arange(len(spectrum), dtype=np.float64)
        spectrum[1:] /= np.sqrt(freqs[1:])  # 1/f power
        spectrum[0] = 0.0
        noise = np.fft.irfft(spectrum, n_samples)
    elif color != "white":
        raise ValueError(f"unknown noise colour {color!r}: white or pink")
    noise *= 32768.0 * 10 ** (level_dbfs / 20.0) / max(float(np.sqrt(np.mean(noise ** 2))), 1e-12)
    return noise


def mix_noise(pcm16: bytes, snr_db: float, color: str = "white", seed: int = 0,
              speech_dbfs: float | None = None, rate: int = RATE) -> bytes:
    """Add steady line noise `snr_db` below the speech's active level (not an absolute level).

    speech_dbfs: the level to set the noise against when `pcm16` holds no speech of its own (a
    noise-only stretch between turns of a call whose speech level is known)."""
    level = active_level_dbfs(pcm16, rate) if speech_dbfs is None else speech_dbfs
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    return _to_int16(x + line_noise(len(x), level - snr_db, color, seed))
