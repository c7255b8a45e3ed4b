"""Agent login sessions, server-side: the browser holds only a random id, logout ends it here."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Callable

import sqlalchemy as sa

from app.config import Settings
from app.store.database import metadata

SESSION_HOURS = 12      # an agent's shift; after it the login form is shown again

agent_sessions = sa.Table(
    "agent_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),     # SHA-256 of the cookie's id
    sa.Column("generation", sa.String(64), nullable=False),    # which agent token it was opened with
    sa.Column("expires_at", sa.Float, nullable=False),
)


class AgentSessions:
    """Sessions by random id, in the shared database so every worker sees a logout at once.

    Only a hash of each id is stored: a copy of the database opens no session. `generation`
    ties a session to the agent token it was opened with (a keyed hash kept on the server),
    so a rotated token ends every session; nothing in the cookie is derived from the token.
    """

    def __init__(self, engine: sa.Engine, settings: Settings, ttl_s: float = SESSION_HOURS * 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.ttl_s, self.clock = engine, ttl_s, clock
        key = hmac.new(settings.twilio_auth_token.encode(), b"ivr-agent-generation", hashlib.sha256).digest()
        self.generation = hmac.new(key, (settings.agent_token or "").encode(), hashlib.sha256).hexdigest()

    def open(self) -> str:
        """A new session; its id (for the cookie)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(agent_sessions.delete().where(agent_sessions.c.expires_at < now))
            conn.execute(agent_sessions.insert().values(id_hash=_hash(session_id), generation=self.generation,
                                                        expires_at=now + self.ttl_s))
        return session_id

    def valid(self, session_id: str) -> bool:
        """True while the session is open, unexpired and of the current agent token."""
        if not session_id:
            return False
        query = sa.select(agent_sessions.c.generation, agent_sessions.c.expires_at).where(
            agent_sessions.c.id_hash == _hash(session_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return row is not None and row.expires_at > self.clock() and hmac.compare_digest(row.generation, self.generation)

    def close(self, session_id: str) -> None:
        """Logout: the id opens nothing from now on, in any worker."""
        with self.engine.begin() as conn:
            conn.execute(agent_sessions.delete().where(agent_sessions.c.id_hash == _hash(session_id)))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()
