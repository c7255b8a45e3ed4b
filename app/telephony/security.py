"""Twilio request signatures: every webhook and the websocket handshake are checked."""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Callable, Mapping

from twilio.request_validator import RequestValidator


class SignatureChecker:
    """Validates X-Twilio-Signature against the URL Twilio saw (rebuilt from PUBLIC_URL)."""

    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url.rstrip("/")

    def url_for(self, full_path: str) -> str:
        """The URL Twilio signed: PUBLIC_URL + the request's path and query."""
        return self._public_url + (full_path.rstrip("?") if full_path.endswith("?") else full_path)

    def valid(self, full_path: str, params: Mapping[str, str], signature: str | None) -> bool:
        """True when the signature matches this request."""
        if not signature:
            return False
        url, form = self.url_for(full_path), _Values.of(params)
        # The URL as configured matches almost every genuine request: one HMAC. validate() tries
        # the URL with and without its port (two more), which only a mismatch needs.
        expected = self._validator.compute_signature(url, form)
        if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return True
        return bool(self._validator.validate(url, form, signature))

    def valid_url(self, url: str, params: Mapping[str, str], signature: str | None) -> bool:
        """True when the signature matches this absolute URL (the websocket handshake's wss:// URL)."""
        return bool(signature) and bool(self._validator.validate(url, _Values.of(params), signature))

    def sign_url(self, url: str, params: Mapping[str, str]) -> str:
        """The signature Twilio would send for an absolute URL."""
        return self._validator.compute_signature(url, _Values.of(params))

    def sign(self, full_path: str, params: Mapping[str, str]) -> str:
        """The signature Twilio would send (used by the simulator and tests)."""
        return self._validator.compute_signature(self.url_for(full_path), _Values.of(params))


class _Values(dict):  # type: ignore[type-arg]
    """Each form field's values, as RequestValidator reads them (through getall)."""

    # RequestValidator asks for getall(), then getlist(), then indexes a plain dict, catching the
    # AttributeError each time: on a plain dict two exceptions per field, half the cost of
    # checking a signature. A repeated field keeps all its values, which Twilio signs too.
    @classmethod
    def of(cls, params: Mapping[str, str]) -> "_Values":
        """The fields of a form (a MultiDict keeps every value of a repeated field)."""
        getlist = getattr(params, "getlist", None)
        if getlist is not None:
            return cls({name: getlist(name) for name in params})
        return cls({name: [value] for name, value in params.items()})

    def getall(self, name: str) -> list[str]:
        """Every value of the field."""
        return self[name]


class StreamTokens:
    """Per-call, expiring tokens that bind a Media Stream to the call it was opened for.

    Twilio signs the websocket handshake over the fixed stream URL only, so that signature is the
    same for every call: alone it would let one captured handshake open any live call. Each
    <Stream> therefore carries `token` = expiry + HMAC(CallSid, expiry) as a <Parameter>; it comes
    back in the `start` message and must match that message's CallSid.
    """

    def __init__(self, auth_token: str, ttl_s: float = 300.0, clock: Callable[[], float] = time.time) -> None:
        # A key of its own, derived from the server secret: a token never reveals the auth token.
        self._key = hmac.new(auth_token.encode(), b"ivr-stream-token", hashlib.sha256).digest()
        self._ttl_s = ttl_s
        self._clock = clock

    def issue(self, call_sid: str) -> str:
        """A token for this call, valid for the next ttl_s seconds."""
        expires = int(self._clock() + self._ttl_s)
        return f"{expires}.{self._mac(call_sid, expires)}"

    def valid(self, call_sid: str, token: str | None) -> bool:
        """True when `token` was issued for this CallSid and has not expired."""
        expires, _, mac = (token or "").partition(".")
        if not expires.isdigit() or len(expires) > 12 or int(expires) < self._clock():
            return False
        return hmac.compare_digest(mac.encode(), self._mac(call_sid, int(expires)).encode())

    def _mac(self, call_sid: str, expires: int) -> str:
        return hmac.new(self._key, f"{call_sid}|{expires}".encode(), hashlib.sha256).hexdigest()
