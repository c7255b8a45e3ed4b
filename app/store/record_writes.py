"""The write side of the call records: what a webhook adds, and how a batch of it is stored.

Writes are upserts that give the same rows whatever order they arrive in: a call's webhooks are
served by any worker, and each worker writes its records in its own batches (app.store.journal),
so the reply of a later webhook may reach the database before the start of the call.
- A start keeps the earliest start time and the first caller number seen.
- A reply's call fields apply only when they are newer (`updated_at`) than what is stored; a
  reply for a call not yet stored creates its row.
- Turns are ordered by their time when read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

import sqlalchemy as sa

from app.store.records_schema import CallUpdate, TurnRecord, callbacks, calls, turns


@dataclass(frozen=True)
class CallStart:
    """A call began."""

    call_sid: str
    at: datetime
    caller: str
    lang: str


@dataclass(frozen=True)
class ReplyWrite:
    """One reply: the turn it made (if any) and the call's fields as of it."""

    call_sid: str
    turn: TurnRecord | None
    update: CallUpdate
    at: datetime
    lang: str = "en"


@dataclass(frozen=True)
class CallbackWrite:
    """A caller asked to be called back."""

    call_sid: str
    phone: str
    note: str
    transcript: str
    at: datetime


RecordWrite = CallStart | ReplyWrite | CallbackWrite


def naive(at: datetime) -> datetime:
    """Stored without zone so SQLite and PostgreSQL columns behave alike; always UTC."""
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def write_batch(conn: sa.Connection, writes: Sequence[RecordWrite]) -> None:
    """Store the writes (in their order for one call) with one statement per kind."""
    statements = _statements(conn.dialect.name)
    starts = sorted((_start_row(w) for w in writes if isinstance(w, CallStart)), key=_by_sid)
    replies = [w for w in writes if isinstance(w, ReplyWrite)]
    # Rows sorted by CallSid: two workers' batches then lock PostgreSQL rows in the same order.
    for statement, rows in ((statements.start, starts), (statements.reply, sorted(_call_rows(replies), key=_by_sid)),
                            (turns.insert(), [turn_row(w.call_sid, w.turn) for w in replies if w.turn is not None]),
                            (callbacks.insert(), [_callback_row(w) for w in writes if isinstance(w, CallbackWrite)])):
        if rows:
            conn.execute(statement, rows)


def _by_sid(row: dict[str, Any]) -> str:
    return str(row["call_sid"])


def _start_row(write: CallStart) -> dict[str, Any]:
    return {"call_sid": write.call_sid, "started_at": naive(write.at), "caller": write.caller, "lang": write.lang}


def turn_row(call_sid: str, turn: TurnRecord) -> dict[str, Any]:
    """A turn as a row of the turns table."""
    # vars(), not asdict(): the records are flat, and asdict deep-copies every value.
    return {**vars(turn), "call_sid": call_sid, "at": naive(turn.at)}


def _callback_row(write: CallbackWrite) -> dict[str, Any]:
    return {"call_sid": write.call_sid, "phone": write.phone, "note": write.note,
            "transcript": write.transcript, "created_at": naive(write.at), "status": "open"}


def _call_rows(replies: Sequence[ReplyWrite]) -> list[dict[str, Any]]:
    """One row per call: its last reply, keeping the first ending time and what earlier ones learned."""
    latest: dict[str, dict[str, Any]] = {}
    for write in replies:
        at = naive(write.at)
        row = {**vars(write.update), "call_sid": write.call_sid, "lang": write.lang, "caller": "",
               "started_at": at, "updated_at": at, "ended_at": at if write.update.outcome else None}
        before = latest.get(write.call_sid)
        if before is not None:
            row["started_at"] = before["started_at"]
            if write.update.outcome and before["outcome"]:
                row["ended_at"] = before["ended_at"]
            for name in _LEARNED:
                row[name] = row[name] or before[name]
            row["satisfaction"] = before["satisfaction"] if row["satisfaction"] is None else row["satisfaction"]
        latest[write.call_sid] = row
    return list(latest.values())


@dataclass(frozen=True)
class _Statements:
    start: sa.Insert
    reply: sa.Insert


_BUILT: dict[str, _Statements] = {}
# outcome, transfer_reason and abandoned_at follow the call (a transfer nobody answered clears them); what the
# bot learned is kept when a later reply knows less (an emergency transfer starts from nothing).
_FOLLOWED = ("outcome", "transfer_reason", "abandoned_at", "lang")   # lang: a caller may switch mid-call
_LEARNED = ("caller_name", "task", "order_number", "order_status", "summary")


def _statements(dialect: str) -> _Statements:
    """The two upserts, built once per database dialect (their ON CONFLICT syntax differs)."""
    if dialect not in _BUILT:
        _BUILT[dialect] = _Statements(_start_upsert(_insert_for(dialect)), _reply_upsert(_insert_for(dialect)))
    return _BUILT[dialect]


def _insert_for(dialect: str) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise ValueError(f"call records need SQLite or PostgreSQL, not {dialect}")
    return insert(calls)


def _start_upsert(insert: Any) -> sa.Insert:
    new = insert.excluded
    return insert.on_conflict_do_update(index_elements=[calls.c.call_sid], set_={
        "started_at": sa.case((new.started_at < calls.c.started_at, new.started_at), else_=calls.c.started_at),
        "caller": sa.case((calls.c.caller == "", new.caller), else_=calls.c.caller),
        "lang": new.lang,
    })


def _reply_upsert(insert: Any) -> sa.Insert:
    new = insert.excluded
    changes: dict[str, Any] = {name: getattr(new, name) for name in _FOLLOWED}
    changes.update({name: sa.case((getattr(new, name) != "", getattr(new, name)), else_=getattr(calls.c, name))
                    for name in _LEARNED})
    changes.update(
        satisfaction=sa.func.coalesce(new.satisfaction, calls.c.satisfaction),
        # Set when an outcome first appears, cleared if it goes (nobody answered the transfer).
        ended_at=sa.case((new.outcome == "", sa.null()), else_=sa.func.coalesce(calls.c.ended_at, new.ended_at)),
        started_at=sa.case((new.started_at < calls.c.started_at, new.started_at), else_=calls.c.started_at),
        updated_at=new.updated_at,
    )
    newer = sa.or_(calls.c.updated_at.is_(None), calls.c.updated_at <= new.updated_at)
    return insert.on_conflict_do_update(index_elements=[calls.c.call_sid], set_=changes, where=newer)
