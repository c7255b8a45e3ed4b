"""The REST adapter against a local fake of Twilio's API."""
from __future__ import annotations

import pytest

from app.telephony.rest import LiveCallError, RecordingError, TwilioRest
from app.sim.twilio_api import FakeTwilioApi

SID = "AC00000000000000000000000000000000"


def rest(api: FakeTwilioApi) -> TwilioRest:
    return TwilioRest(SID, "token", api.base_url, backoff_s=0.01)


def test_live_call_update_sends_twiml(fake_twilio: FakeTwilioApi) -> None:
    rest(fake_twilio).update_call("CA0001", "<Response><Hangup/></Response>")
    assert fake_twilio.updates == [{"call_sid": "CA0001", "Twiml": "<Response><Hangup/></Response>"}]
    assert fake_twilio.auth_seen[-1] == SID


def test_live_call_update_retries_then_succeeds(fake_twilio: FakeTwilioApi) -> None:
    fake_twilio.fail_updates = 2
    rest(fake_twilio).update_call("CA0001", "<Response/>")
    assert len(fake_twilio.updates) == 1


def test_live_call_update_gives_up_with_a_clear_error(fake_twilio: FakeTwilioApi) -> None:
    fake_twilio.fail_updates = 5
    with pytest.raises(LiveCallError, match="refused the live update 3 times"):
        rest(fake_twilio).update_call("CA0001", "<Response/>")


@pytest.mark.parametrize("call_sid, account_sid", [
    ("CAx/../../../Accounts/ACattacker/IncomingPhoneNumbers/PN123?Evil=1#", SID),
    ("CA1?x=1", SID), ("CA1#", SID), ("PN123", SID), ("CA0001", "ACx/../ACother"),
])
def test_a_live_update_is_never_sent_for_a_malformed_sid(fake_twilio: FakeTwilioApi, call_sid: str,
                                                         account_sid: str) -> None:
    with pytest.raises(LiveCallError, match="malformed CallSid"):
        TwilioRest(account_sid, "token", fake_twilio.base_url).update_call(call_sid, "<Response/>")
    assert fake_twilio.auth_seen == []        # no request of any kind was made


def test_recording_fetched_as_bytes_and_deleted(fake_twilio: FakeTwilioApi) -> None:
    fake_twilio.recordings["RE1"] = b"RIFF\x00\xff binary"
    client = rest(fake_twilio)
    url = fake_twilio.recording_url("RE1")
    assert client.fetch_recording(url) == b"RIFF\x00\xff binary"
    client.delete_recording(url)
    assert fake_twilio.deleted == ["RE1"]


def test_recording_from_elsewhere_is_refused(fake_twilio: FakeTwilioApi) -> None:
    with pytest.raises(RecordingError, match="outside"):
        rest(fake_twilio).fetch_recording("http://169.254.169.254/latest/meta-data")
