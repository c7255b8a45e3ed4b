"""French calls on a line that hears callers: prompts in the French voice, and without a French
model keypad menus, a start-up warning, and never the English recognizer on French speech."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.config import Settings
from app.dialog.events import Heard
from app.factory import build_services
from app.services import Services
from app.sim.hearing import caller_voice
from app.sim.phoneline import PhoneLine
from app.store.database import make_engine
from app.store.seed import seed_demo
from app.store.sessions import MemorySessions
from app.voicewiring import hearing
from tests.conftest import PUBLIC_URL, ROOT, TODAY, TOKEN


def line_settings(tmp: Path) -> Settings:
    """English by default (the bundled English model: no Vosk model in the empty cache), French too."""
    url = f"sqlite:///{tmp / 'ivr.db'}"
    seed_demo(make_engine(url), TODAY)
    return Settings(twilio_auth_token=TOKEN, public_url=PUBLIC_URL, database_url=url, transport="stream",
                    grammars_dir=ROOT / "grammars", prompts_dir=ROOT / "prompts", data_dir=tmp / "var",
                    models_dir=tmp / "models", agent_numbers=("+15550199",), langs=("fr",))


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    return build_services(line_settings(tmp_path_factory.mktemp("fr-line")), MemorySessions(), today=lambda: TODAY)


def test_without_a_french_model_french_is_keypad_only_with_a_warning(tmp_path: Path, caplog) -> None:
    settings = line_settings(tmp_path)
    with caplog.at_level(logging.WARNING, logger="app.voicewiring"):
        assert hearing(settings, "fr") is None
    assert any("fr calls are heard by keypad only" in r.getMessage() and "ivr models download fr" in r.getMessage()
               for r in caplog.records)


def test_french_prompts_use_the_french_voice(services: Services) -> None:
    assert services.settings.voice_for("fr") == "fr" and services.settings.voice_for("en") == "en-us"
    french = services.voice.languages["fr"].synthesize("Bonjour")
    assert french and french != services.voice.synthesize("Bonjour")    # another voice, not the English one


def test_a_caller_who_switches_to_french_gets_keypad_menus_and_is_not_heard_in_english(services: Services) -> None:
    line = PhoneLine(services)
    greeting = line.start("+15550123")
    assert "Pour le français, dites français ou appuyez sur 9." in greeting.texts
    switched = line.press("9")
    assert switched.texts[0] == "Très bien, nous continuons en français."
    assert "Appuyez sur 1 pour le suivi de commande" in switched.texts[-1]
    assert line.call is not None and line.call.recognizer is None      # no English ears on French speech
    spoken = line.say(caller_voice(services.settings)("où est ma commande"))
    assert not any(isinstance(e, Heard) for e in spoken.events)
    keyed = line.press("1")
    assert "numéro de commande" in " ".join(keyed.texts)
    line.hang_up()


def test_english_callers_are_still_heard(services: Services) -> None:
    line = PhoneLine(services)
    line.start("+15550123")
    turn = line.say(caller_voice(services.settings)("agent"))
    assert turn.heard is not None and turn.heard.intent == "agent"



def test_every_question_listens_for_the_language_names(services: Services) -> None:
    english = services.voice.phrases_for(("order_status",), True).phrases
    french = services.voice.languages["fr"].phrases_for(("yes", "no"), False).phrases
    assert {"french", "in french"} <= set(english) and {"anglais", "en anglais"} <= set(french)


def test_a_french_vosk_model_listens_for_french_number_words() -> None:
    from app.nlu.numbers import RECOGNIZER_NUMBER_WORDS
    from app.speech.vosk import _digit_runs
    words = _digit_runs(["{digits}", "c est {digits}"], RECOGNIZER_NUMBER_WORDS["fr"])
    assert {"quarante", "huit", "vingt", "et", "un", "sept", "zéro"} <= set(words) and "seven" not in words


def test_the_offer_of_french_is_said_in_the_french_voice(services: Services) -> None:
    line = PhoneLine(services)
    line.start("+15550123")
    offer = "Pour le français, dites français ou appuyez sur 9."
    played = dict((text, audio) for audio, text in line.call.prompt)
    assert played[offer] == services.voice.languages["fr"].synthesize(offer)
    assert played[offer] != services.voice.synthesize(offer)
    line.hang_up()
