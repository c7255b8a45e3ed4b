"""`ivr purge` and `ivr forget`: call records and sessions go, in SQL and in Redis."""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from app.cli import main
from app.dialog.state import CallState
from app.store.database import make_engine
from app.store.records import SqlCallRecords, TurnRecord, utcnow
from app.store.sessions import RedisSessions, SqlSessions

DAY = 86400


def cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def record(records: SqlCallRecords, sid: str, phone: str, days_ago: int) -> None:
    started = utcnow() - timedelta(days=days_ago)
    records.start_call(sid, started, phone, "en")
    records.add_turn(sid, TurnRecord(started, "menu", "where is my order", "order_status", 0.9, None, "Sure."))
    records.add_callback(sid, phone, "call back", "", started)


def session(store: SqlSessions | RedisSessions, sid: str, phone: str) -> None:
    store.save(CallState(sid, caller=phone, version=1))


@pytest.fixture(params=["sql", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path):
    """(env for the CLI, records, sessions saved 40 days ago, sessions saved now)."""
    url = f"sqlite:///{tmp_path}/ivr.db"
    env = {"DATABASE_URL": url}
    long_ago = lambda: time.time() - 40 * DAY  # noqa: E731
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_server").url(6)
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        old, new = RedisSessions(env["REDIS_URL"], clock=long_ago), RedisSessions(env["REDIS_URL"])
    else:
        engine = make_engine(url)
        old, new = SqlSessions(engine, clock=long_ago), SqlSessions(engine)
    return env, SqlCallRecords(make_engine(url)), old, new


def test_purge_deletes_records_and_sessions_older_than_the_retention(stores) -> None:
    env, records, old, new = stores
    record(records, "CAold", "+15550100", 40)
    record(records, "CAnew", "+15550100", 5)
    session(old, "CAold", "+15550100")
    session(new, "CAnew", "+15550100")
    output = cli(env, "purge", "--older-than", "30")
    assert output.strip() == "purged 1 call record(s), 1 session(s) and 0 voicemail recording(s) older than 30 day(s)"
    assert [c.call_sid for c in records.recent()] == ["CAnew"]
    assert [c.call_sid for c in records.callbacks()] == ["CAnew"]
    assert new.load("CAold") is None and new.load("CAnew") is not None


def test_purge_defaults_to_the_retention_setting(stores) -> None:
    env, records, _, _ = stores
    record(records, "CA10", "+15550100", 10)
    assert "older than 30 day(s)" in cli(env, "purge")
    assert len(records.recent()) == 1
    assert "purged 1 call record(s)" in cli({**env, "IVR_RETENTION_DAYS": "7"}, "purge")
    assert records.recent() == []


def test_forget_erases_one_caller_and_keeps_the_others(stores) -> None:
    env, records, _, new = stores
    record(records, "CAjane1", "+15550100", 3)
    record(records, "CAjane2", "+15550100", 1)
    record(records, "CAother", "+15550123", 1)
    for sid, phone in (("CAjane2", "+15550100"), ("CAother", "+15550123")):
        session(new, sid, phone)
    output = cli(env, "forget", "+1 555-0100")
    assert output.strip() == "erased 2 call(s) of +1***0100 with their transcripts, callbacks and sessions"
    assert [c.call_sid for c in records.recent()] == ["CAother"]
    assert [c.phone for c in records.callbacks(open_only=False)] == ["+15550123"]
    assert new.load("CAjane2") is None and new.load("CAother") is not None


def test_forget_refuses_what_is_not_a_phone_number(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["forget", "jane"], env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.exit_code == 2 and "phone number" in result.output
