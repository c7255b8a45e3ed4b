"""`ivr bench`: measure a running server (see docs/benchmarks.md)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from app.cli import main

DEV_TOKEN = Path("var") / "dev-token"


@main.group("bench")
def bench_group() -> None:
    """Load a running server and report throughput, latency, CPU and memory."""


def _token(token: str | None) -> str:
    """--token, else TWILIO_AUTH_TOKEN, else the local token `make run` wrote."""
    found = token or os.environ.get("TWILIO_AUTH_TOKEN")
    if not found and DEV_TOKEN.is_file():
        found = DEV_TOKEN.read_text().strip()
    if not found:
        raise click.UsageError("no token: give --token, set TWILIO_AUTH_TOKEN, or run `make run` once")
    return found


@bench_group.command("webhooks")
@click.option("--url", required=True, help="Base URL of the running server, e.g. http://127.0.0.1:8000")
@click.option("--seconds", type=click.FloatRange(min=1), default=20, show_default=True,
              help="Measured time (after the warm-up).")
@click.option("--concurrency", type=click.IntRange(min=1, max=256), default=8, show_default=True,
              help="Client processes, each playing whole calls one after another.")
@click.option("--connections", type=click.IntRange(min=0, max=64), default=0, show_default=True,
              help="Keep-alive connections per client process, reused call after call as a reverse "
                   "proxy's upstream pool is; 0: a new connection for every call, as Twilio straight "
                   "to gunicorn.")
@click.option("--token", help="The server's TWILIO_AUTH_TOKEN (default: env, then var/dev-token).")
@click.option("--public-url", help="The server's PUBLIC_URL, which signatures cover (default: --url).")
@click.option("--warmup", type=click.FloatRange(min=0), default=2, show_default=True, help="Unmeasured seconds first.")
@click.option("--pid", type=int, help="The gunicorn master's pid (default: found by the URL's port).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def webhooks(url: str, seconds: float, concurrency: int, connections: int, token: str | None,
             public_url: str | None, warmup: float, pid: int | None, as_json: bool) -> None:
    """Whole signed keypad calls (incoming, 3 key turns, status) from concurrent clients."""
    from app.bench.webhooks import bench, render

    result = bench(url.rstrip("/"), (public_url or url).rstrip("/"), _token(token), seconds,
                   concurrency, warmup, pid, connections)
    click.echo(json.dumps(result.to_dict()) if as_json else render(result))
    if result.errors:
        raise SystemExit(1)


@bench_group.command("calls")
@click.option("--url", required=True, help="Base URL of the running server, e.g. http://127.0.0.1:8000")
@click.option("--calls", "count", type=click.IntRange(min=1, max=500), default=10, show_default=True,
              help="Simultaneous streaming calls.")
@click.option("--duration", type=click.FloatRange(min=1), default=60, show_default=True,
              help="Measured seconds, once every call is placed and greeted.")
@click.option("--api-port", type=int,
              help="Port for the stand-in Twilio REST API (default: TWILIO_API_BASE's, else 8099 as `make run`).")
@click.option("--token", help="The server's TWILIO_AUTH_TOKEN (default: env, then var/dev-token).")
@click.option("--public-url", help="The server's PUBLIC_URL, which signatures cover (default: --url).")
@click.option("--ramp", type=click.FloatRange(min=0), help="Seconds over which calls are placed [0.25 x calls].")
@click.option("--warmup", type=click.FloatRange(min=0), default=10, show_default=True,
              help="Unmeasured seconds after the ramp (the greetings play).")
@click.option("--processes", type=click.IntRange(min=1), help="Client processes [one per 10 calls].")
@click.option("--pid", type=int, help="The gunicorn master's pid (default: found by the URL's port).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def calls(url: str, count: int, duration: float, api_port: int | None, token: str | None,
          public_url: str | None, ramp: float | None, warmup: float, processes: int | None,
          pid: int | None, as_json: bool) -> None:
    """Simultaneous real-time streaming calls: turn latency, late audio, failures, server CPU and memory."""
    from app.bench.caller import Target
    from app.bench.callreport import render as render_calls
    from app.bench.calls import BenchError, api_port_from, bench_calls, caller_cache, server_health
    from app.cli.sim import SIM_API_BASE

    url = url.rstrip("/")
    try:
        port = api_port or api_port_from(os.environ.get("TWILIO_API_BASE", SIM_API_BASE))
        report = bench_calls(Target(url, (public_url or url).rstrip("/"), _token(token)), count, duration,
                             port, server_health(url), processes, ramp, warmup, pid, caller_cache())
    except BenchError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report.to_dict()) if as_json else render_calls(report))
    if report.tally.failed:
        raise SystemExit(1)


@bench_group.command("vad")
@click.option("--speech", "speech_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of real recordings (sets as subfolders of WAVs, e.g. ../shared/speech).")
@click.option("--per-set", type=click.IntRange(min=1), default=40, show_default=True,
              help="Recordings taken from each subfolder (the first, sorted by name).")
@click.option("--candidate", "names", multiple=True, help="Only these detectors (repeatable).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=Path("var/tts-cache"),
              show_default=True, help="Where synthesized callers are cached.")
def bench_vad(speech_dir: Path | None, per_set: int, names: tuple[str, ...], cache: Path) -> None:
    """Voice-activity detectors as the endpointer uses them: end-of-speech delay in line noise,
    missed speech, false starts on noise, breathing and coughs, and CPU (offline, no server)."""
    from app.bench.vad import recorded, report, synthesized
    from app.bench.vadcandidates import available
    candidates = available(list(names) or None)
    sets = {"synthesized": synthesized(cache)}
    if speech_dir is not None:
        sets["recorded"] = recorded(speech_dir, per_set)
    report(candidates, sets, lambda line: click.echo(line))
