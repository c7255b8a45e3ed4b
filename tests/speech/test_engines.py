"""choose_engine: which engine runs, and the start-up line that says why."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.speech.engines import choose_engine
from app.speech.recognizer import Engine, EngineError


def test_auto_without_a_vosk_model_falls_back_to_pocketsphinx_for_english(tmp_path, pocketsphinx_engine):
    engine, reason = choose_engine("auto", "en", None, tmp_path)
    assert engine.name == "pocketsphinx" and isinstance(engine, Engine)
    assert reason.startswith("ASR: pocketsphinx (WARNING: no Vosk model for en found")
    assert "ivr models download en-us" in reason
    assert choose_engine("auto", "en", None, tmp_path)[0] is engine  # one per process


def test_vosk_model_path_wins(tmp_path, ko_model_path, vosk_engine):
    engine, reason = choose_engine("auto", "ko", ko_model_path, tmp_path)
    assert engine is vosk_engine
    assert reason == f"ASR: vosk (model {ko_model_path}, from VOSK_MODEL_PATH)"


def test_the_model_cache_is_searched_for_the_language(tmp_path, ko_model_path):
    # Stand the Korean model in for the English one: the cache is looked up by catalogue name.
    (tmp_path / "vosk-model-small-en-us-0.15").symlink_to(ko_model_path)
    engine, reason = choose_engine("auto", "en", None, tmp_path)
    assert engine.name == "vosk" and "from the model cache" in reason


def test_non_english_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(EngineError, match="no Vosk model for fr.*ivr models download fr"):
        choose_engine("auto", "fr", None, tmp_path)


def test_forced_engines(tmp_path):
    with pytest.raises(EngineError, match="IVR_ASR=vosk but no Vosk model for en"):
        choose_engine("vosk", "en", None, tmp_path)
    with pytest.raises(EngineError, match="only has a bundled English model"):
        choose_engine("pocketsphinx", "fr", None, tmp_path)
    engine, reason = choose_engine("pocketsphinx", "en", None, tmp_path)
    assert engine.name == "pocketsphinx" and "WARNING" not in reason


def test_a_bad_model_directory_is_reported(tmp_path):
    with pytest.raises(EngineError, match="not a Vosk model directory"):
        choose_engine("auto", "en", tmp_path, tmp_path)
    with pytest.raises(EngineError, match="unknown ASR engine"):
        choose_engine("whisper", "en", None, tmp_path)
