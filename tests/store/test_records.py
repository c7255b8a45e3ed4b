"""SqlCallRecords against an SQLite file and a real PostgreSQL server (the `engine` fixture)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.store.database import create_schema
from app.store.records import CallUpdate, SqlCallRecords, TurnRecord

T0 = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc)


class Clock:
    """A settable clock for retention tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(days=40))


@pytest.fixture
def records(engine: sa.Engine, clock: Clock) -> SqlCallRecords:
    return SqlCallRecords(engine, clock)


def turn(seconds: int, caller: str = "where is my order", intent: str | None = "order_status",
         node: str = "menu") -> TurnRecord:
    return TurnRecord(T0 + timedelta(seconds=seconds), node, caller, intent, 0.91, 320.5, "Sure.")


def call(records: SqlCallRecords, sid: str, started: datetime = T0, caller: str = "+15550100") -> None:
    records.start_call(sid, started, caller, "en")


def test_a_call_round_trips_with_its_turns_in_order(records: SqlCallRecords) -> None:
    call(records, "CA1")
    records.add_turn("CA1", turn(1, "", None, node="start"))
    records.add_turn("CA1", turn(5))
    records.update_call("CA1", CallUpdate(caller_name="Jane Doe", outcome="transferred",
                                          transfer_reason="asked for a person", summary="Caller Jane Doe.",
                                          task="order_status", order_number="48217", order_status="shipped"),
                        T0 + timedelta(seconds=42))
    got = records.get("CA1")
    assert got is not None
    assert (got.caller, got.caller_name, got.lang, got.outcome) == ("+15550100", "Jane Doe", "en", "transferred")
    assert (got.transfer_reason, got.summary, got.task) == ("asked for a person", "Caller Jane Doe.", "order_status")
    assert (got.order_number, got.order_status, got.satisfaction) == ("48217", "shipped", None)
    assert got.started_at == T0 and got.duration_s == 42.0
    assert got.turns == (turn(1, "", None, node="start"), turn(5))
    assert records.get("CA404") is None


def test_a_replayed_start_keeps_the_first_row(records: SqlCallRecords) -> None:
    call(records, "CA1")
    call(records, "CA1", T0 + timedelta(minutes=5), caller="+19999999")
    got = records.get("CA1")
    assert got is not None and got.started_at == T0 and got.caller == "+15550100"


def test_concurrent_starts_of_one_call_make_one_row(records: SqlCallRecords) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            call(records, "CA1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(records.recent()) == 1


def test_ended_at_is_the_first_ending_and_clears_when_the_call_goes_on(records: SqlCallRecords) -> None:
    call(records, "CA1")
    records.update_call("CA1", CallUpdate(outcome="transferred"), T0 + timedelta(seconds=30))
    records.update_call("CA1", CallUpdate(outcome="transferred"), T0 + timedelta(seconds=90))
    assert records.get("CA1").duration_s == 30.0
    records.update_call("CA1", CallUpdate(outcome=""), T0 + timedelta(seconds=95))   # nobody answered
    assert records.get("CA1").ended_at is None and records.get("CA1").outcome == ""
    records.update_call("CA1", CallUpdate(outcome="voicemail"), T0 + timedelta(seconds=120))
    assert records.get("CA1").duration_s == 120.0


def test_a_summary_is_kept_once_rendered(records: SqlCallRecords) -> None:
    call(records, "CA1")
    records.update_call("CA1", CallUpdate(summary="Caller Jane Doe."), T0)
    records.update_call("CA1", CallUpdate(outcome="transferred"), T0)
    assert records.get("CA1").summary == "Caller Jane Doe."


def test_recent_is_newest_first_limited_and_since(records: SqlCallRecords) -> None:
    for day in range(5):
        call(records, f"CA{day}", T0 + timedelta(days=day))
    assert [c.call_sid for c in records.recent()] == ["CA4", "CA3", "CA2", "CA1", "CA0"]
    assert [c.call_sid for c in records.recent(limit=2)] == ["CA4", "CA3"]
    assert [c.call_sid for c in records.recent(since=T0 + timedelta(days=3))] == ["CA4", "CA3"]


def test_live_lists_calls_without_outcome_oldest_first(records: SqlCallRecords) -> None:
    call(records, "CA2", T0 + timedelta(minutes=2))
    call(records, "CA1", T0)
    call(records, "CA3", T0 + timedelta(minutes=3))
    records.update_call("CA3", CallUpdate(outcome="resolved"), T0 + timedelta(minutes=4))
    assert [c.call_sid for c in records.live()] == ["CA1", "CA2"]


def test_callbacks_open_and_closed(records: SqlCallRecords) -> None:
    call(records, "CA1")
    records.add_callback("CA1", "+15550100", "Caller Jane Doe.", "call me", T0)
    records.add_callback("CA1", "+15550100", "again", "", T0 + timedelta(seconds=1))
    first, second = [c.id for c in records.callbacks()]
    records.close_callback(first)
    assert [c.id for c in records.callbacks()] == [second]
    both = records.callbacks(open_only=False)
    assert [(c.id, c.status) for c in both] == [(first, "done"), (second, "open")]
    assert (both[0].phone, both[0].note, both[0].transcript, both[0].created_at) == \
        ("+15550100", "Caller Jane Doe.", "call me", T0)


def test_purge_deletes_old_calls_their_turns_and_callbacks(records: SqlCallRecords, engine: sa.Engine) -> None:
    call(records, "CAold", T0)                             # 40 days before the clock
    records.add_turn("CAold", turn(1))
    records.add_callback("CAold", "+15550100", "", "", T0)
    call(records, "CAnew", T0 + timedelta(days=20))
    records.add_turn("CAnew", turn(1))
    assert records.purge_older_than(30) == 1
    assert [c.call_sid for c in records.recent()] == ["CAnew"]
    assert records.callbacks(open_only=False) == []
    assert _count(engine, "turns") == 1
    assert records.purge_older_than(30) == 0


def test_forget_erases_one_caller_everywhere(records: SqlCallRecords, engine: sa.Engine) -> None:
    call(records, "CA1", caller="+15550100")
    records.add_turn("CA1", turn(1))
    records.add_callback("CA1", "+15550100", "", "", T0)
    call(records, "CA2", caller="+15550123")
    records.add_turn("CA2", turn(1))
    records.add_callback("CA2", "+15550100", "", "", T0)   # asked to be called back on Jane's number
    assert records.call_sids("+15550100") == ["CA1"]
    assert records.forget("+15550100") == 1
    assert [c.call_sid for c in records.recent()] == ["CA2"]
    assert records.callbacks(open_only=False) == []
    assert _count(engine, "turns") == 1


def test_create_schema_makes_the_record_tables(engine: sa.Engine) -> None:
    create_schema(engine)
    assert {"calls", "turns", "callbacks"} <= set(sa.inspect(engine).get_table_names())


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
