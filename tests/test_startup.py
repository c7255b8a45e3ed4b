"""Start-up refusals an operator meets first: one line on stderr naming the setting, exit 2."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def start(env: dict[str, str], tmp_path: Path, bind: str | None = None) -> subprocess.CompletedProcess:
    """The Procfile's command (gunicorn) when `bind` is given, else the WSGI module alone."""
    full = {"PATH": f"{BIN}:/usr/bin:/bin", "TWILIO_AUTH_TOKEN": "x", "IVR_TRANSPORT": "keypad",
            "IVR_DATA_DIR": str(tmp_path / "var"), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.db'}", **env}
    (tmp_path / "prom").mkdir(exist_ok=True)
    command = ([str(BIN / "gunicorn"), "--config", "app/gunicorn_conf.py", "--bind", bind, "app.wsgi:app"]
               if bind else [sys.executable, "-c", "import app.wsgi"])
    return subprocess.run(command, env=full, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_a_busy_port_stops_the_server_before_it_says_ready(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        bind = f"127.0.0.1:{other.getsockname()[1]}"
        done = start({}, tmp_path, bind=bind)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ivr: cannot start: PORT: {bind} is already in use by another program; stop it or set PORT to a free port"]


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    port = free_port()
    done = start({"DATABASE_URL": f"postgresql://ivr:secret@127.0.0.1:{port}/ivr"}, tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"ivr: cannot start: DATABASE_URL: cannot use postgresql+psycopg://ivr:***@127.0.0.1:{port}/ivr: ")
    assert "refused" in line and "secret" not in line


def test_an_unreachable_redis_is_one_line(tmp_path: Path) -> None:
    port = free_port()
    done = start({"REDIS_URL": f"redis://127.0.0.1:{port}/0"}, tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"ivr: cannot start: REDIS_URL: cannot reach redis at 127.0.0.1:{port}: ")


@pytest.mark.parametrize("env,line", [
    ({"IVR_ENDPOINT_SILENCE_MS": "abc"},
     "ivr: cannot start: IVR_ENDPOINT_SILENCE_MS: expected a positive whole number, got 'abc'"),
    ({"IVR_TRASNPORT": "stream"}, "ivr: cannot start: IVR_TRASNPORT: unknown setting; did you mean IVR_TRANSPORT?"),
    ({"DATABASE_URL": "nonsense://x"},
     "ivr: cannot start: DATABASE_URL: expected sqlite:///path or postgresql://..., got 'nonsense://x'"),
])
def test_malformed_settings_are_one_line(env: dict[str, str], line: str, tmp_path: Path) -> None:
    done = start(env, tmp_path)
    assert (done.returncode, done.stderr.strip().splitlines()) == (2, [line])


def messages(stderr: str) -> list[str]:
    return [json.loads(line)["msg"] for line in stderr.splitlines()]


@pytest.mark.parametrize("path,espeak", [(f"{BIN}:/usr/bin:/bin", True), ("/nonexistent", False)])
def test_a_streaming_start_says_each_thing_once(tmp_path: Path, path: str, espeak: bool) -> None:
    done = start({"IVR_TRANSPORT": "stream", "IVR_ASR": "pocketsphinx", "PATH": path}, tmp_path)
    assert done.returncode == 0, done.stderr
    said = messages(done.stderr)
    assert said[0] == "ASR: pocketsphinx (bundled English model, as IVR_ASR asks)"
    assert said[-1] == "IVR ready: transport=stream lang=en asr=pocketsphinx"
    missing = ("espeak-ng not found: prompts are synthesized with pyttsx3 instead "
               "(install the espeak-ng package for the tested voice)")
    assert said[1:-1] == ([] if espeak else [missing])
