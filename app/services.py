"""The wired objects one app uses, built by create_app and reached by the adapters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.engine import Engine
from app.store.records import CallRecords
from app.telephony.security import SignatureChecker
from app.telephony.twiml import TwimlStyle


@dataclass
class Services:
    """Everything a request handler needs; one instance per Flask app."""

    settings: Settings
    engine: Engine
    signatures: SignatureChecker
    style: TwimlStyle
    asr_name: str = "none"
    recordings: Any = None        # record transport / voicemail recogniser (speech adapters)
    media: Any = None             # Media Streams handler (speech adapters)
    records: CallRecords | None = None  # call records, read by the agent pages and reports
    metrics: Any = None           # app.web.metrics.CallMetrics (its registry backs /metrics)
