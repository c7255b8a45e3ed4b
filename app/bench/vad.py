"""`ivr bench vad`: voice-activity detectors measured as the endpointer uses them.

Every candidate drives the same Endpointer (600 ms trailing silence, 60 ms minimum speech) over
callers played through the telephone path (8 kHz μ-law), clean and with steady white or pink line
noise set against each utterance's active speech level; and over noise alone, breathing and
cough-like bursts, where any speech start is a false one. The reference end of speech is taken
from the clean recording (last 10 ms frame within 35 dB of its loudest and 12 dB over its own
quietest tenth), so line noise cannot move it.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from app.speech.audio import (PCM_FRAME_BYTES, RATE, _to_int16, active_level_dbfs, frames,
                              mix_noise, pcm16_to_ulaw, read_wav, resample, silence_pcm, ulaw_to_pcm16)
from app.speech.endpoint import EndpointConfig, Endpointer, EventKind

LEAD_MS, TRAIL_MS = 1000, 4000
SENTENCES = ("yes", "no", "operator", "four eight two one seven", "three zero five one two",
             "I want to check on my order", "where is my package", "what time do you close today",
             "let me talk to a real person", "yeah hi I wanna know where my stuff is")
VOICES = ("en-us", "en-gb", "en-us+f3", "en-us+m3")
SPEEDS = (140, 180)
CONDITIONS = (("clean", None, 0.0), ("white", "white", 20.0), ("white", "white", 15.0),
              ("white", "white", 10.0), ("pink", "pink", 20.0), ("pink", "pink", 15.0),
              ("pink", "pink", 10.0), ("pink from 0.5 s", "pink", 15.0))
NOISE_FROM_MS = 500   # "from 0.5 s": the line is quiet when the turn starts, then noisy


@dataclass(frozen=True)
class Utterance:
    """Telephone-path PCM of one caller line and where its speech really is (ms)."""

    name: str
    pcm: bytes
    start_ms: int
    end_ms: int


def speech_bounds(pcm: bytes) -> tuple[int, int]:
    """First and last 10 ms frame of speech in a clean recording (ms)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    step = RATE // 100
    power = np.mean(x[: len(x) // step * step].reshape(-1, step) ** 2, axis=1) + 1e-3
    level = 10 * np.log10(power)
    gate = max(level.max() - 35.0, min(float(np.percentile(level, 10)) + 12.0, level.max() - 6.0))
    voiced = np.nonzero(level >= gate)[0]
    return int(voiced[0]) * 10, int(voiced[-1] + 1) * 10


def telephone(pcm: bytes, rate: int) -> bytes:
    """Through the phone path: 8 kHz, μ-law and back, as the server hears it."""
    return ulaw_to_pcm16(pcm16_to_ulaw(resample(pcm, rate, RATE)))


def synthesized(cache_dir: Path | None) -> list[Utterance]:
    from app.speech.tts import caller_audio
    out = []
    for text in SENTENCES:
        for voice in VOICES:
            for speed in SPEEDS:
                pcm = ulaw_to_pcm16(caller_audio(text, voice=voice, rate=speed, cache_dir=cache_dir))
                out.append(Utterance(f"{voice}@{speed}:{text}", pcm, *speech_bounds(pcm)))
    return out


def recorded(folder: Path, per_set: int) -> list[Utterance]:
    """The first `per_set` WAVs (sorted) of each set under folder (an4/, commands/, fsdd/)."""
    out = []
    for subset in sorted(p for p in folder.iterdir() if p.is_dir()):
        for wav in sorted(subset.glob("*.wav"))[:per_set]:
            pcm = telephone(*read_wav(wav))
            out.append(Utterance(f"{subset.name}/{wav.name}", pcm, *speech_bounds(pcm)))
    return out


@dataclass
class Tally:
    """One candidate's figures over one condition."""

    delays: list[float] = field(default_factory=list)   # END - end of speech, s
    timer: int = 0        # no END by the trailing-silence rule (max length or never)
    missed: int = 0       # no SPEECH_START at all
    cut: int = 0          # END while the caller was still speaking
    early: int = 0        # SPEECH_START in the noise before the speech

    def row(self) -> str:
        n = len(self.delays) + self.timer + self.missed
        med = f"{statistics.median(self.delays):.2f}" if self.delays else "-"
        p90 = f"{np.percentile(self.delays, 90):.2f}" if self.delays else "-"
        return f"{med:>6} {p90:>6} {self.timer:>4}/{n} {self.missed:>4} {self.cut:>4} {self.early:>4}"


def run_turn(endpointer: Endpointer, pcm: bytes) -> tuple[int | None, int | None, str]:
    """Feed a line until END; first SPEECH_START and END times (ms) and the END reason."""
    start = None
    for frame in frames(pcm, PCM_FRAME_BYTES):
        for event in endpointer.feed(frame):
            if event.kind == EventKind.SPEECH_START and start is None:
                start = event.at_ms
            elif event.kind == EventKind.END:
                return start, event.at_ms, event.reason
    return start, None, ""


def condition_line(utt: Utterance, colour: str | None, snr: float, seed: int, late: bool = False) -> bytes:
    line = silence_pcm(LEAD_MS) + utt.pcm + silence_pcm(TRAIL_MS)
    if colour is None:
        return line
    noisy = mix_noise(line, snr, colour, seed, speech_dbfs=active_level_dbfs(utt.pcm))
    if not late:
        return noisy
    cut = NOISE_FROM_MS * RATE // 1000 * 2
    return line[:cut] + noisy[cut:]


def endpointer(factory: Callable[[], object]) -> Endpointer:
    config = EndpointConfig(silence_ms=600, no_input_s=None, max_utterance_s=30)
    return Endpointer(config, detector=factory())  # type: ignore[arg-type]


def measure_turns(factory, utterances: Iterable[Utterance], colour, snr,
                  late: bool = False) -> tuple[Tally, float, float]:
    """Tally and (CPU seconds, audio seconds) over the utterances in one line condition."""
    tally, cpu, audio = Tally(), 0.0, 0.0
    for i, utt in enumerate(utterances):
        line = condition_line(utt, colour, snr, seed=i, late=late)
        ep = endpointer(factory)
        began = time.process_time()
        start, end, reason = run_turn(ep, line)
        cpu += time.process_time() - began
        audio += ep.now_ms / 1000  # what was fed: the turn stops at END
        truth_end = LEAD_MS + utt.end_ms
        if start is None:
            tally.missed += 1
        elif end is None or reason != "silence":
            tally.timer += 1
        else:
            if start < LEAD_MS + utt.start_ms - 200:
                tally.early += 1
            if end < truth_end:
                tally.cut += 1
            tally.delays.append((end - truth_end) / 1000)
    return tally, cpu, audio


# Non-speech sounds: any SPEECH_START over them is a false start (and a false barge-in).

def breathing(level_dbfs: float, seed: int) -> bytes:
    """Four breaths in 8 s: band-limited noise (300-2500 Hz) under a slow rise and fall."""
    rng = np.random.default_rng(seed)
    out = np.zeros(8 * RATE)
    for k in range(4):
        n = int(rng.uniform(0.5, 0.9) * RATE)
        burst = _band(rng.normal(0, 1, n), 300, 2500) * np.sin(np.linspace(0, np.pi, n)) ** 2
        at = int((0.5 + 2 * k) * RATE)
        out[at:at + n] += burst
    return _scaled(out, level_dbfs)


def coughs(level_dbfs: float, seed: int) -> bytes:
    """Three coughs in 8 s, each one or two explosive bursts (5 ms attack, ~70 ms decay)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(8 * RATE)
    for k in range(3):
        at = int((0.8 + 2.5 * k) * RATE)
        for part in range(int(rng.integers(1, 3))):
            n = int(0.3 * RATE)
            t = np.arange(n) / RATE
            envelope = np.minimum(t / 0.005, 1.0) * np.exp(-t / 0.07) * (1.0 if part == 0 else 0.6)
            start = at + part * int(0.35 * RATE)
            out[start:start + n] += _band(rng.normal(0, 1, n), 200, 3400) * envelope
    return _scaled(out, level_dbfs)


def _band(x: np.ndarray, low: float, high: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spectrum, len(x))


def _scaled(x: np.ndarray, level_dbfs: float) -> bytes:
    """Peak-active level (10 ms frames within 20 dB of the loudest) set to level_dbfs."""
    pcm = _to_int16(x / max(np.abs(x).max(), 1e-9) * 10000)
    gain = 10 ** ((level_dbfs - active_level_dbfs(pcm, span_db=20)) / 20)
    return telephone(_to_int16(np.frombuffer(pcm, dtype="<i2") * gain), RATE)


def non_speech(speech_dbfs: float) -> list[tuple[str, bytes]]:
    """Noise-only lines and non-speech sounds, levels set against a typical caller's speech."""
    quiet = silence_pcm(8000)
    lines = []
    for colour in ("white", "pink"):
        for snr in (20, 10):
            lines.append((f"{colour} {snr}", mix_noise(quiet, snr, colour, 1, speech_dbfs)))
    for rel in (-20, -10):
        lines.append((f"breath {rel}", breathing(speech_dbfs + rel, 2)))
    for rel in (0, 6):
        lines.append((f"cough {rel:+}", coughs(speech_dbfs + rel, 3)))
    lines.append(("cough+pink 20", mix_noise(coughs(speech_dbfs, 4), 20, "pink", 5, speech_dbfs)))
    return lines


def false_starts(factory, line: bytes) -> tuple[int, int]:
    """Speech starts over a non-speech line (restarting after each END) and the longest voiced
    stretch in ms (what a barge-in minimum must exceed)."""
    ep = endpointer(factory)
    starts, longest = 0, 0
    for frame in frames(line, PCM_FRAME_BYTES):
        for event in ep.feed(frame):
            if event.kind == EventKind.SPEECH_START:
                starts += 1
            elif event.kind == EventKind.END:
                ep.reset()
        longest = max(longest, ep.voiced_ms if ep.in_speech else 0)
    return starts, longest




def report(candidates: dict[str, Callable[[], object]], sets: dict[str, list[Utterance]],
           out: Callable[[str], None] = print) -> None:
    """Print the end-of-speech, missed and false-start tables for every candidate."""
    header = "  median    p90 timer missed cut early   (delay s: END - last word; 600 ms silence)"
    cpu: dict[str, list[float]] = {name: [0.0, 0.0] for name in candidates}
    for set_name, utterances in sets.items():
        for label, colour, snr in CONDITIONS:
            cond = "clean" if colour is None else f"{label} {snr:.0f} dB"
            out(f"\n{set_name} ({len(utterances)} lines), {cond}\n{'':18}{header}")
            for name, factory in candidates.items():
                tally, used, audio = measure_turns(factory, utterances, colour, snr, "from" in label)
                cpu[name][0] += used
                cpu[name][1] += audio
                out(f"{name:18}{tally.row()}")
    level = statistics.median(active_level_dbfs(u.pcm) for u in next(iter(sets.values())))
    out(f"\nfalse starts / longest voiced ms over 8 s of non-speech; levels in dB against the "
        f"speech level ({level:.1f} dBFS): noise as SNR, breathing and coughs relative")
    lines = non_speech(level)
    out(f"{'':18}" + "".join(f"{name[:13]:>14}" for name, _ in lines))
    for name, factory in candidates.items():
        cells = [false_starts(factory, line) for _, line in lines]
        out(f"{name:18}" + "".join(f"{f'{s} / {ms}':>14}" for s, ms in cells))
    out("\nCPU per audio second (ms), one core, endpointer included")
    for name, (used, audio) in cpu.items():
        out(f"{name:18}{1000 * used / max(audio, 1e-9):8.2f}")
