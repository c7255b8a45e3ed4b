"""Telephone audio helpers: μ-law, framing, levels, resampling, WAV and noise."""
from __future__ import annotations

import numpy as np
import pytest

from app.speech import audio


def tone(freq: float, ms: int, rate: int = 8000, dbfs: float = -10.0) -> bytes:
    t = np.arange(rate * ms // 1000) / rate
    amp = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)
    return (amp * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def test_ulaw_round_trip_is_close():
    pcm = tone(440, 100)
    back = audio.ulaw_to_pcm16(audio.pcm16_to_ulaw(pcm))
    assert len(back) == len(pcm) and len(audio.pcm16_to_ulaw(pcm)) == len(pcm) // 2
    err = np.abs(np.frombuffer(back, "<i2").astype(int) - np.frombuffer(pcm, "<i2"))
    assert err.max() < 1100  # μ-law keeps ~14 bits near zero, coarser when loud


def test_frames_pad_or_drop_the_tail():
    data = bytes(range(200))
    assert [len(f) for f in audio.frames(data, 160)] == [160]
    padded = list(audio.frames(data, 160, pad=b"\xff"))
    assert len(padded) == 2 and padded[1].endswith(b"\xff" * 120)
    assert audio.ULAW_FRAME_BYTES == 160 and audio.PCM_FRAME_BYTES == 320


def test_levels():
    assert audio.dbfs(audio.silence_pcm(20)) == audio.SILENCE_DBFS
    assert audio.dbfs(tone(1000, 20, dbfs=-20)) == pytest.approx(-20, abs=0.3)
    assert audio.rms(b"") == 0
    assert audio.silence_ulaw(20) == b"\xff" * 160
    assert audio.ulaw_to_pcm16(audio.silence_ulaw(20)) == audio.silence_pcm(20)


def test_streaming_resampler_matches_one_shot():
    pcm = tone(300, 400)
    whole = audio.Resampler(8000, 16000)(pcm)
    chunked = audio.Resampler(8000, 16000)
    pieces = b"".join(chunked(f) for f in audio.frames(pcm, 320))
    assert pieces == whole and abs(len(whole) - 2 * len(pcm)) <= 4
    assert audio.Resampler(8000, 8000)(pcm) is pcm


def test_band_limited_resample_removes_what_a_phone_cannot_carry():
    high = tone(5000, 200, rate=22050, dbfs=-6)  # above the 4 kHz telephone band
    low = tone(1000, 200, rate=22050, dbfs=-6)
    assert audio.dbfs(audio.resample(high, 22050, 8000)) < -60
    out = audio.resample(low, 22050, 8000)
    assert len(out) == 2 * 1600 and audio.dbfs(out) == pytest.approx(-6, abs=0.5)


def test_to_telephone_and_wav_round_trip(tmp_path):
    pcm = tone(700, 500, rate=16000)
    path = tmp_path / "x.wav"
    audio.write_wav(path, pcm, 16000)
    read, rate = audio.read_wav(path)
    assert (read, rate) == (pcm, 16000)
    assert audio.read_wav(path.read_bytes()) == (pcm, 16000)
    ulaw = audio.to_telephone(read, rate)
    assert len(ulaw) == 4000 and audio.duration_s(audio.ulaw_to_pcm16(ulaw)) == 0.5


def test_add_noise_sets_the_level():
    noisy = audio.add_noise(audio.silence_pcm(1000), -40.0, seed=1)
    assert audio.dbfs(noisy) == pytest.approx(-40, abs=0.5)
    assert audio.add_noise(audio.silence_pcm(100), -40.0, seed=1) == audio.add_noise(audio.silence_pcm(100), -40.0, seed=1)
    assert len(audio.pad_silence(b"\x01\x00", 10, 20)) == 2 + 2 * 240


def test_mix_noise_sets_the_snr_against_the_speech_level():
    # A tone burst with silence around it: the SNR is against the burst, not the whole clip.
    t = np.arange(4000) / audio.RATE
    tone = audio._to_int16(3000 * np.sin(2 * np.pi * 440 * t))
    clip = audio.silence_pcm(1000) + tone + audio.silence_pcm(1000)
    speech = audio.active_level_dbfs(clip)
    assert abs(speech - audio.dbfs(tone)) < 0.2
    for colour in ("white", "pink"):
        noisy = audio.mix_noise(clip, 15, colour, seed=1)
        noise_only = noisy[: 2 * audio.RATE]          # the leading second: noise alone
        assert abs(speech - audio.dbfs(noise_only) - 15) < 0.5, colour
    quiet = audio.mix_noise(audio.silence_pcm(1000), 10, "pink", seed=2, speech_dbfs=-20)
    assert abs(audio.dbfs(quiet) + 30) < 0.5


def test_pink_noise_has_more_low_than_high_frequencies():
    noise = audio.line_noise(8000, -30, "pink", seed=3)
    spectrum = np.abs(np.fft.rfft(noise)) ** 2
    assert spectrum[50:500].mean() > 10 * spectrum[2500:3500].mean()
