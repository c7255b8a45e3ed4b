"""The endpointer: its timing rules over scripted frames, and Silero VAD on real telephone audio."""
from __future__ import annotations

import numpy as np
import pytest

from app.bench.vad import breathing, coughs, speech_bounds
from app.speech.audio import PCM_FRAME_BYTES, active_level_dbfs, add_noise, dbfs, frames, mix_noise, silence_pcm
from app.speech.endpoint import PRE_ROLL_FRAMES, EndpointConfig, Endpointer, EventKind, speech_onset

RNG = np.random.default_rng(7)


class Loud:
    """A stand-in detector for the timing rules: a frame is speech when it is loud."""

    def __call__(self, frame: bytes) -> float:
        return 1.0 if dbfs(frame) > -40 else 0.0

    def reset(self) -> None:
        pass


def timed(config: EndpointConfig, is_complete=None) -> Endpointer:
    return Endpointer(config, is_complete=is_complete, detector=Loud())


def speech(ms: int, dbfs_level: float = -20.0) -> list[bytes]:
    """Noise bursts at speech level, in 20 ms frames."""
    return [add_noise(silence_pcm(20), dbfs_level, seed=int(RNG.integers(1 << 30))) for _ in range(ms // 20)]


def quiet(ms: int) -> list[bytes]:
    return [silence_pcm(20)] * (ms // 20)


def run(ep: Endpointer, chunks) -> list:
    events = []
    for frame in chunks:
        events += ep.feed(frame)
    return events


def test_speech_start_then_end_after_trailing_silence():
    ep = timed(EndpointConfig(silence_ms=600, no_input_s=None))
    events = run(ep, quiet(400) + speech(800) + quiet(1000))
    assert [(e.kind, e.at_ms) for e in events] == [(EventKind.SPEECH_START, 400), (EventKind.END, 1800)]
    assert events[1].reason == "silence" and ep.done


def test_short_clicks_are_not_speech():
    ep = timed(EndpointConfig(no_input_s=None))
    assert run(ep, quiet(200) + speech(40) + quiet(200) + speech(20) + quiet(200)) == []
    assert not ep.in_speech


def test_pauses_inside_an_utterance_do_not_end_it():
    ep = timed(EndpointConfig(silence_ms=600, no_input_s=None))
    events = run(ep, quiet(200) + speech(400) + quiet(400) + speech(400) + quiet(700))
    assert [e.kind for e in events] == [EventKind.SPEECH_START, EventKind.END]
    assert events[1].at_ms == 200 + 1200 + 600
    assert ep.voiced_ms == 800


def test_grammar_aware_early_end():
    ep = timed(EndpointConfig(silence_ms=800, complete_silence_ms=180, no_input_s=None),
               is_complete=lambda text: text in ("agent", "yes"))
    run(ep, quiet(100) + speech(300))
    ep.partial("age")
    assert run(ep, quiet(100)) == []  # not a complete phrase yet: keep listening
    ep.partial("agent")
    events = run(ep, quiet(200))
    assert [(e.kind, e.reason) for e in events] == [(EventKind.END, "complete")]
    assert events[0].at_ms == 100 + 300 + 180  # 180 ms of trailing silence, not 800


def test_incomplete_partial_waits_for_the_full_silence():
    ep = timed(EndpointConfig(silence_ms=600, no_input_s=None), is_complete=lambda t: False)
    run(ep, quiet(100) + speech(300))
    ep.partial("where is my")
    events = run(ep, quiet(1000))
    assert events[0].reason == "silence" and events[0].at_ms == 1000


def test_max_utterance_length():
    ep = timed(EndpointConfig(max_utterance_s=1.0, no_input_s=None))
    events = run(ep, speech(2000))
    assert [(e.kind, e.at_ms) for e in events][0] == (EventKind.SPEECH_START, 0)
    assert [(e.kind, e.reason, e.at_ms) for e in events][-1] == (EventKind.END, "max_length", 1000)


def test_no_input_timeout_and_reset():
    ep = timed(EndpointConfig(no_input_s=1.0))
    events = run(ep, quiet(1500))
    assert [(e.kind, e.at_ms) for e in events] == [(EventKind.NO_INPUT, 1000)]
    assert run(ep, speech(200)) == []  # the turn is over until reset
    ep.reset()
    assert [(e.kind, e.at_ms) for e in run(ep, speech(200))] == [(EventKind.SPEECH_START, 0)]


def test_speech_onset_walks_back_to_the_first_sound_the_detector_missed():
    # digital silence, a weak "it's" (-38 dBFS) the detector did not count, then loud digits
    levels = [-120.0] * 10 + [-38.0] * 6 + [-20.0] * 4
    assert speech_onset(levels, voiced_from=16) == 10 - PRE_ROLL_FRAMES


def test_speech_onset_crosses_the_closure_of_a_stop_consonant():
    # "it's": the vowel, the t's ~40 ms closure, the s the detector noticed
    levels = [-120.0] * 10 + [-21.0, -15.0, -26.0, -67.0, -71.0] + [-38.0] * 4
    assert speech_onset(levels, voiced_from=15) == 10 - PRE_ROLL_FRAMES


def test_speech_onset_on_a_noisy_line_stops_at_the_noise():
    levels = [-42.0, -45.0, -43.0, -44.0, -41.0, -28.0, -25.0, -20.0, -18.0]
    assert speech_onset(levels, voiced_from=7) == 5 - PRE_ROLL_FRAMES


def test_speech_onset_keeps_what_there_is():
    assert speech_onset([], 0) == 0
    assert speech_onset([-20.0, -20.0], voiced_from=1) == 0      # the caller talked over the prompt


def test_quiet_frames_below_the_absolute_minimum_are_never_speech():
    ep = Endpointer(EndpointConfig(no_input_s=None, min_speech_dbfs=-30), detector=Loud())
    assert run(ep, quiet(100) + speech(500, dbfs_level=-35)) == []


# Silero VAD (the shipped detector) on speech through the phone path, in line noise.

LEAD_MS, TRAIL_MS = 1000, 3000
LINES = [("I want to check on my order", "en-us"), ("four eight two one seven", "en-gb"),
         ("let me talk to a real person", "en-us+f3"), ("yes", "en-us+m3")]


def turn(pcm: bytes) -> list:
    ep = Endpointer(EndpointConfig(silence_ms=600, no_input_s=None))
    return run(ep, frames(pcm, PCM_FRAME_BYTES))


@pytest.mark.parametrize("colour,snr", [(None, None), ("white", 15), ("pink", 15)])
def test_turn_ends_soon_after_the_last_word(say, colour, snr):
    delays = []
    for seed, (text, voice) in enumerate(LINES):
        clean = say(text, voice=voice, lead_ms=0, trail_ms=0)
        start_ms, end_ms = speech_bounds(clean)
        line = silence_pcm(LEAD_MS) + clean + silence_pcm(TRAIL_MS)
        if colour:
            line = mix_noise(line, snr, colour, seed, speech_dbfs=active_level_dbfs(clean))
        events = turn(line)
        assert [e.kind for e in events] == [EventKind.SPEECH_START, EventKind.END], (text, events)
        assert events[0].at_ms >= LEAD_MS + start_ms - 100  # not started by the noise before it
        assert events[1].reason == "silence" and events[1].at_ms > LEAD_MS + end_ms
        delays.append((events[1].at_ms - LEAD_MS - end_ms) / 1000)
    # 600 ms of trailing silence is the floor; the detector's own lag in noise comes on top.
    assert np.median(delays) <= (0.75 if colour is None else 1.0), delays


@pytest.mark.parametrize("colour,snr", [("white", 10), ("pink", 10)])
def test_line_noise_alone_is_not_speech(colour, snr):
    assert turn(mix_noise(silence_pcm(8000), snr, colour, seed=3, speech_dbfs=-20)) == []


@pytest.mark.parametrize("sound", [breathing, coughs], ids=["breathing", "cough"])
def test_breathing_and_coughs_are_not_speech(sound):
    assert turn(sound(-14.0, seed=11)) == []  # 6 dB louder than a typical caller's speech
    assert turn(mix_noise(sound(-20.0, seed=12), 20, "pink", 13, speech_dbfs=-20)) == []
