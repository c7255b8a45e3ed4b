"""A real server for end-to-end calls: gunicorn from the Procfile's config, streaming transport."""
from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from app.config import Settings
from app.sim.twilio_api import FakeTwilioApi, serve_fake_api
from tests.conftest import ROOT
from tests.servers import BIN, PrefixProxy, free_port, spawn_gunicorn, wait_healthy

TOKEN = "e2e-auth-token"


@dataclass(frozen=True)
class LiveServer:
    """Where the server listens, and the settings the simulator needs to play Twilio to it."""

    url: str                    # PUBLIC_URL: where Twilio posts (through the proxy, if any)
    settings: Settings
    log: Path
    api: FakeTwilioApi          # the server's TWILIO_API_BASE: held for the whole module
    env: dict[str, str]         # the server's environment (`ivr report` reads its DATABASE_URL)


def _env(tmp: Path, public_url: str, api_port: int) -> dict[str, str]:
    return {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp),
        "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": public_url,
        "TWILIO_API_BASE": f"http://127.0.0.1:{api_port}", "DATABASE_URL": f"sqlite:///{tmp / 'ivr.db'}",
        "IVR_DATA_DIR": str(tmp / "var"), "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
        "IVR_ASR": "pocketsphinx", "IVR_TRANSPORT": "stream",
    }

@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn serving the app on a free loopback port, over a freshly seeded database."""
    with serve_live(tmp_path_factory.mktemp("live")) as server:
        yield server


@contextmanager
def serve_live(tmp: Path, prefix: str = "", **extra_env: str) -> Iterator[LiveServer]:
    """gunicorn over a seeded database; with `prefix`, behind a proxy serving it under that path."""
    api, stop_api = serve_fake_api()
    port, api_port = free_port(), int(api.base_url.rsplit(":", 1)[1])
    proxy = PrefixProxy(port, prefix) if prefix else None
    url = proxy.url if proxy else f"http://127.0.0.1:{port}"
    env = {**_env(tmp, url, api_port), **extra_env}
    subprocess.run([str(BIN / "ivr"), "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    log = tmp / "server.log"
    proc = spawn_gunicorn(port, env, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        settings = Settings(twilio_auth_token=TOKEN, public_url=url, twilio_api_base=env["TWILIO_API_BASE"],
                            data_dir=tmp / "sim", asr="pocketsphinx")
        yield LiveServer(url, settings, log, api, env)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        stop_api()
        if proxy:
            proxy.close()
