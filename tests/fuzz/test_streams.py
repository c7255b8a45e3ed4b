"""Fuzzing Media Streams message parsing: any input gives a message or BadMessage, nothing else."""
from __future__ import annotations

import base64
import json

from hypothesis import given, strategies as st

from app.telephony import streams
from tests.fuzz.conftest import count

EVENTS = ("connected", "start", "media", "dtmf", "mark", "stop")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
payloads = st.one_of(st.binary(max_size=9000).map(lambda b: base64.b64encode(b).decode()),
                     st.text(max_size=50), json_values,
                     st.just("!!!not base64!!!"), st.just("QUJD"), st.just("QUJ"))


def parsed_or_refused(raw: str | bytes) -> streams.Message | None:
    """parse(raw), or None when it refused the message the one way it may."""
    count("stream message")
    try:
        return streams.parse(raw)
    except streams.BadMessage:
        return None


@st.composite
def messages(draw: st.DrawFn) -> dict:
    """A Media Streams-shaped message with wrong types, missing parts and unknown events mixed in."""
    event = draw(st.one_of(st.sampled_from(EVENTS), json_values))
    doc = {"event": event, "streamSid": draw(st.one_of(st.text(max_size=40), json_values))}
    doc["start"] = draw(st.one_of(json_values, st.fixed_dictionaries(
        {"callSid": st.one_of(st.text(max_size=40), json_values)},
        optional={"streamSid": st.text(max_size=40), "customParameters": st.one_of(
            st.dictionaries(st.text(max_size=10), st.text(max_size=10)), json_values)})))
    doc["media"] = draw(st.one_of(json_values, st.fixed_dictionaries(
        {"payload": payloads}, optional={"timestamp": st.one_of(json_values, st.text(max_size=12))})))
    doc["dtmf"] = draw(st.one_of(json_values, st.fixed_dictionaries({"digit": json_values})))
    doc["mark"] = draw(st.one_of(json_values, st.fixed_dictionaries({"name": json_values})))
    return {k: v for k, v in doc.items() if draw(st.booleans()) or k == "event"}


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_text_or_bytes_is_a_message_or_bad_message(raw) -> None:
    parsed_or_refused(raw)


@given(messages(), st.sampled_from(["text", "bytes"]))
def test_malformed_structured_messages_are_refused_cleanly(doc, kind) -> None:
    raw = json.dumps(doc)
    parsed_or_refused(raw if kind == "text" else raw.encode())


@given(st.integers(1, 40_000), st.sampled_from(["[", "{\"a\":", "[{\"event\":"]))
def test_deeply_nested_json_is_refused(depth, opener) -> None:
    assert parsed_or_refused(opener * depth) is None


@given(st.sampled_from(["media", "start", "dtmf"]), st.sampled_from([1e400, -1e400, 1e308, 2**70]))
def test_out_of_range_numbers_are_refused_or_parsed(event, number) -> None:
    raw = json.dumps({"event": event, "media": {"payload": "QUJD", "timestamp": number},
                      "start": {"callSid": number}, "dtmf": {"digit": number}})
    parsed_or_refused(raw)


@given(st.binary(max_size=streams.MAX_FRAME_BYTES), st.integers(0, 2**40))
def test_good_media_frames_come_through_exactly(audio, timestamp) -> None:
    raw = json.dumps({"event": "media", "streamSid": "MZ1",
                      "media": {"payload": base64.b64encode(audio).decode(), "timestamp": str(timestamp)}})
    assert parsed_or_refused(raw) == streams.Media(audio, timestamp)


@given(st.binary(min_size=streams.MAX_FRAME_BYTES + 1, max_size=streams.MAX_FRAME_BYTES + 3000))
def test_oversized_frames_and_messages_are_refused(audio) -> None:
    frame = json.dumps({"event": "media", "media": {"payload": base64.b64encode(audio).decode()}})
    assert parsed_or_refused(frame) is None
    assert parsed_or_refused(" " * (streams.MAX_MESSAGE_BYTES + 1)) is None


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=5), st.from_regex(r"\ACA[0-9a-f]{32}\Z"))
def test_start_carries_the_call_and_its_parameters(params, call_sid) -> None:
    raw = json.dumps({"event": "start", "streamSid": "MZ9",
                      "start": {"streamSid": "MZ9", "callSid": call_sid, "customParameters": params}})
    assert parsed_or_refused(raw) == streams.Start("MZ9", call_sid, params)
