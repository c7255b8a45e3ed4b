"""TwiML: the engine's replies as Twilio voice documents (through twilio's VoiceResponse)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from twilio.twiml.voice_response import Connect, Dial, Gather, VoiceResponse

from app.dialog.actions import Hangup, Listen, RecordMessage
from app.engine import Handover, Reply, Speak


@dataclass(frozen=True)
class TwimlStyle:
    """How replies become TwiML for this deployment."""

    public_url: str
    transport: str = "keypad"          # keypad | record | stream
    agent_numbers: tuple[str, ...] = ()
    ring_timeout_s: int = 20
    no_input_s: float = 6.0
    max_utterance_s: float = 12.0
    endpoint_silence_ms: int = 600
    language: str = "en-US"

    def url(self, path: str, **query: object) -> str:
        """An absolute callback URL (what Twilio will sign and we will validate)."""
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.public_url}{path}{suffix}"


def render(reply: Reply, style: TwimlStyle) -> str:
    """The whole reply as one TwiML document."""
    response = VoiceResponse()
    pending: list[Speak] = []
    for output in reply.outputs:
        if isinstance(output, Speak):
            pending.append(output)
        elif isinstance(output, Listen):
            _listen(response, pending, output, style)
            pending = []
        else:
            _say_all(response, pending, style)
            pending = []
            _other(response, output, style)
    _say_all(response, pending, style)
    return str(response)


def connect_stream(style: TwimlStyle, stream_url: str, call_sid: str, caller: str, token: str,
                   attempt: int = 0) -> str:
    """The answer to /voice/incoming in streaming mode: open the Media Streams websocket.

    `token` (StreamTokens.issue) binds the stream to this call; it comes back in `start`.
    """
    # Every streaming call gets this document with three values changed. twilio's VoiceResponse
    # builds it once per URL around placeholders, and each call fills them in: building and
    # serialising the tree cost about 0.1 ms of a webhook's CPU on a loaded server.
    values = {_SID: _escape_attribute(call_sid), _CALLER: _escape_attribute(caller),
              _TOKEN: _escape_attribute(token), _ATTEMPT: str(attempt + 1)}
    return "".join(values.get(part, part) for part in _stream_template(style, stream_url))


def build_connect_stream(style: TwimlStyle, stream_url: str, call_sid: str, caller: str,
                         token: str, next_attempt: str) -> str:
    """connect_stream's document built in full by twilio's VoiceResponse."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    stream.parameter(name="call_sid", value=call_sid)
    stream.parameter(name="caller", value=caller)
    stream.parameter(name="token", value=token)
    response.append(connect)
    # Reached only when the websocket closes without the call being moved on (a dropped
    # connection): reconnect, keeping the call's state, rather than leave dead air.
    response.redirect(style.url("/voice/reconnect", attempt=next_attempt), method="POST")
    return str(response)


# Letters only, so they come through URL encoding and XML escaping unchanged.
_SID, _CALLER, _TOKEN, _ATTEMPT = "IvrSlotCallSid", "IvrSlotCaller", "IvrSlotToken", "IvrSlotAttempt"
_SLOTS = re.compile(f"({_SID}|{_CALLER}|{_TOKEN}|{_ATTEMPT})")


@lru_cache(maxsize=16)
def _stream_template(style: TwimlStyle, stream_url: str) -> tuple[str, ...]:
    """The document split into text and placeholders (a caller's value is never searched)."""
    return tuple(_SLOTS.split(build_connect_stream(style, stream_url, _SID, _CALLER, _TOKEN, _ATTEMPT)))


def _escape_attribute(value: str) -> str:
    """An attribute value escaped as ElementTree escapes it (tested against it)."""
    return escape(value, _ATTRIBUTE_ENTITIES)      # &, < and > always; these besides


_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}


def dial_agent(response: VoiceResponse, style: TwimlStyle, attempt: int = 0) -> None:
    """<Dial> the attempt-th agent number, with the whisper on the agent's leg."""
    numbers = style.agent_numbers or ("",)
    number = numbers[min(attempt, len(numbers) - 1)]
    dial = Dial(action=style.url("/voice/dial-status", attempt=attempt), method="POST",
                timeout=style.ring_timeout_s, answer_on_bridge=True)
    dial.number(number, url=style.url("/voice/whisper", attempt=attempt), method="POST")
    response.append(dial)


# Twilio's <Say> language per call language (a French caller on an English line hears French).
SAY_LANGUAGES = {"en": "en-US", "fr": "fr-FR"}


def _say_all(parent: VoiceResponse | Gather, says: list[Speak], style: TwimlStyle) -> None:
    for speak in says:
        parent.say(speak.spoken, language=SAY_LANGUAGES.get(speak.lang, style.language))


def _listen(response: VoiceResponse, says: list[Speak], listen: Listen, style: TwimlStyle) -> None:
    record = style.transport == "record"
    # In record mode keys are caught while the prompt plays; speech is taken by <Record> after it.
    timeout = 1 if record else max(1, math.ceil(listen.timeout_s or style.no_input_s))
    keys = {"num_digits": 1} if listen.max_digits <= 1 else {"finish_on_key": "#"}
    gather = Gather(input="dtmf", action=style.url("/voice/gather"), method="POST",
                    timeout=timeout, **keys)
    _say_all(gather, says, style)
    response.append(gather)
    if record:
        response.record(action=style.url("/voice/recording"), method="POST",
                        timeout=max(1, round(style.endpoint_silence_ms / 1000)),
                        max_length=max(1, math.ceil(style.max_utterance_s)),
                        play_beep=False, trim="trim-silence", finish_on_key="#")
    response.redirect(style.url("/voice/gather"), method="POST")


def _other(response: VoiceResponse, output: object, style: TwimlStyle) -> None:
    if isinstance(output, Handover):
        dial_agent(response, style)
    elif isinstance(output, RecordMessage):
        response.record(action=style.url("/voice/recorded"), method="POST",
                        max_length=output.max_seconds, finish_on_key="#", play_beep=True,
                        trim="trim-silence")
        response.redirect(style.url("/voice/recorded"), method="POST")
    elif isinstance(output, Hangup):
        response.hangup()
