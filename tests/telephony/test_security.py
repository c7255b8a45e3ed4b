"""app.telephony.security: Twilio's request signatures."""
from __future__ import annotations

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict

from app.telephony.security import SignatureChecker, StreamTokens

TOKEN, PUBLIC = "secret-token", "https://ivr.example.com"


def twilio_signs(path: str, form: ImmutableMultiDict) -> str:
    """The signature as Twilio's own library computes it for that form."""
    return RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)


def test_a_form_signed_by_twilio_is_valid_and_a_changed_one_is_not() -> None:
    form = ImmutableMultiDict([("CallSid", "CA1"), ("From", "+15550123"), ("Digits", "1")])
    checker = SignatureChecker(TOKEN, PUBLIC)
    signature = twilio_signs("/voice/gather", form)
    assert checker.valid("/voice/gather", form, signature)
    assert not checker.valid("/voice/gather", ImmutableMultiDict([*form.items(multi=True), ("Digits", "2")]), signature)
    assert not checker.valid("/voice/gather?x=1", form, signature)


def test_every_value_of_a_repeated_field_is_signed() -> None:
    form = ImmutableMultiDict([("CallSid", "CA1"), ("Tag", "b"), ("Tag", "a")])
    checker = SignatureChecker(TOKEN, PUBLIC)
    assert checker.valid("/voice/gather", form, twilio_signs("/voice/gather", form))
    assert checker.sign("/voice/gather", form) == twilio_signs("/voice/gather", form)
    assert checker.sign("/voice/gather", form) != checker.sign("/voice/gather", {"CallSid": "CA1", "Tag": "b"})


def test_a_plain_dict_signs_like_a_form() -> None:
    checker = SignatureChecker(TOKEN, PUBLIC)
    fields = {"CallSid": "CA1", "From": "+15550123"}
    assert checker.sign("/voice/incoming", fields) == twilio_signs("/voice/incoming", ImmutableMultiDict(fields))


def test_a_stream_token_opens_only_its_own_call_and_only_until_it_expires() -> None:
    now = [1_700_000_000.0]
    tokens = StreamTokens(TOKEN, ttl_s=120, clock=lambda: now[0])
    token = tokens.issue("CA1")
    assert tokens.valid("CA1", token)
    assert not tokens.valid("CA2", token)
    assert not StreamTokens("another-token", clock=lambda: now[0]).valid("CA1", token)
    assert not any(tokens.valid("CA1", forged) for forged in (None, "", "x", token.split(".")[0] + ".00",
                                                               str(int(now[0]) + 9999) + "." + token.split(".")[1]))
    now[0] += 121
    assert not tokens.valid("CA1", token)
