"""`ivr bench calls` for real: two streaming calls against gunicorn with the project's config."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from app.bench.caller import Target
from app.bench.callreport import bucket_quantile, percentiles, reply_buckets
from app.bench.calls import BenchError, bench_calls
from app.bench.turns import CallTally, next_move, utterance
from app.cli import main
from app.speech.audio import silence_ulaw
from app.speech.tts import caller_audio
from tests.conftest import ROOT
from tests.servers import BIN, _stop, free_port, spawn_gunicorn, wait_healthy

TOKEN = "calls-bench-token"


@dataclass
class StreamServer:
    """gunicorn serving the stream transport, and the port its TWILIO_API_BASE points at."""

    url: str
    api_port: int
    proc: subprocess.Popen
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamServer]:
    tmp = tmp_path_factory.mktemp("calls-bench")
    port, api_port = free_port(), free_port()
    database = f"sqlite:///{tmp / 'ivr.db'}"
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": f"http://127.0.0.1:{port}",
           "TWILIO_API_BASE": f"http://127.0.0.1:{api_port}", "DATABASE_URL": database,
           "IVR_DATA_DIR": str(tmp / "var"), "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
           "IVR_ASR": "pocketsphinx", "IVR_TRANSPORT": "stream", "WEB_CONCURRENCY": "2"}
    subprocess.run([str(BIN / "ivr"), "seed", "--database-url", database], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    log = tmp / "gunicorn.log"
    running = StreamServer(f"http://127.0.0.1:{port}", api_port, spawn_gunicorn(port, env, log), log)
    try:
        wait_healthy(running.url, running.proc, log)
        yield running
    finally:
        _stop(running.proc)


def test_two_real_time_calls_are_measured_end_to_end(server: StreamServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["bench", "calls", "--url", server.url, "--calls", "2", "--duration", "12", "--warmup", "0",
            "--ramp", "0.5", "--api-port", str(server.api_port), "--token", TOKEN, "--json"]
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))     # the callers' audio cache
    out = CliRunner().invoke(main, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["failed_calls"] == 0 and report["failures"] == {}
    assert report["calls_placed"] == 2 and report["calls_completed"] == 2 and report["engine"] == "pocketsphinx"
    assert report["turns"]["speech"] + report["turns"]["keys"] >= 2      # at least one turn per call
    assert report["greeting_ms"]["p50"] is not None and report["bot_media_messages"] >= 4
    assert report["late_frames"] == 0
    assert report["processing_ms"]["turns"] >= 1                        # the server's own histogram
    assert report["processing_ms"]["p95"] is not None
    assert 0 < report["voice_to_voice_ms"]["p50"] < 2000
    server_use = report["server"]
    assert server_use["pids"][0] == server.proc.pid and len(server_use["workers"]) == 2
    assert server_use["max_worker_pss_mib"] > 0 and server_use["cpu_percent"] > 0
    assert report["generator"]["cpu_percent"] > 0


def test_no_server_or_no_stream_transport_is_said_plainly(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["bench", "calls", "--url", "http://127.0.0.1:9", "--calls", "1",
                                    "--api-port", "9", "--token", "t"])
    assert out.exit_code == 1 and "no server at http://127.0.0.1:9" in out.output
    with pytest.raises(BenchError, match="IVR_TRANSPORT=stream"):
        bench_calls(Target("http://127.0.0.1:9", "http://127.0.0.1:9", "t"), 1, 1.0, 9,
                    {"transport": "keypad"}, cache_dir=tmp_path)


def test_bucket_quantiles_interpolate_like_prometheus() -> None:
    after = ('ivr_voice_reply_seconds_bucket{le="0.01"} 10.0\nivr_voice_reply_seconds_bucket{le="0.1"} 110.0\n'
             'ivr_voice_reply_seconds_bucket{le="+Inf"} 120.0\n')
    before = 'ivr_voice_reply_seconds_bucket{le="0.01"} 10.0\nivr_voice_reply_seconds_bucket{le="+Inf"} 20.0\n'
    buckets = reply_buckets("# TYPE ivr_voice_reply_seconds histogram\n" + after,
                            "# TYPE ivr_voice_reply_seconds histogram\n" + before)
    assert buckets == [(0.01, 0.0), (0.1, 110.0), (float("inf"), 100.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.01 + 0.09 * 50 / 110)
    assert bucket_quantile(0.5, []) is None
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}


def test_the_caller_answers_what_the_bot_asked() -> None:
    requests_ = itertools.cycle(["what are your hours", "where is my order"])
    assert next_move("Thanks for calling. How can I help you today?", requests_) == ("say", "what are your hours")
    assert next_move("Is there anything else I can help with?", requests_) == ("say", "yes")
    assert next_move("Sure, what else can I help with?", requests_) == ("say", "where is my order")
    assert next_move("What's your order number? You can say it, or key it in", requests_) == ("keys", "48217#")


def test_latency_is_timed_from_the_last_voiced_frame(tmp_path: Path) -> None:
    speech = caller_audio("yes", cache_dir=tmp_path)
    padded = utterance(silence_ulaw(400) + speech + silence_ulaw(1000))
    assert padded.last_voiced == utterance(silence_ulaw(400) + speech).last_voiced < len(padded.ulaw) // 160 - 50


def test_tallies_add_up() -> None:
    one, two = CallTally(voice_ms=[1.0], placed=1, max_send_lag_ms=5.0), CallTally(voice_ms=[2.0], placed=1)
    two.fail("no reply within 10 s (say)")
    two.note_slow(900.0, "'yes' -> ''")
    one.merge(two)
    assert one.voice_ms == [1.0, 2.0] and one.placed == 2 and one.failed == 1 and one.max_send_lag_ms == 5.0
    assert one.slowest == [(900.0, "'yes' -> ''")]
