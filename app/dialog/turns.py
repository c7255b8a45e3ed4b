"""Shared turn-building helpers: ask, listen, transfer, say goodbye, replay."""
from __future__ import annotations

from app.dialog import summary
from app.dialog.actions import Action, Hangup, Listen, Say, Transfer
from app.dialog.nodes import NODES
from app.dialog.state import CallState

Result = tuple[CallState, list[Action]]
_TRANSFER_PROMPTS = {
    "billing question": "transfer_billing",
    "complaint": "transfer_complaint",
    "silent twice": "transfer_silent",
    "not understood twice": "transfer_not_understood",
    "speech recognition failed": "transfer_recognizer",
    "storage unavailable": "storage_trouble",
    "technical problem": "storage_trouble",
}


def transfer(s: CallState, reason: str) -> Result:
    """Hand the call to a person now, with everything the bot learned."""
    s.transfer_reason = reason
    s.node = "transferred"
    s.outcome = "transferred"
    s.transfer_stage, s.agent_call_sid, s.agent_accepted = "agent ringing", "", False
    prompt = _TRANSFER_PROMPTS.get(reason, "transfer")
    return s, [Say(prompt), Transfer(reason, summary.build(s, reason))]


def goodbye(s: CallState, ask_rating: bool = True) -> Result:
    """End the call politely (a served caller is first asked for a rating when the survey is on)."""
    if ask_rating and s.survey and s.told and s.node != "survey":
        return s, [Say("survey")] + listen(s, "survey")
    s.node = "ended"
    s.outcome = "resolved" if s.told else "hangup"
    return s, [Say("goodbye"), Hangup(s.outcome)]


def reset_task(s: CallState) -> None:
    s.task = s.order_number = s.order_status = s.pending_number = s.city = ""
    s.no_match = s.no_input = 0


def ask(s: CallState, node: str, params: dict[str, str] | None = None,
        full: bool = True, prompt: str = "") -> list[Action]:
    """Say the node's question (full, short, or a given prompt) and listen there."""
    spec = NODES[node]
    prompt = prompt or (spec.prompt if full else spec.short)
    if s.keypad_only and spec.keypad:
        prompt = spec.keypad
    params = dict(params if params is not None else s.last_listen.get("params", {}) if node == s.node else {})
    return [Say(prompt, params)] + listen(s, node, params)


def listen(s: CallState, node: str, params: dict[str, str] | None = None) -> list[Action]:
    spec = NODES[node]
    s.node = node
    s.last_listen = {"params": dict(params or {})}
    return [Listen(expect=spec.expect, digits=True, max_digits=spec.max_digits)]


def replay(s: CallState) -> list[Action]:
    says: list[Action] = [Say(x["prompt"], dict(x.get("params", {})), x.get("lang", "")) for x in s.last_says]
    return says + listen(s, s.node, s.last_listen.get("params")) if s.node in NODES else says


def remember_says(s: CallState, actions: list[Action]) -> None:
    """Keep what was just said so `repeat` can say it again (called after each step)."""
    says = [{"prompt": a.prompt, "params": dict(a.params), **({"lang": a.lang} if a.lang else {})}
            for a in actions if isinstance(a, Say)]
    if says:
        s.last_says = says


