"""RecordsObserver: the engine's CallObserver that writes call records (turns, outcome, callbacks).

How turns are marked (the KPIs rely on it): every reply that carries a caller input or bot
speech is one turn, at the node the caller was in when the input came. `intent` is the NLU
intent for speech ("none" = not understood), KEYPAD for keyed digits, NO_INPUT for a silent
listening window (then caller_text is ""), MESSAGE for a voicemail, and None for turns the
bot started on its own (the greeting, what follows an agent leg).
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable, Protocol

from app.dialog.actions import RequestCallback
from app.dialog.events import CallStarted, Digits, Event, Heard, MessageRecorded, NoInput
from app.dialog.state import CallState
from app.engine import Handover, Reply
from app.logs import mask_text
from app.nlu.redact import redact, redact_digits
from app.store.record_writes import CallbackWrite, CallStart, RecordWrite, ReplyWrite
from app.store.records import KEYPAD, MESSAGE, NO_INPUT, CallUpdate, TurnRecord, utcnow

log = logging.getLogger(__name__)
# The flow says "hangup" for a caller who left before being served; reports say "abandoned".
_OUTCOMES = {"hangup": "abandoned"}
CALLBACK_NODES = ("collect_callback", "confirm_callback")
_MARKERS: dict[type, str] = {Digits: KEYPAD, NoInput: NO_INPUT, MessageRecorded: MESSAGE}


class RecordSink(Protocol):
    """Where record writes go: SqlCallRecords (at once) or a RecordJournal (batched)."""

    def write(self, writes: list[RecordWrite]) -> None:
        """Store (or queue) the writes."""


class RecordsObserver:
    """Writes what happens on each call into the call records."""

    def __init__(self, records: RecordSink, lang: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.records = records
        self.lang = lang
        self._clock = clock
        self._lock = threading.Lock()
        # call_sid -> (state before, event) between on_event and on_reply of one engine step.
        self._pending: dict[str, tuple[CallState, Event]] = {}

    def on_event(self, state: CallState, event: Event) -> None:
        """Open the call's record on its first event; remember where the caller was."""
        if isinstance(event, CallStarted) or state.version == 0:
            caller = event.caller if isinstance(event, CallStarted) else state.caller
            lang = (event.lang if isinstance(event, CallStarted) else state.lang) or self.lang
            self.records.write([CallStart(state.call_sid, self._clock(), caller, lang)])
            log.info("call started from %s", caller or "an unknown number")  # masked by app.logs
        with self._lock:
            self._pending[state.call_sid] = (state, event)

    def on_reply(self, state: CallState, reply: Reply) -> None:
        """One turn row per reply with something in it; the call's row follows the state."""
        with self._lock:
            before, event = self._pending.pop(state.call_sid, (state, None))
        now = self._clock()
        update = call_update(state, reply)
        turn = build_turn(before.node, event, reply, now)
        # The call's language, as the caller may have switched it: records and KPIs follow it.
        self.records.write([ReplyWrite(state.call_sid, turn, update, now, state.lang or self.lang)])
        if update.outcome and not before.ended:
            log.info("call outcome: %s%s", update.outcome,
                     f" ({update.transfer_reason})" if update.outcome == "transferred" else "")

    def on_callback(self, state: CallState, request: RequestCallback) -> None:
        """A caller asked to be called back: an open request for the agents."""
        self.records.write([CallbackWrite(state.call_sid, request.phone, redact(request.note),
                                          redact(request.transcript), self._clock())])
        log.info("callback requested to %s", request.phone or "no number (a message)")  # masked by app.logs


def caller_intent(event: Event | None) -> str | None:
    """The NLU intent of speech, a marker for other caller inputs, None for anything else."""
    if isinstance(event, Heard):
        return event.intent
    return _MARKERS.get(type(event))


def caller_input(event: Event | None) -> tuple[str, str | None, float | None]:
    """(caller text after redaction, intent or marker, confidence) for the event behind a turn."""
    if isinstance(event, Heard):
        return redact(event.words), event.intent, event.confidence
    if isinstance(event, Digits):
        return redact_digits(event.digits), KEYPAD, None
    if isinstance(event, MessageRecorded):
        return redact(event.transcript), MESSAGE, None
    return "", caller_intent(event), None


def build_turn(node: str, event: Event | None, reply: Reply, at: datetime) -> TurnRecord | None:
    """The turn a reply makes, or None when neither side said or did anything."""
    text, intent, confidence = caller_input(event)
    bot_text = " ".join(reply.texts)
    if node in CALLBACK_NODES:
        # A callback number keyed in, and its read-back: the callback request keeps it, not turns.
        text, bot_text = mask_text(text), mask_text(bot_text)
    elif node == "verify_caller" and text:
        text = "****"          # the answer to a security question is not kept
    if intent is None and not bot_text:
        return None
    return TurnRecord(at=at, node=node, caller_text=text, intent=intent, confidence=confidence,
                      asr_latency_ms=reply.asr_latency_ms, bot_text=bot_text)


def call_update(state: CallState, reply: Reply) -> CallUpdate:
    """The call row's fields as of this reply: an outcome only once the call has ended."""
    ended_as = state.outcome or "hangup"
    outcome = _OUTCOMES.get(ended_as, ended_as) if state.ended else ""
    summary = next((o.summary_text for o in reply.outputs if isinstance(o, Handover)), "")
    return CallUpdate(caller_name=state.caller_name, outcome=outcome,
                      transfer_reason=state.transfer_reason,
                      summary=redact(summary), task=state.task, order_number=state.order_number,
                      order_status=state.order_status,
                      satisfaction=state.satisfaction,
                      abandoned_at=state.abandoned_at if outcome == "abandoned" else "")
