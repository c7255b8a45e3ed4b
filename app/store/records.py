"""Call records: one row per call, its turns and callback requests, readable by the web pages."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

import sqlalchemy as sa

from app.store.database import ensure_tables, metadata, writing

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


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (records are kept in UTC)."""
    return datetime.now(timezone.utc)


def _naive(at: datetime) -> datetime:
    # Stored without zone so SQLite and PostgreSQL columns behave alike; always UTC.
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=timezone.utc) if at is not None else None


class SqlCallRecords:
    """Call records in SQL tables (SQLite or PostgreSQL through make_engine)."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self._clock = clock
        ensure_tables(engine, RECORD_TABLES)

    # ---------------------------------------------------------------- writing (the observer)

    def start_call(self, call_sid: str, at: datetime, caller: str, lang: str) -> None:
        """Create the call's row unless it exists (a replayed start keeps the first one)."""
        values = dict(call_sid=call_sid, started_at=_naive(at), caller=caller, lang=lang)
        try:
            with writing(self.engine) as conn:
                if conn.execute(sa.select(calls.c.call_sid).where(calls.c.call_sid == call_sid)).first() is None:
                    conn.execute(calls.insert().values(**values))
        except sa.exc.IntegrityError:
            pass  # another worker created it between our check and insert: theirs is as good

    def add_turn(self, call_sid: str, turn: TurnRecord) -> None:
        """Append one turn to the call's transcript."""
        with writing(self.engine) as conn:
            _insert_turn(conn, call_sid, turn)

    def update_call(self, call_sid: str, update: CallUpdate, at: datetime) -> None:
        """Store the call's progress; ended_at is set when an outcome first appears, cleared if it goes."""
        with writing(self.engine) as conn:
            _update_call(conn, call_sid, update, at)

    def record_reply(self, call_sid: str, turn: TurnRecord | None, update: CallUpdate, at: datetime) -> None:
        """add_turn (when there is one) and update_call in one transaction: one commit per webhook."""
        with writing(self.engine) as conn:
            if turn is not None:
                _insert_turn(conn, call_sid, turn)
            _update_call(conn, call_sid, update, at)

    def add_callback(self, call_sid: str, phone: str, note: str, transcript: str, at: datetime) -> int:
        """Store an open callback request; its id."""
        with writing(self.engine) as conn:
            result = conn.execute(callbacks.insert().values(
                call_sid=call_sid, phone=phone, note=note, transcript=transcript,
                created_at=_naive(at), status="open"))
            return int(result.inserted_primary_key[0])

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
        query = sa.select(turns).where(turns.c.call_sid.in_(sids)).order_by(turns.c.id)
        grouped: dict[str, list[TurnRecord]] = {}
        for row in conn.execute(query).mappings():
            values = {f: row[f] for f in _TURN_FIELDS}
            grouped.setdefault(row["call_sid"], []).append(TurnRecord(**{**values, "at": _aware(row["at"])}))
        return {sid: tuple(found) for sid, found in grouped.items()}


_TURN_FIELDS = tuple(f.name for f in fields(TurnRecord))


def _insert_turn(conn: sa.Connection, call_sid: str, turn: TurnRecord) -> None:
    values = {f: getattr(turn, f) for f in _TURN_FIELDS}
    conn.execute(_INSERT_TURN, {**values, "call_sid": call_sid, "at": _naive(turn.at)})


def _update_call(conn: sa.Connection, call_sid: str, update: CallUpdate, at: datetime) -> None:
    values: dict[str, object] = {k: v for k, v in asdict(update).items() if k != "summary"}
    if update.summary:
        values["summary"] = update.summary
    statement = _END_CALL if update.outcome else _REOPEN_CALL
    conn.execute(statement, {**values, "sid": call_sid, "end_at": _naive(at)})


# Built once and given their values at execution: building them per webhook (coercing every
# value into the statement) cost more CPU than running them. ended_at is set when an outcome
# first appears, cleared if it goes.
_INSERT_TURN = turns.insert()
_END_CALL = calls.update().where(calls.c.call_sid == sa.bindparam("sid")).values(
    ended_at=sa.func.coalesce(calls.c.ended_at, sa.bindparam("end_at")))
_REOPEN_CALL = calls.update().where(calls.c.call_sid == sa.bindparam("sid")).values(ended_at=None)


def _call_record(row: sa.RowMapping, call_turns: tuple[TurnRecord, ...]) -> CallRecord:
    values = {f.name: row[f.name] for f in fields(CallRecord) if f.name != "turns"}
    values.update(started_at=_aware(row["started_at"]), ended_at=_aware(row["ended_at"]))
    return CallRecord(**values, turns=call_turns)
