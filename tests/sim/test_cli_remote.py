"""`ivr sim --url` as an operator runs it (a subprocess), against a real gunicorn server."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import TOKEN, _env
from tests.servers import BIN, free_port, spawn_gunicorn, wait_healthy

CALLS = ROOT / "tests" / "calls"
# voicemail.yaml with keys where it says "agent" and "yes": what is under test here is the
# simulator (timing, REST, tokens), not how the recognizer hears two short words.
VOICEMAIL = """name: keys to a voicemail
agent: no-answer
steps:
  - press: "0"
  - expect_say: "no one is available"
  - press: "1"
  - expect_say: "after the tone"
  - say: "please call me back about my jacket"
  - expect_say: "message is saved"
  - expect_hangup: true
  - expect_outcome: voicemail
"""


@dataclass(frozen=True)
class Served:
    url: str
    api_port: int        # where the server's TWILIO_API_BASE points: the simulator listens there


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("simcli")
    port, api_port = free_port(), free_port()
    env = _env(tmp, f"http://127.0.0.1:{port}", api_port)
    subprocess.run([str(BIN / "ivr"), "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    proc = spawn_gunicorn(port, env, tmp / "server.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, tmp / "server.log")
        yield Served(url, api_port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def ivr_sim(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`ivr sim` with a clean environment (no TWILIO_AUTH_TOKEN unless given)."""
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run([str(BIN / "ivr"), "sim", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=240)


def dev_token(tmp_path: Path, token: str = TOKEN) -> Path:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "dev-token").write_text(token + "\n")
    (tmp_path / "voicemail.yaml").write_text(VOICEMAIL)
    return tmp_path


def test_the_local_token_signs_and_voice_turns_report_their_latency(served: Served, tmp_path: Path) -> None:
    done = ivr_sim(dev_token(tmp_path), "--url", served.url, "--script", "voicemail.yaml",
                   "--fast", "--json", env={"SIM_API_PORT": str(served.api_port)})
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert (result["passed"], result["outcome"]) == (True, "voicemail")
    [spoken] = [turn["latency_ms"] for turn in result["turns"] if turn["caller"].startswith("please")]
    assert spoken > 2500 / 8       # the server waits for 2.5 s of silence (at --fast's 8x) after a message
    assert all(turn["latency_ms"] is None for turn in result["turns"] if turn["caller"].startswith("["))
    assert done.stderr == ""       # neither the stand-in's access log nor anything else


def test_the_voicemail_call_passes_every_time_at_fast_speed(served: Served, tmp_path: Path) -> None:
    dev_token(tmp_path)
    for _ in range(3):
        done = ivr_sim(tmp_path, "--url", served.url, "--script", "voicemail.yaml", "--fast",
                       "--api-port", str(served.api_port))
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_token_is_one_line(served: Served, tmp_path: Path) -> None:
    done = ivr_sim(dev_token(tmp_path, "not-the-token"), "--url", served.url, "--script",
                   str(CALLS / "voicemail.yaml"), "--api-port", str(served.api_port))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: {served.url}/voice/incoming refused the simulator's signature (403): the simulator signs "
        "with TWILIO_AUTH_TOKEN (else var/dev-token) and --url; they must be the server's TWILIO_AUTH_TOKEN "
        "and PUBLIC_URL"]


def test_no_server_at_the_url_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = ivr_sim(dev_token(tmp_path), "--url", url, "--script", str(CALLS / "voicemail.yaml"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: no server answers at {url} (connection refused); start one with `make run`, or correct --url"]


def test_a_busy_api_port_is_one_line(served: Served, tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = ivr_sim(dev_token(tmp_path), "--url", served.url, "--script", str(CALLS / "voicemail.yaml"),
                       "--api-port", str(port))
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"Error: --api-port {port}: cannot listen there (Address already in use); "
                           "another simulator or program holds it.")


def test_rest_calls_that_miss_the_simulator_are_named(served: Served, tmp_path: Path) -> None:
    elsewhere = free_port()
    done = ivr_sim(dev_token(tmp_path), "--url", served.url, "--script",
                   str(CALLS / "order_status_then_person.yaml"), "--fast", "--json",
                   env={"TWILIO_API_BASE": f"http://127.0.0.1:{elsewhere}"})
    assert done.returncode == 1
    failures = json.loads(done.stdout)["failures"]
    assert failures[-1] == (f"no REST call from the server reached the simulator's stand-in API on port "
                            f"{elsewhere}; if the server should have moved or ended the call, start it with "
                            f"TWILIO_API_BASE=http://127.0.0.1:{elsewhere} (`make run SIM_API_PORT={elsewhere}`) "
                            "or give --api-port its port")


def test_an_in_process_call_ends_without_false_storage_or_recognizer_lines(tmp_path: Path) -> None:
    done = ivr_sim(tmp_path, "--script", str(CALLS / "voicemail.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
