"""Settings: parsed once from the environment; bad values stop start-up with one clear line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings, SettingsError

BASE = {"TWILIO_AUTH_TOKEN": "t0ken"}


def test_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert settings.lang == "en" and settings.transport == "stream"
    assert settings.database_url == "sqlite:///var/ivr.db"
    assert settings.twilio_api_base == "https://api.twilio.com"


def test_values_are_parsed() -> None:
    settings = Settings.from_env({**BASE, "AGENT_NUMBER": "+15550199, +15550198",
                                  "PUBLIC_URL": "https://bot.example.com/", "IVR_ASR": "PocketSphinx",
                                  "REDIS_URL": "redis://localhost:6379/0"})
    assert settings.agent_numbers == ("+15550199", "+15550198")
    assert settings.public_url == "https://bot.example.com"
    assert settings.stream_url == "wss://bot.example.com/media"
    assert settings.asr == "pocketsphinx"


def test_a_path_prefix_in_public_url_is_kept_in_the_stream_url() -> None:
    settings = Settings.from_env({**BASE, "PUBLIC_URL": "https://host.example.com/ivr/"})
    assert settings.public_url == "https://host.example.com/ivr"
    assert settings.stream_url == "wss://host.example.com/ivr/media"


@pytest.mark.parametrize("env,message", [
    ({}, "TWILIO_AUTH_TOKEN: missing"),
    ({**BASE, "PUBLIC_URL": "ftp://x"}, "PUBLIC_URL: expected an http(s) URL"),
    ({**BASE, "PUBLIC_URL": "https://host/ivr?x=1"}, "PUBLIC_URL: expected a base URL without ?query"),
    ({**BASE, "AGENT_NUMBER": "call bob"}, "AGENT_NUMBER: expected a comma list of phone numbers"),
    ({**BASE, "DATABASE_URL": "mysql://x"}, "DATABASE_URL: expected sqlite:///path or postgresql://"),
    ({**BASE, "REDIS_URL": "localhost"}, "REDIS_URL: expected redis://"),
    ({**BASE, "VOSK_MODEL_PATH": "/no/such/model"}, "VOSK_MODEL_PATH: no such directory"),
    ({**BASE, "IVR_TRANSPORT": "carrier-pigeon"}, "IVR_TRANSPORT: expected one of stream, record, keypad"),
    ({**BASE, "IVR_ENDPOINT_SILENCE_MS": "-5"}, "IVR_ENDPOINT_SILENCE_MS: expected a positive"),
    ({**BASE, "IVR_TRASNPORT": "stream"}, "IVR_TRASNPORT: unknown setting; did you mean IVR_TRANSPORT?"),
    ({**BASE, "IVR_ENDPOINT_SILENCE_MS": "abc"},
     "IVR_ENDPOINT_SILENCE_MS: expected a positive whole number, got 'abc'"),
    ({**BASE, "IVR_NO_INPUT_S": "soon"}, "IVR_NO_INPUT_S: expected a positive number, got 'soon'"),
    ({**BASE, "IVR_NO_INPUT_S": "nan"}, "IVR_NO_INPUT_S: expected a positive number, got 'nan'"),
    ({**BASE, "IVR_COLOUR": "blue"}, "IVR_COLOUR: unknown setting; the README's Settings table lists"),
])
def test_bad_settings_name_the_variable(env, message) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_server_refuses_to_start_with_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "IVR_TRANSPORT": "smoke-signals", "TWILIO_AUTH_TOKEN": "x"}
    result = subprocess.run([sys.executable, "-c", "import app.wsgi"], env=env, capture_output=True,
                            text=True, cwd=Path(__file__).parent.parent, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "ivr: cannot start: IVR_TRANSPORT: expected one of stream, record, keypad, got 'smoke-signals'"]
