"""Caller speech for the simulator: synthesized telephone audio, recognised by the real engine."""
from __future__ import annotations

from typing import Callable, Sequence

from app.config import Settings
from app.sim.driver import Hearer
from app.speech.audio import PCM_FRAME_BYTES, frames, pad_silence, ulaw_to_pcm16
from app.speech.engines import choose_engine
from app.speech.models import default_cache_dir
from app.speech.tts import caller_audio

DEFAULT_CALLER_VOICE = "en-us"


def caller_voice(settings: Settings, voice: str = "") -> Callable[[str], bytes]:
    """text -> 8 kHz μ-law of a simulated caller (cached like prompts)."""
    cache = settings.data_dir / "tts-callers"
    return lambda text: caller_audio(text, voice or DEFAULT_CALLER_VOICE, cache_dir=cache)


def audio_hearer(settings: Settings, voice: str = "") -> Hearer:
    """Synthesize each caller line, pass it through the phone path and the server's recognizer."""
    from app.loading import load_language
    from app.voicewiring import phrases_lookup

    grammar, _ = load_language(settings)
    phrases_for = phrases_lookup(grammar)
    asr, _reason = choose_engine(settings.asr, settings.lang, settings.vosk_model_path,
                                 settings.models_dir or default_cache_dir())
    speak = caller_voice(settings, voice)
    recognizer = asr.new_recognizer()

    def hear(text: str, expect: Sequence[str], numbers: bool = False) -> tuple[str, float]:
        recognizer.set_phrases(phrases_for(expect, numbers))
        pcm = pad_silence(ulaw_to_pcm16(speak(text)), 200, 400)
        for frame in frames(pcm, PCM_FRAME_BYTES, pad=b"\x00\x00"):
            recognizer.accept(frame)
        result = recognizer.finish()
        return result.text, result.confidence
    return hear
