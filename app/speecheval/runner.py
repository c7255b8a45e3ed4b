"""Play labelled recordings through an in-process phone line and score what the bot did.

Each recording gets a fresh call, brought to its dialog state the way a caller gets there (the
caller id of a known customer for the yes/no question, keys for the rest), then is said as
telephone audio (μ-law 8 kHz, 20 ms frames) into the live VoiceCall: endpointer, recognizer
with that state's grammar, matcher, dialog. Nothing is keyed on the caller's behalf after that.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from app.dialog.events import NoInput, OrderLookedUp
from app.services import Services
from app.sim.phoneline import PhoneLine, words_end
from app.speech.audio import FRAME_SAMPLES, RATE, frame_power, noise_floor, read_wav, to_telephone, ulaw_to_pcm16
from app.speecheval.items import ANYTHING_ELSE, COLLECT, MENU, YES_NO, Item

KNOWN_CALLER = "+15550100"       # the demo customer: greeted with "are you calling about order ...?"
UNKNOWN_CALLER = "+15550142"
# Number outcomes, as the issue names them.
RIGHT_FIRST, RIGHT_READ_BACK = "right first time", "right after a read-back"
WRONG_READ_BACK, WRONG_ACTED, ASKED_AGAIN = "wrong number read back", "wrong number acted on", "asked again"


@dataclass(frozen=True)
class Outcome:
    """What the bot made of one item."""

    item: Item
    intent: str | None            # the intent acted on (None: no turn was heard)
    no_input: bool                # the turn was taken for silence
    number: str                   # the number looked up or read back ("" if none)
    number_outcome: str           # one of the five number outcomes ("" for items without a number)
    transferred: bool
    latency_ms: float | None      # end of the caller's words -> first audio of the reply
    cpu_s: float                  # CPU time of the live path while the item was said
    audio_s: float

    @property
    def intent_right(self) -> bool:
        """The right intent acted on; for a number, also the right number (looked up or read back)."""
        if self.item.number:
            return self.number_outcome in (RIGHT_FIRST, RIGHT_READ_BACK)
        if self.item.intent == "agent":
            return self.transferred or self.intent == "agent"
        if self.item.intent == "none" and self.item.state == COLLECT:
            return not self.number and not self.transferred
        return self.intent == self.item.intent


def telephone_audio(path: Path) -> bytes:
    """A WAV file as 8 kHz μ-law, band-limited like a phone line."""
    pcm, rate = read_wav(path)
    return to_telephone(pcm, rate)


def run_items(services: Services, items: Iterable[Item],
              audio_of: Callable[[Item], bytes] = lambda item: telephone_audio(item.path)) -> list[Outcome]:
    """Every item said on its own call; outcomes in order."""
    return [run_item(services, item, audio_of(item)) for item in items]


def run_item(services: Services, item: Item, ulaw: bytes) -> Outcome:
    """One item on a fresh call."""
    noise = line_noise_rms(ulaw) if item.condition.startswith("snr") else 0.0
    line = PhoneLine(services, noise_rms=noise)
    _reach(line, item.state)
    began = time.thread_time()
    turn = line.say(ulaw, words_end_ms=words_end(ulaw, 20 * math.log10(noise / 32768)) if noise else None)
    cpu = time.thread_time() - began
    state = services.engine.state(line.call_sid)
    looked_up = [e.number for e in turn.events if isinstance(e, OrderLookedUp)]
    read_back = state.pending_number if state is not None and state.node == "confirm_number" else ""
    number = looked_up[0] if looked_up else read_back
    heard = turn.heard
    line.hang_up()
    return Outcome(item, heard.intent if heard else None,
                   heard is None and any(isinstance(e, NoInput) for e in turn.events),
                   number, _number_outcome(item, bool(looked_up), number),
                   turn.transfer is not None, turn.latency_ms, cpu, len(ulaw) / RATE)


def line_noise_rms(ulaw: bytes) -> float:
    """The steady noise of a noisy recording (16-bit RMS of its quietest 20 ms frames, 10th
    percentile): the line keeps it up before and after the words, as a real line would."""
    pcm = np.frombuffer(ulaw_to_pcm16(ulaw), dtype="<i2")
    return noise_floor(np.sqrt(frame_power(pcm, FRAME_SAMPLES)), 10, empty=0.0)


def _reach(line: PhoneLine, state: str) -> None:
    if state == YES_NO:
        line.start(KNOWN_CALLER)
        return
    line.start(UNKNOWN_CALLER)
    if state in (COLLECT, ANYTHING_ELSE):
        line.press("1")
    if state == ANYTHING_ELSE:
        line.press("48217#")
    if state not in (MENU, COLLECT, ANYTHING_ELSE):
        raise ValueError(f"unknown state {state!r}")


def _number_outcome(item: Item, acted: bool, number: str) -> str:
    if not item.number:
        return ""
    if not number:
        return ASKED_AGAIN
    if number == item.number:
        return RIGHT_FIRST if acted else RIGHT_READ_BACK
    return WRONG_ACTED if acted else WRONG_READ_BACK
