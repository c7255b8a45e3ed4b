"""app.telephony.twiml: replies as TwiML documents."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from app.telephony.twiml import TwimlStyle, build_connect_stream, connect_stream

STYLE = TwimlStyle(public_url="https://ivr.example.com")
STREAM = "wss://ivr.example.com/media"
# What a form value can hold once app.telephony.forms has cleaned it: any XML character.
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff")
                   .filter(lambda c: c in "\t\n\r" or ord(c) >= 0x20))


def test_a_streaming_call_opens_the_media_stream_then_reconnects() -> None:
    assert connect_stream(STYLE, STREAM, "CA" + "1" * 32, "+15550123", "1700000120.ab12") == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        '<Stream url="wss://ivr.example.com/media">'
        '<Parameter name="call_sid" value="CA11111111111111111111111111111111" />'
        '<Parameter name="caller" value="+15550123" />'
        '<Parameter name="token" value="1700000120.ab12" /></Stream></Connect>'
        '<Redirect method="POST">https://ivr.example.com/voice/reconnect?attempt=1</Redirect></Response>')


def test_the_next_reconnect_counts_on() -> None:
    assert "/voice/reconnect?attempt=3</Redirect>" in connect_stream(STYLE, STREAM, "CA1", "+1", "t", attempt=2)


@settings(max_examples=300)
@given(call_sid=XML_TEXT, caller=XML_TEXT, token=XML_TEXT, attempt=st.integers(0, 5))
def test_the_filled_in_document_is_what_twilio_builds_in_full(call_sid: str, caller: str, token: str,
                                                               attempt: int) -> None:
    assert connect_stream(STYLE, STREAM, call_sid, caller, token, attempt) == \
        build_connect_stream(STYLE, STREAM, call_sid, caller, token, str(attempt + 1))


def test_a_caller_value_that_looks_like_a_placeholder_stays_as_it_is() -> None:
    document = connect_stream(STYLE, STREAM, "IvrSlotCaller", "IvrSlotCallSid & <IvrSlotAttempt>", "IvrSlotToken")
    assert 'name="call_sid" value="IvrSlotCaller"' in document
    assert 'name="caller" value="IvrSlotCallSid &amp; &lt;IvrSlotAttempt&gt;"' in document
