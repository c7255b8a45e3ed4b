"""An in-process phone line: caller audio reaches the bot through exactly the live path.

The line plays Twilio's part of a Media Streams call without a network: 20 ms μ-law frames go
into a real VoiceCall (its endpointer, the recognizer with the grammar of the dialog state, the
matcher through engine.hear, barge-in, no-input timing) built from the VoiceKit create_app builds,
and what the bot plays comes back through a Sink that acknowledges marks once the audio before
them has "played", counted in frames. Time is the call's own clock, so the line runs as fast as
the recognizer does. The simulator's --audio mode and `ivr speech-eval` hear callers through it.
"""
from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from app.dialog.events import Event, Heard
from app.dialog.state import CallState
from app.engine import Handover, Reply
from app.services import Services
from app.speech.audio import (FRAME_SAMPLES, ULAW_FRAME_BYTES, ULAW_SILENCE, frame_levels, frames, pcm16_to_ulaw,
                              ulaw_to_pcm16, ulaw_with_noise)
from app.telephony.streams import mark_name
from app.telephony.voice import FRAME_MS, VoiceCall

LEAD_MS = 500               # the caller draws breath after the bot's prompt ends
KEY_GAP_FRAMES = 5          # 100 ms between keypad keys, as a thumb presses them
REPLY_TIMEOUT_MS = 20000    # call time a step waits for the bot beyond its own audio
SILENT_FRAME = ULAW_SILENCE * ULAW_FRAME_BYTES
WORDS_FLOOR_DB = 35         # frames this far below the loudest are the pause after the words
WORDS_OVER_NOISE_DB = 6     # ... as are frames less than this above a noisy line's steady noise


def words_end(ulaw: bytes, noise_dbfs: float | None = None) -> float:
    """Where the words end in caller audio (ms): synthesized and recorded lines trail silence.

    The end of the last 20 ms frame within WORDS_FLOOR_DB of the loudest and, on a noisy line,
    WORDS_OVER_NOISE_DB above its noise (`noise_dbfs`): else the noise counts as words.
    """
    pcm = np.frombuffer(ulaw_to_pcm16(ulaw), dtype="<i2")
    levels = frame_levels(pcm, FRAME_SAMPLES, pad=True, full_scale=True)   # dbfs() of each frame
    if not len(levels):
        return 0.0
    floor = max(levels.max() - WORDS_FLOOR_DB, -math.inf if noise_dbfs is None else noise_dbfs + WORDS_OVER_NOISE_DB)
    last = max(i for i, level in enumerate(levels) if level >= floor)
    return (last + 1) * FRAME_MS


@dataclass
class LineTurn:
    """What the bot did during one step of the caller, in the call's time."""

    texts: list[str] = field(default_factory=list)       # what the bot played, in order
    events: list[Event] = field(default_factory=list)     # what the engine was told (Heard, NoInput, ...)
    heard: Heard | None = None                            # the last caller utterance the engine classified
    transfer: Handover | None = None                      # the bot handed the call to a person
    updates: list[str] = field(default_factory=list)      # TwiML the bot moved the live call to
    hung_up: bool = False                                 # the bot ended the call
    ended: bool = False                                   # the call left the bot (hung up or transferred)
    latency_ms: float | None = None                       # end of caller audio/keys -> first reply audio
    barge_ins: int = 0                                    # prompts the caller's audio cut short
    call_ms: float = 0.0                                  # call time the step took
    wall_ms: float = 0.0                                  # real time it took (the line runs ahead)
    cpu_ms: float = 0.0                                   # this process's CPU time in the step
    replied: bool = False                                 # the bot answered during the step

    @property
    def intent(self) -> str | None:
        """The intent the engine acted on for the caller's words, if it heard any."""
        return self.heard.intent if self.heard else None

    @property
    def confidence(self) -> float | None:
        """That intent's confidence (the lower of the recognizer's and the matcher's)."""
        return self.heard.confidence if self.heard else None


class LineSink:
    """The bot's side of the stream: keeps what it played and plays it out on the call's clock."""

    def __init__(self) -> None:
        self.now_ms = 0.0                   # set by the line before each frame
        self.played_until_ms = 0.0          # when the audio sent so far finishes playing
        self.pending: list[tuple[float, str]] = []
        self.texts: list[str] = []
        self.updates: list[str] = []
        self.clears = 0
        self.tick_began = 0.0               # perf_counter() when the line's current frame arrived
        self.first_reply_ms: float | None = None   # call time of the first audio since reset
        self.sequence = 0

    def play(self, ulaw: bytes, text: str) -> None:
        """Audio then a mark, as the websocket sends them; Twilio plays them in order."""
        if self.first_reply_ms is None:
            # The frame's own processing counts: recognizer final pass, engine, synthesis.
            self.first_reply_ms = self.now_ms + (time.perf_counter() - self.tick_began) * 1000
        self.sequence += 1
        self.played_until_ms = max(self.played_until_ms, self.now_ms) + len(ulaw) * 1000 / 8000
        self.pending.append((self.played_until_ms, mark_name(self.sequence, text)))
        self.texts.append(text)

    def clear(self) -> None:
        """Barge-in: Twilio drops its buffered audio and reports every pending mark at once."""
        self.clears += 1
        self.played_until_ms = self.now_ms
        self.pending = [(self.now_ms, name) for _, name in self.pending]

    def update_call(self, twiml_doc: str) -> None:
        """The bot moved the live call (transfer, hang-up) through Twilio's REST API."""
        self.updates.append(twiml_doc)

    def due_marks(self) -> list[str]:
        """Marks whose audio has played by now (each reported once)."""
        due = [name for at, name in self.pending if at <= self.now_ms]
        self.pending = [(at, name) for at, name in self.pending if at > self.now_ms]
        return due

    def quiet(self) -> bool:
        """Nothing the bot sent is still playing."""
        return not self.pending


class CallWatch:
    """An engine observer keeping what the engine was told and answered on one call."""

    def __init__(self, call_sid: str) -> None:
        self.call_sid = call_sid
        self.events: list[Event] = []
        self.replies: list[Reply] = []

    def on_event(self, state: CallState, event: Event) -> None:
        if state.call_sid == self.call_sid:
            self.events.append(event)

    def on_reply(self, state: CallState, reply: Reply) -> None:
        if state.call_sid == self.call_sid:
            self.replies.append(reply)

    def on_callback(self, state: CallState, request: object) -> None:
        pass


@dataclass(frozen=True)
class _StepStart:
    texts: int
    updates: int
    events: int
    replies: int
    clears: int
    clock_ms: float
    wall_s: float = field(default_factory=time.perf_counter)
    cpu_s: float = field(default_factory=time.process_time)


class PhoneLine:
    """One call over an in-process line: start(), then say/press/silence, then hang_up().

    Each step returns once the bot has answered and its answer has finished playing (or the
    call left the bot), so the next step begins where a caller would begin.
    """

    def __init__(self, services: Services, call_sid: str = "", noise_rms: float = 0.0) -> None:
        """`noise_rms`: the line's own steady noise (16-bit PCM RMS), heard whenever the caller is
        quiet; 0 is a silent line. A noisy line stays noisy after the words (as a real one does):
        padding a noisy recording with digital silence made every turn end in a clean pause."""
        if services.voice is None:
            raise ValueError("a phone line needs the live voice kit: build the services with transport=stream")
        self.kit, self.engine = services.voice, services.engine
        self.call_sid = call_sid or "CA" + uuid.uuid4().hex
        self.caller = ""
        self.watch = CallWatch(self.call_sid)
        self.sink = LineSink()
        self.call: VoiceCall | None = None
        self.clock_ms = 0.0                 # call time: 20 ms per frame sent
        self.closed = False
        self.noise_rms = noise_rms
        self._noise = np.random.default_rng(0)

    # -- the caller's side -----------------------------------------------------------------
    def start(self, caller: str = "", wait: bool = True, state: CallState | None = None) -> LineTurn:
        """Place the call; with wait, return once the greeting has played.

        With `state`, the call begins in that dialog state instead (its node's grammar, its
        last prompts replayed), the way a stream that reconnects mid-call picks the call up.
        """
        if self.watch not in self.engine.observers:
            self.engine.observers.append(self.watch)
        if state is not None:
            placed = state.copy()
            placed.call_sid, placed.version = self.call_sid, 1
            self.engine.sessions.save(placed)
        return self._open_stream(caller, wait)

    def reconnect(self) -> LineTurn:
        """Twilio opens the stream again (e.g. after a transfer nobody took): the bot re-asks."""
        return self._open_stream(self.caller, True)

    def say(self, audio: bytes, encoding: str = "ulaw", lead_ms: int = LEAD_MS,
            wait: bool = True, words_end_ms: float | None = None) -> LineTurn:
        """The caller speaks `audio` (8 kHz μ-law, or 16-bit 8 kHz PCM with encoding="pcm16").

        With wait, the caller lets the bot finish its prompt first (else the words barge in);
        `lead_ms` of silence go before the audio, and silence follows it until the bot answers.
        Latency counts from where the words end in `audio`: `words_end_ms` when given (e.g.
        measured on the clean recording before noise was added), else found by level.
        """
        if encoding not in ("ulaw", "pcm16"):
            raise ValueError(f"encoding must be ulaw or pcm16, not {encoding!r}")
        ulaw = pcm16_to_ulaw(audio) if encoding == "pcm16" else audio
        step = self._step()
        if wait:
            self._until_quiet()
        self._silence_frames(lead_ms // FRAME_MS)
        self.sink.first_reply_ms = None
        began_ms = self.clock_ms
        for frame in frames(ulaw, ULAW_FRAME_BYTES, pad=ULAW_SILENCE):
            self._tick(frame)
        spoke_until = began_ms + (words_end(ulaw) if words_end_ms is None else words_end_ms)
        self._collect(step, need_reply=True)
        return self._turn(step, spoke_until)

    def press(self, keys: str, wait: bool = True) -> LineTurn:
        """Keypad keys over the stream, 100 ms apart."""
        step = self._step()
        if wait:
            self._until_quiet()
        self.sink.first_reply_ms = None
        for index, key in enumerate(keys):
            if index:
                self._silence_frames(KEY_GAP_FRAMES)
            self._at_tick()
            self._live().on_dtmf(key)
            self._ack_marks()
        pressed_at = self.clock_ms
        self._collect(step, need_reply=True)
        return self._turn(step, pressed_at)

    def silence(self, seconds: float) -> LineTurn:
        """The caller says nothing for `seconds` of call time (a reply begun meanwhile plays out)."""
        step = self._step()
        self._silence_frames(round(seconds * 1000 / FRAME_MS))
        self._collect(step, need_reply=False)
        return self._turn(step, None)

    def hang_up(self) -> None:
        """The caller hangs up (Twilio's status callback) unless the bot already let the call go."""
        if self.closed:
            return
        self.closed = True
        if self.call is not None and not self.call.finished:
            self.engine.hang_up(self.call_sid)
        if self.call is not None:
            self.call.close()                    # its voice-activity detector goes back to the pool
        if self.watch in self.engine.observers:
            self.engine.observers.remove(self.watch)

    @property
    def node(self) -> str | None:
        """The dialog state the call is in (where the caller's next words will be heard)."""
        state = self.engine.state(self.call_sid)
        return state.node if state else None

    @property
    def ended(self) -> bool:
        """The call has left the bot (hung up or handed to a person)."""
        return self.call is not None and self.call.finished

    # -- the call's clock --------------------------------------------------------------------
    def _open_stream(self, caller: str, wait: bool) -> LineTurn:
        self.caller = caller
        self.sink = LineSink()
        if self.call is not None:
            self.call.close()                    # the dropped stream's detector goes back to the pool
        # Each stream Twilio opens has its own sid; the newest one carries the call.
        self.call = VoiceCall(self.call_sid, self.kit, self.sink, "MZ" + uuid.uuid4().hex)
        step = self._step()
        self._at_tick()
        self.call.begin(caller)
        if wait:
            self._collect(step, need_reply=False)
        return self._turn(step, None)

    def _live(self) -> VoiceCall:
        if self.call is None:
            raise RuntimeError("the call has not been placed: start() first")
        return self.call

    def _at_tick(self) -> None:
        self.sink.now_ms = self.clock_ms
        self.sink.tick_began = time.perf_counter()

    def _tick(self, ulaw: bytes) -> None:
        """One 20 ms frame of caller audio, then the marks whose audio has played by now."""
        self.clock_ms += FRAME_MS
        self._at_tick()
        self._live().on_audio(ulaw)
        self._ack_marks()

    def _ack_marks(self) -> None:
        for name in self.sink.due_marks():
            self._live().on_mark(name)

    def _silence_frames(self, count: int) -> None:
        for _ in range(count):
            if self.ended:
                return
            self._tick(self._quiet())

    def _quiet(self) -> bytes:
        """A frame of the line while the caller says nothing."""
        if not self.noise_rms:
            return SILENT_FRAME
        return ulaw_with_noise(np.zeros(ULAW_FRAME_BYTES), self.noise_rms, self._noise)

    def _until_quiet(self) -> None:
        deadline = self.clock_ms + REPLY_TIMEOUT_MS
        while not self.sink.quiet() and not self.ended and self.clock_ms < deadline:
            self._tick(self._quiet())

    def _collect(self, step: _StepStart, need_reply: bool) -> None:
        """Silence until the bot has answered (if needed) and finished playing, or time runs out."""
        deadline = self.clock_ms + REPLY_TIMEOUT_MS
        while not self.ended and self.clock_ms < deadline:
            replied = len(self.sink.texts) > step.texts or len(self.sink.updates) > step.updates
            if self.sink.quiet() and (replied or not need_reply):
                return
            self._tick(self._quiet())

    # -- what the step did ---------------------------------------------------------------------
    def _step(self) -> _StepStart:
        return _StepStart(len(self.sink.texts), len(self.sink.updates), len(self.watch.events),
                          len(self.watch.replies), self.sink.clears, self.clock_ms)

    def _turn(self, step: _StepStart, acted_until: float | None) -> LineTurn:
        replies = self.watch.replies[step.replies:]
        updates = self.sink.updates[step.updates:]
        reply_ms = self.sink.first_reply_ms
        latency = None if acted_until is None or reply_ms is None else round(max(0.0, reply_ms - acted_until), 1)
        return LineTurn(
            texts=self.sink.texts[step.texts:], events=self.watch.events[step.events:],
            heard=next((r.heard for r in reversed(replies) if r.heard is not None), None),
            transfer=next((o for r in replies for o in r.outputs if isinstance(o, Handover)), None),
            updates=updates, hung_up=any("<Hangup" in doc for doc in updates), ended=self.ended,
            latency_ms=latency, barge_ins=self.sink.clears - step.clears,
            call_ms=self.clock_ms - step.clock_ms, replied=bool(replies) or bool(updates),
            wall_ms=round((time.perf_counter() - step.wall_s) * 1000, 1),
            cpu_ms=round((time.process_time() - step.cpu_s) * 1000, 1))
