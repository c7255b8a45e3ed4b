"""The webhook traffic of one keypad call, signed exactly as Twilio signs it."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from app.telephony.security import SignatureChecker

CALLER, CALLED = "+15550123", "+15550100"
ACCOUNT = "AC" + "0" * 32
# The answer the fourth turn must carry: a call that hears it went through the real flow.
ANSWER_MARK = b"shipped"
ANSWER_TURN = 4


@dataclass(frozen=True)
class Webhook:
    """One signed POST, ready to send."""

    path: str
    body: bytes
    signature: str


def call_sid(worker: int, run: int, sequence: int) -> str:
    """A CallSid unique per worker, run and call (34 characters, like Twilio's)."""
    return f"CA{worker:04x}{run:08x}{sequence:020x}"


def _common(sid: str) -> dict[str, str]:
    """Fields Twilio puts on every voice webhook (they are signed too, so they cost like real ones)."""
    return {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": sid, "Called": CALLED,
            "Caller": CALLER, "Direction": "inbound", "From": CALLER, "To": CALLED,
            "CallerCountry": "US", "CalledCountry": "US"}


def call_forms(sid: str) -> list[tuple[str, dict[str, str]]]:
    """A whole keypad call: start, menu key 1, order number 48217#, the last 4 digits of the order's
    phone (the caller is not its customer), 2 for nothing else, completed."""
    base = _common(sid)
    return [
        ("/voice/incoming", {**base, "CallStatus": "ringing"}),
        ("/voice/gather", {**base, "CallStatus": "in-progress", "Digits": "1", "FinishedOnKey": ""}),
        ("/voice/gather", {**base, "CallStatus": "in-progress", "Digits": "48217#", "FinishedOnKey": "#"}),
        ("/voice/gather", {**base, "CallStatus": "in-progress", "Digits": "0100", "FinishedOnKey": ""}),
        ("/voice/gather", {**base, "CallStatus": "in-progress", "Digits": "2", "FinishedOnKey": ""}),
        ("/voice/status", {**base, "CallStatus": "completed", "CallDuration": "42",
                           "Duration": "1", "Timestamp": "Sat, 21 Nov 2026 12:00:00 +0000"}),
    ]


def signed_call(signer: SignatureChecker, sid: str) -> list[Webhook]:
    """The call's webhooks, each signed over PUBLIC_URL + path and its form (RequestValidator)."""
    return [Webhook(path, urlencode(form).encode(), signer.sign(path, form))
            for path, form in call_forms(sid)]
