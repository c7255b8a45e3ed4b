"""The load generator: worker processes playing whole calls over keep-alive connections.

How connections are used is part of what is measured (`Plan.connections`):
- kept (N > 0): each client process keeps N connections and plays call after call on them in
  turn, as a reverse proxy in front of gunicorn (nginx's upstream keepalive, the deployment
  gunicorn's docs advise) reuses its upstream connections across callers;
- per call (0): a new connection for every call, as when Twilio connects straight to gunicorn.

Processes, not threads: the GIL would make a threaded Python client the bottleneck long before
the server is. A bare keep-alive socket (app.bench.wire), not requests or http.client: the
client shares the two cores with the server it measures, and every microsecond it spends is
taken from the server.
"""
from __future__ import annotations

import itertools
import multiprocessing
import time
from array import array
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

from app.bench.traffic import ANSWER_MARK, ANSWER_TURN, Webhook, call_sid, signed_call
from app.bench.wire import KeepAlive
from app.telephony.security import SignatureChecker

TIMEOUT_S = 10.0
PREPARED_CALLS = 2500   # per client process: about 10 s of its share at 1,200 requests/s in all
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Plan:
    """What every worker does: which server, how to sign, and when to start and stop."""

    url: str
    public_url: str
    token: str
    start_at: float      # time.time() when measuring starts (after the warm-up)
    stop_at: float
    run: int
    connections: int = 0  # kept connections per client process; 0 = a new one for every call


@dataclass
class Tally:
    """What one worker saw, inside the measured window."""

    latencies_ms: array = field(default_factory=lambda: array("d"))
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)   # connection errors by kind
    calls: int = 0
    answered: int = 0
    cpu_s: float = 0.0

    def merge(self, other: "Tally") -> None:
        """Add another worker's tally to this one."""
        self.latencies_ms.extend(other.latencies_ms)
        for key, count in other.statuses.items():
            self.statuses[key] = self.statuses.get(key, 0) + count
        for key, count in other.failures.items():
            self.failures[key] = self.failures.get(key, 0) + count
        self.calls += other.calls
        self.answered += other.answered
        self.cpu_s += other.cpu_s


def run_workers(plan: Plan, concurrency: int) -> Tally:
    """Run `concurrency` worker processes until plan.stop_at; their tallies added up."""
    with multiprocessing.get_context("spawn").Pool(concurrency) as pool:
        tallies = pool.starmap(play_calls, [(plan, worker) for worker in range(concurrency)])
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def play_calls(plan: Plan, worker: int) -> Tally:
    """One worker: whole calls back to back until the stop time."""
    pool, tally = [_connect(plan.url) for _ in range(max(1, plan.connections))], Tally()
    calls = prepared_calls(plan, worker, pool[0])
    cpu_start = time.process_time()
    for number in itertools.count():
        if time.time() >= plan.stop_at:
            break
        conn = pool[number % len(pool)]
        _play_one(conn, plan, next(calls), tally)
        if not plan.connections:
            # As Twilio's own connections come and go: the next call connects afresh. (One
            # connection kept for a whole run would stay with the worker that accepted it;
            # several kept ones spread over the workers as a proxy's pool does.)
            conn.close()
    for conn in pool:
        conn.close()
    tally.cpu_s = time.process_time() - cpu_start
    return tally


def prepared_calls(plan: Plan, worker: int, conn: KeepAlive) -> Iterator[list[bytes]]:
    """Each call's signed requests, ready to send: a stock built before the window, then more.

    Signing is the client's largest cost per webhook; like wrk's pre-signed script, the stock
    is signed during the warm-up so that the measured seconds leave the cores to the server.
    """
    signer = SignatureChecker(plan.token, plan.public_url)
    base_path = urlsplit(plan.url).path.rstrip("/")

    def build(sequence: int) -> list[bytes]:
        hooks = signed_call(signer, call_sid(worker, plan.run, sequence))
        return [_request(conn, base_path + hook.path, hook) for hook in hooks]

    stock = [build(sequence) for sequence in range(1, PREPARED_CALLS + 1)]
    return itertools.chain(stock, (build(sequence) for sequence in itertools.count(PREPARED_CALLS + 1)))


def _play_one(conn: KeepAlive, plan: Plan, requests: list[bytes], tally: Tally) -> None:
    """Send one call's webhooks in order; counted only when the call began in the window."""
    counted = time.time() >= plan.start_at
    for turn, request in enumerate(requests):
        began = time.perf_counter()
        try:
            status, body = conn.post(request)
        except (OSError, ValueError) as exc:
            conn.close()                # the rest of this call is lost; the next post reconnects
            if counted:
                kind = type(exc).__name__
                tally.failures[kind] = tally.failures.get(kind, 0) + 1
            return
        if counted:
            tally.latencies_ms.append((time.perf_counter() - began) * 1000)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            tally.answered += turn == ANSWER_TURN - 1 and ANSWER_MARK in body
    tally.calls += counted


def _request(conn: KeepAlive, path: str, hook: Webhook) -> bytes:
    return conn.request_bytes(path, hook.body, {**HEADERS, "X-Twilio-Signature": hook.signature})


def _connect(url: str) -> KeepAlive:
    return KeepAlive(url, TIMEOUT_S)
