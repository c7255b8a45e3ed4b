"""`ivr speech-eval`'s short fixed subset, with floors: the build fails when hearing gets worse.

Real human recordings (../shared/speech: AN4 digit strings and yes/no) and synthesized escape
phrases go through the live call path (in-process phone line, endpointer, PocketSphinx with the
state's grammar, matcher, dialog). Floors sit below the figures measured on the full sets
(docs/benchmarks.md), so a regression fails the build without flaking on one recording.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.sim.local import local_services
from app.speecheval.items import STATES, read_set
from app.speecheval.report import figures
from app.speecheval.runner import run_items
from app.speecheval.synth import Line, write_set
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "speech"
ESCAPES = ("operator", "representative", "customer service", "i want to speak to a real person")
VOICES = (("en-us", 160, None), ("en-gb", 150, None), ("en-us+f3", 170, 60))


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    settings = Settings(twilio_auth_token="t", data_dir=tmp_path_factory.mktemp("var"), transport="stream")
    with local_services(settings, audio=True) as built:
        yield built


def _first(items, set_name, count):
    return [i for i in items if i.set_name == set_name][:count]


def test_real_order_numbers_are_heard_or_read_back_and_never_acted_on_wrong(services):
    items = _first(read_set(SHARED / "an4"), "an4-numbers", 12)
    result = figures("numbers", run_items(services, items))
    assert result.count == 12
    assert result.number_right >= 0.66, result.as_dict()
    assert result.wrong_acted == 0.0, result.as_dict()


def test_real_yes_and_no_at_the_yes_no_question(services):
    items = _first(read_set(SHARED / "an4"), "an4-yes-no", 12)
    result = figures("yes/no", run_items(services, items))
    assert result.intent_accuracy >= 0.83, result.as_dict()
    assert result.no_input_rate == 0.0


def test_escapes_reach_a_person_in_every_state_in_three_voices(services, tmp_path):
    lines = [Line(text, STATES[i % len(STATES)], "agent", {}) for i, text in enumerate(ESCAPES)]
    write_set(tmp_path / "escapes", lines, VOICES)
    outcomes = run_items(services, read_set(tmp_path / "escapes"))
    assert len(outcomes) == len(ESCAPES) * len(VOICES)
    missed = [(o.item.text, o.item.state, o.item.path.name, o.intent) for o in outcomes if not o.intent_right]
    # The target is every one (issue 10); the bundled 16 kHz model loses sibilants on 8 kHz
    # audio, so synthetic "customer service" and "operator" are often not heard. The floor
    # keeps what was measured from getting worse (a miss is mostly a no-match; some were forced
    # onto another listed phrase, which issue 10's closing note lists as work left).
    assert len(missed) <= 2 * len(outcomes) // 3, missed


NOISY_LINES = (("where is my order", "menu", "order_status"), ("what are your hours", "menu", "store_hours"),
               ("yes", "offer_order", "yes"), ("no", "offer_order", "no"))


def test_a_noisy_line_is_heard_and_answered_within_a_second(services, tmp_path):
    # Steady white line noise at 15 dB SNR before, under and after the words. The noise was
    # once "speech-level" to the check for speech the grammar explained as silence, and 90 % of
    # noisy turns became no-matches (docs/benchmarks.md).
    lines = [Line(text, state, intent, {}) for text, state, intent in NOISY_LINES]
    write_set(tmp_path / "noisy", lines, VOICES, snrs=(15,))
    items = [i for i in read_set(tmp_path / "noisy") if i.condition == "snr15"]
    outcomes = run_items(services, items)
    result = figures("noisy", outcomes)
    assert result.count == len(NOISY_LINES) * len(VOICES) and result.no_input_rate == 0.0
    assert result.intent_accuracy >= 0.5, [(o.item.text, o.item.path.name, o.intent) for o in outcomes]
    latencies = sorted(o.latency_ms for o in outcomes if o.latency_ms is not None)
    assert latencies[len(latencies) // 2] < 1000, latencies
