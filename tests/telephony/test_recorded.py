"""Record transport and voicemail: Twilio's recording fetched from the (fake) REST API,
recognised offline by the real recognizer, deleted once it is text."""
from __future__ import annotations

import io
import wave

import pytest

from app import create_app
from app.sim.twilio_api import FakeTwilioApi
from app.speech.audio import ulaw_to_pcm16
from app.speech.tts import caller_audio
from tests.conftest import TODAY, TwilioClient

CALL = {"CallSid": "CA0007", "From": "+15550123", "To": "+15550000"}


def wav_of(text: str) -> bytes:
    """What Twilio serves for a recording: a 16-bit mono WAV at 8 kHz."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 1600 + ulaw_to_pcm16(caller_audio(text)) + b"\x00\x00" * 3200)
    return buffer.getvalue()


@pytest.fixture
def recording_twilio(settings, fake_twilio: FakeTwilioApi):
    app = create_app(settings.replace(transport="record", asr="pocketsphinx",
                                      twilio_api_base=fake_twilio.base_url), today=lambda: TODAY)
    with app.test_client() as client:
        yield TwilioClient(client), app


def test_greeting_gathers_keys_then_records_the_turn(recording_twilio) -> None:
    twilio, _ = recording_twilio
    body = twilio.post("/voice/incoming", CALL).get_data(as_text=True)
    assert '<Record action="https://ivr.example.test/voice/recording"' in body
    assert 'timeout="1"' in body and "Thanks for calling" in body


def test_recorded_turn_is_recognised_and_deleted(recording_twilio, fake_twilio: FakeTwilioApi) -> None:
    twilio, _ = recording_twilio
    twilio.post("/voice/incoming", CALL)
    fake_twilio.recordings["RE1"] = wav_of("what are your hours")
    form = {**CALL, "RecordingUrl": fake_twilio.recording_url("RE1"), "RecordingDuration": "2"}
    body = twilio.post("/voice/recording", form).get_data(as_text=True)
    assert "9 am to 8 pm" in body
    assert fake_twilio.deleted == ["RE1"]


def test_voicemail_is_transcribed_into_a_callback_request(recording_twilio, fake_twilio: FakeTwilioApi) -> None:
    twilio, app = recording_twilio
    twilio.post("/voice/incoming", CALL)
    twilio.post("/voice/gather", {"CallSid": "CA0007", "Digits": "0"})
    twilio.post("/voice/dial-status?attempt=1", {"CallSid": "CA0007", "DialCallStatus": "no-answer"})
    asked = twilio.post("/voice/gather", {"CallSid": "CA0007", "Digits": "1"}).get_data(as_text=True)
    assert "after the tone" in asked and "/voice/recorded" in asked
    fake_twilio.recordings["RE2"] = wav_of("where is my order")
    form = {**CALL, "RecordingUrl": fake_twilio.recording_url("RE2"), "RecordingDuration": "3"}
    done = twilio.post("/voice/recorded", form).get_data(as_text=True)
    assert "message is saved" in done and "<Hangup />" in done
    callback = app.extensions["ivr"].records.callbacks()[0]
    assert callback.phone == "+15550123" and "order" in callback.transcript


def test_unusable_recording_falls_back_to_keys(recording_twilio, fake_twilio: FakeTwilioApi) -> None:
    twilio, _ = recording_twilio
    twilio.post("/voice/incoming", CALL)
    fake_twilio.recordings["RE3"] = b"this is not a wav file"
    form = {**CALL, "RecordingUrl": fake_twilio.recording_url("RE3"), "RecordingDuration": "2"}
    body = twilio.post("/voice/recording", form).get_data(as_text=True)
    assert "keypad" in body.lower()


def test_a_french_call_without_a_french_model_is_never_heard_in_english(settings, fake_twilio: FakeTwilioApi) -> None:
    app = create_app(settings.replace(transport="record", asr="pocketsphinx", twilio_api_base=fake_twilio.base_url,
                                      lang_by_number=(("+15550111", "fr"),)), today=lambda: TODAY)
    twilio = TwilioClient(app.test_client())
    french = {**CALL, "To": "+15550111"}
    greeting = twilio.post("/voice/incoming", french).get_data(as_text=True)
    assert "Appuyez sur 1 pour le suivi de commande" in greeting            # keypad menus
    fake_twilio.recordings["RE9"] = wav_of("what are your hours")
    form = {**french, "RecordingUrl": fake_twilio.recording_url("RE9"), "RecordingDuration": "2"}
    body = twilio.post("/voice/recording", form).get_data(as_text=True)
    assert "de 9 h" not in body and "9 am" not in body                      # not heard: no hours answer
    assert "Appuyez sur 1 pour le suivi de commande" in body                # the keypad menu again
    assert fake_twilio.deleted == ["RE9"]                                   # not listened to, not kept
