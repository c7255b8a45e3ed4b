"""Caller speech for the simulator: synthesized telephone audio of a caller's lines."""
from __future__ import annotations

from typing import Callable

from app.config import Settings
from app.speech.tts import caller_audio

DEFAULT_CALLER_VOICE = "en-us"


def caller_voice(settings: Settings, voice: str = "") -> Callable[[str], bytes]:
    """text -> 8 kHz μ-law of a simulated caller (cached like prompts)."""
    cache = settings.data_dir / "tts-callers"
    return lambda text: caller_audio(text, voice or DEFAULT_CALLER_VOICE, cache_dir=cache)
