"""What `ivr bench calls` reports: client-side turn timings, the server's own reply histogram,
and the server's CPU and memory read from /proc."""
from __future__ import annotations

import math
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from app.bench.procstat import PROC, cpu_seconds, memory_kib
from app.bench.turns import CallTally

REPLY_METRIC = "ivr_voice_reply_seconds_bucket"
Buckets = list[tuple[float, float]]          # (upper bound in seconds, cumulative count)


def scrape_metrics(url: str) -> str:
    """The server's /metrics text ("" when it has none)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as response:
            return response.read().decode()
    except OSError:
        return ""


def _buckets(text: str) -> dict[float, float]:
    return {float(s.labels["le"]): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == REPLY_METRIC}


def reply_buckets(after: str, before: str) -> Buckets:
    """The reply-time histogram's growth between two scrapes: the turns of the window."""
    then = _buckets(before)
    return sorted((le, count - then.get(le, 0.0)) for le, count in _buckets(after).items())


def bucket_quantile(q: float, buckets: Buckets) -> float | None:
    """Prometheus' histogram_quantile: linear inside the bucket the rank falls in."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    rank, low, below = q * total, 0.0, 0.0
    for high, count in buckets:
        if count >= rank:
            if math.isinf(high):
                return low                     # past the last finite bound: only a lower bound
            return low + (high - low) * (rank - below) / (count - below) if count > below else high
        low, below = high, count
    return low


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 (None without data)."""
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "p99": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


def _parent(pid: int) -> int:
    try:
        return int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


@dataclass
class ServerUse:
    """The server's processes over the window: CPU seconds each, peak RSS and PSS each (KiB)."""

    pids: list[int]
    wall_s: float = 0.0
    cpu_s: dict[int, float] = field(default_factory=dict)
    rss_kib: dict[int, int] = field(default_factory=dict)
    pss_kib: dict[int, int] = field(default_factory=dict)

    @property
    def workers(self) -> list[int]:
        """The pids whose parent is another of the pids (gunicorn's workers)."""
        return [pid for pid in self.pids if _parent(pid) in self.pids]

    def cpu_percent(self) -> float:
        """All processes together, in % of one core."""
        return 100 * sum(self.cpu_s.values()) / self.wall_s if self.wall_s else 0.0


class ServerWatch:
    """Samples the server's memory every half second between start() and stop(); CPU over the same span."""

    def __init__(self, pids: list[int], interval_s: float = 0.5) -> None:
        self._use = ServerUse(pids)
        self._interval = interval_s
        self._stop = threading.Event()
        self._began: tuple[float, dict[int, float]] = (0.0, {})
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        """Begin the window."""
        self._began = (time.monotonic(), {pid: cpu_seconds(pid) for pid in self._use.pids})
        self._thread.start()

    def stop(self) -> None:
        """End the window."""
        began, cpu0 = self._began
        self._use.cpu_s = {pid: cpu_seconds(pid) - cpu0.get(pid, 0.0) for pid in self._use.pids}
        self._use.wall_s = time.monotonic() - began
        self._stop.set()
        self._thread.join()

    def usage(self) -> ServerUse | None:
        """What was seen (None when the server's processes were not found)."""
        return self._use if self._use.pids else None

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            for pid in self._use.pids:
                rss, pss = memory_kib(pid)
                self._use.rss_kib[pid] = max(rss, self._use.rss_kib.get(pid, 0))
                self._use.pss_kib[pid] = max(pss, self._use.pss_kib.get(pid, 0))


def _ms(values: dict[str, float | None], scale: float = 1.0) -> dict[str, float | None]:
    return {k: None if v is None else round(v * scale, 1) for k, v in values.items()}


@dataclass
class CallsReport:
    """The figures of one `ivr bench calls` run."""

    calls: int
    processes: int
    duration_s: float
    engine: str
    tally: CallTally
    reply: Buckets
    server: ServerUse | None

    def processing(self) -> dict[str, object]:
        """The server's END -> first reply audio, from its histogram (percentiles interpolated)."""
        total = self.reply[-1][1] if self.reply else 0.0
        within = next((count for le, count in self.reply if le == 0.1), 0.0)
        cuts = {f"p{q}": bucket_quantile(q / 100, self.reply) for q in (50, 95, 99)}
        return {"turns": int(total), **_ms(cuts, 1000),
                "share_within_100ms": round(within / total, 3) if total else None}

    def to_dict(self) -> dict[str, object]:
        """Everything as plain JSON values."""
        t = self.tally
        return {
            "calls": self.calls, "duration_s": self.duration_s, "engine": self.engine,
            "client_processes": self.processes,
            "turns": {"speech": len(t.voice_ms), "keys": len(t.keys_ms)},
            "voice_to_voice_ms": _ms(percentiles(t.voice_ms)),
            "keys_to_voice_ms": _ms(percentiles(t.keys_ms)),
            "processing_ms": self.processing(),
            "greeting_ms": _ms(percentiles(t.greeting_ms)),
            "late_frames": t.late_frames, "late_ms": round(t.late_ms, 1), "gaps_over_40ms": t.gaps,
            "bot_media_messages": t.bot_media,
            "failed_calls": t.failed, "failures": t.failures,
            "calls_placed": t.placed, "calls_completed": t.completed, "calls_moved_by_bot": t.moved,
            "misheard": t.misheard, "unheard": t.unheard, "early_replies": t.early_replies, "slowest_turns": t.slowest,
            "generator": {"cpu_percent": round(100 * t.cpu_s / self.duration_s, 1),
                          "late_sends": t.late_sends, "max_send_lag_ms": round(t.max_send_lag_ms, 1)},
            "server": self._server_dict(),
        }

    def _server_dict(self) -> dict[str, object] | None:
        use = self.server
        if use is None:
            return None
        workers = use.workers or use.pids
        return {"pids": use.pids, "workers": workers, "cpu_percent": round(use.cpu_percent(), 1),
                "cpu_percent_by_pid": {str(p): round(100 * s / use.wall_s, 1) for p, s in use.cpu_s.items()},
                "peak_rss_mib": {str(p): round(k / 1024, 1) for p, k in use.rss_kib.items()},
                "peak_pss_mib": {str(p): round(k / 1024, 1) for p, k in use.pss_kib.items()},
                "max_worker_pss_mib": round(max((use.pss_kib.get(p, 0) for p in workers), default=0) / 1024, 1)}


def render(report: CallsReport) -> str:
    """The figures as readable lines."""
    d = report.to_dict()
    v, k, p, g, gen = (d["voice_to_voice_ms"], d["keys_to_voice_ms"], d["processing_ms"], d["greeting_ms"],
                       d["generator"])
    lines = [
        f"{d['calls']} simultaneous streaming calls, {d['duration_s']} s measured, engine {d['engine']}"
        f" ({d['turns']['speech']} spoken + {d['turns']['keys']} keypad turns)",
        f"voice-to-voice   p50 {v['p50']} ms   p95 {v['p95']} ms   p99 {v['p99']} ms  (last caller speech -> first reply audio)",
        f"keys-to-voice    p50 {k['p50']} ms   p95 {k['p95']} ms   p99 {k['p99']} ms",
        f"processing       p50 {p['p50']} ms   p95 {p['p95']} ms   p99 {p['p99']} ms  (server: end of turn -> reply sent;"
        f" {p['turns']} turns, {p['share_within_100ms']} within 100 ms)",
        f"greeting         p50 {g['p50']} ms   p95 {g['p95']} ms",
        f"late frames      {d['late_frames']} ({d['late_ms']} ms)   gaps > 40 ms {d['gaps_over_40ms']}"
        f"   of {d['bot_media_messages']} bot media messages",
        f"failed calls     {d['failed_calls']} {d['failures'] or ''}  (placed {d['calls_placed']},"
        f" moved by the bot {d['calls_moved_by_bot']}, misheard {d['misheard']}, unheard {d['unheard']})",
        f"load generator   {gen['cpu_percent']} % of one core in {d['client_processes']} processes,"
        f" {gen['late_sends']} frames sent late, max lag {gen['max_send_lag_ms']} ms",
    ]
    slow = [f"slowest turn     {ms} ms: {note}" for ms, note in d["slowest_turns"][:3]]
    return "\n".join(lines + _server_lines(d["server"]) + slow)


def _server_lines(server: object) -> list[str]:
    if not isinstance(server, dict):
        return ["server           not found (give --pid): no CPU or memory figures"]
    pss = ", ".join(f"{pid}: {server['peak_pss_mib'][str(pid)]} MiB" for pid in server["workers"])
    return [f"server CPU       {server['cpu_percent']} % of one core ({server['cpu_percent_by_pid']})",
            f"server memory    PSS per worker {pss}; RSS {server['peak_rss_mib']}"]

