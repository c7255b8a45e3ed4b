"""A card number keyed over a live Media Stream leaves no trace (issue 11, item 3).

The in-process simulator hands the engine the whole entry; over the wire the stream's keypad
handling decides what an entry is. So this call goes over the network against gunicorn, and
every place a keyed entry could end up is read afterwards: the transcript, the saved call state,
the agent page and its JSON, the whisper summary, what the bot said, the server's log and the
prompt audio cache.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from app.sim.script import parse_script
from tests.e2e.conftest import LiveServer, serve_live
from tests.e2e.test_live_calls import driver
from tests.privacy.test_card_numbers import CARD_DIGITS, assert_no_secrets, dump_database, without_sids

AGENT_TOKEN = "agent-token-for-the-card-test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    tmp = tmp_path_factory.mktemp("card")
    with serve_live(tmp, IVR_AGENT_TOKEN=AGENT_TOKEN) as live:
        yield live, tmp


def cache_names(tmp: Path) -> set[str]:
    return {path.name for path in (tmp / "var" / "tts").glob("*.ulaw")}


def agent_session(url: str) -> requests.Session:
    browser = requests.Session()
    response = browser.post(url + "/agent/login", data={"token": AGENT_TOKEN}, timeout=10)
    assert response.status_code == 200 and "/agent/login" not in response.url
    return browser


def call_detail(url: str, call_sid: str) -> dict:
    """The call's JSON once its records are written (the server writes them in the background)."""
    headers = {"Authorization": f"Bearer {AGENT_TOKEN}"}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = requests.get(f"{url}/agent/calls/{call_sid}.json", headers=headers, timeout=10)
        if response.status_code == 200 and response.json().get("outcome"):
            return response.json()
        time.sleep(0.2)
    pytest.fail(f"call {call_sid} never reached the agent JSON")


def test_a_card_number_keyed_at_the_order_question_is_masked_everywhere(server) -> None:
    live, tmp = server
    cached_before = cache_names(tmp)
    call = driver(live, parse_script({"steps": []}))
    said: list[str] = []
    try:
        said += call.start().texts
        said += call.press("1").texts                        # order status: asks for the number
        assert "order number" in " ".join(said).lower()
        keyed = call.press(CARD_DIGITS + "#")
        said += keyed.texts
        transfer = call.press("0")
        said += transfer.texts
    finally:
        call.finish()
    # One entry, not two 8-digit "order numbers": the bot did not look either half up.
    assert not any("couldn't find order" in text.lower() for text in said), said
    assert transfer.transfer is not None
    whisper = transfer.transfer["summary"]
    detail = call_detail(live.url, call.call_sid)
    page = agent_session(live.url).get(f"{live.url}/agent/calls/{call.call_sid}", timeout=10)
    listing = requests.get(f"{live.url}/agent.json", headers={"Authorization": f"Bearer {AGENT_TOKEN}"},
                           timeout=10)
    assert page.status_code == 200 and call.call_sid in page.text
    assert [t["caller_text"] for t in detail["turns"] if t["caller_text"] == "[redacted]"]
    for where, text in {"what the bot said": " ".join(said), "the whisper": whisper,
                        "the agent page": page.text, "the agent JSON": str(detail),
                        "the agent list": listing.text, "the server log": live.log.read_text(),
                        "the database (records and call state)": dump_database(f"sqlite:///{tmp / 'ivr.db'}")
                        }.items():
        assert_no_secrets(without_sids(text, [call.call_sid]), where)
    # Prompts that carry caller data ("I couldn't find order 41111111" before this was fixed) are
    # never written to the cache, whose file names are hashes of the prompt text: after the call
    # it holds the fixed prompts and nothing else.
    assert cached_before and cache_names(tmp) == cached_before
