"""Language settings: the default, the languages served, routing by number, the agents' language."""
from __future__ import annotations

import pytest

from app.config import Settings, SettingsError

BASE = {"TWILIO_AUTH_TOKEN": "t"}


def test_by_default_one_language_is_served() -> None:
    settings = Settings.from_env(BASE)
    assert settings.languages == ("en",) and settings.lang_for("+15550100") == "en"
    assert settings.agents_lang == "en" and settings.voice_for("en") == "en-us"


def test_calls_are_routed_by_the_number_dialled() -> None:
    settings = Settings.from_env({**BASE, "IVR_LANG_BY_NUMBER": "+15550100=fr, +15550101=en"})
    assert settings.languages == ("en", "fr")
    assert settings.lang_for("+15550100") == "fr" and settings.lang_for("+15550101") == "en"
    assert settings.lang_for("+19995550000") == "en"


def test_french_by_default_with_english_agents() -> None:
    settings = Settings.from_env({**BASE, "IVR_LANG": "fr", "IVR_LANGS": "en", "IVR_AGENT_LANG": "en"})
    assert settings.languages == ("fr", "en") and settings.agents_lang == "en"
    assert settings.voice_for("fr") == "fr"
    assert Settings.from_env({**BASE, "IVR_LANG": "fr", "IVR_TTS_VOICE": "mb-fr1"}).voice_for("fr") == "mb-fr1"


@pytest.mark.parametrize(("env", "message"), [
    ({"IVR_LANG_BY_NUMBER": "+15550100:fr"},
     "IVR_LANG_BY_NUMBER: expected number=language pairs like +15550100=fr,+15550101=en, got '+15550100:fr'"),
    ({"IVR_LANG_BY_NUMBER": "+15550100=french"},
     "IVR_LANG_BY_NUMBER: expected a language code like en or fr, got 'french'"),
    ({"IVR_LANGS": "fr,english"}, "IVR_LANGS: expected a language code like en or fr, got 'english'"),
    ({"IVR_AGENT_LANG": "x"}, "IVR_AGENT_LANG: expected a language code like en or fr, got 'x'"),
])
def test_bad_language_settings_are_one_line_naming_the_setting(env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**BASE, **env})
    assert str(caught.value) == message


def test_a_language_without_files_stops_the_start(tmp_path) -> None:
    from app.loading import LanguageFilesError, load_languages
    settings = Settings.from_env({**BASE, "IVR_LANGS": "de"})
    with pytest.raises(LanguageFilesError, match="no grammars for language 'de'"):
        load_languages(settings)
