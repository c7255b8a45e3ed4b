"""/metrics: scraped after scripted calls and parsed with prometheus-client's own parser;
multi-process mode adds up workers, in separate processes and under a real gunicorn."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.sim.local import local_driver
from app.sim.runner import run_script
from tests.callrun import demo_settings, script
from tests.conftest import ROOT, TODAY
from tests.servers import free_port, spawn_gunicorn, wait_healthy
from app.bench.procstat import with_children
from app.telephony.security import SignatureChecker

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(text: str) -> Samples:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def play(app: Flask, *calls: str | dict) -> None:
    services = app.extensions["ivr"]
    for source in calls:
        played = script(source)
        assert run_script(played, local_driver(services, played)).passed


@pytest.fixture
def metrics_app(tmp_path: Path) -> Flask:
    return create_app(demo_settings(f"sqlite:///{tmp_path}/ivr.db"), today=lambda: TODAY)


def test_metrics_count_what_the_calls_did(metrics_app: Flask) -> None:
    play(metrics_app, "store_hours.yaml", "no_match_twice.yaml", "no_input_twice.yaml", "voicemail.yaml",
         "order_status_then_person.yaml")
    response = metrics_app.test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    s = scrape(response.get_data(as_text=True))
    assert value(s, "ivr_calls_started_total") == 5
    assert value(s, "ivr_calls_ended_total", outcome="resolved") == 1
    assert value(s, "ivr_calls_ended_total", outcome="transferred") == 3      # bridged to an agent
    assert value(s, "ivr_calls_ended_total", outcome="voicemail") == 1
    # hand-offs, including the one nobody answered before the voicemail
    assert value(s, "ivr_transfers_total", reason="asked for a person") == 2
    assert value(s, "ivr_transfers_total", reason="not understood twice") == 1
    assert value(s, "ivr_transfers_total", reason="silent twice") == 1
    assert value(s, "ivr_no_match_total", node="menu") == 2
    assert value(s, "ivr_no_input_total", node="menu") == 2
    assert value(s, "ivr_no_input_total", node="anything_else") == 1
    assert value(s, "ivr_turns_total", intent="store_hours") == 2
    assert value(s, "ivr_turns_total", intent="keypad") == 1
    assert value(s, "ivr_callbacks_requested_total") == 1
    steps = value(s, "ivr_turn_processing_seconds_count")
    assert steps >= 5 + 14 and value(s, "ivr_turn_processing_seconds_bucket", le="+Inf") == steps


def test_recognizer_latency_lands_in_its_histogram(metrics_app: Flask) -> None:
    engine = metrics_app.extensions["ivr"].engine
    engine.start("CAasr", "+15550123")
    engine.hear("CAasr", "what are your hours", 0.9, asr_latency_ms=420.0)
    s = scrape(metrics_app.test_client().get("/metrics").get_data(as_text=True))
    assert value(s, "ivr_asr_latency_seconds_count") == 1
    assert value(s, "ivr_asr_latency_seconds_sum") == pytest.approx(0.42)
    assert value(s, "ivr_asr_latency_seconds_bucket", le="0.5") == 1
    assert value(s, "ivr_asr_latency_seconds_bucket", le="0.25") == 0


def test_each_app_counts_its_own_calls(tmp_path: Path) -> None:
    first = create_app(demo_settings(f"sqlite:///{tmp_path}/a.db"), today=lambda: TODAY)
    second = create_app(demo_settings(f"sqlite:///{tmp_path}/b.db"), today=lambda: TODAY)
    play(first, "store_hours.yaml")
    assert value(scrape(second.test_client().get("/metrics").get_data(as_text=True)), "ivr_calls_started_total") == 0


def test_metrics_need_no_twilio_signature(metrics_app: Flask) -> None:
    assert metrics_app.test_client().get("/metrics").status_code == 200


CHILD = """
import sys
sys.path.insert(0, {root!r})
from app import create_app
from tests.callrun import demo_settings
from tests.web.test_metrics import play
app = create_app(demo_settings(sys.argv[1]))
play(app, "store_hours.yaml")
"""


def test_multiprocess_mode_adds_up_every_process(tmp_path: Path, metrics_app: Flask,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    for n in range(2):   # two worker processes, one call each
        subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), f"sqlite:///{tmp_path}/w{n}.db"],
                       env=env, check=True, cwd=ROOT, timeout=120)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    s = scrape(metrics_app.test_client().get("/metrics").get_data(as_text=True))
    assert value(s, "ivr_calls_started_total") == 2
    assert value(s, "ivr_calls_ended_total", outcome="resolved") == 2


def test_gunicorn_config_starts_clean_and_marks_dead_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    import importlib
    conf = importlib.import_module("app.gunicorn_conf")   # the config creates the directory
    directory = conf.fresh_metrics_dir()
    assert directory == tmp_path / "prometheus" and directory.is_dir()
    (directory / "counter_1.db").write_bytes(b"left by an earlier run")
    assert conf.fresh_metrics_dir() and list(directory.iterdir()) == []
    (directory / "gauge_livesum_4242.db").write_bytes(b"")
    (directory / "counter_4242.db").write_bytes(b"")
    conf.child_exit(None, type("Worker", (), {"pid": 4242})())
    assert not (directory / "gauge_livesum_4242.db").exists()
    assert (directory / "counter_4242.db").exists()      # counts of a finished worker stay counted


def test_gunicorn_workers_report_together_even_after_a_worker_dies(tmp_path: Path) -> None:
    port, token = free_port(), "gunicorn-token"
    settings = demo_settings(f"sqlite:///{tmp_path}/ivr.db")
    env = {**os.environ, "TWILIO_AUTH_TOKEN": token, "PUBLIC_URL": f"http://127.0.0.1:{port}",
           "DATABASE_URL": settings.database_url, "IVR_TRANSPORT": "keypad",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"), "WEB_CONCURRENCY": "2"}
    log = tmp_path / "gunicorn.log"
    proc = spawn_gunicorn(port, env, log)
    base, signer = f"http://127.0.0.1:{port}", SignatureChecker(token, f"http://127.0.0.1:{port}")
    try:
        wait_healthy(base, proc, log, timeout_s=60)
        _transfer_calls(base, signer, "CAa", 4)
        for pid in with_children(proc.pid)[1:]:   # every worker that served them dies; new ones take over
            os.kill(pid, signal.SIGTERM)
        wait_healthy(base, proc, log, also=lambda: len(with_children(proc.pid)) == 3, timeout_s=60)
        _transfer_calls(base, signer, "CAb", 3)
        s = scrape(requests.get(base + "/metrics", timeout=10).text)
        assert value(s, "ivr_calls_started_total") == 7
        assert value(s, "ivr_transfers_total", reason="asked for a person") == 7
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _transfer_calls(base: str, signer: SignatureChecker, prefix: str, count: int) -> None:
    for n in range(count):
        for path, form in (("/voice/incoming", {"CallSid": f"{prefix}{n}", "From": "+15550123", "To": "+1555"}),
                           ("/voice/gather", {"CallSid": f"{prefix}{n}", "Digits": "0"})):
            response = requests.post(base + path, data=form, timeout=10,
                                     headers={"X-Twilio-Signature": signer.sign(path, form)})
            assert response.status_code == 200, response.text
