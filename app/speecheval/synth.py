"""Synthesized caller sets: what callers say, in several espeak-ng voices, clean and on noisy lines.

Sources (none of them is tuned on here; they are what the bot should understand):
- labelled utterance files (the development and tuning sets: text, intent, slots);
- the escape phrases, said in every dialog state;
- order numbers as callers read them out (fillers, "oh", "double"), where the number is asked;
- yes/no answers at the yes/no question.
Every line is rendered to telephone audio (8 kHz μ-law); noisy copies add white noise at a
signal-to-noise ratio measured against the speech's own level, then go through μ-law again.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from app.nlu.numbers import spell_digits
from app.speech.audio import FRAME_SAMPLES, frame_power, ulaw_to_pcm16, ulaw_with_noise, write_wav
from app.speech.tts import caller_audio
from app.speecheval.items import COLLECT, MENU, STATES, YES_NO

VOICES = (("en-us", 160, None), ("en-gb", 150, None), ("en-us+f3", 170, 60), ("en-us+m3", 140, 40))
ESCAPES = ("agent", "operator", "representative", "human", "a real person", "someone please",
           "customer service", "i want to speak to a real person", "can i speak to somebody",
           "let me talk to a bloody person", "get me a human", "transfer me to an agent please")
NUMBER_CARRIERS = ("{n}", "it's {n}", "the number is {n}", "my order number is {n}", "um {n}",
                   "order {n}", "yeah it's {n}")
YES_NO_LINES = (("yes", "yes"), ("yeah", "yes"), ("yes it is", "yes"), ("that's right", "yes"),
                ("correct", "yes"), ("no", "no"), ("nope", "no"), ("no it's not", "no"),
                ("no that's wrong", "no"))


@dataclass(frozen=True)
class Line:
    """One synthetic caller line and its label."""

    text: str
    state: str
    intent: str
    slots: dict


def lines_from_tsv(path: Path) -> list[Line]:
    """A labelled utterance file (text, intent, slots JSON) as lines said where they fit."""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        text, intent, slots = (raw.split("\t") + ["{}"])[:3]
        state = YES_NO if intent in ("yes", "no") else MENU
        out.append(Line(_speakable(text), state, intent, json.loads(slots or "{}")))
    return out


def escape_lines() -> list[Line]:
    """Every escape phrase in every dialog state."""
    return [Line(text, state, "agent", {}) for text in ESCAPES for state in STATES]


def number_lines(count: int, seed: int = 11, digits: int = 5) -> list[Line]:
    """Order numbers read out the ways callers do, where the number is asked for."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        number = "".join(rng.choice("0123456789") for _ in range(digits))
        spoken = spell_digits(number)
        if i % 4 == 1:
            spoken = spoken.replace("zero", "oh")
        carrier = NUMBER_CARRIERS[i % len(NUMBER_CARRIERS)]
        out.append(Line(carrier.format(n=spoken), COLLECT, "order_status", {"order_number": number}))
    return out


def yes_no_lines() -> list[Line]:
    """Answers to "are you calling about order ...?"."""
    return [Line(text, YES_NO, intent, {}) for text, intent in YES_NO_LINES]


def write_set(out: Path, lines: Sequence[Line], voices: Sequence[tuple[str, int, int | None]] = VOICES,
              snrs: Sequence[float] = (), cache: Path | None = None) -> int:
    """Render every line in every voice (and noise level) into `out`; returns the item count."""
    out.mkdir(parents=True, exist_ok=True)
    rows = ["file\tstate\tintent\tslots\ttext\tcondition"]
    for n, line in enumerate(lines):
        for voice, rate, pitch in voices:
            ulaw = caller_audio(line.text, voice=voice, rate=rate, pitch=pitch, cache_dir=cache)
            for condition, audio in [("clean", ulaw)] + [(f"snr{s:g}", with_noise(ulaw, s, n)) for s in snrs]:
                name = f"{n:04d}-{voice.replace('+', '_')}-{condition}.wav"
                write_wav(out / name, ulaw_to_pcm16(audio))
                rows.append("\t".join((name, line.state, line.intent, json.dumps(line.slots), line.text, condition)))
    (out / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


def with_noise(ulaw: bytes, snr_db: float, seed: int = 0) -> bytes:
    """White line noise at `snr_db` below the speech's level (RMS over its voiced 20 ms frames)."""
    x = np.frombuffer(ulaw_to_pcm16(ulaw), dtype="<i2").astype(np.float64)
    energy = frame_power(x, FRAME_SAMPLES)
    voiced = energy[energy > energy.max() * 10 ** (-30 / 10)] if len(energy) else energy
    speech_rms = float(np.sqrt(voiced.mean())) if len(voiced) else 0.0
    return ulaw_with_noise(x, speech_rms / 10 ** (snr_db / 20), np.random.default_rng(seed))


def _speakable(text: str) -> str:
    """Numerals as a caller reads them out ("30512" -> "three zero five one two")."""
    return re.sub(r"\d{2,}", lambda m: spell_digits(m.group()), text)


def all_lines(tsv_files: Iterable[Path], numbers: int = 24) -> list[Line]:
    """The standard synthetic set: labelled files, escapes, numbers, yes/no."""
    lines: list[Line] = []
    for path in tsv_files:
        lines += lines_from_tsv(path)
    return lines + escape_lines() + number_lines(numbers) + yes_no_lines()


