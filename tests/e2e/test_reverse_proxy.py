"""The supported way to face the internet (issue 11, item 5): deploy/nginx/ivr.conf in front of
gunicorn. With hundreds of idle and half-sent connections held open against the proxy, /healthz,
a signed webhook and a whole streamed call through it are still served promptly."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
import requests

from app.sim.script import parse_script
from tests.conftest import ROOT
from tests.e2e.conftest import LiveServer, serve_live
from tests.e2e.test_live_calls import driver
from tests.servers import free_port

HELD = 300


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx not found: install the Debian package nginx-light (`make install-test` does)")
    return found


def wrapper(tmp: Path, listen: int, upstream: int) -> Path:
    """A minimal nginx.conf around the shipped include, as an operator's server block would be."""
    conf = tmp / "nginx.conf"
    user = "user root;" if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0" else ""
    conf.write_text(f"""{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    upstream ivr_gunicorn {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{listen};
        include {ROOT}/deploy/nginx/ivr.conf;
    }}
}}
""")
    return conf


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("proxy")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve_live(tmp, PUBLIC_URL=url) as server:
        upstream = int(server.url.rsplit(":", 1)[1])
        proc = subprocess.Popen([nginx_binary(), "-p", str(tmp), "-c", str(wrapper(tmp, port, upstream)),
                                 "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 15
            while not _answers(url):
                assert proc.poll() is None and time.monotonic() < deadline, (tmp / "error.log").read_text()
                time.sleep(0.1)
            yield replace(server, url=url, settings=server.settings.replace(public_url=url))
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def hold_connections(url: str, count: int) -> list[socket.socket]:
    """Half idle, half sending the start of a webhook and then nothing."""
    host, port = url.removeprefix("http://").split(":")
    held = []
    for n in range(count):
        sock = socket.create_connection((host, int(port)), timeout=5)
        if n % 2:
            sock.sendall(b"POST /voice/incoming HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\nCallSid=CA")
        held.append(sock)
    return held


def test_real_calls_are_served_while_slow_clients_hold_the_proxy(proxied: LiveServer) -> None:
    held = hold_connections(proxied.url, HELD)
    try:
        began = time.monotonic()
        assert requests.get(proxied.url + "/healthz", timeout=5).status_code == 200
        call = driver(proxied, parse_script({"steps": []}))
        try:
            greeting = call.start()                      # signed webhook + websocket, through nginx
            assert "automated assistant" in " ".join(greeting.texts).lower()
            turn = call.press("1")
            assert "order number" in " ".join(turn.texts).lower()
        finally:
            call.finish()
        assert time.monotonic() - began < 30
    finally:
        for sock in held:
            sock.close()


def test_an_oversized_body_is_refused_by_the_proxy(proxied: LiveServer) -> None:
    response = requests.post(proxied.url + "/voice/incoming", data="x=" + "y" * 100_000, timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
