"""French calls over Twilio's webhooks (keypad transport): routed by the number dialled, said in
French by Twilio, and the agent's whisper in the agents' language. TwiML compared as exact XML."""
from __future__ import annotations

from app import create_app
from tests.conftest import TODAY, TwilioClient

XML = '<?xml version="1.0" encoding="UTF-8"?>'
BASE = "https://ivr.example.test"
FRENCH_LINE = "+15550111"
CALL = {"CallSid": "CA0001", "From": "+15550123", "To": FRENCH_LINE}


def client(settings, **changes) -> TwilioClient:
    app = create_app(settings.replace(lang_by_number=((FRENCH_LINE, "fr"),), **changes), today=lambda: TODAY)
    return TwilioClient(app.test_client())


def test_a_call_to_the_french_number_is_greeted_in_french(settings) -> None:
    twilio = client(settings)
    response = twilio.post("/voice/incoming", CALL)
    assert response.get_data(as_text=True) == (
        f'{XML}<Response><Gather action="{BASE}/voice/gather" input="dtmf" method="POST" numDigits="1" '
        f'timeout="6"><Say language="fr-FR">Merci d\'avoir appelé Northwind Outfitters. Je suis un assistant '
        f'automatique. Dites conseiller ou appuyez sur 0 à tout moment pour parler à une personne. Que puis-je '
        f'faire pour vous ?</Say><Say language="en-US">For English, say English or press 9.</Say></Gather>'
        f'<Redirect method="POST">{BASE}/voice/gather</Redirect></Response>')


def test_key_9_goes_on_in_english_and_the_whisper_says_the_language(settings) -> None:
    twilio = client(settings)
    twilio.post("/voice/incoming", CALL)
    switched = twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "9"}).get_data(as_text=True)
    assert ('<Say language="en-US">Okay, let\'s continue in English.</Say>'
            '<Say language="en-US">How can I help you today?</Say>') in switched
    twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0"})
    whisper = twilio.post("/voice/whisper?attempt=0", {"CallSid": "CA0002", "ParentCallSid": "CA0001"})
    assert "Unknown caller. Reason: asked for a person." in whisper.get_data(as_text=True)   # English, like the agents


def test_french_agents_hear_a_french_whisper_naming_the_callers_language(settings) -> None:
    twilio = client(settings, agent_lang="fr")
    twilio.post("/voice/incoming", {**CALL, "To": "+15550000"})          # an English call
    twilio.post("/voice/gather", {"CallSid": "CA0001", "Digits": "0"})
    whisper = twilio.post("/voice/whisper?attempt=0", {"CallSid": "CA0002", "ParentCallSid": "CA0001"})
    assert whisper.get_data(as_text=True) == (
        f'{XML}<Response><Gather action="{BASE}/voice/whisper/answer?parent=CA0001" input="dtmf" '
        f'method="POST" numDigits="1" timeout="6"><Say language="fr-FR">Appelant inconnu. L\'appelant parle '
        f'anglais. Motif : demande un conseiller. Appuyez sur 1 pour prendre l\'appel.</Say></Gather>'
        f'<Hangup /></Response>')
