"""Twilio Media Streams messages: parsed into dataclasses at the edge, and built for sending."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Union

from app.telephony import sids

MAX_MESSAGE_BYTES = 64 * 1024
MAX_FRAME_BYTES = 8000          # one second of 8 kHz μ-law; Twilio sends 160-byte (20 ms) frames
MARK_TEXT_CHARS = 1000          # marks carry the spoken text: the simulator reads what was said


class BadMessage(ValueError):
    """A websocket message that is not a Media Streams message we can use."""


@dataclass(frozen=True)
class Connected:
    """First message: the protocol handshake."""


@dataclass(frozen=True)
class Start:
    """The stream started: its sid, the call's sid and our <Parameter> values."""

    stream_sid: str
    call_sid: str
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Media:
    """One chunk of the caller's audio, 8 kHz μ-law."""

    payload: bytes
    timestamp_ms: int = 0


@dataclass(frozen=True)
class Dtmf:
    """A keypad key pressed by the caller."""

    digit: str


@dataclass(frozen=True)
class MarkDone:
    """Audio we sent up to this mark has been played (or cleared)."""

    name: str


@dataclass(frozen=True)
class Stop:
    """The stream ended (call hung up, or the call moved on to other TwiML)."""


Message = Union[Connected, Start, Media, Dtmf, MarkDone, Stop]


def parse(raw: str | bytes) -> Message:
    """One inbound websocket message; BadMessage for anything malformed."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise BadMessage("message too large")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):   # RecursionError: [[[[... nested deep
        raise BadMessage("not JSON") from None
    if not isinstance(doc, dict):
        raise BadMessage("not a JSON object")
    event = doc.get("event")
    parser = _PARSERS.get(event) if isinstance(event, str) else None
    if parser is None:
        raise BadMessage(f"unknown event {doc.get('event')!r}")
    try:
        return parser(doc)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, binascii.Error) as exc:
        raise BadMessage(f"malformed {doc.get('event')} message: {exc}") from None


def _start(doc: dict) -> Start:
    start = doc["start"]
    params = start.get("customParameters") or {}
    if not isinstance(params, dict):
        raise ValueError("customParameters must be an object")
    # Both SIDs go into REST URLs and storage keys: checked here, where they enter.
    stream_sid = sids.checked(doc.get("streamSid") or start["streamSid"], sids.STREAM, "streamSid")
    call_sid = sids.checked(start["callSid"], sids.CALL, "callSid")
    return Start(stream_sid, call_sid, {str(k): str(v) for k, v in params.items()})


def _media(doc: dict) -> Media:
    media = doc["media"]
    payload = base64.b64decode(media["payload"], validate=True)
    if len(payload) > MAX_FRAME_BYTES:
        raise ValueError("frame too large")
    return Media(payload, int(media.get("timestamp") or 0))


def _dtmf(doc: dict) -> Dtmf:
    digit = str(doc["dtmf"]["digit"])
    if len(digit) != 1 or digit not in "0123456789*#":
        raise ValueError("digit must be one keypad key")
    return Dtmf(digit)


_PARSERS = {
    "connected": lambda doc: Connected(),
    "start": _start,
    "media": _media,
    "dtmf": _dtmf,
    "mark": lambda doc: MarkDone(str(doc["mark"]["name"])),
    "stop": lambda doc: Stop(),
}


def media_message(stream_sid: str, ulaw: bytes) -> str:
    """Outbound audio for the caller (any length; Twilio plays it in order)."""
    payload = base64.b64encode(ulaw).decode("ascii")
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark_message(stream_sid: str, name: str) -> str:
    """Ask Twilio to tell us when everything sent so far has been played."""
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    """Drop the audio Twilio has buffered: the caller barged in."""
    return json.dumps({"event": "clear", "streamSid": stream_sid})


def mark_name(sequence: int, text: str) -> str:
    """A mark that carries the spoken text (for logs and the simulator)."""
    return f"say:{sequence}:{text[:MARK_TEXT_CHARS]}"


def mark_text(name: str) -> str | None:
    """The spoken text a mark_name carries, or None for other marks."""
    parts = name.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "say" else None
