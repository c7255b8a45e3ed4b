"""The endpointer as a pure state machine over synthetic 20 ms frames."""
from __future__ import annotations

import numpy as np

from app.speech.audio import add_noise, silence_pcm
from app.speech.endpoint import EndpointConfig, Endpointer, EventKind

RNG = np.random.default_rng(7)


def speech(ms: int, dbfs: float = -20.0) -> list[bytes]:
    """Noise bursts at speech level, in 20 ms frames."""
    return [add_noise(silence_pcm(20), dbfs, seed=int(RNG.integers(1 << 30))) for _ in range(ms // 20)]


def quiet(ms: int, noise_dbfs: float | None = None) -> list[bytes]:
    if noise_dbfs is None:
        return [silence_pcm(20)] * (ms // 20)
    return [add_noise(silence_pcm(20), noise_dbfs, seed=int(RNG.integers(1 << 30))) for _ in range(ms // 20)]


def run(ep: Endpointer, frames: list[bytes]):
    events = []
    for frame in frames:
        events += ep.feed(frame)
    return events


def test_speech_start_then_end_after_trailing_silence():
    ep = Endpointer(EndpointConfig(silence_ms=600, no_input_s=None))
    events = run(ep, quiet(400) + speech(800) + quiet(1000))
    assert [(e.kind, e.at_ms) for e in events] == [(EventKind.SPEECH_START, 400), (EventKind.END, 1800)]
    assert events[1].reason == "silence" and ep.done


def test_short_clicks_are_not_speech():
    ep = Endpointer(EndpointConfig(no_input_s=None))
    assert run(ep, quiet(200) + speech(40) + quiet(200) + speech(20) + quiet(200)) == []
    assert not ep.in_speech


def test_pauses_inside_an_utterance_do_not_end_it():
    ep = Endpointer(EndpointConfig(silence_ms=600, no_input_s=None))
    events = run(ep, quiet(200) + speech(400) + quiet(400) + speech(400) + quiet(700))
    assert [e.kind for e in events] == [EventKind.SPEECH_START, EventKind.END]
    assert events[1].at_ms == 200 + 1200 + 600


def test_grammar_aware_early_end():
    ep = Endpointer(EndpointConfig(silence_ms=800, complete_silence_ms=180, no_input_s=None),
                    is_complete=lambda text: text in ("agent", "yes"))
    run(ep, quiet(100) + speech(300))
    ep.partial("age")
    assert run(ep, quiet(100)) == []  # not a complete phrase yet: keep listening
    ep.partial("agent")
    events = run(ep, quiet(200))
    assert [(e.kind, e.reason) for e in events] == [(EventKind.END, "complete")]
    assert events[0].at_ms == 100 + 300 + 180  # 180 ms of trailing silence, not 800


def test_incomplete_partial_waits_for_the_full_silence():
    ep = Endpointer(EndpointConfig(silence_ms=600, no_input_s=None), is_complete=lambda t: False)
    run(ep, quiet(100) + speech(300))
    ep.partial("where is my")
    events = run(ep, quiet(1000))
    assert events[0].reason == "silence" and events[0].at_ms == 1000


def test_max_utterance_length():
    ep = Endpointer(EndpointConfig(max_utterance_s=1.0, no_input_s=None), noise_floor=-70.0)
    events = run(ep, speech(2000))  # a known floor: no warm-up, speech from the first frame
    assert [(e.kind, e.at_ms) for e in events][0] == (EventKind.SPEECH_START, 0)
    assert [(e.kind, e.reason, e.at_ms) for e in events][-1] == (EventKind.END, "max_length", 1000)


def test_no_input_timeout_and_reset():
    ep = Endpointer(EndpointConfig(no_input_s=1.0))
    events = run(ep, quiet(1500))
    assert [(e.kind, e.at_ms) for e in events] == [(EventKind.NO_INPUT, 1000)]
    assert run(ep, speech(200)) == []  # the turn is over until reset
    ep.reset()  # no second warm-up: speech right away is heard
    assert [(e.kind, e.at_ms) for e in run(ep, speech(200))] == [(EventKind.SPEECH_START, 0)]


def test_adaptive_noise_floor_on_a_noisy_line():
    ep = Endpointer(EndpointConfig(silence_ms=500, no_input_s=None))
    # -38 dBFS of steady line noise is above the absolute minimum, but it is not speech.
    assert run(ep, quiet(1500, noise_dbfs=-38)) == []
    assert ep.noise_floor > -45
    events = run(ep, speech(600, dbfs=-18) + quiet(800, noise_dbfs=-38))
    assert [e.kind for e in events] == [EventKind.SPEECH_START, EventKind.END]
    floor = ep.noise_floor
    ep.reset()
    assert ep.noise_floor == floor  # the line does not change between turns


def test_quiet_speech_below_the_absolute_minimum_is_ignored():
    ep = Endpointer(EndpointConfig(no_input_s=None))
    assert run(ep, quiet(100) + speech(500, dbfs=-55)) == []


def test_speech_during_warm_up_is_heard_at_the_first_pause():
    ep = Endpointer(EndpointConfig(silence_ms=500, no_input_s=None))
    events = run(ep, speech(300) + quiet(200) + speech(400) + quiet(600))
    assert [(e.kind, e.at_ms) for e in events][0] == (EventKind.SPEECH_START, 500)
