"""Prompt synthesis: pyttsx3 (espeak-ng) to 8 kHz μ-law, the disk cache, caller voices."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import threading

from app.speech import tts
from app.speech.audio import active_level_dbfs, dbfs, duration_s, ulaw_to_pcm16
from app.speech.tts import Synthesizer, caller_audio


def test_render_gives_telephone_audio(tmp_path):
    audio = Synthesizer(tmp_path, voice="en-us", rate=165).render("Your order has shipped.")
    seconds = duration_s(ulaw_to_pcm16(audio))
    assert 0.8 < seconds < 4.0  # μ-law at 8 kHz: one byte per sample
    assert dbfs(ulaw_to_pcm16(audio)) > -40  # it is speech, not silence


def test_second_render_hits_the_cache(tmp_path):
    synth = Synthesizer(tmp_path, voice="en-us", rate=165)
    first = synth.render("Thanks for calling.")
    path = synth.cache_path("Thanks for calling.")
    assert path is not None and path.read_bytes() == first and path.parent == tmp_path
    assert synth.render("Thanks for calling.") == first
    assert (synth.hits, synth.misses) == (1, 1)
    assert Synthesizer(tmp_path, voice="en-us", rate=165).render("Thanks for calling.") == first  # another worker


def test_voice_and_rate_are_part_of_the_key(tmp_path):
    texts = "One moment please."
    us, gb, fast = (Synthesizer(tmp_path, "en-us", 165), Synthesizer(tmp_path, "en-gb", 165),
                    Synthesizer(tmp_path, "en-us", 220))
    paths = {s.cache_path(texts) for s in (us, gb, fast)}
    assert len(paths) == 3
    audio = [s.render(texts) for s in (us, gb, fast)]
    assert audio[0] != audio[1] and len(audio[2]) < len(audio[0])
    assert len(list(tmp_path.glob("*.ulaw"))) == 3 and not list(tmp_path.glob("*.part"))


def test_render_many_and_empty_text(tmp_path):
    synth = Synthesizer(tmp_path)
    assert synth.render("   ") == b""
    out = synth.render_many(["Hello.", "Goodbye."])
    assert len(out) == 2 and all(out) and synth.misses == 2


def test_concurrent_renders_from_handler_threads(tmp_path):
    """Websocket handlers call render() from many threads at once."""
    synth = Synthesizer(tmp_path)
    results: dict[int, bytes] = {}

    def work(i: int) -> None:
        results[i] = synth.render(f"Prompt number {i % 3}.")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 8 and all(results.values())
    assert len(list(tmp_path.glob("*.ulaw"))) == 3


PYTTSX3_RENDER = """
import sys
from pathlib import Path
from app.speech import tts
tts._espeak_exe = lambda: None
sys.stdout.buffer.write(tts.Synthesizer(Path(sys.argv[1]), voice="en-gb", rate=170).render("The fallback works."))
"""


def test_pyttsx3_renders_where_the_command_is_missing(tmp_path):
    # In a process of its own, as a server without espeak-ng is: libespeak inside this test
    # process (which also holds the recognizers' and the VAD's native libraries and many
    # threads) crashed it once in a fresh-clone run.
    done = subprocess.run([sys.executable, "-c", PYTTSX3_RENDER, str(tmp_path)], capture_output=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    audio = done.stdout
    assert 0.5 < duration_s(ulaw_to_pcm16(audio)) < 3.0
    assert dbfs(ulaw_to_pcm16(audio)) > -40


def test_renders_are_deterministic(tmp_path):
    one = Synthesizer(tmp_path / "a", voice="en-us+f3", rate=150).render("Your order has shipped.")
    two = Synthesizer(tmp_path / "b", voice="en-us+f3", rate=150).render("Your order has shipped.")
    assert one == two


def test_caller_voices_differ_and_noise_is_added(tmp_path):
    voices = {v: caller_audio("where is my order", voice=v, cache_dir=tmp_path) for v in tts.CALLER_VOICES}
    assert len(set(voices.values())) == len(voices)
    clean = ulaw_to_pcm16(caller_audio("yes", cache_dir=tmp_path))
    noisy = ulaw_to_pcm16(caller_audio("yes", noise_db=-30, cache_dir=tmp_path))
    assert len(noisy) == len(clean)
    assert dbfs(noisy[-800:]) > -40 > dbfs(clean[-800:])  # the pause after speech is not digital silence now
    at_snr = ulaw_to_pcm16(caller_audio("yes", snr_db=15, noise_colour="pink", cache_dir=tmp_path))
    assert abs(active_level_dbfs(clean) - dbfs(at_snr[-800:]) - 15) < 1.5  # against the speech level
    slow = caller_audio("where is my order", rate=120, cache_dir=tmp_path)
    assert len(slow) > len(voices["en-us"])
    assert caller_audio("안녕하세요", voice="ko", pitch=70, cache_dir=tmp_path)
