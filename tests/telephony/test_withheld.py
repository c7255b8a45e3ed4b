"""Withheld caller ids over signed webhooks: no number read out, no callback promised to it."""
from __future__ import annotations

import re

import pytest

from tests.conftest import TwilioClient
from tests.dialog.test_callerid import WITHHELD

PLACEHOLDERS = [c for c in WITHHELD if c.strip() and not c.startswith(("client:", "sip:"))]


@pytest.mark.parametrize("caller", PLACEHOLDERS)
def test_withheld_caller_is_offered_a_keyed_callback_number_not_this_number(twilio: TwilioClient, app,
                                                                             caller: str) -> None:
    call = {"CallSid": "CA0001", "From": caller, "To": "+15550000"}
    greeting = twilio.post("/voice/incoming", call).text
    assert "Hi " not in greeting                                    # nobody is recognised by it
    assert "<Dial" in twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0"}).text
    whisper = twilio.post("/voice/whisper", {"CallSid": "CA0002", "ParentCallSid": "CA0001"}).text
    assert "number withheld" in whisper.lower()
    assert not re.search(r"\d \d \d", whisper)                     # no placeholder spelled out
    offer = twilio.post("/voice/dial-status?attempt=1", {"CallSid": "CA0001", "DialCallStatus": "no-answer"}).text
    assert "this number" not in offer and "press 2 to key in a number we can call you back on" in offer
    ask = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "2"}).text
    assert "key in the number we should call you back on" in ask and "call you back at" not in ask
    assert app.extensions["ivr"].records.callbacks() == []          # nothing filed for the placeholder
    readback = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "5550142"}).text
    assert "I have 5 5 5 0 1 4 2. Is that right?" in readback
    done = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "1"}).text
    assert "call you back at that number" in done and "<Hangup" in done
    app.extensions["ivr"].records.flush()
    assert [c.phone for c in app.extensions["ivr"].records.callbacks()] == ["5550142"]
