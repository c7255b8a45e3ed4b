"""Fuzzing every /voice/* webhook: never a 500, unsigned requests change nothing, calls stay sound."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import event, given, strategies as st

from app import create_app
from app.dialog.state import CallState
from app.store.records import callbacks, calls, turns
from app.store.sessions import sessions_table
from app.telephony.routes import MAX_BODY_BYTES, MAX_FORM_FIELDS
from tests.callrun import demo_settings
from tests.conftest import TODAY, TwilioClient
from tests.fuzz.conftest import count
from tests.fuzz.strategies import KNOWN_SIDS, forms, paths

PROTECTED = "CA" + "f" * 32   # a live call no fuzzed request names


class Errors(logging.Handler):
    """Collects ERROR records of the app: the engine hides failures from the caller, not from us."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep it."""
        self.records.append(record)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One keypad-transport app over a seeded SQLite file, shared by all inputs of a test."""
    db = tmp_path_factory.mktemp("fuzz") / "ivr.db"
    settings = demo_settings(f"sqlite:///{db}", agent_numbers=("+15550199", "+15550198"))
    return create_app(settings, today=lambda: TODAY)


@pytest.fixture(scope="module")
def twilio(app: Flask) -> TwilioClient:
    """Signed posts; a live call (PROTECTED) waiting for its order number."""
    client = TwilioClient(app.test_client())
    client.post("/voice/incoming", {"CallSid": PROTECTED, "From": "+15550123"})
    client.post("/voice/gather", {"CallSid": PROTECTED, "Digits": "1"})
    return client


@pytest.fixture(scope="module")
def errors() -> Iterator[Errors]:
    """Errors logged by the app while the module's inputs run."""
    handler, logger = Errors(), logging.getLogger("app")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def snapshot(app: Flask) -> tuple[object, ...]:
    """Everything a webhook could write: sessions with versions, and the record tables' rows."""
    journal = app.extensions["ivr"].records
    journal.flush()                                   # records this process still holds in memory
    engine = journal.records.engine
    with engine.connect() as conn:
        sessions = conn.execute(sa.select(sessions_table.c.call_sid, sessions_table.c.version,
                                          sessions_table.c.state)).all()
        counts = [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in (calls, turns, callbacks)]
        ended = conn.execute(sa.select(sa.func.count()).select_from(calls).where(calls.c.outcome != "")).scalar()
    return tuple(sorted(sessions)), tuple(counts), ended


def oversized(response, form: dict[str, str]) -> bool:
    """Whether the posted form was over the webhooks' bounds (refused with 413, signed or not)."""
    return (response.request.content_length or 0) > MAX_BODY_BYTES or len(form) > MAX_FORM_FIELDS


def assert_answer_is_twiml_or_4xx(response, form: dict[str, str]) -> None:
    """A signed request gets TwiML (200), an empty 204 (status callback), or a clear 4xx:
    413 exactly when its body is over the bounds."""
    if oversized(response, form):
        assert response.status_code == 413, (response.status_code, response.text[:300])
        return
    assert response.status_code in (200, 204, 400), (response.status_code, response.text[:300])
    if response.status_code == 200:
        assert ET.fromstring(response.data).tag == "Response"


@given(path=paths(), form=forms())
def test_signed_fuzzed_webhooks_get_twiml_or_4xx_and_calls_stay_sound(app, twilio, errors, path, form) -> None:
    count("webhook")
    seen = {sid: state.version for sid in KNOWN_SIDS if (state := app.extensions["ivr"].engine.state(sid))}
    protected = app.extensions["ivr"].engine.state(PROTECTED)
    response = twilio.post(path, form)
    event(f"{path.split('?')[0]} -> {response.status_code}")
    assert_answer_is_twiml_or_4xx(response, form)
    assert not errors.records, [r.getMessage() for r in errors.records]
    for sid in KNOWN_SIDS:
        state = app.extensions["ivr"].engine.state(sid)
        if state is not None:
            assert CallState.from_json(state.to_json()) == state
            assert state.version >= seen.get(sid, 0)
    if PROTECTED not in form.values():
        assert app.extensions["ivr"].engine.state(PROTECTED) == protected


def _sign_wrongly(twilio: TwilioClient, path: str, form: dict[str, str], how: str) -> str | None:
    if how == "missing":
        return None
    if how == "other token":
        return TwilioClient(twilio.client, token="not-the-token").signer.sign(path, form)
    if how == "other path":
        return twilio.signer.sign(path + ("&" if "?" in path else "?") + "tampered=1", form)
    if how == "other form":
        return twilio.signer.sign(path, {**form, "Tampered": "1"})
    return how   # a random header value


@given(path=paths(), form=forms(), how=st.one_of(
    st.sampled_from(["missing", "other token", "other path", "other form"]),
    st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=60)))
def test_unsigned_or_badly_signed_webhooks_are_refused_and_change_nothing(app, twilio, path, form, how) -> None:
    count("webhook")
    before = snapshot(app)
    signature = _sign_wrongly(twilio, path, form, how)
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = twilio.client.post(path, data=form, headers=headers)
    assert response.status_code == (413 if oversized(response, form) else 403)
    assert snapshot(app) == before


@given(path=paths(), form=forms())
def test_a_known_call_sid_unsigned_never_moves_the_call(app, twilio, path, form) -> None:
    count("webhook")
    before = snapshot(app)
    form = {**form, "CallSid": PROTECTED, "ParentCallSid": PROTECTED}
    response = twilio.post(path, form, signed=False)
    assert response.status_code == (413 if oversized(response, form) else 403)
    assert snapshot(app) == before


def test_after_fuzzing_the_protected_call_goes_on_to_its_answer(app, twilio) -> None:
    """Runs last in this module: whatever came before, the live call is intact and completes."""
    engine = app.extensions["ivr"].engine
    before = engine.state(PROTECTED)
    assert before is not None and before.node == "collect_order"
    verify = twilio.post("/voice/gather", {"CallSid": PROTECTED, "Digits": "48217#"}).text
    assert "last 4 digits of the phone number on the order" in verify     # not the order's phone
    answer = twilio.post("/voice/gather", {"CallSid": PROTECTED, "Digits": "0100"}).text
    assert "has shipped with UPS" in answer
    assert "Goodbye" in twilio.post("/voice/gather", {"CallSid": PROTECTED, "Digits": "2"}).text
    assert twilio.post("/voice/status", {"CallSid": PROTECTED, "CallStatus": "completed"}).status_code == 204
    after = engine.state(PROTECTED)
    # Three steps: the status callback after the goodbye has nothing to change.
    assert after.version == before.version + 3 and after.outcome == "resolved"
    assert CallState.from_json(after.to_json()) == after
    assert app.extensions["ivr"].records.get(PROTECTED).outcome == "resolved"
