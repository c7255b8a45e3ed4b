"""The Media Streams websocket (/media): Twilio's side of a live call, spoken through flask-sock."""
from __future__ import annotations

import logging

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


def register_media(app: Flask) -> None:
    """Serve the websocket on this app (called by create_app; the route is on the blueprint)."""
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
    StreamSession(ws, svc.voice, svc.rest).run()


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

    def __init__(self, ws: object, kit: VoiceKit, rest: TwilioRest) -> None:
        self.ws, self.kit, self.rest = ws, kit, rest
        self.call: VoiceCall | None = None
        self.bad = 0

    def run(self) -> None:
        """Until the stream stops; a dropped socket leaves the call's state in the store."""
        while True:
            raw = self.ws.receive()  # type: ignore[attr-defined]
            if raw is None:
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
        sink = WebsocketSink(self.ws, start.stream_sid, start.call_sid, self.rest)
        self.call = VoiceCall(start.call_sid, self.kit, sink, start.stream_sid)
        with bind_call(start.call_sid):
            self.call.begin(start.parameters.get("caller", ""))
        return True

