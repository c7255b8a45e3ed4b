"""Signed Twilio webhooks in, exact TwiML out; unsigned, forged and malformed requests refused."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app import create_app
from tests.conftest import TODAY, TwilioClient

XML = '<?xml version="1.0" encoding="UTF-8"?>'
BASE = "https://ivr.example.test"
GREETING = ("Thanks for calling Northwind Outfitters. I'm an automated assistant. Say agent or press 0 "
            "at any time to reach a person. How can I help you today?")
CALL = {"CallSid": "CA0001", "From": "+15550123", "To": "+15550000"}


def test_incoming_call_greets_and_gathers_keys(twilio: TwilioClient) -> None:
    response = twilio.post("/voice/incoming", CALL)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True) == (
        f'{XML}<Response><Gather action="{BASE}/voice/gather" input="dtmf" method="POST" '
        f'numDigits="1" timeout="6"><Say language="en-US">{GREETING}</Say></Gather>'
        f'<Redirect method="POST">{BASE}/voice/gather</Redirect></Response>')


def test_key_zero_dials_the_agent_with_whisper(twilio: TwilioClient) -> None:
    twilio.post("/voice/incoming", CALL)
    response = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0"})
    assert response.get_data(as_text=True) == (
        f'{XML}<Response><Say language="en-US">Connecting you to a person now. Please hold.</Say>'
        f'<Dial action="{BASE}/voice/dial-status?attempt=0" answerOnBridge="true" method="POST" '
        f'timeout="20"><Number method="POST" url="{BASE}/voice/whisper?attempt=0">+15550199</Number>'
        f'</Dial></Response>')


def test_order_number_by_keypad_is_read_digit_by_digit(twilio: TwilioClient) -> None:
    twilio.post("/voice/incoming", CALL)
    asked = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "1"}).get_data(as_text=True)
    assert 'finishOnKey="#"' in asked and "order number" in asked
    verify = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "48217"}).get_data(as_text=True)
    assert "details of order 4 8 2 1 7, please key in the last 4 digits" in verify   # not Jane's phone
    answer = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0100"}).get_data(as_text=True)
    assert "Order 4 8 2 1 7, your blue rain jacket, has shipped with UPS" in answer


def test_no_input_reprompts_shorter(twilio: TwilioClient) -> None:
    twilio.post("/voice/incoming", CALL)
    response = twilio.post("/voice/gather", {"CallSid": "CA0001"})
    assert '<Say language="en-US">How can I help?</Say>' in response.get_data(as_text=True)


@pytest.mark.parametrize("agent_token,page", [
    (None, ""),                                                        # no agent pages to point to
    ("agent-secret", "The call details are on your agent page. "),
])
def test_whisper_tells_agent_then_asks_for_key(settings, agent_token, page) -> None:
    twilio = TwilioClient(create_app(settings.replace(agent_token=agent_token), today=lambda: TODAY).test_client())
    assert _jane_asks_for_a_person(twilio) == _whisper(f"Jane Doe. Reason: asked for a person. {page}Press 1 to take the call.")
    accepted = twilio.post("/voice/whisper/answer?parent=CA0001", {"CallSid": "CA0002", "Digits": "1"})
    assert accepted.get_data(as_text=True) == f"{XML}<Response />"


def test_the_whisper_says_the_operators_words_from_the_prompts_file(settings, tmp_path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    shipped = (settings.prompts_dir / "en.yaml").read_text(encoding="utf-8")
    edits = {'reason: "Reason: {why}."': 'reason: "Handed over: {why}."',
             'take: "Press 1 to take the call."': 'take: "Press 1 to talk to them."',
             'asked for a person: "asked for a person"': 'asked for a person: "wants a human"'}
    for old, new in edits.items():
        assert old in shipped
        shipped = shipped.replace(old, new)
    (prompts / "en.yaml").write_text(shipped, encoding="utf-8")
    twilio = TwilioClient(create_app(settings.replace(prompts_dir=prompts), today=lambda: TODAY).test_client())
    assert _jane_asks_for_a_person(twilio) == _whisper("Jane Doe. Handed over: wants a human. Press 1 to talk to them.")


def _jane_asks_for_a_person(twilio: TwilioClient) -> str:
    """A known caller presses 0; the TwiML the first agent's leg gets."""
    twilio.post("/voice/incoming", {**CALL, "From": "+15550100"})
    twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0"})
    return twilio.post("/voice/whisper?attempt=0", {"CallSid": "CA0002", "ParentCallSid": "CA0001"}).get_data(as_text=True)


def _whisper(said: str) -> str:
    return (f'{XML}<Response><Gather action="{BASE}/voice/whisper/answer?parent=CA0001" input="dtmf" '
            f'method="POST" numDigits="1" timeout="6"><Say language="en-US">{said}</Say></Gather>'
            f'<Hangup /></Response>')


def test_a_prompts_file_missing_a_whisper_frame_stops_the_start_up(settings, tmp_path) -> None:
    from app.loading import LanguageFilesError

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    shipped = (settings.prompts_dir / "en.yaml").read_text(encoding="utf-8")
    (prompts / "en.yaml").write_text(shipped.replace('    take: "Press 1 to take the call."\n', ""),
                                     encoding="utf-8")
    with pytest.raises(LanguageFilesError, match=rf"{prompts / 'en.yaml'}: agent\.frames\.take is missing"):
        create_app(settings.replace(prompts_dir=prompts), today=lambda: TODAY)


def test_unanswered_agent_rings_the_next_then_offers_a_message(twilio: TwilioClient) -> None:
    twilio.post("/voice/incoming", CALL)
    twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0"})
    second = twilio.post("/voice/dial-status?attempt=0", {"CallSid": "CA0001", "DialCallStatus": "no-answer"})
    assert ">+15550198</Number>" in second.get_data(as_text=True)
    last = twilio.post("/voice/dial-status?attempt=1", {"CallSid": "CA0001", "DialCallStatus": "busy"})
    assert "leave a message" in last.get_data(as_text=True)


def test_status_callback_closes_the_call(twilio: TwilioClient, app) -> None:
    twilio.post("/voice/incoming", CALL)
    response = twilio.post("/voice/status", {"CallSid": "CA0001", "CallStatus": "completed"})
    assert response.status_code == 204
    assert app.extensions["ivr"].engine.state("CA0001").outcome == "hangup"


def test_fallback_apologises_and_reaches_a_person(twilio: TwilioClient) -> None:
    body = twilio.post("/voice/fallback", CALL).get_data(as_text=True)
    assert "technical problem" in body and "<Dial" in body


@pytest.mark.parametrize("signature", [None, "forged", "Zm9yZ2Vk"])
def test_unsigned_or_forged_requests_are_refused_and_touch_nothing(twilio: TwilioClient, app, signature) -> None:
    response = twilio.post("/voice/incoming", CALL, signed=signature is not None, signature=signature)
    assert response.status_code == 403
    assert app.extensions["ivr"].engine.state("CA0001") is None


def test_signature_for_other_params_is_refused(twilio: TwilioClient) -> None:
    signature = twilio.signer.sign("/voice/incoming", {**CALL, "From": "+15550100"})
    assert twilio.post("/voice/incoming", CALL, signature=signature).status_code == 403


@pytest.mark.parametrize("path,form", [
    ("/voice/incoming", {"From": "+15550123"}),
    ("/voice/incoming", {"CallSid": "not a sid!"}),
    ("/voice/gather", {"CallSid": "CA0001", "Digits": "12<script>"}),
    ("/voice/whisper", {"CallSid": "CA0002"}),
    ("/voice/recording", {"CallSid": "CA0001", "RecordingUrl": "file:///etc/passwd"}),
])
def test_malformed_requests_get_a_clear_400(twilio: TwilioClient, path, form) -> None:
    response = twilio.post(path, form)
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_same_call_started_twice_repeats_instead_of_restarting(twilio: TwilioClient) -> None:
    twilio.post("/voice/incoming", CALL)
    twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "1"})
    again = twilio.post("/voice/incoming", CALL).get_data(as_text=True)
    assert "order number" in again and "Thanks for calling" not in again


def test_turn_for_an_unknown_call_starts_it(twilio: TwilioClient) -> None:
    body = twilio.post("/voice/gather", {"CallSid": "CA0404", "Digits": "5"}).get_data(as_text=True)
    assert "Thanks for calling" in body


def test_healthz(app) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert response.get_json()["records_pending"] == 0


def test_healthz_counts_the_call_records_a_worker_still_holds(twilio: TwilioClient, app) -> None:
    journal = app.extensions["ivr"].records
    journal.interval_s = 60                                       # its thread (started by the first write) waits
    twilio.post("/voice/incoming", CALL)
    assert app.test_client().get("/healthz").get_json()["records_pending"] >= 1
    journal.flush()
    assert app.test_client().get("/healthz").get_json()["records_pending"] == 0


def test_storage_outage_mid_call_hands_over_instead_of_failing(twilio: TwilioClient, app) -> None:
    twilio.post("/voice/incoming", CALL)
    sessions = app.extensions["ivr"].engine.sessions

    def broken(*_args, **_kwargs):
        raise OSError("database is unreachable")
    sessions.load = broken
    response = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "technical problem" in body and "<Dial" in body


def test_business_database_outage_still_greets_then_hands_over(twilio: TwilioClient, app) -> None:
    business = app.extensions["ivr"].engine.business

    def broken(*_args, **_kwargs):
        raise OSError("business system down")
    business.customer_by_phone = business.order = broken
    greeting = twilio.post("/voice/incoming", {**CALL, "From": "+15550100"}).get_data(as_text=True)
    assert "Thanks for calling" in greeting
    twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "1"})
    answer = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "48217"}).get_data(as_text=True)
    assert "technical problem" in answer and "<Dial" in answer


def test_a_caller_id_with_characters_xml_cannot_carry_still_gets_well_formed_twiml(twilio: TwilioClient) -> None:
    """Found by the fuzzer: a From holding a control character broke the whisper's XML."""
    twilio.post("/voice/incoming", {**CALL, "From": "+1555\x0b0123\x00"})
    twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0"})
    whisper = twilio.post("/voice/whisper?attempt=0", {"CallSid": "CA0002", "ParentCallSid": "CA0001"})
    assert ET.fromstring(whisper.data).find("Gather/Say").text.startswith("Unknown caller. Reason: asked for a person.")
