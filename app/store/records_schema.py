"""Call records' shapes: the dataclasses the pages and reports read, and the tables behind them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.store.database import metadata

OUTCOMES = ("resolved", "transferred", "voicemail", "abandoned")
# TurnRecord.intent for caller inputs that are not speech (speech carries its NLU intent,
# "none" when not understood); None marks a turn the bot started on its own (the greeting).
KEYPAD, NO_INPUT, MESSAGE = "keypad", "no_input", "message"
NO_MATCH = "none"


@dataclass(frozen=True)
class TurnRecord:
    """One exchange: what the caller said (redacted), how it was understood, what the bot said."""

    at: datetime
    node: str
    caller_text: str
    intent: str | None
    confidence: float | None
    asr_latency_ms: float | None
    bot_text: str


@dataclass(frozen=True)
class CallRecord:
    """One call as the operator and agents see it; outcome is "" while the call is live."""

    call_sid: str
    started_at: datetime
    ended_at: datetime | None
    caller: str
    caller_name: str
    lang: str
    outcome: str
    transfer_reason: str
    summary: str
    task: str
    order_number: str
    order_status: str
    satisfaction: int | None
    turns: tuple[TurnRecord, ...] = ()
    abandoned_at: str = ""            # an abandoned transfer: "agent ringing" or "agent whisper"

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end, or None while the call is live."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class CallbackRequest:
    """A caller asked to be called back; agents close it once done."""

    id: int
    call_sid: str
    phone: str
    note: str
    transcript: str
    created_at: datetime
    status: str  # open|done


@dataclass(frozen=True)
class CallUpdate:
    """What the observer learned about a call after one reply (the write side of a CallRecord)."""

    caller_name: str = ""
    outcome: str = ""                 # "" while live
    transfer_reason: str = ""
    summary: str = ""                 # kept when empty: only a handover renders one
    task: str = ""
    order_number: str = ""
    order_status: str = ""
    satisfaction: int | None = None
    abandoned_at: str = ""


calls = sa.Table(
    "calls", metadata,
    sa.Column("call_sid", sa.String(64), primary_key=True),
    sa.Column("started_at", sa.DateTime, nullable=False, index=True),   # naive UTC
    sa.Column("ended_at", sa.DateTime, nullable=True),
    sa.Column("caller", sa.String(64), nullable=False, default="", index=True),
    sa.Column("caller_name", sa.String(200), nullable=False, default=""),
    sa.Column("lang", sa.String(16), nullable=False, default="en"),
    sa.Column("outcome", sa.String(16), nullable=False, default="", index=True),
    sa.Column("transfer_reason", sa.String(200), nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("task", sa.String(32), nullable=False, default=""),
    sa.Column("order_number", sa.String(32), nullable=False, default=""),
    sa.Column("order_status", sa.String(32), nullable=False, default=""),
    sa.Column("satisfaction", sa.Integer, nullable=True),
    # Where a caller who hung up during a transfer left (nullable: added to older databases).
    sa.Column("abandoned_at", sa.String(32), nullable=True, default=""),
    # When the stored call fields were written (the reply's time): an older reply, written late
    # by another worker, does not overwrite a newer one (app.store.record_writes).
    sa.Column("updated_at", sa.DateTime, nullable=True),
)

turns = sa.Table(
    "turns", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("call_sid", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("node", sa.String(32), nullable=False, default=""),
    sa.Column("caller_text", sa.Text, nullable=False, default=""),
    sa.Column("intent", sa.String(32), nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("asr_latency_ms", sa.Float, nullable=True),
    sa.Column("bot_text", sa.Text, nullable=False, default=""),
)

callbacks = sa.Table(
    "callbacks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("call_sid", sa.String(64), nullable=False, index=True),
    sa.Column("phone", sa.String(64), nullable=False, default="", index=True),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("transcript", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("status", sa.String(8), nullable=False, default="open"),
)

RECORD_TABLES = [calls, turns, callbacks]
