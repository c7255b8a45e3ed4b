"""Hypothesis strategies for what Twilio (or an attacker) could post to the webhooks."""
from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import strategies as st

ENDPOINTS = ("/voice/incoming", "/voice/reconnect", "/voice/gather", "/voice/recording",
             "/voice/recorded", "/voice/dial-status", "/voice/whisper", "/voice/whisper/answer",
             "/voice/status", "/voice/fallback")
FIELDS = ("CallSid", "From", "To", "Digits", "RecordingUrl", "RecordingDuration", "DialCallStatus",
          "CallStatus", "CallDuration", "ParentCallSid", "SpeechResult", "AccountSid")
# A few real-looking CallSids, so fuzzed turns land on the same calls and walk them into many states.
KNOWN_SIDS = tuple(f"CA{n:032x}" for n in range(1, 5))

# Anything text can be, surrogates aside (a form field is UTF-8 on the wire): control
# characters, right-to-left marks, emoji, NULs.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
huge_text = st.builds(lambda ch, n: ch * n, st.characters(exclude_categories=("Cs",)),
                      st.integers(1_000, 20_000))
valid_sids = st.one_of(st.sampled_from(KNOWN_SIDS), st.from_regex(r"\ACA[0-9a-f]{32}\Z"))
sids = st.one_of(valid_sids, any_text, huge_text, st.just(""), st.just("CA" + "9" * 80))
valid_keys = st.one_of(st.from_regex(r"\A[0-9*#]{1,12}\Z"), st.sampled_from(["0", "1", "2", "48217#", "#"]))
keypad = st.one_of(valid_keys, valid_keys, st.just("hangup"), any_text, huge_text)
phones = st.one_of(st.from_regex(r"\A\+1555[0-9]{7}\Z"), st.just("+15550100"), any_text, huge_text)
urls = st.one_of(st.just("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"),
                 st.from_regex(r"\A(ftp|file|javascript|https?)://[^\s]{0,30}\Z"), any_text)
numbers = st.one_of(st.integers(-10**12, 10**12).map(str), any_text)
statuses = st.one_of(st.sampled_from(["completed", "busy", "no-answer", "failed", "canceled",
                                      "in-progress", "ringing", "answered"]), any_text)

FIELD_VALUES = {"CallSid": sids, "ParentCallSid": sids, "From": phones, "To": phones,
                "Digits": keypad, "RecordingUrl": urls, "RecordingDuration": numbers,
                "CallDuration": numbers, "DialCallStatus": statuses, "CallStatus": statuses,
                "SpeechResult": st.one_of(any_text, huge_text), "AccountSid": any_text}


@st.composite
def forms(draw: st.DrawFn) -> dict[str, str]:
    """A webhook form: any subset of Twilio's fields with wild values, plus unknown fields."""
    chosen = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=len(FIELDS)))
    form = {name: draw(FIELD_VALUES[name]) for name in chosen}
    form.update(draw(st.dictionaries(any_text.filter(bool), any_text, max_size=3)))
    if draw(st.integers(0, 3)):
        # Mostly a call we could know: the request then reaches the engine, not just the form check.
        form["CallSid"] = draw(valid_sids)
        form.setdefault("ParentCallSid", draw(valid_sids))
    return form


@st.composite
def paths(draw: st.DrawFn) -> str:
    """An endpoint with or without a query (attempt, parent, or junk), percent-encoded."""
    path = draw(st.sampled_from(ENDPOINTS))
    query = draw(st.dictionaries(st.sampled_from(["attempt", "parent", "x"]),
                                 st.one_of(numbers, sids, any_text), max_size=2))
    return f"{path}?{urlencode(query)}" if query else path
