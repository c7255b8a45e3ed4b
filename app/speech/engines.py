"""Choosing the speech engine at start-up: Vosk when a model is found, else PocketSphinx English."""
from __future__ import annotations

import threading
from pathlib import Path

from app.speech.models import installed_path, is_model_dir
from app.speech.recognizer import Engine, EngineError

_engines: dict[tuple[str, str, str], Engine] = {}
_lock = threading.Lock()


def choose_engine(asr: str, lang: str, vosk_model_path: Path | None, cache_dir: Path) -> tuple[Engine, str]:
    """The engine for these settings and a one-line reason to print at start-up.

    auto: Vosk when a model for the language is found (VOSK_MODEL_PATH, else the model cache),
    else the bundled PocketSphinx English model; other languages without a Vosk model fail."""
    if asr not in ("auto", "vosk", "pocketsphinx"):
        raise EngineError(f"unknown ASR engine {asr!r} (expected auto, vosk or pocketsphinx)")
    if asr == "pocketsphinx":
        _require_english(lang, "PocketSphinx only has a bundled English model")
        return _pocketsphinx(), "ASR: pocketsphinx (bundled English model, as IVR_ASR asks)"
    found = _find_vosk_model(lang, vosk_model_path, cache_dir)
    if found is not None:
        path, origin = found
        return _vosk(path, lang), f"ASR: vosk (model {path}, from {origin})"
    hint = f"Run `ivr models download {_download_name(lang)}` or set VOSK_MODEL_PATH"
    if asr == "vosk":
        raise EngineError(f"IVR_ASR=vosk but no Vosk model for {lang} was found. {hint}")
    _require_english(lang, f"no Vosk model for {lang} was found and PocketSphinx only speaks English. {hint}")
    return _pocketsphinx(), (f"ASR: pocketsphinx (WARNING: no Vosk model for {lang} found; using the bundled "
                             f"PocketSphinx English model. Run `ivr models download en-us` for better accuracy)")


def _find_vosk_model(lang: str, vosk_model_path: Path | None, cache_dir: Path) -> tuple[Path, str] | None:
    if vosk_model_path is not None:
        if not is_model_dir(Path(vosk_model_path)):
            raise EngineError(f"VOSK_MODEL_PATH={vosk_model_path} is not a Vosk model directory "
                              "(expected am/ and conf/ inside)")
        return Path(vosk_model_path), "VOSK_MODEL_PATH"
    cached = installed_path(lang, cache_dir)
    return (cached, f"the model cache {cache_dir}") if cached else None


def _require_english(lang: str, message: str) -> None:
    if not lang.lower().startswith("en"):
        raise EngineError(message)


def _download_name(lang: str) -> str:
    return "en-us" if lang.lower() in ("en", "en-us") else lang


def _vosk(path: Path, lang: str) -> Engine:
    from app.speech.vosk import VoskEngine  # imported here: loading vosk costs start-up time
    return _shared(("vosk", str(Path(path).resolve()), lang), lambda: VoskEngine(path, lang))


def _pocketsphinx() -> Engine:
    from app.speech.pocketsphinx import PocketSphinxEngine
    return _shared(("pocketsphinx", "", ""), PocketSphinxEngine)


def _shared(key: tuple[str, str, str], build) -> Engine:
    """One engine per process and configuration: create_app may run many times (tests, workers)."""
    with _lock:
        if key not in _engines:
            _engines[key] = build()
        return _engines[key]
