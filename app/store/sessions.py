"""Call sessions: CallState by CallSid, outside the process, with optimistic versioning."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

import sqlalchemy as sa

from app.dialog.state import CallState
from app.config import SettingsError
from app.store.database import (DriverStatement, ensure_tables, first_line, make_engine, metadata,
                                thread_connections)

if TYPE_CHECKING:
    import redis

Clock = Callable[[], float]


class StaleState(RuntimeError):
    """Another worker saved this call since it was loaded: reload and step again."""


@runtime_checkable
class SessionStore(Protocol):
    """Where CallState lives between webhooks.

    save(state) expects the caller to have bumped state.version by one since load: it is stored
    only when the stored version is state.version - 1 (or nothing is stored), else StaleState.
    """

    def load(self, call_sid: str) -> CallState | None:
        """The call's last saved state, or None."""

    def save(self, state: CallState) -> None:
        """Store the state unless someone else saved a newer one (then raise StaleState)."""

    def delete(self, call_sid: str) -> None:
        """Forget the call (no error when unknown)."""

    def list_active(self) -> list[str]:
        """CallSids of stored calls that have not ended, oldest activity first."""

    def purge_older_than(self, seconds: float) -> int:
        """Delete sessions untouched for `seconds`; return how many went."""


def _stale(state: CallState) -> StaleState:
    return StaleState(f"call {state.call_sid}: version {state.version} is not the next one")


class MemorySessions:
    """In-process sessions (simulator, tests): JSON copies so callers cannot mutate what is stored."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[int, str, bool, float]] = {}  # sid -> (version, json, active, at)

    def load(self, call_sid: str) -> CallState | None:
        """The call's last saved state, or None."""
        row = self._rows.get(call_sid)
        return CallState.from_json(row[1]) if row else None

    def save(self, state: CallState) -> None:
        """Compare-and-set under the lock."""
        with self._lock:
            row = self._rows.get(state.call_sid)
            if row is not None and row[0] != state.version - 1:
                raise _stale(state)
            self._rows[state.call_sid] = (state.version, state.to_json(), not state.ended, self._clock())

    def delete(self, call_sid: str) -> None:
        """Forget the call."""
        with self._lock:
            self._rows.pop(call_sid, None)

    def list_active(self) -> list[str]:
        """CallSids of calls that have not ended, oldest activity first."""
        with self._lock:
            rows = sorted((at, sid) for sid, (_, _, active, at) in self._rows.items() if active)
        return [sid for _, sid in rows]

    def purge_older_than(self, seconds: float) -> int:
        """Delete sessions untouched for `seconds`."""
        cutoff = self._clock() - seconds
        with self._lock:
            old = [sid for sid, row in self._rows.items() if row[3] < cutoff]
            for sid in old:
                del self._rows[sid]
        return len(old)


sessions_table = sa.Table(
    "sessions", metadata,
    sa.Column("call_sid", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),                 # CallState.to_json()
    sa.Column("active", sa.Boolean, nullable=False),             # not state.ended
    # Epoch seconds. Not indexed: every webhook rewrites it, an index doubled the pages each save
    # commits, and only the periodic purge and the live-call list read it.
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Built once: constructing and coercing a statement per webhook cost more CPU than running it.
_LOAD = sa.select(sessions_table.c.state).where(sessions_table.c.call_sid == sa.bindparam("sid"))
_INSERT = sessions_table.insert()
_UPDATE = sessions_table.update().where(
    sessions_table.c.call_sid == sa.bindparam("sid"),
    sessions_table.c.version == sa.bindparam("previous"),
).values({c: sa.bindparam(f"new_{c}") for c in ("version", "state", "active", "updated_at")})


class SqlSessions:
    """Sessions in an SQL table: any worker process sharing the database sees the same calls."""

    def __init__(self, engine: sa.Engine, clock: Clock = time.time) -> None:
        self.engine = engine
        self._clock = clock
        ensure_tables(engine, [sessions_table])
        own = thread_connections(engine)
        self._load, self._update, self._insert_row = (DriverStatement(statement, engine, own)
                                                      for statement in (_LOAD, _UPDATE, _INSERT))
        self._duplicate = engine.dialect.dbapi.IntegrityError  # type: ignore[union-attr]

    def load(self, call_sid: str) -> CallState | None:
        """The call's last saved state, or None."""
        row = self._load.first({"sid": call_sid})
        return CallState.from_json(str(row[0])) if row is not None else None

    def save(self, state: CallState) -> None:
        """UPDATE ... WHERE version = v - 1; if no row matched, INSERT; a duplicate key means stale."""
        values = {"version": state.version, "state": state.to_json(),
                  "active": not state.ended, "updated_at": self._clock()}
        if state.version == 1:
            # A new call (saved versions start at 1): its row cannot exist yet unless another
            # worker created it, so INSERT at once instead of an UPDATE that finds nothing.
            self._insert(state, values)
            return
        updated = self._update.write({"sid": state.call_sid, "previous": state.version - 1,
                                      **{f"new_{k}": v for k, v in values.items()}})
        if updated == 1:
            return
        self._insert(state, values)

    def _insert(self, state: CallState, values: dict[str, object]) -> None:
        # Its own transaction: on PostgreSQL a failed INSERT poisons the transaction it runs in.
        try:
            self._insert_row.write({"call_sid": state.call_sid, **values})
        except self._duplicate:
            raise _stale(state) from None

    def delete(self, call_sid: str) -> None:
        """Forget the call."""
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.call_sid == call_sid))

    def list_active(self) -> list[str]:
        """CallSids of calls that have not ended, oldest activity first."""
        t = sessions_table
        query = sa.select(t.c.call_sid).where(t.c.active).order_by(t.c.updated_at, t.c.call_sid)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def purge_older_than(self, seconds: float) -> int:
        """Delete sessions untouched for `seconds`."""
        cutoff = self._clock() - seconds
        with self.engine.begin() as conn:
            return conn.execute(sessions_table.delete().where(sessions_table.c.updated_at < cutoff)).rowcount


# KEYS: call hash, all-calls zset, active zset. ARGV: version, json, ttl, now, sid, active (1/0).
# One script = one atomic step on the server: no WATCH retry loop, no lost update between workers.
_SAVE = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'state', ARGV[2], 'updated_at', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
if ARGV[6] == '1' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
else redis.call('ZREM', KEYS[3], ARGV[5]) end
return 1
"""

# KEYS: all-calls zset, active zset. ARGV: cutoff, call key prefix. Deletes call keys by name,
# which a Redis Cluster would refuse; the session store is a single Redis (or a replica set).
_PURGE = """
local sids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for _, sid in ipairs(sids) do redis.call('DEL', ARGV[2] .. sid) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
return #sids
"""


class RedisSessions:
    """Sessions in Redis: hash `ivr:call:<sid>` (expires after ttl) plus sorted sets by activity."""

    def __init__(self, client_or_url: "redis.Redis | str", ttl_seconds: int = 86400,
                 clock: Clock = time.time, prefix: str = "ivr:") -> None:
        import redis  # only deployments with REDIS_URL need the client loaded

        self.client = redis.Redis.from_url(client_or_url) if isinstance(client_or_url, str) else client_or_url
        self.ttl = ttl_seconds
        self._clock = clock
        self._call_prefix = f"{prefix}call:"
        self._all, self._active = f"{prefix}calls", f"{prefix}active"
        self._save = self.client.register_script(_SAVE)
        self._purge = self.client.register_script(_PURGE)

    def check_reachable(self) -> None:
        """At start-up: an unreachable Redis is one line naming REDIS_URL, not a failed first call."""
        import redis

        try:
            self.client.ping()
        except redis.exceptions.RedisError as exc:
            where = self.client.connection_pool.connection_kwargs
            place = where.get("path") or f"{where.get('host', 'localhost')}:{where.get('port', 6379)}"
            raise SettingsError(f"REDIS_URL: cannot reach redis at {place}: {first_line(exc)}") from None

    def load(self, call_sid: str) -> CallState | None:
        """The call's last saved state, or None."""
        text = self.client.hget(self._call_prefix + call_sid, "state")
        return CallState.from_json(text) if text is not None else None

    def save(self, state: CallState) -> None:
        """Compare-and-set in one server-side script."""
        keys = [self._call_prefix + state.call_sid, self._all, self._active]
        args = [state.version, state.to_json(), self.ttl, repr(self._clock()), state.call_sid,
                0 if state.ended else 1]
        if not self._save(keys=keys, args=args):
            raise _stale(state)

    def delete(self, call_sid: str) -> None:
        """Forget the call."""
        pipe = self.client.pipeline()  # MULTI/EXEC: the key and its index entries go together
        pipe.delete(self._call_prefix + call_sid).zrem(self._all, call_sid).zrem(self._active, call_sid)
        pipe.execute()

    def list_active(self) -> list[str]:
        """CallSids of calls that have not ended, oldest activity first."""
        # Call keys expire on their own after ttl; drop their index entries the same way.
        self.client.zremrangebyscore(self._active, "-inf", f"({self._clock() - self.ttl!r}")
        return [sid.decode() if isinstance(sid, bytes) else sid for sid in self.client.zrange(self._active, 0, -1)]

    def purge_older_than(self, seconds: float) -> int:
        """Delete sessions untouched for `seconds`."""
        return int(self._purge(keys=[self._all, self._active], args=[repr(self._clock() - seconds), self._call_prefix]))


def open_sessions(database_url: str, redis_url: str | None = None,
                  engine: sa.Engine | None = None) -> SessionStore:
    """Redis when a REDIS_URL is set, else the SQL database (reusing `engine` when given)."""
    if redis_url:
        store = RedisSessions(redis_url)
        store.check_reachable()
        return store
    return SqlSessions(engine if engine is not None else make_engine(database_url))
