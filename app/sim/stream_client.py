"""Twilio's side of a Media Streams websocket: paced caller audio out, bot audio and marks in."""
from __future__ import annotations

import base64
import json
import queue
import threading
import time
from dataclasses import dataclass, field

import websocket

from app.bench.turns import utterance
from app.speech.audio import ULAW_FRAME_BYTES, ULAW_SILENCE, frames
from app.telephony.streams import mark_text

FRAME_S = 0.02


@dataclass
class Heard:
    """What came back from the bot, in stream time (ms since the stream started)."""

    texts: list[str] = field(default_factory=list)
    first_audio_ms: float | None = None
    first_audio_at: float | None = None    # perf_counter() when the first reply frame came in
    last_message_ms: float = 0.0
    played_until_ms: float = 0.0      # when the bot's audio sent so far finishes playing


class StreamClient:
    """One websocket: a sender thread keeps 20 ms frames flowing (silence unless the caller talks)."""

    def __init__(self, url: str, signature: str, call_sid: str, parameters: dict[str, str],
                 speed: float = 1.0, stream_sid: str = "") -> None:
        self.ws = websocket.create_connection(url, header=[f"X-Twilio-Signature: {signature}"], timeout=10)
        self.ws.settimeout(None)   # the bot may be silent for long stretches; only close ends us
        self.speed = speed
        self.stream_sid = stream_sid or "MZ" + call_sid[2:]
        self.outbox: queue.Queue[bytes | tuple[str, str]] = queue.Queue()
        self.frames_sent = 0
        self.heard = Heard()
        self.pending_marks: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.last_speech_ms: float | None = None
        self.last_speech_at: float | None = None   # perf_counter() when the last voiced frame went out
        self.clears = 0                   # how often the bot cut its own prompt (barge-in)
        self._handshake(call_sid, parameters)
        threading.Thread(target=self._send_loop, daemon=True).start()
        threading.Thread(target=self._receive_loop, daemon=True).start()

    @property
    def now_ms(self) -> float:
        """Stream time: how much caller audio has been sent."""
        return self.frames_sent * FRAME_S * 1000

    def speak(self, ulaw: bytes) -> None:
        """Queue caller audio; it goes out at the stream's pace.

        The speech ends with its last voiced frame, not with the synthesizer's trailing silence:
        reply latency is timed from there, as a caller hears it."""
        last_voiced = utterance(ulaw).last_voiced
        for index, frame in enumerate(frames(ulaw, ULAW_FRAME_BYTES, pad=ULAW_SILENCE)):
            self.outbox.put(frame)
            if index == last_voiced:
                self.outbox.put(("speech_end", ""))

    def press(self, digit: str) -> None:
        """A keypad key, in order with the audio."""
        self.outbox.put(("dtmf", digit))

    def busy(self) -> bool:
        """True while queued caller audio is still going out."""
        return not self.outbox.empty()

    def stop(self) -> None:
        """Twilio ends the stream (the call moved on, or hung up)."""
        if not self.closed.is_set():
            self.closed.set()
            try:
                self.ws.send(json.dumps({"event": "stop", "streamSid": self.stream_sid, "stop": {}}))
                self.ws.close()
            except (websocket.WebSocketException, OSError):
                pass

    def _handshake(self, call_sid: str, parameters: dict[str, str]) -> None:
        self.ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        self.ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": self.stream_sid,
                                 "start": {"streamSid": self.stream_sid, "callSid": call_sid,
                                           "accountSid": "AC" + "0" * 32, "tracks": ["inbound"],
                                           "customParameters": parameters,
                                           "mediaFormat": {"encoding": "audio/x-mulaw",
                                                           "sampleRate": 8000, "channels": 1}}}))

    def set_pace(self, speed: float) -> None:
        """Send from now on at `speed` times real time (the simulator slows down to wait)."""
        self._anchor = (time.perf_counter(), self.frames_sent, speed)

    def _send_loop(self) -> None:
        self.set_pace(self.speed)
        while not self.closed.is_set():
            self._send_next()
            self._echo_due_marks()
            # Paced against an anchor, not the last frame, so scheduling jitter does not accumulate.
            started, frames_then, speed = self._anchor
            delay = started + (self.frames_sent - frames_then) * FRAME_S / speed - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

    def _send_next(self) -> None:
        try:
            item = self.outbox.get_nowait()
        except queue.Empty:
            item = ULAW_SILENCE * ULAW_FRAME_BYTES
        if isinstance(item, tuple):
            self._control(*item)
            return
        self._send({"event": "media", "streamSid": self.stream_sid,
                    "media": {"track": "inbound", "timestamp": str(int(self.now_ms)),
                              "payload": base64.b64encode(item).decode()}})
        self.frames_sent += 1

    def _control(self, kind: str, value: str) -> None:
        if kind == "dtmf":
            self._send({"event": "dtmf", "streamSid": self.stream_sid,
                        "dtmf": {"track": "inbound_track", "digit": value}})
        elif kind == "speech_end":
            self.last_speech_ms, self.last_speech_at = self.now_ms, time.perf_counter()

    def _send(self, message: dict) -> None:
        try:
            self.ws.send(json.dumps(message))
        except (websocket.WebSocketException, OSError):
            self.closed.set()

    def _receive_loop(self) -> None:
        while not self.closed.is_set():
            try:
                raw = self.ws.recv()
            except (websocket.WebSocketException, OSError):
                self.closed.set()
                return
            if raw:
                self._on_message(json.loads(raw))

    def _on_message(self, message: dict) -> None:
        with self.lock:
            now, heard = self.now_ms, self.heard
            heard.last_message_ms = now
            event = message.get("event")
            if event == "media":
                played = len(base64.b64decode(message["media"]["payload"])) / 8.0
                if heard.first_audio_ms is None:
                    heard.first_audio_ms, heard.first_audio_at = now, time.perf_counter()
                heard.played_until_ms = max(heard.played_until_ms, now) + played
            elif event == "mark":
                name = message["mark"]["name"]
                text = mark_text(name)
                if text:
                    heard.texts.append(text)
                self.pending_marks.append((heard.played_until_ms, name))
            elif event == "clear":
                self.clears += 1
                heard.played_until_ms = now
                self.pending_marks = [(now, name) for _, name in self.pending_marks]

    def _echo_due_marks(self) -> None:
        """Twilio reports a mark once the audio before it has been played to the caller."""
        with self.lock:
            due = [name for at, name in self.pending_marks if at <= self.now_ms]
            self.pending_marks = [(at, name) for at, name in self.pending_marks if at > self.now_ms]
        for name in due:
            self._send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    def take_heard(self) -> Heard:
        """What the bot sent since the last call (the playback clock carries over)."""
        with self.lock:
            heard = self.heard
            self.heard = Heard(played_until_ms=heard.played_until_ms, last_message_ms=heard.last_message_ms)
        return heard

    def quiet(self) -> bool:
        """The bot has finished speaking and nothing is waiting to be played."""
        with self.lock:
            return not self.pending_marks and self.heard.played_until_ms <= self.now_ms
