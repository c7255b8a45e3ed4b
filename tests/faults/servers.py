"""The real server under test: gunicorn with the project's config; and storage that can come back."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from app.bench.procstat import with_children
from app.telephony.security import SignatureChecker
from tests.conftest import ROOT
from tests.servers import (BIN, PostgresServer, RedisServer, _postgres_answers, _redis_pings, _server_user,
                           _stop, free_port, postgres_bin, spawn_gunicorn, wait_healthy)

TOKEN = "fault-test-token"
WAIT_S = 30.0


@dataclass
class Gunicorn:
    """A running gunicorn (the Procfile's command) on a loopback port; posts signed webhooks."""

    proc: subprocess.Popen
    url: str
    log: Path

    def post(self, path: str, form: dict[str, str]) -> requests.Response:
        """A webhook signed as Twilio signs it, on a fresh connection (a killed worker held the last)."""
        signature = SignatureChecker(TOKEN, self.url).sign(path, form)
        return requests.post(self.url + path, data=form, headers={"X-Twilio-Signature": signature,
                                                                   "Connection": "close"}, timeout=10)

    def workers(self) -> list[int]:
        """Pids of the current workers."""
        return with_children(self.proc.pid)[1:]

    def kill_workers(self, pids: list[int]) -> None:
        """SIGKILL these workers and wait until the master has replaced them and serves again."""
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        wait_healthy(self.url, self.proc, self.log, also=lambda: self.replaced(pids), timeout_s=WAIT_S)

    def replaced(self, gone: list[int]) -> bool:
        """Two workers again, none of them one of `gone`."""
        now = self.workers()
        return len(now) == 2 and not set(now) & set(gone)



def start_gunicorn(workdir: Path, database_url: str) -> Gunicorn:
    """`ivr seed`, then gunicorn --config app/gunicorn_conf.py with 2 workers, keypad transport."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": url,
           "IVR_TRANSPORT": "keypad", "WEB_CONCURRENCY": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics")}
    subprocess.run([str(BIN / "ivr"), "seed"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    log = workdir / "gunicorn.log"
    server = Gunicorn(spawn_gunicorn(port, env, log), url, log)
    try:
        wait_healthy(url, server.proc, log, also=lambda: len(server.workers()) == 2, timeout_s=WAIT_S)
    except BaseException:
        stop_gunicorn(server)
        raise
    return server


def stop_gunicorn(server: Gunicorn) -> None:
    """Graceful stop (SIGTERM to the master), forced after 10 s."""
    _stop(server.proc)


def restart_redis(server: RedisServer) -> RedisServer:
    """A redis-server again on the stopped one's port (empty: it keeps nothing on disk)."""
    server.workdir.mkdir(parents=True, exist_ok=True)
    cmd = [shutil.which("redis-server") or "redis-server", "--port", str(server.port), "--bind", "127.0.0.1",
           "--save", "", "--appendonly", "no", "--dir", str(server.workdir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    _until(lambda: _redis_pings(server.port), "redis-server")
    return RedisServer(server.port, proc, server.workdir)


def stop_postgres_keeping_data(server: PostgresServer) -> None:
    """Fast shutdown; the cluster stays on disk to be started again."""
    _stop(server.proc, signal.SIGINT)


def restart_postgres(server: PostgresServer) -> PostgresServer:
    """postgres again on the same data directory and port."""
    data = server.workdir / "data"
    cmd = [postgres_bin("postgres"), "-D", str(data), "-p", str(server.port), "-k", str(server.workdir),
           "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": str(server.workdir)}
    with open(server.workdir / "postgres.log", "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=server.workdir,
                                start_new_session=True, **_server_user())
    restarted = PostgresServer(server.port, proc, server.workdir)
    _until(lambda: _postgres_answers(restarted), "postgres")
    return restarted


def _until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come back within {WAIT_S:.0f} s")
        time.sleep(0.1)
