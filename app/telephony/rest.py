"""Twilio's REST API: switch a live call to new TwiML, fetch recordings (twilio's client)."""
from __future__ import annotations

import logging
import time

import requests

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.telephony import sids

log = logging.getLogger(__name__)


class LiveCallError(RuntimeError):
    """Twilio did not accept the live-call update, even after retries."""


class RecordingError(RuntimeError):
    """A recording could not be fetched."""


class TwilioRest:
    """The few REST calls the bot makes, with retries; the base URL is configurable for tests."""

    def __init__(self, account_sid: str, auth_token: str, api_base: str,
                 attempts: int = 3, backoff_s: float = 0.2, timeout_s: float = 5.0) -> None:
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s))
        self.client.api.base_url = api_base.rstrip("/")
        self.api_base = api_base.rstrip("/")
        self.account_sid = account_sid
        self.auth = (account_sid, auth_token)
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s

    def update_call(self, call_sid: str, twiml: str) -> None:
        """Replace what a live call is doing with `twiml` (transfer, hang up)."""
        # twilio's client puts both SIDs into the request path as given: a SID carrying "/",
        # "?" or "#" would send our credentials to another resource.
        if not (sids.is_sid(call_sid, sids.CALL) and sids.is_sid(self.account_sid, sids.ACCOUNT)):
            raise LiveCallError(f"refused a live update for a malformed CallSid {call_sid[:40]!r}")
        for attempt in range(1, self.attempts + 1):
            try:
                self.client.api.v2010.accounts(self.account_sid).calls(call_sid).update(twiml=twiml)
                return
            except (TwilioException, OSError) as exc:
                log.warning("call %s: live update failed (attempt %d/%d): %s",
                            call_sid, attempt, self.attempts, exc)
                if attempt < self.attempts:
                    time.sleep(self.backoff_s * attempt)
        raise LiveCallError(f"call {call_sid}: Twilio refused the live update {self.attempts} times")

    def fetch_recording(self, url: str) -> bytes:
        """A recording as WAV bytes; only from the configured API (never an arbitrary URL)."""
        if not url.startswith(self.api_base + "/"):
            raise RecordingError(f"recording URL outside {self.api_base}: refused")
        wav_url = url if url.endswith(".wav") else url + ".wav"
        # twilio's HTTP client decodes bodies as text; audio needs the raw bytes.
        try:
            response = requests.get(wav_url, auth=self.auth, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise RecordingError(f"recording fetch failed: {exc}") from None
        if response.status_code != 200:
            raise RecordingError(f"recording fetch answered {response.status_code}")
        return response.content

    def delete_recording(self, url: str) -> None:
        """Delete a recording once it has been recognised (privacy: keep nothing not needed)."""
        if url.startswith(self.api_base + "/"):
            try:
                requests.delete(url.removesuffix(".wav") + ".json", auth=self.auth, timeout=self.timeout_s)
            except requests.RequestException as exc:
                log.warning("recording delete failed: %s", exc)
