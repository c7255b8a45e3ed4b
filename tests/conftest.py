"""Shared fixtures: settings over a seeded demo database, apps and signed Twilio requests."""
from __future__ import annotations

from datetime import date
from pathlib import Path
import time
from typing import Callable, Iterator, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.store.database import make_engine
from app.store.seed import seed_demo
from app.telephony.security import SignatureChecker

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 21)   # a Saturday: dates in answers are stable
TOKEN = "test-auth-token"
PUBLIC_URL = "https://ivr.example.test"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Keypad-transport settings over a freshly seeded demo SQLite database."""
    url = f"sqlite:///{tmp_path / 'ivr.db'}"
    seed_demo(make_engine(url), TODAY)
    return Settings(twilio_auth_token=TOKEN, public_url=PUBLIC_URL, database_url=url,
                    transport="keypad", grammars_dir=ROOT / "grammars",
                    prompts_dir=ROOT / "prompts", data_dir=tmp_path / "var",
                    agent_numbers=("+15550199", "+15550198"))


@pytest.fixture
def app(settings: Settings) -> Flask:
    """An app wired for the test's settings."""
    return create_app(settings, today=lambda: TODAY)


class TwilioClient:
    """Posts webhooks the way Twilio does: absolute URL signed with the auth token."""

    def __init__(self, client: FlaskClient, token: str = TOKEN, public_url: str = PUBLIC_URL) -> None:
        self.client = client
        self.signer = SignatureChecker(token, public_url)

    def post(self, path: str, form: dict[str, str], signed: bool = True, signature: str | None = None):
        """POST a form to `path` (with query), signed unless told otherwise."""
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = signature or self.signer.sign(path, form)
        return self.client.post(path, data=form, headers=headers)


@pytest.fixture
def twilio(app: Flask) -> Iterator[TwilioClient]:
    """A Twilio stand-in posting signed webhooks to the test app."""
    with app.test_client() as client:
        yield TwilioClient(client)


@pytest.fixture
def fake_twilio():
    """A running fake of Twilio's REST API on a free loopback port."""
    from app.sim.twilio_api import serve_fake_api
    api, stop = serve_fake_api()
    yield api
    stop()


def eventually(check: Callable[[], T], timeout_s: float = 5.0) -> T:
    """check()'s first truthy value within the timeout (call records are written a moment later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)
