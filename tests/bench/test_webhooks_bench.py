"""`ivr bench webhooks` against the real server: it counts what happened, and what it cost."""
from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from app.bench.procstat import cpu_seconds, memory_kib, pids_listening_on
from app.bench.traffic import call_sid, signed_call
from app.bench.webhooks import Result, bench, render
from app.bench import load
from app.bench.load import Plan, Tally, play_calls
from app.cli import main
from app.telephony.security import SignatureChecker
from tests.faults.servers import TOKEN, Gunicorn, start_gunicorn, stop_gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """gunicorn with the project's config, 2 workers, over a seeded SQLite file."""
    workdir = tmp_path_factory.mktemp("bench")
    running = start_gunicorn(workdir, f"sqlite:///{workdir / 'ivr.db'}")
    try:
        yield running
    finally:
        stop_gunicorn(running)


def test_a_short_run_plays_whole_answered_calls_and_measures_the_server(server) -> None:
    result = bench(server.url, server.url, TOKEN, seconds=2, concurrency=2, warmup=0.5)
    assert result.errors == 0 and result.requests >= 5 * result.tally.calls > 0
    assert set(result.tally.statuses) == {200, 204}
    assert result.tally.answered == result.tally.calls           # every call heard its order status
    assert set(result.server.pids) == {server.proc.pid, *server.workers()}
    assert result.server.cpu_s > 0 and all(kib > 0 for kib in result.server.peak_rss_kib.values())
    p = result.percentiles()
    assert 0 < p["p50"] <= p["p95"] <= p["p99"]
    assert "requests/s" in render(result) and "server CPU" in render(result)


def test_a_wrong_token_is_reported_as_errors_with_the_reason(server) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["bench", "webhooks", "--url", server.url, "--seconds", "1", "--warmup", "0",
                               "--concurrency", "1", "--token", "wrong"])
    assert out.exit_code == 1
    assert "403: the server refused the signatures" in out.output


def test_the_signatures_are_twilios() -> None:
    signer = SignatureChecker(TOKEN, "https://ivr.example.test")
    hooks = signed_call(signer, call_sid(1, 2, 3))
    assert [h.path for h in hooks] == ["/voice/incoming"] + ["/voice/gather"] * 4 + ["/voice/status"]
    from twilio.request_validator import RequestValidator
    from urllib.parse import parse_qsl
    for hook in hooks:
        form = dict(parse_qsl(hook.body.decode(), keep_blank_values=True))
        assert RequestValidator(TOKEN).validate("https://ivr.example.test" + hook.path, form, hook.signature)
    assert len(call_sid(1, 2, 3)) == 34


def test_proc_readings_of_this_process() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert pids_listening_on(sock.getsockname()[1]) == [os.getpid()]
    assert cpu_seconds(os.getpid()) > 0
    rss, pss = memory_kib(os.getpid())
    assert rss > 0 and 0 < pss <= rss


def test_percentiles_and_errors_from_a_tally() -> None:
    tally = Tally(statuses={200: 97, 403: 2, 500: 1}, failures={"ConnectionResetError": 3})
    tally.latencies_ms.extend(float(n) for n in range(1, 101))
    result = Result(10.0, 4, "keypad", tally, None)
    assert result.errors == 6
    assert [round(v) for v in result.percentiles().values()] == [50, 95, 99]
    assert "server       not found" in render(result) and "403" in render(result)


class _CountingServer(socketserver.ThreadingTCPServer):
    """Answers every request with the order-status mark; counts the connections it accepted."""

    daemon_threads = True
    allow_reuse_address = True
    accepted = 0


class _Answer(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.server.accepted += 1                        # type: ignore[attr-defined]
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                byte = self.rfile.read(1)
                if not byte:
                    return
                head += byte
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            self.rfile.read(length)
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nshipped")


def _play(connections: int) -> tuple[Tally, int]:
    with _CountingServer(("127.0.0.1", 0), _Answer) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        now = time.time()
        plan = Plan(url, url, TOKEN, start_at=now, stop_at=now + 0.5, run=1, connections=connections)
        tally = play_calls(plan, worker=0)
        server.shutdown()
        return tally, server.accepted


@pytest.fixture
def small_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "PREPARED_CALLS", 20)      # signed before the window: keep it short


def test_kept_connections_carry_call_after_call(small_stock: None) -> None:
    tally, accepted = _play(connections=3)
    assert tally.calls > 6 and not tally.failures
    assert accepted == 3


def test_without_kept_connections_every_call_connects_afresh(small_stock: None) -> None:
    tally, accepted = _play(connections=0)
    assert tally.calls > 3 and not tally.failures
    assert accepted in (tally.calls, tally.calls + 1)     # + a call begun just before the window closed
