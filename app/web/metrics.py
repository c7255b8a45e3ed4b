"""Prometheus metrics: a CallObserver counting calls, outcomes and turns, and GET /metrics.

Under gunicorn, prometheus-client's multi-process mode is on when PROMETHEUS_MULTIPROC_DIR is
set (prometheus-client reads it itself): every worker writes its values to files there and
/metrics adds them up, so a scrape sees the whole server, not the worker that answered it.
"""
from __future__ import annotations

import threading
import time

from flask import Blueprint, Response, current_app
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)

from app.dialog.actions import RequestCallback
from app.dialog.events import CallStarted, Event
from app.dialog.state import CallState
from app.engine import Reply
from app.store.recorder import caller_intent
from app.store.records import NO_INPUT, NO_MATCH

metrics_blueprint = Blueprint("metrics", __name__)
# Turn processing is milliseconds unless storage stalls; recognition takes longer.
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ASR_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
# Fine around the 100 ms target, so `ivr bench calls` can read percentiles off the buckets.
REPLY_BUCKETS = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.125, 0.15, 0.2, 0.3,
                 0.5, 1.0, 2.5)
_OUTCOMES = {"hangup": "abandoned", "": "abandoned"}


class CallMetrics:
    """The engine's metrics observer; its counters live in `registry` (one per app)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.calls = Counter("ivr_calls_started", "Calls that reached the bot.", registry=registry)
        self.outcomes = Counter("ivr_calls_ended", "Calls that ended, by outcome.", ["outcome"],
                                registry=registry)
        self.transfers = Counter("ivr_transfers", "Hand-offs to a person, by reason.", ["reason"],
                                 registry=registry)
        self.turns = Counter("ivr_turns", "Caller turns, by intent (keypad, no_input for those inputs).",
                             ["intent"], registry=registry)
        self.no_match = Counter("ivr_no_match", "Caller turns not understood, by dialog state.", ["node"],
                                registry=registry)
        self.no_input = Counter("ivr_no_input", "Silent listening windows, by dialog state.", ["node"],
                                registry=registry)
        self.callbacks = Counter("ivr_callbacks_requested", "Callback requests stored.", registry=registry)
        self.turn_seconds = Histogram("ivr_turn_processing_seconds", "Time to step the flow for one event.",
                                      buckets=TURN_BUCKETS, registry=registry)
        self.asr_seconds = Histogram("ivr_asr_latency_seconds", "Recognizer time for one utterance.",
                                     buckets=ASR_BUCKETS, registry=registry)
        self.voice_reply_seconds = Histogram(
            "ivr_voice_reply_seconds", "Live calls: end of the caller's speech (endpointer) to the first "
            "reply audio sent.", buckets=REPLY_BUCKETS, registry=registry)
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[float, CallState, Event]] = {}

    def on_event(self, state: CallState, event: Event) -> None:
        """Count a new call; remember when the step began and where the call stood."""
        if isinstance(event, CallStarted):
            self.calls.inc()
        with self._lock:
            self._pending[state.call_sid] = (time.perf_counter(), state, event)

    def on_reply(self, state: CallState, reply: Reply) -> None:
        """Latency of the step, the caller's turn, and any hand-off or ending it caused."""
        with self._lock:
            pending = self._pending.pop(state.call_sid, None)
        if pending is None:
            return
        began, before, event = pending
        self.turn_seconds.observe(time.perf_counter() - began)
        if reply.asr_latency_ms is not None:
            self.asr_seconds.observe(reply.asr_latency_ms / 1000)
        self._count_turn(before.node, event)
        self._count_transitions(before, state)

    def observe_voice_reply(self, seconds: float) -> None:
        """A live call's reply started playing `seconds` after the caller's turn ended."""
        self.voice_reply_seconds.observe(seconds)

    def on_callback(self, state: CallState, request: RequestCallback) -> None:
        """A callback request was stored."""
        self.callbacks.inc()

    def _count_turn(self, node: str, event: Event) -> None:
        intent = caller_intent(event)
        if intent is None:
            return
        self.turns.labels(intent=intent).inc()
        if intent == NO_MATCH:
            self.no_match.labels(node=node).inc()
        elif intent == NO_INPUT:
            self.no_input.labels(node=node).inc()

    def _count_transitions(self, before: CallState, after: CallState) -> None:
        # A call hands off at most once per attempt and ends once: count the edges, not states.
        if after.node == "transferred" and before.node != "transferred":
            self.transfers.labels(reason=after.transfer_reason or "unknown").inc()
        if after.node == "ended" and before.node != "ended":
            self.outcomes.labels(outcome=_OUTCOMES.get(after.outcome, after.outcome)).inc()


def exposition_registry(own: CollectorRegistry) -> CollectorRegistry:
    """All workers' values in multi-process mode, else this app's own registry."""
    try:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # reads PROMETHEUS_MULTIPROC_DIR itself
        return registry
    except ValueError:  # the directory is not set: a single process
        return own


@metrics_blueprint.get("/metrics")
def metrics() -> Response:
    """The Prometheus text exposition format."""
    own: CollectorRegistry = current_app.extensions["ivr"].metrics.registry
    return Response(generate_latest(exposition_registry(own)), content_type=CONTENT_TYPE_LATEST)
