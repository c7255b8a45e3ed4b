"""RecordJournal: call-record writes kept in memory and stored in batches, off the webhook's path.

A webhook's records (its turn, the call's progress) are queued and a background thread stores
everything queued in one transaction every `interval_s`: the caller's answer does not wait for
them, and one commit serves many webhooks. When storage is down the writes stay queued and are
retried with a growing pause, so calls handled during an outage are recorded once it returns.
Reads (agent pages, reports) first store what this process has queued, so they see it.

What a SIGKILLed worker had queued (at most `interval_s` of writes) is lost; a graceful stop
(SIGTERM, SIGHUP, the interpreter exiting) stores it first.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from datetime import datetime

import sqlalchemy as sa

from app.store.record_writes import RecordWrite
from app.store.records import CallbackRequest, CallRecord, SqlCallRecords

log = logging.getLogger(__name__)

INTERVAL_S = 0.05
MAX_PENDING = 200_000          # about 100 MB of queued writes: hours of a busy outage
RETRY_MAX_S = 5.0
# Errors that mean "storage unreachable or busy": keep the writes and try again later.
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, OSError)


class RecordJournal:
    """Queues call-record writes and stores them in batches; reads see what is queued."""

    def __init__(self, records: SqlCallRecords, interval_s: float = INTERVAL_S,
                 max_pending: int = MAX_PENDING) -> None:
        self.records = records
        self.interval_s = interval_s
        self.max_pending = max_pending
        self._pid = -1
        self._reset()

    def _reset(self) -> None:
        # Per process: gunicorn forks workers after loading the app, and a thread or a held
        # lock does not survive into the child.
        self._pid = os.getpid()
        self._lock = threading.Lock()          # guards _pending
        self._writing = threading.Lock()       # one batch at a time, in order
        self._pending: list[RecordWrite] = []
        self._thread: threading.Thread | None = None
        self._failing = False
        self.dropped = 0

    # ------------------------------------------------------------------ writing

    def write(self, writes: list[RecordWrite]) -> None:
        """Queue writes; the background thread stores them within `interval_s`."""
        self._in_this_process()
        with self._lock:
            self._pending.extend(writes)
            overflow = len(self._pending) - self.max_pending
            if overflow > 0:
                del self._pending[:overflow]
                self.dropped += overflow
        if overflow > 0:
            log.error("call records: %d writes dropped, storage has been unreachable too long", overflow)
        if self._thread is None:
            self._start()

    @property
    def pending(self) -> int:
        """Writes queued and not yet stored."""
        return len(self._pending)

    def flush(self) -> bool:
        """Store everything queued now; False (writes kept) when storage is unreachable."""
        self._in_this_process()
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return True
            return self._store(batch)

    def _in_this_process(self) -> None:
        if self._pid != os.getpid():
            self._reset()

    def close(self) -> None:
        """Store what is queued (at shutdown), after any batch the thread is storing now."""
        if self._pid == os.getpid():
            self.flush()

    def _store(self, batch: list[RecordWrite]) -> bool:
        try:
            self.records.write(batch)
        except TRANSIENT as exc:
            with self._lock:
                self._pending[:0] = batch       # back at the front, in order
            if not self._failing:
                log.warning("call records: storage unavailable (%s); %d writes kept for later",
                            type(exc).__name__, len(self._pending))
            self._failing = True
            return False
        except Exception:  # noqa: BLE001 - one bad write must not block the others
            log.exception("call records: a batch of %d writes failed; storing them one by one", len(batch))
            self._store_one_by_one(batch)
        if self._failing:
            log.warning("call records: storage is back; writes kept during the outage are stored")
            self._failing = False
        return True

    def _store_one_by_one(self, batch: list[RecordWrite]) -> None:
        for write in batch:
            try:
                self.records.write([write])
            except Exception:  # noqa: BLE001 - logged and dropped: it can never be stored
                log.exception("call records: dropped a %s for call %s", type(write).__name__, write.call_sid)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="record-journal", daemon=True)
            self._thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        pause = self.interval_s
        while True:
            time.sleep(pause)
            try:
                stored = self.flush()
            except Exception:  # noqa: BLE001 - the thread must outlive any surprise
                log.exception("call records: flush failed")
                stored = False
            pause = self.interval_s if stored else min(max(pause * 2, 0.5), RETRY_MAX_S)

    # ------------------------------------------------------------------ reading (CallRecords)

    def get(self, call_sid: str) -> CallRecord | None:
        """The call with its turns, or None."""
        self.flush()
        return self.records.get(call_sid)

    def recent(self, limit: int = 50, since: datetime | None = None) -> list[CallRecord]:
        """Most recent calls first (started at or after `since`), with their turns."""
        self.flush()
        return self.records.recent(limit, since)

    def live(self) -> list[CallRecord]:
        """Calls with no outcome yet, oldest first."""
        self.flush()
        return self.records.live()

    def callbacks(self, open_only: bool = True) -> list[CallbackRequest]:
        """Callback requests, oldest first."""
        self.flush()
        return self.records.callbacks(open_only)

    def close_callback(self, callback_id: int) -> None:
        """Mark a callback request done."""
        self.records.close_callback(callback_id)

    def purge_older_than(self, days: int) -> int:
        """Delete calls started more than `days` ago; return calls deleted."""
        self.flush()
        return self.records.purge_older_than(days)

    def forget(self, phone: str) -> int:
        """Erase every call and callback of this caller number; return calls deleted."""
        self.flush()
        return self.records.forget(phone)
