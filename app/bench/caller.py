"""One simulated streaming call for `ivr bench calls`: Twilio's side of it, timed turn by turn.

The call's own thread paces 20 ms caller frames against the call's start (silence unless the
caller talks) and runs the caller's part; a second thread receives the bot's audio and marks and
stamps them on arrival. Definitions of what is measured are in docs/benchmarks.md.
"""
from __future__ import annotations

import base64
import itertools
import json
import random
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import websocket

from app.bench.turns import TASKS, UNHEARD_MS, CallTally, Utterance, next_move
from app.speech.audio import ULAW_FRAME_BYTES, ULAW_SILENCE, frames
from app.telephony.security import SignatureChecker
from app.telephony.streams import mark_text

FRAME_S = 0.02
REPLY_TIMEOUT_S = 10.0        # no reply by then: the call counts as failed
# The caller's pause once the bot has finished speaking, drawn per turn: with one fixed pause,
# calls placed together stayed in step and every caller finished speaking at the same moment.
THINK_S = (0.3, 1.2)
LATE_TOLERANCE_S = 0.02       # bot audio this far past its playback deadline is a late frame
GAP_S = 0.04                  # a longer pause between two bot media messages of one reply is a gap
KEY_GAP_FRAMES = 5            # 100 ms between keypad keys
SILENCE = ULAW_SILENCE * ULAW_FRAME_BYTES


class CallFailed(RuntimeError):
    """The call broke the way a caller would notice (the message is the failure's kind)."""


@dataclass(frozen=True)
class Target:
    """The server under test and how to sign for it."""

    url: str              # where to connect (loopback)
    public_url: str       # the server's PUBLIC_URL, which signatures cover
    token: str


class BenchCall:
    """One call from /voice/incoming to hang-up; adds what it measured to `tally`."""

    def __init__(self, target: Target, sid: str, caller: str, voice: dict[str, Utterance],
                 window: tuple[float, float], tally: CallTally) -> None:
        self.target, self.sid, self.caller, self.voice = target, sid, caller, voice
        self.window, self.tally = window, tally     # time.time() bounds of the measured window
        self.signer = SignatureChecker(target.token, target.public_url)
        self.rng = random.Random(sid)               # the same pauses for the same call, run after run
        self.ws: websocket.WebSocket | None = None
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.moved: dict | None = None              # the REST update that took the call off the bot
        self.sent = 0
        self.t0 = 0.0
        self.listen_from = 0.0                      # a reply is the first bot audio after this
        self.reply_at: float | None = None
        self.heard: list[str] = []
        self.played_until = self.last_media_at = 0.0
        self.marks: list[tuple[float, str]] = []

    def play(self) -> None:
        """Place the call and talk until the window closes; failures are tallied, not raised."""
        failure = None
        try:
            self._open(*self._incoming())
            self._await_reply(self.t0, "greeting")
            self.tally.greeting_ms.append((self.reply_at - self.t0) * 1000)   # type: ignore[operator]
            self._converse()
        except CallFailed as exc:
            failure = str(exc)
        try:
            self._hang_up()
        except CallFailed as exc:
            failure = failure or str(exc)
        self._count(failure)

    def _count(self, failure: str | None) -> None:
        if failure is not None:
            self.tally.fail(failure)
        elif self.moved is not None:
            self.tally.moved += 1
        else:
            self.tally.completed += 1

    def on_update(self, update: dict) -> None:
        """The server moved the live call through the REST API (transfer, hang-up)."""
        self.moved = update

    # -- setting up ------------------------------------------------------------------------
    def _post(self, path: str, form: dict[str, str]) -> requests.Response:
        headers = {"X-Twilio-Signature": self.signer.sign(path, form)}
        try:
            response = requests.post(self.target.url + path, data=form, headers=headers, timeout=REPLY_TIMEOUT_S)
        except requests.RequestException as exc:
            raise CallFailed(f"{path}: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise CallFailed(f"{path}: HTTP {response.status_code}")
        return response

    def _incoming(self) -> tuple[str, dict[str, str]]:
        """The voice webhook; the stream's URL and <Parameter>s from its TwiML."""
        form = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.caller, "To": "+15550100",
                "CallStatus": "ringing", "Direction": "inbound"}
        try:
            stream = ET.fromstring(self._post("/voice/incoming", form).content).find("Connect/Stream")
        except ET.ParseError:
            stream = None
        if stream is None:
            raise CallFailed("/voice/incoming: no <Connect><Stream> (is IVR_TRANSPORT=stream?)")
        return stream.get("url", ""), {p.get("name", ""): p.get("value", "") for p in stream.iter("Parameter")}

    def _open(self, stream_url: str, parameters: dict[str, str]) -> None:
        # Signed over the URL the TwiML named (PUBLIC_URL's), connected over loopback.
        local = urlsplit(self.target.url)
        url = f"ws://{local.netloc}{urlsplit(stream_url).path}"
        try:
            self.ws = websocket.create_connection(url, timeout=REPLY_TIMEOUT_S,
                                                  header=[f"X-Twilio-Signature: {self.signer.sign_url(stream_url, {})}"])
        except (websocket.WebSocketException, OSError) as exc:
            raise CallFailed(f"websocket: {type(exc).__name__}") from None
        self.ws.settimeout(None)
        stream_sid = "MZ" + self.sid[2:]
        self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        self._send({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
                    "start": {"streamSid": stream_sid, "callSid": self.sid, "tracks": ["inbound"],
                              "customParameters": parameters,
                              "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})
        self.t0 = self.listen_from = time.perf_counter()
        threading.Thread(target=self._receive, daemon=True, name=f"recv-{self.sid[-6:]}").start()

    def _hang_up(self) -> None:
        if self.ws is None:
            return                              # the call never got its stream: nothing to end
        if not self.closed.is_set():
            self.closed.set()
            try:
                self.ws.send(json.dumps({"event": "stop", "streamSid": "MZ" + self.sid[2:], "stop": {}}))
                self.ws.close()
            except (websocket.WebSocketException, OSError):
                pass
        self._post("/voice/status", {"CallSid": self.sid, "CallStatus": "completed"})

    # -- the conversation -------------------------------------------------------------------
    def _converse(self) -> None:
        last: tuple[float, str] | None = None
        requests = itertools.cycle(TASKS)
        while True:
            self._wait_quiet()
            with self.lock:
                heard, self.heard = " ".join(self.heard), []
            if last is not None:
                self.tally.note_slow(last[0], f"{last[1]!r} -> {heard[:60]!r}")
            if self.moved is not None or time.time() >= self.window[1]:
                return
            kind, what = next_move(heard, requests)
            self.tally.misheard += "didn't" in heard
            self.listen_from = time.perf_counter()
            ended = self._say(what) if kind == "say" else self._press(what)
            self._await_reply(ended, kind)
            last = self._record_turn(kind, what, ended)

    def _say(self, text: str) -> float:
        """Speak a line; returns when its last voiced frame went out."""
        utterance, ended = self.voice[text], 0.0
        for index, frame in enumerate(frames(utterance.ulaw, ULAW_FRAME_BYTES, pad=ULAW_SILENCE)):
            sent = self._tick(frame)
            if index == utterance.last_voiced:
                ended = sent
        return ended

    def _press(self, keys: str) -> float:
        """Keypad keys 100 ms apart; returns when the last one went out."""
        ended = 0.0
        for index, key in enumerate(keys):
            if index:
                for _ in range(KEY_GAP_FRAMES):
                    self._tick()
            self._send({"event": "dtmf", "streamSid": "MZ" + self.sid[2:],
                        "dtmf": {"track": "inbound_track", "digit": key}})
            ended = time.perf_counter()
        return ended

    def _record_turn(self, kind: str, what: str, ended: float) -> tuple[float, str] | None:
        """Count the turn's latency when it ended inside the window; (latency, what) for notes."""
        if self.reply_at is None or self.reply_at < self.listen_from:
            return None     # moved off the bot instead of answering
        if not self.window[0] <= time.time() - (time.perf_counter() - ended) <= self.window[1]:
            return None     # outside the measured window (ramp-up): not counted
        latency = (self.reply_at - ended) * 1000
        if latency < 0:
            self.tally.early_replies += 1               # the bot answered before the caller finished
        elif latency >= UNHEARD_MS:
            self.tally.unheard += 1
        else:
            (self.tally.voice_ms if kind == "say" else self.tally.keys_ms).append(latency)
        return latency, what

    # -- waiting, with frames flowing -------------------------------------------------------
    def _await_reply(self, since: float, what: str) -> None:
        """Keep the line going until the bot's first audio after listen_from (REPLY_TIMEOUT_S from `since`)."""
        while self.reply_at is None or self.reply_at < self.listen_from:
            if self.moved is not None:
                return
            if self.closed.is_set():
                raise CallFailed("websocket closed by the server")
            if time.perf_counter() - since > REPLY_TIMEOUT_S:
                raise CallFailed(f"no reply within {REPLY_TIMEOUT_S:.0f} s ({what})")
            self._tick()

    def _wait_quiet(self) -> None:
        """Until the bot's audio has played (marks echoed) and a pause has passed in silence."""
        pause, quiet_since = self.rng.uniform(*THINK_S), None
        while self.moved is None and not self.closed.is_set():
            now = self._tick()
            with self.lock:
                playing = bool(self.marks) or self.played_until > now
            quiet_since = None if playing else (quiet_since or now)
            if quiet_since is not None and now - quiet_since >= pause:
                return

    def _tick(self, frame: bytes = SILENCE) -> float:
        """Send the next 20 ms frame at its time (against the call's start, so jitter never adds up)."""
        due = self.t0 + self.sent * FRAME_S
        lag = time.perf_counter() - due
        if lag < 0:
            time.sleep(-lag)
        elif self.window[0] <= time.time() <= self.window[1]:
            self.tally.late_sends += lag > FRAME_S      # the load generator fell behind
            self.tally.max_send_lag_ms = max(self.tally.max_send_lag_ms, lag * 1000)
        self._send({"event": "media", "streamSid": "MZ" + self.sid[2:],
                    "media": {"track": "inbound", "timestamp": str(self.sent * 20),
                              "payload": base64.b64encode(frame).decode()}})
        self.sent += 1
        sent = time.perf_counter()
        self._echo_marks(sent)
        return sent

    def _echo_marks(self, now: float) -> None:
        """Twilio sends a mark back once the audio before it has played."""
        with self.lock:
            due = [name for at, name in self.marks if at <= now]
            self.marks = [(at, name) for at, name in self.marks if at > now]
        for name in due:
            self._send({"event": "mark", "streamSid": "MZ" + self.sid[2:], "mark": {"name": name}})

    def _send(self, message: dict) -> None:
        try:
            self.ws.send(json.dumps(message))   # type: ignore[union-attr]
        except (websocket.WebSocketException, OSError):
            self.closed.set()

    # -- the bot's side -----------------------------------------------------------------------
    def _receive(self) -> None:
        while not self.closed.is_set():
            try:
                raw = self.ws.recv()            # type: ignore[union-attr]
            except (websocket.WebSocketException, OSError):
                self.closed.set()
                return
            now = time.perf_counter()
            if raw:
                with self.lock:
                    self._on_message(json.loads(raw), now)

    def _on_message(self, message: dict, now: float) -> None:
        event = message.get("event")
        if event == "media":
            self._on_media(len(base64.b64decode(message["media"]["payload"])) / 8000, now)
        elif event == "mark":
            name = message["mark"]["name"]
            self.heard.append(mark_text(name) or "")
            self.marks.append((self.played_until, name))
        elif event == "clear":
            self.played_until = now
            self.marks = [(now, name) for _, name in self.marks]

    def _on_media(self, seconds: float, now: float) -> None:
        """Stamp bot audio: the first of a reply times the turn; later ones are checked for lateness."""
        self.tally.bot_media += 1
        if self.reply_at is None or self.reply_at < self.listen_from:
            self.reply_at = now                 # first audio of this reply
        else:
            if now - self.last_media_at > GAP_S:
                self.tally.gaps += 1
            if now > self.played_until + LATE_TOLERANCE_S:
                self.tally.late_frames += 1     # the caller heard dead air inside the reply
                self.tally.late_ms += (now - self.played_until) * 1000
        self.played_until = max(self.played_until, now) + seconds
        self.last_media_at = now
