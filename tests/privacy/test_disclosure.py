"""The greeting says the caller is talking to an automated assistant; the operator words it."""
from __future__ import annotations

from pathlib import Path

from app import create_app
from app.config import Settings
from tests.callrun import demo_settings
from tests.conftest import ROOT, TODAY, TwilioClient

INCOMING = {"CallSid": "CA0001", "From": "+15550123", "To": "+15550000"}


def greeting(settings: Settings) -> str:
    app = create_app(settings, today=lambda: TODAY)
    return TwilioClient(app.test_client()).post("/voice/incoming", INCOMING).get_data(as_text=True)


def test_the_default_disclosure_comes_from_the_language_prompts(tmp_path: Path) -> None:
    assert "I'm an automated assistant." in greeting(demo_settings(f"sqlite:///{tmp_path}/ivr.db"))


def test_ivr_bot_disclosure_replaces_it(tmp_path: Path) -> None:
    env = {"TWILIO_AUTH_TOKEN": "test-auth-token", "PUBLIC_URL": "https://ivr.example.test",
           "DATABASE_URL": f"sqlite:///{tmp_path}/ivr.db", "IVR_TRANSPORT": "keypad",
           "IVR_GRAMMARS_DIR": str(ROOT / "grammars"), "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
           "IVR_BOT_DISCLOSURE": "You're speaking with Northwind's virtual agent, a computer."}
    demo_settings(env["DATABASE_URL"])       # seeds the demo data
    said = greeting(Settings.from_env(env))
    assert "Thanks for calling Northwind Outfitters. You're speaking with Northwind's virtual agent, " \
           "a computer. Say agent or press 0" in said
    assert "automated assistant" not in said


def test_a_known_caller_hears_the_disclosure_too(tmp_path: Path) -> None:
    settings = demo_settings(f"sqlite:///{tmp_path}/ivr.db", bot_disclosure="This is an automated line.")
    app = create_app(settings, today=lambda: TODAY)
    said = TwilioClient(app.test_client()).post("/voice/incoming", {**INCOMING, "From": "+15550100"}).text
    assert "Hi Jane" in said and "This is an automated line." in said
