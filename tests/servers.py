"""Real Redis and PostgreSQL servers for tests: throwaway, on free loopback ports, in temp dirs.

Reuse from any test package's conftest.py:

    from tests.servers import postgres_server, redis_server  # noqa: F401  (session fixtures)

A missing server binary FAILS the test with a clear message: storage is never silently untested.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from tests.conftest import ROOT

START_TIMEOUT_S = 30.0
GUNICORN_START_S = 90.0      # the stream transport loads the speech model before it answers
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(check: Callable[[], bool], what: str, proc: subprocess.Popen, log: Path) -> None:
    """Poll `check` until it holds; stop the server and fail with its log when that never happens."""
    try:
        _poll(check, what, proc, log)
    except BaseException:
        _stop(proc)
        shutil.rmtree(log.parent, ignore_errors=True)
        raise


def _poll(check: Callable[[], bool], what: str, proc: subprocess.Popen, log: Path,
          timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll `check` until it holds; fail with the server's log when it dies or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with status {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} was not ready within {timeout_s:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def spawn_gunicorn(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """The Procfile's server (gunicorn with app/gunicorn_conf.py) on a loopback port, output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen([str(BIN / "gunicorn"), "--config", "app/gunicorn_conf.py", "--bind",
                                 f"127.0.0.1:{port}", "app.wsgi:app"], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)


def answers_healthz(url: str) -> bool:
    """True when the server at `url` answers GET /healthz with 200."""
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, also: Callable[[], bool] = lambda: True,
                 timeout_s: float = GUNICORN_START_S) -> None:
    """Wait until /healthz answers (and `also` holds); fail with the server's log if it never does."""
    _poll(lambda: answers_healthz(url) and also(), "gunicorn", proc, log, timeout_s)


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Ask the server to stop; kill it if it does not within 10 s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- Redis

@dataclass
class RedisServer:
    """A running redis-server; `url(db)` addresses one of its 16 databases."""

    port: int
    proc: subprocess.Popen
    workdir: Path

    def url(self, db: int = 0) -> str:
        """redis:// URL of database `db`."""
        return f"redis://127.0.0.1:{self.port}/{db}"


def start_redis() -> RedisServer:
    """Start redis-server without persistence; fails the test run when the binary is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found on PATH: install the Debian package redis-server "
                    "(`make install` does) to run the Redis session store tests")
    workdir = Path(tempfile.mkdtemp(prefix="ivr-redis-"))
    port = free_port()
    log = workdir / "redis.log"
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
           "--dir", str(workdir), "--logfile", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    log.touch()
    _wait_until(lambda: _redis_pings(port), "redis-server", proc, log)
    return RedisServer(port, proc, workdir)


def _redis_pings(port: int) -> bool:
    """True once the server answers PING."""
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.exceptions.ConnectionError:
        return False


def stop_redis(server: RedisServer) -> None:
    """Stop the server and remove its directory."""
    _stop(server.proc)
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the test session."""
    server = start_redis()
    try:
        yield server
    finally:
        stop_redis(server)


# --------------------------------------------------------------------------- PostgreSQL

@dataclass
class PostgresServer:
    """A running throwaway PostgreSQL cluster (trust auth, superuser `postgres`)."""

    port: int
    proc: subprocess.Popen
    workdir: Path
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, dbname: str = "postgres") -> str:
        """postgresql:// URL of one database (make_engine picks the psycopg 3 driver)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, prefix: str = "test") -> str:
        """Create an empty database and return its URL: one per test keeps tests independent."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def postgres_bin(name: str) -> str:
    """Path of a PostgreSQL server program (Debian keeps them out of PATH, per version)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        pytest.fail(f"PostgreSQL's {name} not found (looked on PATH and in /usr/lib/postgresql/*/bin): "
                    "install the Debian package postgresql (`make install` does) to run these tests")
    return found


def _server_user() -> dict[str, object]:
    """Popen arguments to drop root: postgres refuses to run as root, so run it as `nobody`."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("nobody")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def start_postgres() -> PostgresServer:
    """initdb into a temp dir and start `postgres` on a free loopback port."""
    initdb, postgres = postgres_bin("initdb"), postgres_bin("postgres")
    workdir = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
    data, log = workdir / "data", workdir / "postgres.log"
    log.touch()
    as_user = _server_user()
    if as_user:
        for path in (workdir, log):
            os.chown(path, as_user["user"], as_user["group"])  # type: ignore[arg-type]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": str(workdir)}
    done = subprocess.run([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                          capture_output=True, text=True, env=env, cwd=workdir, **as_user)
    if done.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(f"initdb failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    port = free_port()
    # Durability off: a test cluster trades crash safety for speed.
    cmd = [postgres, "-D", str(data), "-p", str(port), "-k", str(workdir), "-c", "listen_addresses=127.0.0.1",
           "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir,
                                start_new_session=True, **as_user)
    server = PostgresServer(port, proc, workdir)
    _wait_until(lambda: _postgres_answers(server), "postgres", proc, log)
    return server


def _postgres_answers(server: PostgresServer) -> bool:
    """True once the server accepts a connection."""
    import psycopg

    try:
        with psycopg.connect(server.url(), connect_timeout=1):
            return True
    except psycopg.OperationalError:
        return False


def stop_postgres(server: PostgresServer) -> None:
    """Fast shutdown (SIGINT: disconnect clients, no waiting), then remove the cluster."""
    _stop(server.proc, signal.SIGINT)
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL cluster for the test session."""
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


# --------------------------------------------------------------------------- a path-prefix proxy

class PrefixProxy:
    """A reverse proxy like nginx's `location /ivr/ { proxy_pass http://app/; }` on a free port.

    Requests under `prefix` go to the upstream with the prefix removed (websocket upgrades too:
    after the request head the bytes are piped both ways); anything else gets 404, as from a
    proxy that routes only its prefix. One request per connection, so every request is rewritten.
    """

    def __init__(self, upstream_port: int, prefix: str) -> None:
        self.upstream_port, self.prefix = upstream_port, prefix.rstrip("/")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.paths: list[str] = []          # request paths as the proxy received them
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """The public base URL: what PUBLIC_URL is set to behind this proxy."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def close(self) -> None:
        """Stop accepting connections."""
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head, rest = _read_head(client)
            method, path, version = head.split(b"\r\n", 1)[0].split(b" ", 2)
            self.paths.append(path.decode())
            if not path.startswith(self.prefix.encode() + b"/"):
                client.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            head = head.replace(b" " + path + b" ", b" " + path[len(self.prefix):] + b" ", 1)
            if b"upgrade: websocket" not in head.lower():
                head = re.sub(rb"(?im)^connection:[^\r\n]*\r\n", b"", head)
                head = head.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                upstream.sendall(head + rest)
                threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
                _pipe(upstream, client)


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass
