"""The warm-transfer summary: what the agent hears before taking the call."""
from __future__ import annotations

import re

from app.dialog.actions import Summary
from app.dialog.callerid import callable_number
from app.dialog.state import CallState
from app.dialog.wording import say_status

_WANTS = {
    "order_status": "order status",
    "return_item": "a return",
    "refund_status": "a refund",
    "cancel_order": "to cancel an order",
    "store_hours": "store hours",
    "store_location": "a store location",
    "billing_issue": "a billing problem",
    "complaint": "to make a complaint",
}
# Words that signal an upset caller; matched as whole words in what they said.
_STRONG = re.compile(
    r"\b(ridiculous|terrible|awful|horrible|useless|stupid|worst|angry|furious|unacceptable|"
    r"frustrat\w*|fed up|sick of|damn|hell|joke|pathetic|disgusting|again)\b")
_MAX_QUOTE_WORDS = 14


def frustration_in(words: str) -> int:
    """How many strong words an utterance carries (0 for a calm one)."""
    return len(_STRONG.findall(words.lower()))


def build(s: CallState, reason: str) -> Summary:
    """Everything the bot learned, as a Summary record."""
    tries = s.no_match + s.no_input + s.unknown_orders
    frustrated = s.frustration > 0 or s.agent_asks >= 2 or s.no_match >= 2
    return Summary(
        reason=reason,
        want=_WANTS.get(s.task, ""),
        caller_name=s.caller_name,
        caller_number=callable_number(s.caller),     # a withheld id is no number to read out
        order_number=s.order_number or s.pending_number,
        order_status=s.order_status,
        caller_words=tuple(w for w in s.caller_words if w)[-2:],
        told=tuple(s.told[-2:]),
        tries=tries,
        frustrated=frustrated,
    )


def render(summary: Summary) -> str:
    """The summary as one short paragraph (numbers as numerals; speech spells them out)."""
    parts = [_who(summary)]
    if summary.want:
        parts.append(f"Wants {summary.want}.")
    if summary.order_number:
        status = f", {say_status(summary.order_status)}" if summary.order_status else ""
        parts.append(f"Order {summary.order_number}{status}.")
    if summary.caller_words:
        parts.append(f'Said: "{_quote(summary.caller_words[-1])}".')
    if summary.told:
        parts.append(f"Bot told them: {'; '.join(summary.told)}.")
    parts.append(f"Transferred because: {summary.reason}" + (f", after {summary.tries} failed tries." if summary.tries >= 2 else "."))
    if summary.frustrated:
        parts.append("Sounds frustrated.")
    return " ".join(parts)


def _who(summary: Summary) -> str:
    if summary.caller_name:
        return f"Caller {summary.caller_name}."
    if summary.caller_number:
        return f"Caller {summary.caller_number}, not a known customer."
    return "Caller number withheld."


def _quote(words: str) -> str:
    tokens = words.split()
    clipped = " ".join(tokens[:_MAX_QUOTE_WORDS])
    return clipped + ("..." if len(tokens) > _MAX_QUOTE_WORDS else "")
