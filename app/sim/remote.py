"""The simulator against a running server: plays Twilio exactly (signed webhooks, TwiML, websocket)."""
from __future__ import annotations

import queue
import re
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Callable

import requests

from app.config import VOICES, Settings
from app.sim.driver import BotTurn
from app.sim.script import Script
from app.sim.stream_client import StreamClient
from app.sim.twilio_api import FakeTwilioApi, serve_fake_api
from app.telephony.security import SignatureChecker

SETTLE_QUIET_MS = 1000     # the bot may move the call (REST) just after its last words play
REPLY_TIMEOUT_MS = 20000
_SPACED_DIGITS = re.compile(r"(?<=\d) (?=\d)")


class SimError(RuntimeError):
    """The server answered something Twilio would not accept, or stopped answering."""


def numerals(text: str) -> str:
    """Speech spells digits out one by one; the simulator compares numerals ("4 8 2" -> "482")."""
    return _SPACED_DIGITS.sub("", text)


class RemoteDriver:
    """Twilio's part of one call: the voice webhook, TwiML, the media stream, the agent's leg."""

    def __init__(self, settings: Settings, url: str, script: Script, speed: float = 1.0,
                 voice: Callable[[str], bytes] | None = None, api: FakeTwilioApi | None = None) -> None:
        self.settings, self.url, self.script, self.speed = settings, url, script, speed
        self.signer = SignatureChecker(settings.twilio_auth_token, url)
        # A fresh connection per webhook, as Twilio makes them: a kept-alive one may be closed by
        # the server (idle timeout) just as the next webhook goes out, and a POST is not retried.
        self.http = requests
        self.call_sid = "CA" + uuid.uuid4().hex
        self.voice = voice or _default_voice(settings, script.caller_voice(VOICES))
        self.updates: queue.Queue[dict] = queue.Queue()
        # A caller-owned fake API (tests keep one per server) outlives this call; ours does not.
        self.api, self.stop_api = (api, lambda: None) if api else serve_fake_api(_api_port(settings))
        self.api.on_update = self._on_update
        self.stream: StreamClient | None = None
        self.gather: ET.Element | None = None
        self.no_input_url = self.after_stream_url = ""
        self.ended = self.transfer_failed = self.transferred = False
        self.streamed = False                # Media Streams: the server moves the call over REST

    def _on_update(self, update: dict) -> None:
        # The fake API may be shared: only this call's live-call updates concern us.
        if update.get("call_sid") == self.call_sid:
            self.updates.put(update)

    # -- the CallDriver protocol ---------------------------------------------------------
    def start(self) -> BotTurn:
        """Place the call: Twilio posts the voice webhook."""
        form = {"CallSid": self.call_sid, "From": self.script.caller, "To": self.script.to,
                "AccountSid": self.settings.twilio_account_sid, "CallStatus": "ringing"}
        return self._run(self._post(self.url + "/voice/incoming", form))

    def say(self, text: str) -> BotTurn:
        """The caller speaks into the stream."""
        if self.stream is None:
            raise SimError("the server is not streaming (keypad transport): only keys and silence work")
        self._wait_quiet()
        self.stream.speak(self.voice(text))
        return self.collect(require_reply=True)

    def press(self, keys: str) -> BotTurn:
        """Keypad keys, into the stream or to the <Gather> action."""
        if self.stream is not None:
            self._wait_quiet()
            for key in keys:
                self.stream.press(key)
            return self.collect(require_reply=True)
        return self._gathered(keys)

    def silence(self, seconds: float) -> BotTurn:
        """Say nothing for a while."""
        if self.stream is not None:
            self._wait_quiet()
            return self.collect(require_reply=False, min_ms=seconds * 1000)
        turn = BotTurn()
        for _ in range(int(seconds // self.settings.no_input_s)):
            if not self.ended:
                _merge(turn, self._run(self._post(self.no_input_url, {"CallSid": self.call_sid})))
        return turn

    def finish(self) -> str:
        """Hang up if nobody has; the outcome as seen from the phone network."""
        if not self.ended:
            if self.stream is not None:
                self.stream.stop()
            self._post(self.url + "/voice/status", {"CallSid": self.call_sid, "CallStatus": "completed"})
        self.stop_api()
        return self.outcome

    @property
    def outcome(self) -> str:
        """transferred / voicemail / resolved / hangup, inferred the way a carrier would see it."""
        if self.transferred:
            return "transferred"
        if self.ended:
            return "voicemail" if self.transfer_failed else "resolved"
        return "hangup"

    # -- webhooks and TwiML ----------------------------------------------------------------
    def _post(self, url: str, form: dict[str, str]) -> ET.Element:
        headers = {"X-Twilio-Signature": self.signer.sign_url(url, form)}
        response = self.http.post(url, data=form, headers=headers, timeout=30)
        if response.status_code == 204:
            return ET.Element("Response")
        if response.status_code == 403:
            raise SimError(f"{url} refused the simulator's signature (403): the simulator signs with "
                           "TWILIO_AUTH_TOKEN (else var/dev-token) and --url; they must be the server's "
                           "TWILIO_AUTH_TOKEN and PUBLIC_URL")
        if response.status_code != 200 or "xml" not in response.headers.get("Content-Type", ""):
            raise SimError(f"{url} answered {response.status_code}: {response.text[:200]}")
        return ET.fromstring(response.content)

    def _run(self, doc: ET.Element) -> BotTurn:
        """Carry out a TwiML document the way Twilio does, up to where it waits for the caller."""
        turn, self.gather = BotTurn(), None
        for verb in doc:
            if verb.tag == "Say":
                turn.texts.append(numerals(verb.text or ""))
            elif verb.tag == "Gather":
                turn.texts += [numerals(s.text or "") for s in verb.iter("Say")]
                self.gather = verb
            elif verb.tag == "Redirect":
                self.no_input_url = (verb.text or "").strip()
                if self.gather is None:
                    _merge(turn, self._run(self._post(self.no_input_url, {"CallSid": self.call_sid})))
                return turn
            elif verb.tag == "Connect":
                self._open_stream(verb, doc)
                _merge(turn, self.collect(require_reply=True))
                return turn
            elif verb.tag == "Dial":
                _merge(turn, self._agent_leg(verb))
                return turn
            elif verb.tag == "Hangup":
                self.ended, turn.hung_up, turn.ended = True, True, True
                return turn
            elif verb.tag == "Record":
                raise SimError("the record transport is not simulated over --url; use stream or keypad")
        return turn

    def _gathered(self, keys: str) -> BotTurn:
        if self.gather is None:
            raise SimError("the bot is not listening for keys")
        action = self.gather.get("action", "")
        return self._run(self._post(action, {"CallSid": self.call_sid, "Digits": keys.rstrip("#")}))

    def start_without_waiting(self) -> None:
        """Place the call and open the stream, without waiting for the greeting (barge-in tests)."""
        form = {"CallSid": self.call_sid, "From": self.script.caller, "To": self.script.to}
        doc = self._post(self.url + "/voice/incoming", form)
        connect = doc.find("Connect")
        if connect is None:
            raise SimError("the server is not streaming")
        self._open_stream(connect, doc)

    def follow_redirect_after_stream(self) -> BotTurn:
        """The websocket ended without the call being moved on: Twilio runs the next verb."""
        if self.stream is not None:
            self.stream.stop()
            self.stream = None
        return self._run(self._post(self.after_stream_url, {"CallSid": self.call_sid,
                                                            "From": self.script.caller}))

    def _open_stream(self, connect: ET.Element, doc: ET.Element) -> None:
        redirect = doc.find("Redirect")
        self.after_stream_url = (redirect.text or "").strip() if redirect is not None else ""
        stream = connect.find("Stream")
        if stream is None:
            raise SimError("<Connect> without <Stream>")
        params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
        url = stream.get("url", "")
        self.streamed = True
        self.stream = StreamClient(url, self.signer.sign_url(url, {}), self.call_sid, params, self.speed)

    # -- the agent's leg ---------------------------------------------------------------------
    def _agent_leg(self, dial: ET.Element) -> BotTurn:
        """Ring the agent: the whisper, the agent's key, then Twilio's Dial callback."""
        number = dial.find("Number")
        agent_sid = "CA" + uuid.uuid4().hex
        whisper = self._post(number.get("url", ""), {"CallSid": agent_sid, "ParentCallSid": self.call_sid})
        says = [numerals(s.text or "") for s in whisper.iter("Say")]
        turn = BotTurn(transfer={"to": (number.text or "").strip(),
                                 "summary": " ".join(says).replace(" Press 1 to take the call.", "")})
        status = self._agent_answers(whisper, agent_sid)
        self.transferred = status == "answered"
        form = {"CallSid": self.call_sid, "DialCallStatus": "completed" if status in ("answered", "declined") else status}
        _merge(turn, self._run(self._post(dial.get("action", ""), form)))
        self.transfer_failed = not self.transferred
        return turn

    def _agent_answers(self, whisper: ET.Element, agent_sid: str) -> str:
        behaviour = self.script.agent
        if behaviour in ("no-answer", "busy"):
            return behaviour
        gather = whisper.find("Gather")
        digits = "1" if behaviour == "answer" else "9"
        if gather is not None:
            self._post(gather.get("action", ""), {"CallSid": agent_sid, "Digits": digits})
        return "answered" if behaviour == "answer" else "declined"

    # -- waiting on the stream -----------------------------------------------------------------
    def _wait_quiet(self) -> None:
        deadline = time.perf_counter() + REPLY_TIMEOUT_MS / 1000 / self.speed
        while self.stream is not None and not self.stream.quiet() and time.perf_counter() < deadline:
            time.sleep(0.005)

    def collect(self, require_reply: bool, min_ms: float = 0.0) -> BotTurn:
        """Let the call run until the bot has answered and finished speaking (or moved the call)."""
        stream = self.stream
        assert stream is not None
        began, began_at = stream.now_ms, time.perf_counter()
        # The stream's own clock bounds a turn (REPLY_TIMEOUT_MS); this wall-clock bound only
        # turns a stalled simulator into an error that says what it was waiting for.
        give_up = time.perf_counter() + 3 * (REPLY_TIMEOUT_MS + min_ms) / 1000 / self.speed + 30
        quiet_at: float | None = None
        while True:
            update = self._next_update()
            if update is not None:
                return self._moved(stream, update)
            if stream.closed.is_set():
                return self._stream_turn(stream)
            now = time.perf_counter()
            if self._settled(stream, began, require_reply, min_ms, now - began_at):
                quiet_at = quiet_at or self._hold(stream, now)
                if now - quiet_at >= self._grace_s:
                    stream.set_pace(self.speed)
                    return self._stream_turn(stream)
            if time.perf_counter() > give_up:
                raise SimError(f"call {self.call_sid}: no settled turn (stream at {stream.now_ms:.0f} ms, "
                                   f"turn began at {began:.0f} ms, caller audio queued: {stream.busy()}, "
                                   f"bot quiet: {stream.quiet()})")
            time.sleep(0.005)

    @property
    def _grace_s(self) -> float:
        return SETTLE_QUIET_MS / 1000 * (1 - 1 / self.speed)

    @staticmethod
    def _hold(stream: StreamClient, now: float) -> float:
        """Faster than real time, the caller then waits a real second, its silence sent at real
        pace: a server lagging behind the audio still moves the call (the hang-up after
        "goodbye") within the turn, and hears no more silence than a real caller's pause."""
        stream.set_pace(1.0)
        return now

    def _settled(self, stream: StreamClient, began: float, require_reply: bool, min_ms: float,
                 wall_s: float) -> bool:
        elapsed = stream.now_ms - began
        if stream.busy() or elapsed < min_ms:
            return False
        # Given up on a reply only once the server has had the time in real seconds too: with
        # --fast it may decode behind the audio (a free-speech message), and frames sent are
        # not frames heard.
        if elapsed > REPLY_TIMEOUT_MS + min_ms and wall_s * 1000 > REPLY_TIMEOUT_MS + min_ms / self.speed:
            return True
        replied = stream.heard.texts or stream.heard.first_audio_ms is not None
        if not replied and (require_reply or elapsed < min_ms + SETTLE_QUIET_MS):
            return False
        last_sound = max(stream.heard.last_message_ms, stream.heard.played_until_ms,
                         stream.last_speech_ms or 0.0)
        return stream.quiet() and stream.now_ms - last_sound >= SETTLE_QUIET_MS

    def _next_update(self) -> dict | None:
        try:
            return self.updates.get_nowait()
        except queue.Empty:
            return None

    def _moved(self, stream: StreamClient, update: dict) -> BotTurn:
        """The server switched the live call (transfer, hang-up) through the REST API."""
        turn = self._stream_turn(stream)
        stream.stop()
        self.stream = None
        _merge(turn, self._run(ET.fromstring(update.get("Twiml", "<Response/>"))))
        return turn

    def _stream_turn(self, stream: StreamClient) -> BotTurn:
        heard = stream.take_heard()
        latency = None
        if heard.first_audio_at is not None and stream.last_speech_at is not None:
            # Wall-clock time from the caller's last voiced frame to the bot's first reply frame.
            latency = round((heard.first_audio_at - stream.last_speech_at) * 1000, 1)
        stream.last_speech_ms = stream.last_speech_at = None
        return BotTurn(texts=[numerals(t) for t in heard.texts], latency_ms=latency)


def _merge(into: BotTurn, turn: BotTurn) -> None:
    into.texts += turn.texts
    into.transfer = into.transfer or turn.transfer
    into.hung_up = into.hung_up or turn.hung_up
    into.ended = into.ended or turn.ended
    if into.latency_ms is None:
        into.latency_ms = turn.latency_ms


def _api_port(settings: Settings) -> int:
    """The fake Twilio API listens where the server's TWILIO_API_BASE points (local runs)."""
    match = re.match(r"https?://(127\.0\.0\.1|localhost):(\d+)", settings.twilio_api_base)
    if not match:
        raise SimError("set TWILIO_API_BASE to http://127.0.0.1:PORT for the server and the simulator, "
                       "so the simulator can stand in for Twilio's REST API")
    return int(match.group(2))


def _default_voice(settings: Settings, voice: str) -> Callable[[str], bytes]:
    from app.sim.hearing import caller_voice
    return caller_voice(settings, voice)
