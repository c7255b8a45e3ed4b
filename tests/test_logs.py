"""Structured logs: JSON lines with the CallSid, phone numbers and card numbers masked."""
from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest
from flask import Flask

from app.logs import bind_call, configure_logging, make_handler, mask_phone, mask_text
from tests.conftest import TwilioClient


@pytest.mark.parametrize("number, masked", [
    ("+15555550100", "+1555***0100"),
    ("+15550100", "+1***0100"),
    ("+442079460000", "+4420***0000"),
    ("5550100", "***0100"),
])
def test_phone_numbers_keep_head_and_tail_only(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


def test_free_text_masks_phones_and_cards_but_not_sids_or_order_numbers() -> None:
    text = "call CA0123456789abcdef0123 from +15555550100 paid with 4111 1111 1111 1111, order 48217"
    assert mask_text(text) == "call CA0123456789abcdef0123 from +1555***0100 paid with [redacted], order 48217"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = make_handler(stream)
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_json_with_the_bound_call_sid(lines: io.StringIO) -> None:
    with bind_call("CA42"):
        logging.getLogger("test.logs").info("caller %s said card %s", "+15555550100", "4111111111111111")
    logging.getLogger("test.logs").warning("outside a call")
    first, second = parsed(lines)
    assert first["call_sid"] == "CA42" and first["level"] == "INFO" and first["logger"] == "test.logs"
    assert first["msg"] == "caller +1555***0100 said card [redacted]"
    assert first["at"].endswith("+00:00")
    assert second["call_sid"] == ""


def test_exceptions_are_masked_too(lines: io.StringIO) -> None:
    try:
        raise ValueError("bad number +15555550100")
    except ValueError:
        logging.getLogger("test.logs").exception("failed")
    [line] = parsed(lines)
    assert "+1555***0100" in line["exc"] and "5555550100" not in line["exc"]


def test_a_webhook_log_line_carries_the_call_sid_from_the_form(app: Flask, twilio: TwilioClient,
                                                                lines: io.StringIO) -> None:
    handler, logger = make_handler(lines), logging.getLogger("app")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        twilio.post("/voice/gather", {"CallSid": "CAunknown1", "From": "+15555550100"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    found = [line for line in parsed(lines) if "unknown call" in line["msg"]]
    assert found and found[0]["call_sid"] == "CAunknown1"
    started = [line for line in parsed(lines) if line["msg"].startswith("call started")]
    assert started[0]["msg"] == "call started from +1555***0100"
    assert "5555550100" not in lines.getvalue()


def test_configure_logging_installs_one_json_handler_on_the_root() -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        stream = io.StringIO()
        configure_logging("WARNING", stream)
        configure_logging("WARNING", stream)
        assert len(root.handlers) == 1 and root.level == logging.WARNING
        logging.getLogger("anything").warning("hello")
        assert json.loads(stream.getvalue())["msg"] == "hello"
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def test_a_rest_call_logs_no_header_lines_at_info_but_does_at_debug() -> None:
    from app.sim.twilio_api import serve_fake_api
    from app.telephony.rest import TwilioRest

    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    api, stop = serve_fake_api()
    try:
        rest = TwilioRest("AC" + "0" * 32, "token", api.base_url)
        for configured, expect_client_lines in (("INFO", False), ("DEBUG", True)):
            stream = io.StringIO()
            configure_logging(configured, stream)
            rest.update_call("CA" + "1" * 32, "<Response><Hangup/></Response>")
            loggers = {line["logger"] for line in parsed(stream)}
            assert ("twilio.http_client" in loggers) is expect_client_lines, configured
        assert len(api.updates) == 2
    finally:
        stop()
        root.handlers[:] = saved
        root.setLevel(level)
        logging.getLogger("twilio.http_client").setLevel(logging.NOTSET)
