"""RecordJournal: batched, order-independent call-record writes that survive a storage outage.

Against an SQLite file and a real PostgreSQL server (the `engine` fixture).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.store.journal import RecordJournal
from app.store.record_writes import CallbackWrite, CallStart, RecordWrite, ReplyWrite
from app.store.records import CallUpdate, SqlCallRecords, TurnRecord
from tests.conftest import eventually

T0 = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reply(sid: str, seconds: float, caller_text: str, **update: object) -> ReplyWrite:
    """A reply at T0 + seconds: the caller's keys and the call's fields as of then."""
    turn = TurnRecord(at(seconds), "menu", caller_text, "keypad", None, None, "Sure.")
    return ReplyWrite(sid, turn, CallUpdate(**update), at(seconds))


class Outage:
    """SqlCallRecords behind a switch: while `down`, every write fails like a stopped server;
    a batch holding a write for the `poison` call fails like a constraint the data breaks."""

    def __init__(self, records: SqlCallRecords, poison: str = "") -> None:
        self.records = records
        self.down = False
        self.refused = 0
        self.poison = poison

    def write(self, writes: list[RecordWrite]) -> None:
        if self.down:
            self.refused += 1
            raise sa.exc.OperationalError("INSERT", {}, ConnectionRefusedError("server is down"))
        if any(w.call_sid == self.poison for w in writes):
            raise sa.exc.IntegrityError("INSERT", {}, ValueError("violates a constraint"))
        self.records.write(writes)

    def __getattr__(self, name: str) -> object:
        return getattr(self.records, name)


@pytest.fixture
def records(engine: sa.Engine) -> SqlCallRecords:
    return SqlCallRecords(engine)


def test_queued_writes_are_seen_by_reads_and_stored_by_the_thread(records: SqlCallRecords) -> None:
    journal = RecordJournal(records, interval_s=0.02)
    journal.write([CallStart("CA1", at(0), "+15550123", "en"), reply("CA1", 1, "1", task="order_status")])
    assert eventually(lambda: records.get("CA1"))                  # stored without anyone asking
    assert journal.pending == 0
    journal.write([reply("CA1", 2, "2", outcome="resolved", task="order_status")])
    call = journal.get("CA1")                                      # a read stores what is queued first
    assert (call.caller, call.outcome, [t.caller_text for t in call.turns]) == ("+15550123", "resolved", ["1", "2"])


def test_a_call_written_by_two_workers_in_the_wrong_order_comes_out_right(records: SqlCallRecords) -> None:
    first_worker, second_worker = RecordJournal(records, interval_s=60), RecordJournal(records, interval_s=60)
    first_worker.write([CallStart("CA1", at(0), "+15550123", "en"), reply("CA1", 1, "1", task="order_status")])
    second_worker.write([reply("CA1", 5, "48217#", task="order_status", order_number="48217",
                               outcome="resolved", summary="Caller wanted order 48217.")])
    assert second_worker.flush() and first_worker.flush()          # the later webhook's records land first
    call = records.get("CA1")
    assert (call.started_at, call.caller, call.outcome, call.order_number) == (at(0), "+15550123", "resolved", "48217")
    assert call.ended_at == at(5) and call.summary == "Caller wanted order 48217."
    assert [t.caller_text for t in call.turns] == ["1", "48217#"]   # in the order they happened


def test_a_late_older_reply_does_not_undo_a_newer_one(records: SqlCallRecords) -> None:
    records.write([CallStart("CA1", at(0), "", "en"), reply("CA1", 9, "2", outcome="resolved")])
    records.write([reply("CA1", 3, "1", outcome="")])
    assert records.get("CA1").outcome == "resolved" and records.get("CA1").ended_at == at(9)


def test_replies_batched_together_keep_the_first_ending_and_what_was_learned(records: SqlCallRecords) -> None:
    journal = RecordJournal(records, interval_s=60)
    journal.write([CallStart("CA1", at(0), "", "en"),
                   reply("CA1", 1, "1", task="order_status", order_number="48217"),
                   reply("CA1", 2, "0", outcome="transferred", transfer_reason="caller asked", summary="S."),
                   reply("CA1", 7, "", outcome="transferred", transfer_reason="caller asked")])
    call = journal.get("CA1")
    assert (call.ended_at, call.order_number, call.task, call.summary) == (at(2), "48217", "order_status", "S.")


def test_writes_made_during_an_outage_are_stored_when_storage_returns(records: SqlCallRecords, caplog) -> None:
    outage = Outage(records)
    journal = RecordJournal(outage, interval_s=0.01)
    outage.down = True
    with caplog.at_level(logging.WARNING, logger="app.store.journal"):
        journal.write([CallStart("CA9", at(0), "+15550123", "en"),
                       reply("CA9", 1, "0", outcome="transferred", transfer_reason="storage unavailable"),
                       CallbackWrite("CA9", "+15550123", "call me back", "", at(2))])
        assert eventually(lambda: outage.refused >= 3)             # the thread keeps trying, with pauses
        assert journal.pending == 3 and records.get("CA9") is None
        outage.down = False
        call = eventually(lambda: records.get("CA9"))
    assert (call.outcome, call.transfer_reason, call.caller) == ("transferred", "storage unavailable", "+15550123")
    assert [c.note for c in records.callbacks()] == ["call me back"] and journal.pending == 0
    said = [r.getMessage() for r in caplog.records]
    assert any("storage unavailable" in m for m in said) and any("storage is back" in m for m in said)
    assert sum("storage unavailable" in m for m in said) == 1      # one warning per outage, not per retry


def test_a_write_that_can_never_be_stored_is_dropped_alone(records: SqlCallRecords, caplog) -> None:
    journal = RecordJournal(Outage(records, poison="CAbad"), interval_s=60)
    journal.write([CallStart("CA1", at(0), "", "en"), CallbackWrite("CA1", "+1", "note", "", at(1)),
                   CallStart("CAbad", at(0), "", "en"), reply("CA1", 2, "1", outcome="resolved")])
    with caplog.at_level(logging.ERROR, logger="app.store.journal"):
        assert journal.flush() and journal.pending == 0
    assert records.get("CA1").outcome == "resolved" and records.get("CAbad") is None
    assert [c.note for c in records.callbacks()] == ["note"]
    assert any("dropped a CallStart for call CAbad" in r.getMessage() for r in caplog.records)


def test_a_journal_that_cannot_keep_up_drops_the_oldest_writes_and_says_so(records: SqlCallRecords,
                                                                           caplog) -> None:
    outage = Outage(records)
    outage.down = True
    journal = RecordJournal(outage, interval_s=60, max_pending=2)
    with caplog.at_level(logging.ERROR, logger="app.store.journal"):
        journal.write([CallStart(f"CA{i}", at(i), "", "en") for i in range(5)])
    assert journal.pending == 2 and journal.dropped == 3
    assert any("3 writes dropped" in r.getMessage() for r in caplog.records)
    outage.down = False
    assert journal.flush() and [c.call_sid for c in records.recent()] == ["CA4", "CA3"]
