"""One contract, four session stores: memory, SQLite file, PostgreSQL and Redis (real servers).

Each store is opened twice over the same storage (two engines / two clients), standing in for
two gunicorn workers serving webhooks of the same call.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import pytest
import redis

from app.dialog.state import CallState
from app.store.database import make_engine
from app.store.sessions import (MemorySessions, RedisSessions, SessionStore, SqlSessions, StaleState,
                                open_sessions)


class Clock:
    """A settable clock, so expiry can be tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "postgresql", "redis"])
def workers(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[tuple[SessionStore, SessionStore]]:
    """Two handles on the same session storage."""
    kind = request.param
    if kind == "memory":
        store = MemorySessions(clock)
        yield store, store
    elif kind in ("sqlite", "postgresql"):
        url = (f"sqlite:///{tmp_path}/sessions.db" if kind == "sqlite"
               else request.getfixturevalue("postgres_server").new_database("sessions"))
        engines = [make_engine(url), make_engine(url)]
        yield SqlSessions(engines[0], clock), SqlSessions(engines[1], clock)
        for engine in engines:
            engine.dispose()
    else:
        url = request.getfixturevalue("redis_server").url(1)
        redis.Redis.from_url(url).flushdb()
        clients = [redis.Redis.from_url(url), redis.Redis.from_url(url)]
        yield RedisSessions(clients[0], clock=clock), RedisSessions(clients[1], clock=clock)
        for client in clients:
            client.close()


@pytest.fixture
def store(workers: tuple[SessionStore, SessionStore]) -> SessionStore:
    return workers[0]


def step(state: CallState, **changes: object) -> CallState:
    """What the engine does between load and save: change the state and bump the version."""
    for name, value in changes.items():
        setattr(state, name, value)
    state.version += 1
    return state


def test_is_a_session_store(store: SessionStore) -> None:
    assert isinstance(store, SessionStore)


def test_unknown_call(store: SessionStore) -> None:
    assert store.load("CA404") is None
    store.delete("CA404")  # no error


def test_save_and_load_round_trip(store: SessionStore) -> None:
    state = step(CallState("CA1", caller="+15550100", caller_words=["where is my order"],
                           last_listen={"grammar": "order"}), node="ask_order")
    store.save(state)
    assert store.load("CA1") == state
    assert store.load("CA1") is not state


def test_stored_state_does_not_follow_later_mutation(store: SessionStore) -> None:
    state = step(CallState("CA1"))
    store.save(state)
    state.told.append("shipped")
    assert store.load("CA1").told == []


def test_versions_must_follow_one_another(store: SessionStore) -> None:
    store.save(step(CallState("CA1")))                       # v1 on an empty store
    store.save(step(store.load("CA1"), node="b"))            # v2
    with pytest.raises(StaleState):
        store.save(CallState("CA1", node="old", version=2))  # same version again
    with pytest.raises(StaleState):
        store.save(CallState("CA1", node="old", version=1))  # older
    with pytest.raises(StaleState):
        store.save(CallState("CA1", node="skip", version=4))  # skipped one
    assert store.load("CA1").node == "b" and store.load("CA1").version == 2


def test_second_worker_with_a_stale_copy_is_refused(workers: tuple[SessionStore, SessionStore]) -> None:
    a, b = workers
    a.save(step(CallState("CA1")))
    copy_a, copy_b = a.load("CA1"), b.load("CA1")
    a.save(step(copy_a, order_number="48217"))
    with pytest.raises(StaleState):
        b.save(step(copy_b, order_number="30512"))
    fresh = b.load("CA1")
    assert fresh.order_number == "48217"
    b.save(step(fresh, node="tell_status"))
    assert a.load("CA1").node == "tell_status" and a.load("CA1").version == 3


def test_first_save_race_has_one_winner(workers: tuple[SessionStore, SessionStore]) -> None:
    a, b = workers
    a.save(step(CallState("CA1", node="a")))
    with pytest.raises(StaleState):
        b.save(step(CallState("CA1", node="b")))
    assert b.load("CA1").node == "a"


def test_workers_alternate_turns(workers: tuple[SessionStore, SessionStore]) -> None:
    a, b = workers
    a.save(step(CallState("CA1")))
    for turn in range(10):
        worker = (a, b)[turn % 2]
        worker.save(step(worker.load("CA1"), turns=turn + 1))
    assert a.load("CA1").turns == 10 and b.load("CA1").version == 11


def test_concurrent_workers_lose_no_update(workers: tuple[SessionStore, SessionStore]) -> None:
    a, b = workers
    a.save(step(CallState("CA1")))
    errors: list[BaseException] = []

    def bump(worker: SessionStore, times: int) -> None:
        try:
            for _ in range(times):
                while True:  # the engine's retry: reload and step again
                    try:
                        worker.save(step(worker.load("CA1"), turns=worker.load("CA1").turns + 1))
                        break
                    except StaleState:
                        continue
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(w, 15)) for w in (a, b, a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert a.load("CA1").turns == 60


def test_delete(workers: tuple[SessionStore, SessionStore]) -> None:
    a, b = workers
    a.save(step(CallState("CA1")))
    b.delete("CA1")
    assert a.load("CA1") is None and a.list_active() == []
    a.save(CallState("CA1", version=7))  # absent again: any version starts afresh
    assert b.load("CA1").version == 7


def test_list_active_skips_ended_calls(store: SessionStore, clock: Clock) -> None:
    for sid in ("CA1", "CA2", "CA3"):
        clock.now += 1
        store.save(step(CallState(sid)))
    clock.now += 1
    store.save(step(store.load("CA2"), node="transferred"))
    assert store.list_active() == ["CA1", "CA3"]
    clock.now += 1
    store.save(step(store.load("CA1"), node="ask_order"))
    assert store.list_active() == ["CA3", "CA1"]
    assert store.load("CA2").ended


def test_purge_older_than(workers: tuple[SessionStore, SessionStore], clock: Clock) -> None:
    a, b = workers
    a.save(step(CallState("CA-old")))
    a.save(step(CallState("CA-ended", node="ended")))
    clock.now += 3600
    b.save(step(CallState("CA-new")))
    assert b.purge_older_than(1800) == 2
    assert a.load("CA-old") is None and a.load("CA-ended") is None
    assert a.load("CA-new") is not None and a.list_active() == ["CA-new"]
    assert a.purge_older_than(1800) == 0


def test_open_sessions_picks_sql_without_redis(tmp_path: Path) -> None:
    store = open_sessions(f"sqlite:///{tmp_path}/ivr.db")
    assert isinstance(store, SqlSessions)
    store.save(step(CallState("CA1")))
    assert open_sessions(f"sqlite:///{tmp_path}/ivr.db").load("CA1").version == 1


def test_open_sessions_picks_redis_when_set(tmp_path: Path, redis_server) -> None:
    redis.Redis.from_url(redis_server.url(2)).flushdb()
    store = open_sessions(f"sqlite:///{tmp_path}/ivr.db", redis_server.url(2))
    assert isinstance(store, RedisSessions)
    store.save(step(CallState("CA1")))
    client = redis.Redis.from_url(redis_server.url(2))
    assert client.exists("ivr:call:CA1") and 0 < client.ttl("ivr:call:CA1") <= 86400


def test_redis_index_entries_expire_with_the_calls(redis_server, clock: Clock) -> None:
    client = redis.Redis.from_url(redis_server.url(3))
    client.flushdb()
    store = RedisSessions(client, ttl_seconds=60, clock=clock)
    store.save(step(CallState("CA1")))
    clock.now += 61  # the key itself expires by Redis' own clock; the index follows ours
    assert store.list_active() == []
