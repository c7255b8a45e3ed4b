"""A real HTTP server for the app and a headless Debian Chromium driven by Selenium.

The browser is never skipped: a missing chromium, chromedriver or selenium FAILS with the fix.
"""
from __future__ import annotations

import shutil
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from app.telephony.security import SignatureChecker

CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,1400")
INSTALL_HINT = "install Debian's chromium and chromium-driver (`make install` does: DEB_PACKAGES)"


@dataclass
class LiveServer:
    """The app served over real HTTP on a loopback port, with a Twilio stand-in that signs webhooks."""

    app: Flask
    base: str
    server: BaseWSGIServer
    signer: SignatureChecker

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.base + path

    def webhook(self, path: str, form: dict[str, str]) -> str:
        """POST a webhook signed the way Twilio signs it; returns the TwiML."""
        headers = {"X-Twilio-Signature": self.signer.sign(path, form)}
        response = requests.post(self.url(path), data=form, headers=headers, timeout=10)
        assert response.status_code in (200, 204), f"{path}: {response.status_code} {response.text}"
        return response.text


def serve(app: Flask, port: int, twilio_token: str) -> Iterator[LiveServer]:
    """Serve `app` on 127.0.0.1:`port` in a thread until the generator is closed."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        yield LiveServer(app, base, server, SignatureChecker(twilio_token, base))
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _program(name: str, debian_path: str) -> str:
    path = debian_path if Path(debian_path).is_file() else shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found at {debian_path} or on PATH: {INSTALL_HINT}. "
                    "The browser tests are never skipped.")
    return path


def chrome(user_data_dir: Path):  # -> selenium.webdriver.Chrome
    """A headless Chromium with a fresh profile, driven through Debian's chromedriver."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[test]' (it is in the test extra)")
    options = webdriver.ChromeOptions()
    options.binary_location = _program("chromium", "/usr/bin/chromium")
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    # Given an explicit driver path Selenium never downloads one (no network in tests).
    service = Service(executable_path=_program("chromedriver", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, read from its IHDR chunk; fails on anything that is not a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR", "PNG without IHDR first"
    return struct.unpack(">II", data[16:24])
