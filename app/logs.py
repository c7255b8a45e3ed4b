"""Structured logs: one JSON object a line, carrying the CallSid, with phone and card numbers masked.

configure_logging() is called once by app/wsgi.py. The CallSid comes from bind_call() (the
engine binds it around each step) or, inside a webhook, from the request's form.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import IO, Iterator

from app.nlu.redact import redact

_call_sid: contextvars.ContextVar[str] = contextvars.ContextVar("call_sid", default="")
# A phone-number-like run: 7-15 digits, optional +, not inside a word (CallSids hold digit runs).
_PHONE = re.compile(r"(?<![\w+])\+?\d{7,15}(?!\w)")
KEEP_TAIL, KEEP_HEAD, MIN_HIDDEN = 4, 4, 3
# Libraries that log every request's headers at info: about ten lines per REST call.
QUIET_BELOW_DEBUG = ("twilio.http_client",)


def mask_phone(number: str) -> str:
    """+15555550100 -> +1555***0100: enough to tell calls apart, not enough to dial."""
    plus = "+" if number.startswith("+") else ""
    digits = number.lstrip("+")
    head = max(0, min(KEEP_HEAD, len(digits) - KEEP_TAIL - MIN_HIDDEN))
    if len(digits) <= KEEP_TAIL:
        return "***"
    return f"{plus}{digits[:head]}***{digits[-KEEP_TAIL:]}"


def mask_text(text: str) -> str:
    """Card numbers, cued PINs and security codes, then phone numbers, masked in free text."""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), redact(text))


@contextmanager
def bind_call(call_sid: str) -> Iterator[None]:
    """Log lines written inside carry this CallSid."""
    token = _call_sid.set(call_sid)
    try:
        yield
    finally:
        _call_sid.reset(token)


def current_call_sid() -> str:
    """The bound CallSid, else the webhook's own (form or query), else ""."""
    bound = _call_sid.get()
    if bound:
        return bound
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - flask is a dependency; logs must never fail
        return ""
    if not has_request_context():
        return ""
    return request.form.get("CallSid") or request.args.get("parent") or ""


class CallSidFilter(logging.Filter):
    """Stamps every record with `call_sid` so any formatter can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; only adds the attribute."""
        if not getattr(record, "call_sid", ""):
            record.call_sid = current_call_sid()
        return True


class JsonFormatter(logging.Formatter):
    """{"at", "level", "logger", "call_sid", "msg"[, "exc"]} with personal numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON."""
        line = {
            "at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "call_sid": getattr(record, "call_sid", "") or current_call_sid(),
            "msg": mask_text(record.getMessage()),
        }
        if record.exc_info:
            line["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def make_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler writing masked JSON lines with the CallSid."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CallSidFilter())
    return handler


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Route every logger through one JSON handler on the root (replacing earlier handlers)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = make_handler(stream)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_BELOW_DEBUG:
        logging.getLogger(name).setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)
    return handler
