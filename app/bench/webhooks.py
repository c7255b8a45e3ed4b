"""`ivr bench webhooks`: whole signed keypad calls against a running server, and what it cost."""
from __future__ import annotations

import json
import statistics
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.bench.load import Plan, Tally, run_workers
from app.bench.procstat import ServerUsage, UsageSampler, pids_listening_on, with_children

SPAWN_ALLOWANCE_S = 3.0   # time for the worker processes to start before the warm-up begins


@dataclass(frozen=True)
class Result:
    """The figures of one run."""

    seconds: float
    concurrency: int
    transport: str
    tally: Tally
    server: ServerUsage | None
    connections: int = 0     # kept per client process; 0 = a new connection for every call

    @property
    def requests(self) -> int:
        """Requests answered (any status) inside the window."""
        return len(self.tally.latencies_ms)

    @property
    def errors(self) -> int:
        """Answers that were not 2xx/3xx, plus requests that got no answer at all."""
        bad = sum(n for status, n in self.tally.statuses.items() if not 200 <= status < 400)
        return bad + sum(self.tally.failures.values())

    def percentiles(self) -> dict[str, float]:
        """Latency p50/p95/p99 in milliseconds."""
        if len(self.tally.latencies_ms) < 2:
            return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
        cuts = statistics.quantiles(self.tally.latencies_ms, n=100, method="inclusive")
        return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}

    def to_dict(self) -> dict[str, object]:
        """Everything as plain JSON values."""
        out: dict[str, object] = {
            "seconds": round(self.seconds, 2), "concurrency": self.concurrency, "transport": self.transport,
            "connections_per_client": self.connections,
            "requests": self.requests, "requests_per_s": round(self.requests / self.seconds, 1),
            "latency_ms": {k: round(v, 2) for k, v in self.percentiles().items()},
            "errors": self.errors, "statuses": dict(sorted(self.tally.statuses.items())),
            "connection_errors": self.tally.failures, "calls": self.tally.calls,
            "calls_answered": self.tally.answered, "client_cpu_s": round(self.tally.cpu_s, 2),
        }
        if self.server is not None:
            out["server"] = _server_dict(self.server)
        return out


def _server_dict(usage: ServerUsage) -> dict[str, object]:
    return {"pids": usage.pids, "cpu_percent": round(usage.cpu_percent, 1),
            "peak_rss_mib": {str(pid): round(kib / 1024, 1) for pid, kib in usage.peak_rss_kib.items()},
            "peak_pss_total_mib": round(usage.peak_pss_kib / 1024, 1)}


def server_pids(url: str, pid: int | None) -> list[int]:
    """The gunicorn master and workers: from --pid, else whoever listens on the URL's port."""
    if pid is not None:
        return with_children(pid)
    port = urlsplit(url).port or 80
    return pids_listening_on(port)


def transport_of(url: str) -> str:
    """The server's transport, from /healthz (which also proves it is up)."""
    with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=5) as response:
        return str(json.load(response).get("transport", "?"))


def bench(url: str, public_url: str, token: str, seconds: float, concurrency: int,
          warmup: float = 2.0, pid: int | None = None, connections: int = 0) -> Result:
    """Warm up, then measure `seconds` of traffic from `concurrency` client processes.

    connections: keep that many connections per client process, reused call after call (as a
    reverse proxy's upstream pool); 0 opens a new connection for every call.
    """
    transport = transport_of(url)
    pids = server_pids(url, pid)
    start_at = time.time() + SPAWN_ALLOWANCE_S + warmup
    plan = Plan(url, public_url, token, start_at, start_at + seconds, run=int(time.time() * 1000) & 0xFFFFFFFF,
                connections=connections)
    sampler = UsageSampler(pids, plan.start_at, plan.stop_at) if pids else None
    if sampler:
        sampler.start()
    tally = run_workers(plan, concurrency)
    return Result(seconds, concurrency, transport, tally, sampler.join() if sampler else None, connections)


def render(result: Result) -> str:
    """The figures as a few readable lines."""
    d = result.to_dict()
    p = d["latency_ms"]
    lines = [
        f"{d['requests']} signed webhook requests in {d['seconds']} s from {d['concurrency']} client processes"
        f" ({d['calls']} calls, transport {d['transport']})",
        f"connections  {_connections(result.connections)}",
        f"throughput   {d['requests_per_s']} requests/s",
        f"latency      p50 {p['p50']} ms   p95 {p['p95']} ms   p99 {p['p99']} ms",
        f"errors       {d['errors']}  statuses {d['statuses']}  no answer {d['connection_errors']}",
    ]
    if result.transport in ("keypad", "record"):
        lines.append(f"answered     {d['calls_answered']} of {d['calls']} calls heard their order status")
    if 403 in result.tally.statuses:
        lines.append("403: the server refused the signatures: check --token and --public-url")
    lines.append(f"client CPU   {d['client_cpu_s']} s")
    lines += _server_lines(d.get("server"))
    return "\n".join(lines)


def _connections(kept: int) -> str:
    if kept:
        return f"{kept} kept per client process, reused call after call (as behind a reverse proxy)"
    return "a new one for every call (as Twilio straight to gunicorn)"


def _server_lines(server: object) -> list[str]:
    if not isinstance(server, dict):
        return ["server       not found (give --pid): no CPU or memory figures"]
    rss = ", ".join(f"{pid}: {mib} MiB" for pid, mib in server["peak_rss_mib"].items())
    return [f"server CPU   {server['cpu_percent']} % of one core (pids {server['pids']})",
            f"server RSS   peak {rss}; PSS total {server['peak_pss_total_mib']} MiB"]
