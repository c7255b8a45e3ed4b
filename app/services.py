"""The wired objects one app uses, built by create_app and reached by the adapters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.dialog.agentwords import AgentWords
from app.engine import Engine
from app.store.records import CallRecords
from app.telephony.security import SignatureChecker, StreamTokens
from app.telephony.twiml import TwimlStyle


@dataclass
class Services:
    """Everything a request handler needs; one instance per Flask app."""

    settings: Settings
    engine: Engine
    signatures: SignatureChecker
    style: TwimlStyle
    stream_tokens: StreamTokens
    agent_words: AgentWords       # the whisper's words in the agents' language (prompts file)
    asr_name: str = "none"
    recordings: Any = None        # RecordedTurns: record transport and voicemail (speech deployments)
    voice: Any = None             # VoiceKit shared by live Media Streams calls (speech deployments)
    rest: Any = None              # TwilioRest: live-call updates and recordings
    records: CallRecords | None = None  # call records, read by the agent pages and reports
    metrics: Any = None           # app.web.metrics.CallMetrics (its registry backs /metrics)
    agent_sessions: Any = None    # app.store.agent_sessions.AgentSessions: agent logins, server-side
    messages: Any = None          # app.store.messages.MessageStore: kept voicemail audio
