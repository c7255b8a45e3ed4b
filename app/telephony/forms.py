"""Twilio webhook forms parsed into dataclasses at the edge."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from app.telephony import sids

_DIGITS = re.compile(r"^[0-9*#]{1,32}$")
# Characters XML 1.0 cannot carry: a caller id holding one would break every TwiML document that
# names the caller (the whisper summary, the media stream's parameters).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class BadRequest(ValueError):
    """A webhook form that cannot be what Twilio sends."""


def is_sid(value: str) -> bool:
    """True for a value shaped like a Twilio CallSid."""
    return sids.is_sid(value, sids.CALL)


def _call_sid(form: Mapping[str, str], name: str = "CallSid") -> str:
    return call_sid(form.get(name) or "", name)


def call_sid(value: str, name: str = "CallSid") -> str:
    """A CallSid from a form or query string; BadRequest when it cannot be one."""
    try:
        return sids.checked(value.strip(), sids.CALL, name)
    except sids.BadSid:
        raise BadRequest(f"{name} is missing or malformed") from None


def _phone(form: Mapping[str, str], key: str) -> str:
    return _NOT_XML.sub("", form.get(key) or "").strip()[:64]


@dataclass(frozen=True)
class CallStarted:
    """POST /voice/incoming."""

    call_sid: str
    caller: str
    called: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> "CallStarted":
        """Parse Twilio's voice webhook form."""
        return cls(_call_sid(form), _phone(form, "From"), _phone(form, "To"))


@dataclass(frozen=True)
class KeysPressed:
    """POST /voice/gather: keypad input, or none when the Gather timed out."""

    call_sid: str
    digits: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> "KeysPressed":
        """Parse a Gather callback; Digits may be absent (no input)."""
        digits = (form.get("Digits") or "").strip()
        if digits and not _DIGITS.match(digits):
            raise BadRequest("Digits must be keypad characters")
        return cls(_call_sid(form), digits)


@dataclass(frozen=True)
class CallStatus:
    """POST /voice/status: Twilio's status callback."""

    call_sid: str
    status: str
    duration: int

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> "CallStatus":
        """Parse a status callback."""
        raw = (form.get("CallDuration") or "0").strip()
        return cls(_call_sid(form), (form.get("CallStatus") or "").strip().lower(),
                   int(raw) if raw.isdigit() else 0)


@dataclass(frozen=True)
class DialEnded:
    """POST /voice/dial-status: the <Dial> action callback."""

    call_sid: str
    status: str
    attempt: int

    @classmethod
    def from_form(cls, form: Mapping[str, str], attempt: str | None) -> "DialEnded":
        """Parse a Dial action callback; `attempt` is the index of the agent number rung."""
        status = (form.get("DialCallStatus") or "failed").strip().lower()
        index = int(attempt) if attempt and attempt.isdigit() else 0
        return cls(_call_sid(form), status, index)


@dataclass(frozen=True)
class Recording:
    """POST /voice/recording and /voice/recorded: a finished <Record>."""

    call_sid: str
    url: str
    duration: int
    digits: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> "Recording":
        """Parse a Record action callback."""
        raw = (form.get("RecordingDuration") or "0").strip()
        url = (form.get("RecordingUrl") or "").strip()
        if url and not url.startswith(("https://", "http://")):
            raise BadRequest("RecordingUrl must be an http(s) URL")
        return cls(_call_sid(form), url, int(raw) if raw.lstrip("-").isdigit() else 0,
                   (form.get("Digits") or "").strip())
