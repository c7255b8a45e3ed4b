"""Twilio resource identifiers (CallSid, AccountSid, StreamSid), checked by their format.

A SID ends up in URLs (Twilio's REST API, our own callback URLs) and in storage keys: a value
that is not a SID is refused wherever it enters, so no URL is ever built from an unchecked one.
Twilio's SIDs are two capital letters naming the kind and 32 hex digits; letters and digits
only, bounded, is what every check here demands (tests use short readable SIDs like `CAcard`).
"""
from __future__ import annotations

import re

_SID = re.compile(r"[A-Z]{2}[0-9A-Za-z]{1,64}")
CALL, ACCOUNT, STREAM = "CA", "AC", "MZ"


class BadSid(ValueError):
    """A value that cannot be a Twilio SID of the kind expected."""


def is_sid(value: object, kind: str) -> bool:
    """True when `value` is a SID of this kind (`CA` calls, `AC` accounts, `MZ` streams)."""
    return isinstance(value, str) and value.startswith(kind) and _SID.fullmatch(value) is not None


def checked(value: object, kind: str, name: str) -> str:
    """`value` itself when it is a SID of this kind; BadSid naming the field otherwise."""
    if not is_sid(value, kind):
        raise BadSid(f"{name} is not a valid {kind} SID")
    return value  # type: ignore[return-value]
