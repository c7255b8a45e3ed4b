"""What the bench's callers say (and when), and what their calls measured."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from app.speech.audio import PCM_FRAME_BYTES, dbfs, frames, ulaw_to_pcm16
from app.speech.endpoint import EndpointConfig
from app.speech.tts import CALLER_VOICES, caller_audio

# Requests the flow answers and then asks "anything else?": the call stays with the bot. Not
# "start over": PocketSphinx heard nothing in it for 5 of 8 voice/question pairs (and "cancel
# the" for one voice), which would measure recognition misses instead of latency.
TASKS = ("what are your hours", "where is my order")
ORDER_KEYS = "48217#"          # a shipped order in the demo data
LINES = TASKS + ("yes",)
# The server's endpointer calls a frame this loud speech; espeak-ng pads its audio with silence.
VOICED_DBFS = EndpointConfig().min_speech_dbfs
SLOWEST_KEPT = 5
# A reply this late is the server's no-input re-ask: it did not hear the turn at all.
UNHEARD_MS = 5000.0


@dataclass(frozen=True)
class Utterance:
    """A caller line as telephone audio, and which 20 ms frame is its last voiced one."""

    ulaw: bytes
    last_voiced: int


def caller_lines(voice: str, cache_dir: Path) -> dict[str, Utterance]:
    """Every line the bench's callers say, in one espeak-ng voice (cached on disk)."""
    return {text: utterance(caller_audio(text, voice, cache_dir=cache_dir)) for text in LINES}


def utterance(ulaw: bytes) -> Utterance:
    """Find the last voiced frame: voice-to-voice latency is timed from when it is sent."""
    pcm = ulaw_to_pcm16(ulaw)
    voiced = [i for i, frame in enumerate(frames(pcm, PCM_FRAME_BYTES, pad=b"\0\0")) if dbfs(frame) >= VOICED_DBFS]
    return Utterance(ulaw, voiced[-1] if voiced else 0)


def voice_for(slot: int) -> str:
    """Callers take turns among the espeak-ng voices the simulator knows."""
    return CALLER_VOICES[slot % len(CALLER_VOICES)]


def next_move(heard: str, requests: Iterator[str]) -> tuple[str, str]:
    """("say", line) or ("keys", digits): answer what the bot just asked, else the next request."""
    said = heard.lower()
    if "order number" in said or "key it in" in said:
        return "keys", ORDER_KEYS
    if "anything else" in said or "is that right" in said or "right?" in said:
        return "say", "yes"
    return "say", next(requests)


@dataclass
class CallTally:
    """What calls measured (one call's, or many added up); times in milliseconds."""

    voice_ms: list[float] = field(default_factory=list)     # last voiced frame sent -> first reply audio
    keys_ms: list[float] = field(default_factory=list)      # last key sent -> first reply audio
    greeting_ms: list[float] = field(default_factory=list)  # stream start -> first greeting audio
    failures: dict[str, int] = field(default_factory=dict)     # failed calls, by their first failure
    placed: int = 0
    completed: int = 0            # ran until the window closed, on the bot
    moved: int = 0                # the bot transferred or hung up (REST update)
    misheard: int = 0             # re-asked: "Sorry, I didn't ..."
    unheard: int = 0              # answered only by the no-input re-ask (not in the latencies)
    early_replies: int = 0        # the bot answered before the caller's last voiced frame
    bot_media: int = 0
    late_frames: int = 0
    late_ms: float = 0.0
    gaps: int = 0
    late_sends: int = 0           # caller frames the generator sent more than 20 ms late
    max_send_lag_ms: float = 0.0
    cpu_s: float = 0.0            # load generator CPU inside the window
    slowest: list[tuple[float, str]] = field(default_factory=list)   # (ms, what was said -> heard)

    def fail(self, reason: str) -> None:
        """Count one failed call by its reason."""
        self.failures[reason] = self.failures.get(reason, 0) + 1

    def note_slow(self, latency_ms: float, note: str) -> None:
        """Keep the SLOWEST_KEPT slowest turns, to show what they were."""
        self.slowest = sorted(self.slowest + [(round(latency_ms, 1), note)], reverse=True)[:SLOWEST_KEPT]

    @property
    def failed(self) -> int:
        """Calls that failed."""
        return sum(self.failures.values())

    def merge(self, other: "CallTally") -> None:
        """Add another tally into this one."""
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if name == "max_send_lag_ms":
                setattr(self, name, max(mine, value))
            elif name == "slowest":
                for latency_ms, note in value:
                    self.note_slow(latency_ms, note)
            elif isinstance(value, list):
                mine.extend(value)
            elif isinstance(value, dict):
                for key, count in value.items():
                    mine[key] = mine.get(key, 0) + count
            else:
                setattr(self, name, mine + value)
