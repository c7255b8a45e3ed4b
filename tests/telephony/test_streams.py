"""Media Streams messages: parsing Twilio's, building ours, refusing malformed ones."""
from __future__ import annotations

import base64
import json

import pytest

from app.telephony import streams


def test_start_carries_call_and_parameters() -> None:
    message = streams.parse(json.dumps({
        "event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
        "start": {"streamSid": "MZ1", "accountSid": "AC1", "callSid": "CA1", "tracks": ["inbound"],
                  "customParameters": {"caller": "+15550100"},
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))
    assert message == streams.Start("MZ1", "CA1", {"caller": "+15550100"})


def test_media_dtmf_mark_stop() -> None:
    payload = base64.b64encode(b"\xff" * 160).decode()
    assert streams.parse(json.dumps({"event": "media", "media": {"payload": payload, "timestamp": "20"}})) \
        == streams.Media(b"\xff" * 160, 20)
    assert streams.parse('{"event":"dtmf","dtmf":{"track":"inbound_track","digit":"5"}}') == streams.Dtmf("5")
    assert streams.parse('{"event":"mark","mark":{"name":"say:1:Hello"}}') == streams.MarkDone("say:1:Hello")
    assert streams.parse('{"event":"stop","stop":{}}') == streams.Stop()


@pytest.mark.parametrize("raw", [
    "not json", "[]", '{"event": "dance"}', '{"event": "media", "media": {"payload": "!!!"}}',
    '{"event": "media"}', '{"event": "dtmf", "dtmf": {"digit": "55"}}',
    '{"event": "start", "start": {"callSid": "CA1"}}', "x" * 70000,
    # Values that would steer a REST URL elsewhere are not SIDs (issue 11, item 2).
    '{"event": "start", "start": {"streamSid": "MZ1", "callSid": "CAx/../../../Accounts/ACattacker/Calls/CA1?E=1#"}}',
    '{"event": "start", "start": {"streamSid": "MZ1/../x", "callSid": "CA1"}}',
    '{"event": "start", "start": {"streamSid": "MZ1", "callSid": "AC1"}}',
])
def test_malformed_messages_are_refused(raw) -> None:
    with pytest.raises(streams.BadMessage):
        streams.parse(raw)


def test_outbound_messages() -> None:
    assert json.loads(streams.media_message("MZ1", b"\x01\x02")) == \
        {"event": "media", "streamSid": "MZ1", "media": {"payload": "AQI="}}
    assert json.loads(streams.clear_message("MZ1")) == {"event": "clear", "streamSid": "MZ1"}
    name = streams.mark_name(3, "Order 48217 has shipped.")
    assert streams.mark_text(name) == "Order 48217 has shipped."
    assert streams.mark_text("other") is None
