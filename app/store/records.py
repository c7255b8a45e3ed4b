"""Call records: one row per call, its turns and callback requests, readable by the web pages."""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

import sqlalchemy as sa

from app.store.database import ensure_tables, transaction, writing
from app.store.record_writes import (CallbackWrite, CallStart, RecordWrite, ReplyWrite, naive as _naive,
                                     turn_row, write_batch)
from app.store.records_schema import (  # noqa: F401 - re-exported: the records' public names
    KEYPAD, MESSAGE, NO_INPUT, NO_MATCH, OUTCOMES, RECORD_TABLES, CallbackRequest, CallRecord, CallUpdate,
    TurnRecord, callbacks, calls, turns)


class CallRecords(Protocol):
    """Read and retention side of the call records (web pages, reports, privacy commands)."""

    def flush(self) -> bool:
        """Store any writes still held in memory; False when storage cannot be reached."""

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


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (records are kept in UTC)."""
    return datetime.now(timezone.utc)


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=timezone.utc) if at is not None else None


class SqlCallRecords:
    """Call records in SQL tables (SQLite or PostgreSQL through make_engine)."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self._clock = clock
        ensure_tables(engine, RECORD_TABLES)

    # ---------------------------------------------------------------- writing (the observer)

    def flush(self) -> bool:
        """Nothing is held: every write is stored when made."""
        return True

    def write(self, writes: list[RecordWrite]) -> None:
        """Store a batch of writes in one transaction (app.store.journal batches them)."""
        if writes:
            with transaction(self.engine) as conn:
                write_batch(conn, writes)

    def start_call(self, call_sid: str, at: datetime, caller: str, lang: str) -> None:
        """Create the call's row unless it exists (a replayed start keeps the first one)."""
        self.write([CallStart(call_sid, at, caller, lang)])

    def add_turn(self, call_sid: str, turn: TurnRecord) -> None:
        """Append one turn to the call's transcript."""
        with writing(self.engine) as conn:
            conn.execute(turns.insert(), [turn_row(call_sid, turn)])

    def update_call(self, call_sid: str, update: CallUpdate, at: datetime) -> None:
        """Store the call's progress; ended_at is set when an outcome first appears, cleared if it goes."""
        self.write([ReplyWrite(call_sid, None, update, at)])

    def record_reply(self, call_sid: str, turn: TurnRecord | None, update: CallUpdate, at: datetime) -> None:
        """add_turn (when there is one) and update_call in one transaction."""
        self.write([ReplyWrite(call_sid, turn, update, at)])

    def add_callback(self, call_sid: str, phone: str, note: str, transcript: str, at: datetime) -> None:
        """Store an open callback request."""
        self.write([CallbackWrite(call_sid, phone, note, transcript, at)])

    # ---------------------------------------------------------------- reading (CallRecords)

    def get(self, call_sid: str) -> CallRecord | None:
        """The call with its turns, or None."""
        found = self._calls(sa.select(calls).where(calls.c.call_sid == call_sid))
        return found[0] if found else None

    def recent(self, limit: int = 50, since: datetime | None = None) -> list[CallRecord]:
        """Most recent calls first (started at or after `since`), with their turns."""
        query = sa.select(calls).order_by(calls.c.started_at.desc(), calls.c.call_sid).limit(limit)
        if since is not None:
            query = query.where(calls.c.started_at >= _naive(since))
        return self._calls(query)

    def live(self) -> list[CallRecord]:
        """Calls with no outcome yet, oldest first."""
        return self._calls(sa.select(calls).where(calls.c.outcome == "").order_by(calls.c.started_at))

    def callbacks(self, open_only: bool = True) -> list[CallbackRequest]:
        """Callback requests, oldest first."""
        query = sa.select(callbacks).order_by(callbacks.c.created_at, callbacks.c.id)
        if open_only:
            query = query.where(callbacks.c.status == "open")
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [CallbackRequest(**{**row, "created_at": _aware(row["created_at"])}) for row in rows]

    def close_callback(self, callback_id: int) -> None:
        """Mark a callback request done."""
        with self.engine.begin() as conn:
            conn.execute(callbacks.update().where(callbacks.c.id == callback_id).values(status="done"))

    # ---------------------------------------------------------------- retention and erasure

    def purge_older_than(self, days: int) -> int:
        """Delete calls (with turns and callbacks) started more than `days` ago; return calls deleted."""
        cutoff = _naive(self._clock() - timedelta(days=days))
        old = sa.select(calls.c.call_sid).where(calls.c.started_at < cutoff)
        with self.engine.begin() as conn:
            conn.execute(callbacks.delete().where(sa.or_(callbacks.c.call_sid.in_(old),
                                                         callbacks.c.created_at < cutoff)))
            return self._delete_calls(conn, old)

    def forget(self, phone: str) -> int:
        """Erase every call and callback of this caller number; return calls deleted."""
        theirs = sa.select(calls.c.call_sid).where(calls.c.caller == phone)
        with self.engine.begin() as conn:
            conn.execute(callbacks.delete().where(sa.or_(callbacks.c.call_sid.in_(theirs),
                                                         callbacks.c.phone == phone)))
            return self._delete_calls(conn, theirs)

    def call_sids(self, phone: str) -> list[str]:
        """CallSids of this caller's recorded calls (to erase their sessions too)."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(calls.c.call_sid).where(calls.c.caller == phone)).scalars())

    @staticmethod
    def _delete_calls(conn: sa.Connection, which: sa.Select) -> int:
        conn.execute(turns.delete().where(turns.c.call_sid.in_(which)))
        return conn.execute(calls.delete().where(calls.c.call_sid.in_(which))).rowcount

    def _calls(self, query: sa.Select) -> list[CallRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            sids = [row["call_sid"] for row in rows]
            by_call = self._turns(conn, sids) if sids else {}
        return [_call_record(row, by_call.get(row["call_sid"], ())) for row in rows]

    @staticmethod
    def _turns(conn: sa.Connection, sids: list[str]) -> dict[str, tuple[TurnRecord, ...]]:
        query = sa.select(turns).where(turns.c.call_sid.in_(sids)).order_by(turns.c.at, turns.c.id)
        grouped: dict[str, list[TurnRecord]] = {}
        for row in conn.execute(query).mappings():
            values = {f: row[f] for f in _TURN_FIELDS}
            grouped.setdefault(row["call_sid"], []).append(TurnRecord(**{**values, "at": _aware(row["at"])}))
        return {sid: tuple(found) for sid, found in grouped.items()}


_TURN_FIELDS = tuple(f.name for f in fields(TurnRecord))


def _call_record(row: sa.RowMapping, call_turns: tuple[TurnRecord, ...]) -> CallRecord:
    values = {f.name: row[f.name] for f in fields(CallRecord) if f.name != "turns"}
    values["abandoned_at"] = values["abandoned_at"] or ""
    values.update(started_at=_aware(row["started_at"]), ended_at=_aware(row["ended_at"]))
    return CallRecord(**values, turns=call_turns)
