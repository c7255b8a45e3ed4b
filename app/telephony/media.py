"""The Media Streams websocket (/media): Twilio's side of a live call, spoken through flask-sock."""
from __future__ import annotations

import logging
import time
from typing import Callable

from flask import Blueprint, Flask, abort, current_app, request
from flask_sock import Sock

from app.logs import bind_call
from app.services import Services
from app.telephony import streams
from app.telephony.rest import TwilioRest
from app.telephony.voice import VoiceCall, VoiceKit

log = logging.getLogger(__name__)
media = Blueprint("media", __name__)
# Past this many unusable messages in a row the peer is not Twilio: close instead of spinning.
MAX_BAD_MESSAGES = 50
# Twilio sends `start` right after `connected`, then a media frame every 20 ms for the whole call.
# A stream that has not started within START_TIMEOUT_S, or sends nothing for IDLE_TIMEOUT_S, is
# closed: that frees its thread, and Twilio follows the TwiML after <Connect> (a reconnect).
START_TIMEOUT_S = 5.0
IDLE_TIMEOUT_S = 10.0


def register_media(app: Flask) -> None:
    """Serve the websocket on this app (called by create_app; the route is on the blueprint)."""
    # A message larger than any Twilio sends closes the socket as it arrives, before it is held.
    app.config["SOCK_SERVER_OPTIONS"] = {"max_message_size": streams.MAX_MESSAGE_BYTES}
    app.register_blueprint(media)


@media.before_request
def check_handshake() -> None:
    """Twilio signs the websocket handshake over the wss:// URL it opened, with no parameters."""
    svc: Services = current_app.extensions["ivr"]
    url = svc.settings.stream_url + (f"?{request.query_string.decode()}" if request.query_string else "")
    if not svc.signatures.valid_url(url, {}, request.headers.get("X-Twilio-Signature")):
        log.warning("refused a /media websocket: bad or missing Twilio signature")
        abort(403)


def media_socket(ws: object) -> None:
    """One websocket = one call's audio, until Twilio stops the stream or the socket drops."""
    svc: Services = current_app.extensions["ivr"]
    StreamSession(ws, svc.voice, svc.rest, lambda start: admitted(svc, start)).run()


def admitted(svc: Services, start: streams.Start) -> bool:
    """A stream may speak for a call only with that call's token, while the call is live."""
    if start.parameters.get("call_sid", start.call_sid) != start.call_sid:
        reason = "its call_sid parameter names another call"
    elif not svc.stream_tokens.valid(start.call_sid, start.parameters.get("token")):
        reason = "missing, expired or foreign stream token"
    else:
        state = svc.engine.state(start.call_sid)
        if state is not None and not state.ended:
            return True
        reason = "no live call with this CallSid"
    log.warning("media stream for call %s refused: %s", start.call_sid, reason)
    return False


# flask-sock only wraps the view (the upgrade happens per request, from current_app), so the
# route is declared once on the blueprint, like any Flask view.
Sock().route("/media", bp=media)(media_socket)


class WebsocketSink:
    """Speaks into the stream and switches the live call through the REST API."""

    def __init__(self, ws: object, stream_sid: str, call_sid: str, rest: TwilioRest) -> None:
        self.ws, self.stream_sid, self.call_sid, self.rest = ws, stream_sid, call_sid, rest
        self.sequence = 0

    def play(self, ulaw: bytes, text: str) -> None:
        """All of the prompt's audio, then a mark carrying its text (Twilio plays it in order)."""
        self.sequence += 1
        self.ws.send(streams.media_message(self.stream_sid, ulaw))  # type: ignore[attr-defined]
        self.ws.send(streams.mark_message(self.stream_sid, streams.mark_name(self.sequence, text)))  # type: ignore[attr-defined]

    def clear(self) -> None:
        """The caller barged in: drop what Twilio still has buffered."""
        self.ws.send(streams.clear_message(self.stream_sid))  # type: ignore[attr-defined]

    def update_call(self, twiml_doc: str) -> None:
        """Move the live call on (transfer, hang-up); raises LiveCallError after retries."""
        self.rest.update_call(self.call_sid, twiml_doc)


class StreamSession:
    """Reads Media Streams messages and feeds them to the call's VoiceCall."""

    def __init__(self, ws: object, kit: VoiceKit, rest: TwilioRest,
                 admit: Callable[[streams.Start], bool] = lambda start: True) -> None:
        self.ws, self.kit, self.rest, self.admit = ws, kit, rest, admit
        self.call: VoiceCall | None = None
        self.bad = 0

    def run(self) -> None:
        """Until the stream stops; a dropped socket leaves the call's state in the store."""
        try:
            self._receive()
        finally:
            if self.call is not None:
                self.call.close()

    def _receive(self) -> None:
        start_by = time.monotonic() + START_TIMEOUT_S
        while True:
            # Checked before reading: a peer sending media without `start` never lets a read time out.
            wait = IDLE_TIMEOUT_S if self.call else start_by - time.monotonic()
            raw = self.ws.receive(timeout=wait) if wait > 0 else None  # type: ignore[attr-defined]
            if raw is None:     # simple-websocket: nothing arrived in time
                log.warning("media stream closed: %s", "idle" if self.call else "no start message in time")
                return
            try:
                message = streams.parse(raw)
            except streams.BadMessage as exc:
                self.bad += 1
                log.warning("media stream: ignoring bad message (%s)", exc)
                if self.bad > MAX_BAD_MESSAGES:
                    return
                continue
            self.bad = 0
            if isinstance(message, streams.Stop) or not self._dispatch(message):
                return
            if self.call is not None and self.call.superseded:
                return      # closing the socket: a newer stream carries the call

    def _dispatch(self, message: streams.Message) -> bool:
        if isinstance(message, streams.Start):
            return self._start(message)
        if self.call is None:
            return True     # media before start: nothing to attach it to yet
        with bind_call(self.call.call_sid):
            if isinstance(message, streams.Media):
                self.call.on_audio(message.payload)
            elif isinstance(message, streams.Dtmf):
                self.call.on_dtmf(message.digit)
            elif isinstance(message, streams.MarkDone):
                self.call.on_mark(message.name)
        return True

    def _start(self, start: streams.Start) -> bool:
        if self.call is not None:
            log.warning("media stream: second start message ignored")
            return True
        if not self.admit(start):
            return False        # closed at once: this socket never touches the call
        sink = WebsocketSink(self.ws, start.stream_sid, start.call_sid, self.rest)
        self.call = VoiceCall(start.call_sid, self.kit, sink, start.stream_sid)
        with bind_call(start.call_sid):
            self.call.begin(start.parameters.get("caller", ""))
        return True

