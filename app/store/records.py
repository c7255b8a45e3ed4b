"""Call records: one row per call, its turns and callback requests, readable by the web pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

OUTCOMES = ("resolved", "transferred", "voicemail", "abandoned")


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


class CallRecords(Protocol):
    """Read and retention side of the call records (web pages, reports, privacy commands)."""

    def get(self, call_sid: str) -> CallRecord | None:
        """The call with its turns, or None."""

    def recent(self, limit: int = 50, since: datetime | None = None) -> list[CallRecord]:
        """Most recent calls first (started at or after `since`), with their turns."""

    def live(self) -> list[CallRecord]:
        """Calls with no outcome yet, oldest first."""

    def callbacks(self, open_only: bool = True) -> list[CallbackRequest]:
        """Callback requests, oldest first."""

    def close_callback(self, callback_id: int) -> None:
        """Mark a callback request done."""

    def purge_older_than(self, days: int) -> int:
        """Delete calls (and their turns and callbacks) started more than `days` ago; return calls deleted."""

    def forget(self, phone: str) -> int:
        """Erase every call and callback of this caller number; return calls deleted."""
