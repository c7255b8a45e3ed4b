"""A voicemail over the network, kept (IVR_KEEP_RECORDINGS) and played on the call page behind the login."""
from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path
from typing import Iterator

import pytest
import requests

from app.config import Settings
from app.sim.remote import RemoteDriver
from app.sim.runner import run_script
from app.sim.script import parse_script
from app.sim.twilio_api import serve_fake_api
from tests.conftest import ROOT
from tests.e2e.conftest import TOKEN, _env
from tests.servers import BIN, free_port, spawn_gunicorn, wait_healthy

AGENT = "agent-token-for-voicemail"
MESSAGE = "please call me back about my jacket it came in the wrong size"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings, object]]:
    tmp = tmp_path_factory.mktemp("voicemail")
    api, stop_api = serve_fake_api()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**_env(tmp, url, int(api.base_url.rsplit(":", 1)[1])),
           "IVR_KEEP_RECORDINGS": "true", "IVR_AGENT_TOKEN": AGENT}
    subprocess.run([str(BIN / "ivr"), "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    proc = spawn_gunicorn(port, env, tmp / "server.log")
    try:
        wait_healthy(url, proc, tmp / "server.log")
        yield url, Settings(twilio_auth_token=TOKEN, public_url=url, twilio_api_base=env["TWILIO_API_BASE"],
                            data_dir=tmp / "sim"), api
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        stop_api()


def test_a_kept_voicemail_plays_on_the_call_page(server) -> None:
    url, settings, api = server
    script = parse_script({"agent": "no-answer", "steps": [
        {"press": "0"}, {"expect_say": "no one is available"}, {"press": "1"}, {"expect_say": "after the tone"},
        {"say": MESSAGE}, {"expect_say": "message is saved"}, {"expect_outcome": "voicemail"}]})
    call = RemoteDriver(settings, url, script, speed=2.0, api=api)
    result = run_script(script, call)
    assert result.passed, result.failures

    anonymous = requests.get(f"{url}/agent/calls/{call.call_sid}/message.wav", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and "/agent/login" in anonymous.headers["Location"]

    agent = requests.Session()
    assert agent.post(f"{url}/agent/login", data={"token": AGENT}, timeout=10).ok
    page = agent.get(f"{url}/agent/calls/{call.call_sid}", timeout=10).text
    assert f'src="/agent/calls/{call.call_sid}/message.wav"' in page
    audio = agent.get(f"{url}/agent/calls/{call.call_sid}/message.wav", timeout=10)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert 2.0 < seconds < 15.0, seconds                   # the message itself, then the silence that ended it

    desk = agent.get(f"{url}/agent", timeout=10).text
    row = desk.split(f'href="/agent/calls/{call.call_sid}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-label="Message" class="quote">' in row and "(no message)" not in row
