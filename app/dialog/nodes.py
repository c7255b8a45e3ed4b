"""The dialog's listening points: what each node expects and how it re-asks."""
from __future__ import annotations

from dataclasses import dataclass

ORDER_TASKS = ("order_status", "return_item", "refund_status", "cancel_order")
STORE_TASKS = ("store_hours", "store_location")
HANDOFF_TASKS = ("billing_issue", "complaint")
TASKS = ORDER_TASKS + STORE_TASKS + HANDOFF_TASKS
YES_NO = ("yes", "no")

# Keypad menu for callers who prefer keys (and for keypad-only fallback).
MENU_KEYS = {"1": "order_status", "2": "return_item", "3": "refund_status",
             "4": "cancel_order", "5": "store_location"}
YES_NO_KEYS = {"1": "yes", "2": "no"}


@dataclass(frozen=True)
class Node:
    """A point where the bot listens: expected intents, keypad entry size, re-ask prompts."""

    prompt: str
    short: str
    rephrase: str
    expect: tuple[str, ...]
    max_digits: int = 1
    keypad: str = ""            # prompt used instead of `prompt` when speech is unavailable


NODES: dict[str, Node] = {
    "menu": Node("menu", "menu_short", "menu_rephrase", TASKS, keypad="menu_keypad"),
    "offer_order": Node("offer_recent_order", "offer_recent_order", "offer_recent_order",
                        YES_NO + TASKS),
    "collect_order": Node("ask_order_number", "ask_order_number_short",
                          "ask_order_number_rephrase", ORDER_TASKS + ("yes",), max_digits=8),
    "confirm_number": Node("confirm_number", "confirm_number_short", "confirm_number_short", YES_NO),
    "confirm_cancel": Node("confirm_cancel_short", "confirm_cancel_short", "confirm_cancel_short",
                           YES_NO),
    "anything_else": Node("anything_else", "anything_else_short", "menu_rephrase", YES_NO + TASKS),
    "offer_agent": Node("offer_agent", "offer_agent_short", "offer_agent_short", YES_NO),
    "ask_city": Node("ask_city", "ask_city_short", "ask_city_short", STORE_TASKS),
    "agent_unavailable": Node("agent_unavailable", "agent_unavailable_short",
                              "agent_unavailable_short", YES_NO),
    "survey": Node("survey", "survey", "survey", ()),
    # Before an order's details: the last 4 digits of the phone number on it (or "no": status only).
    "verify_caller": Node("verify_caller", "verify_caller_short", "verify_caller_short",
                          ("no",) + ORDER_TASKS, max_digits=4),
    # A caller whose number is withheld keys in one to be called back on, then confirms it.
    "collect_callback": Node("ask_callback_number", "ask_callback_number_short",
                             "ask_callback_number_short", ("no",), max_digits=15),
    "confirm_callback": Node("confirm_callback", "confirm_callback_short", "confirm_callback_short",
                             YES_NO),
}


def expected_for(node: str, task: str = "") -> tuple[str, ...]:
    """What the node expects, with the call's current task first (a bare number belongs to it)."""
    expect = NODES[node].expect if node in NODES else ()
    if task in expect:
        return (task,) + tuple(i for i in expect if i != task)
    return expect
