"""gunicorn settings for the Procfile's web process (the port comes from the Procfile's --bind)."""
import gc
import os
import shlex
import socket
import sys
import threading
from pathlib import Path

# One worker per core plus one, unless WEB_CONCURRENCY says otherwise (a value set here wins
# over gunicorn's own reading of it, so it is read here); threads serve the long-lived Media
# Streams websockets next to short webhooks. Measured on 2 cores (docs/benchmarks.md):
# - `ivr bench calls`, 20 calls: every live call keeps two threads busy 50 times a second and a
#   turn's reply waits for the GIL behind them: reply-time p95 88 ms with 2 workers, 9.5 ms with 3;
# - `ivr bench webhooks`: 3 workers answered 13-20 % more than 4, for less CPU: every worker
#   keeps its own copy of the objects it touches, and fewer copies stay in the CPU's caches.
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1))
worker_class = "gthread"
threads = 32
# Load the app (and its speech model) once in the master, shared copy-on-write by the workers.
preload_app = True
timeout = 120
graceful_timeout = 20
# Request heads stay small (Twilio's are about 1 KB); keep-alive connections idle for 5 s at most.
# These bound one connection; many slow clients need the buffering proxy (deploy/nginx/ivr.conf).
limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190
keepalive = 5
# No access log by default: the app logs every call with its CallSid (JSON), and a formatted
# line per webhook cost about 3 % of a request's CPU. `GUNICORN_CMD_ARGS="--access-logfile -"`
# turns it on.
accesslog = None
# gunicorn's control socket (for gunicornc) defaults to one path per user, shared by every
# instance: a second server started on a busy port removed the running server's socket on its
# way out. Nothing here uses it, so it is off.
control_socket_disable = True
# Each worker's heartbeat touches a file on every pass of its event loop (once per request under
# load). On a disk or overlay filesystem that syscall showed up at about 5 % of a webhook's CPU;
# gunicorn's docs advise a memory filesystem for it.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

# Metrics from every worker: prometheus-client's multi-process mode keeps each worker's values
# in files under PROMETHEUS_MULTIPROC_DIR, and /metrics adds them up. It must be set before the
# app (and prometheus-client) is imported, which is why it is set here and not in app settings.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path("var") / "prometheus"))


def fresh_metrics_dir() -> Path:
    """An existing, empty metrics directory: files left by an earlier run would be added in."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return directory


# Here, not in a server hook: the preloaded app opens its metric files as it is imported.
fresh_metrics_dir()


def child_exit(server: object, worker: object) -> None:
    """A worker ended: drop its live-gauge files (its counters and histograms stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def when_ready(server: object) -> None:
    """The preloaded app is built: keep its objects out of the garbage collector's sweeps.

    Everything loaded so far (grammars, prompts, models) lives as long as the server. Frozen,
    a full collection in a worker no longer walks it (measured: about 100 ms, stalling whatever
    request or audio frame was running), and the workers' copies of those pages stay shared.
    """
    gc.collect()
    gc.freeze()


# Voice-activity detectors a worker makes as it starts. Made at the calls' own start, 20 calls on
# a fresh server each loaded one at once (~160 ms of CPU each) and greetings waited 3.3 s (p50,
# docs/benchmarks.md). Four per worker covers a burst of 12 calls on 3 workers for ~40 MB.
DETECTORS_PER_WORKER = 4


def post_fork(server: object, worker: object) -> None:
    """A worker started: make its detectors now, on a thread beside its first requests.

    Not in the master before the fork: the detector's ONNX Runtime keeps threads, which a fork
    does not carry over."""
    app = getattr(sys.modules.get("app.wsgi"), "app", None)
    voice = getattr(getattr(app, "extensions", {}).get("ivr"), "voice", None)
    if voice is not None:
        threading.Thread(target=voice.detectors.fill, args=(DETECTORS_PER_WORKER,),
                         name="vad-preload", daemon=True).start()


def _binds(argv: list[str], env_args: str) -> list[str]:
    """The addresses gunicorn will listen on, parsed by gunicorn's own option parser."""
    from gunicorn.config import Config

    parser = Config().parser()
    found: list[str] = []
    for args in (shlex.split(env_args), argv):
        found = parser.parse_known_args(args)[0].bind or found
    return found or ["127.0.0.1:8000"]


def _in_use(bind: str) -> bool:
    """True when a TCP address cannot be bound now (another server listens there)."""
    if bind.startswith(("unix:", "fd://")):
        return False
    host, _, port = bind.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as gunicorn binds
        try:
            probe.bind((host.strip("[]") or "0.0.0.0", int(port)))
        except OSError:
            return True
    return False


def refuse_busy_port(argv: list[str], env_args: str) -> None:
    """Stop before the app loads when the port is taken: gunicorn would first load the app
    (preload: "IVR ready") and then retry the bind with a screenful of errors."""
    for bind in _binds(argv, env_args):
        if _in_use(bind):
            print(f"ivr: cannot start: PORT: {bind} is already in use by another program; "
                  "stop it or set PORT to a free port", file=sys.stderr)
            sys.exit(2)


if Path(sys.argv[0]).name == "gunicorn" or sys.argv[0].endswith("gunicorn/__main__.py"):
    refuse_busy_port(sys.argv[1:], os.environ.get("GUNICORN_CMD_ARGS", ""))
