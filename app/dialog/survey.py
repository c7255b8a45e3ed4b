"""The optional post-call satisfaction question: a key from 1 to 5 before the goodbye."""
from __future__ import annotations

from app.dialog.actions import Say
from app.dialog.events import Digits, Event, Heard
from app.dialog.state import CallState
from app.dialog.turns import Result, goodbye, transfer

RATINGS = ("1", "2", "3", "4", "5")


def answer(s: CallState, event: Event) -> Result:
    """Keep a 1-5 key and say goodbye; anything else says goodbye without a rating."""
    if _wants_person(event):
        return transfer(s, "asked for a person")  # 0 or "agent" reaches a person from anywhere
    rating = event.digits.rstrip("#") if isinstance(event, Digits) else ""
    if rating not in RATINGS:
        return goodbye(s)
    s.satisfaction = int(rating)
    s, actions = goodbye(s)
    return s, [Say("survey_thanks")] + actions


def _wants_person(event: Event) -> bool:
    if isinstance(event, Heard):
        return event.intent == "agent"
    return isinstance(event, Digits) and event.digits.rstrip("#") == "0"
