"""`ivr bench calls`: N simultaneous, real-time streaming calls against a running server.

Calls are spread over client processes (threads in one process would share one GIL with every
other call's pacing), placed one after another over a ramp, then measured together over a window.
The fake Twilio REST API runs here, in the parent: the server's TWILIO_API_BASE must point at it.
"""
from __future__ import annotations

import itertools
import json
import math
import multiprocessing
import os
import queue
import re
import threading
import time
import urllib.request
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from app.bench.caller import BenchCall, Target
from app.bench.callreport import CallsReport, ServerWatch, reply_buckets, scrape_metrics
from app.bench.procstat import pids_listening_on, with_children
from app.bench.traffic import call_sid
from app.bench.turns import CallTally, Utterance, caller_lines, voice_for
from app.sim.twilio_api import FakeTwilioApi, serve_fake_api

CALLS_PER_PROCESS = 10
RETRY_PAUSE_S = 1.0          # after a failed call, before the slot places the next one
RESULT_TIMEOUT_S = 60.0      # past the window, for the clients to hang up and report


class BenchError(RuntimeError):
    """The bench cannot run against this server (not streaming, not reachable)."""


@dataclass(frozen=True)
class Plan:
    """What every client process needs: the server, the call count and the timeline (time.time())."""

    target: Target
    calls: int
    start_at: float
    ramp_s: float
    warmup_s: float
    duration_s: float
    run: int

    @property
    def window(self) -> tuple[float, float]:
        """The measured window: every call placed and past its greeting."""
        begin = self.start_at + self.ramp_s + self.warmup_s
        return begin, begin + self.duration_s

    def placed_at(self, slot: int) -> float:
        """When a slot places its first call (calls arrive one after another, not all at once)."""
        return self.start_at + self.ramp_s * slot / self.calls


def bench_calls(target: Target, calls: int, duration_s: float, api_port: int, health: dict,
                processes: int | None = None, ramp_s: float | None = None, warmup_s: float = 10.0,
                pid: int | None = None, cache_dir: Path = Path("var") / "tts-callers") -> CallsReport:
    """Run the calls and measure the server; `health` is the server's /healthz answer."""
    if health.get("transport") != "stream":
        raise BenchError(f"the server's transport is {health.get('transport')!r}: start it with IVR_TRANSPORT=stream")
    procs = processes or math.ceil(calls / CALLS_PER_PROCESS)
    ramp = ramp_s if ramp_s is not None else 0.25 * calls
    voices = {voice: caller_lines(voice, cache_dir) for voice in {voice_for(s) for s in range(calls)}}
    plan = Plan(target, calls, time.time() + 3.0, ramp, warmup_s, duration_s, int(time.time()) & 0xFFFFFFFF)
    watch = ServerWatch(server_pids(target.url, pid))
    try:
        api, stop_api = serve_fake_api(api_port)
    except OSError as exc:
        raise BenchError(f"cannot serve the fake Twilio REST API on port {api_port}: {exc}") from None
    try:
        tally, before, after = _run(plan, procs, voices, api, watch)
    finally:
        stop_api()
    return CallsReport(plan.calls, procs, duration_s, str(health.get("asr", "?")), tally,
                       reply_buckets(after, before), watch.usage())


def _run(plan: Plan, procs: int, voices: dict[str, dict[str, Utterance]], api: FakeTwilioApi,
         watch: ServerWatch) -> tuple[CallTally, str, str]:
    """Start the client processes; read the server's metrics and usage at the window's edges."""
    ctx = multiprocessing.get_context("spawn")
    inboxes, results = [ctx.Queue() for _ in range(procs)], ctx.Queue()
    api.on_update = lambda update: _route_update(update, inboxes)
    workers = [ctx.Process(target=run_process, args=(plan, index, list(range(index, plan.calls, procs)),
                                                     voices, inboxes[index], results), daemon=True)
               for index in range(procs)]
    for worker in workers:
        worker.start()
    begin, end = plan.window
    before = _scrape_at(plan.target.url, begin, watch.start)
    after = _scrape_at(plan.target.url, end, watch.stop)
    tally = CallTally()
    try:
        for _ in workers:
            tally.merge(results.get(timeout=RESULT_TIMEOUT_S + end - time.time()))
    except queue.Empty:
        raise BenchError("a client process never reported (see its traceback above)") from None
    for worker in workers:
        worker.join(timeout=10)
    return tally, before, after


def _route_update(update: dict, inboxes: "list[Queue[dict]]") -> None:
    """A live-call update goes to the process playing that call (its slot is in the CallSid)."""
    try:
        slot = int(str(update.get("call_sid", ""))[2:6], 16)
    except ValueError:
        return      # not one of ours
    inboxes[slot % len(inboxes)].put(update)


def _scrape_at(url: str, when: float, then: Callable[[], None]) -> str:
    time.sleep(max(0.0, when - time.time()))
    then()
    return scrape_metrics(url)


def server_health(url: str) -> dict:
    """The server's /healthz answer (transport and engine); raises BenchError when it is not up."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=5) as response:
            return json.load(response)
    except OSError as exc:
        raise BenchError(f"no server at {url}: {exc}") from None


def api_port_from(api_base: str | None) -> int:
    """The fake API's port: where a loopback TWILIO_API_BASE points."""
    match = re.match(r"https?://(127\.0\.0\.1|localhost):(\d+)", api_base or "")
    if not match:
        raise BenchError("give --api-port, or set TWILIO_API_BASE=http://127.0.0.1:PORT as the server has it")
    return int(match.group(2))


def server_pids(url: str, pid: int | None) -> list[int]:
    """The gunicorn master and workers: from --pid, else whoever listens on the URL's port."""
    if pid is not None:
        return with_children(pid)
    return pids_listening_on(urlsplit(url).port or 80)


# -- in each client process ----------------------------------------------------------------
def run_process(plan: Plan, index: int, slots: list[int], voices: dict[str, dict[str, Utterance]],
                inbox: "Queue[dict]", results: "Queue[CallTally]") -> None:
    """Play the slots' calls in threads; put this process's tally on `results`."""
    tally, lock, live = CallTally(), threading.Lock(), {}
    threading.Thread(target=_deliver_updates, args=(inbox, live), daemon=True).start()
    threads = [threading.Thread(target=_play_slot, args=(plan, slot, voices[voice_for(slot)], live, tally, lock),
                                daemon=True, name=f"call-{slot}") for slot in slots]
    for thread in threads:
        thread.start()
    tally.cpu_s = _cpu_in(plan.window)
    for thread in threads:
        thread.join(timeout=RESULT_TIMEOUT_S)
    results.put(tally)


def _play_slot(plan: Plan, slot: int, lines: dict[str, Utterance], live: dict[str, BenchCall],
               tally: CallTally, lock: threading.Lock) -> None:
    """One line of the switchboard: a call, and another when the bot ended it or it failed."""
    time.sleep(max(0.0, plan.placed_at(slot) - time.time()))
    for sequence in itertools.count():
        if time.time() >= plan.window[1]:
            return
        own = CallTally(placed=1)
        call = BenchCall(plan.target, call_sid(slot, plan.run, sequence), f"+1555{7000 + slot:04d}", lines,
                         plan.window, own)
        live[call.sid] = call
        call.play()
        live.pop(call.sid, None)
        with lock:
            tally.merge(own)
        if own.failed:
            time.sleep(RETRY_PAUSE_S)


def _deliver_updates(inbox: "Queue[dict]", live: dict[str, BenchCall]) -> None:
    while True:
        update = inbox.get()
        call = live.get(update.get("call_sid", ""))
        if call is not None:
            call.on_update(update)


def _cpu_in(window: tuple[float, float]) -> float:
    """This process's CPU seconds inside the window (the load generator's own cost)."""
    time.sleep(max(0.0, window[0] - time.time()))
    began = time.process_time()
    time.sleep(max(0.0, window[1] - time.time()))
    return time.process_time() - began


def caller_cache() -> Path:
    """Where caller audio is cached: next to the prompts (IVR_DATA_DIR)."""
    return Path(os.environ.get("IVR_DATA_DIR", "var")) / "tts-callers"

