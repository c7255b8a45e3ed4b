"""`ivr sim --url`: the checks and one-line errors around a call to a running server."""
from __future__ import annotations

import os
import re
from pathlib import Path

import click
import requests
import websocket

from app.config import Settings
from app.sim.remote import RemoteDriver, SimError
from app.sim.runner import SimResult, run_script
from app.sim.script import Script
from app.sim.twilio_api import FakeTwilioApi, serve_fake_api

DEV_TOKEN = Path("var") / "dev-token"
DEFAULT_API_PORT = 8099
NETWORK_ERRORS = (requests.RequestException, websocket.WebSocketException, OSError)


def remote_call(settings: Settings, url: str, script: Script, api_port: int | None, token: str | None,
                fast: bool, interactive: bool = False) -> SimResult | None:
    """One call against the server at `url`; None for a typed (interactive) call."""
    check_server(url)
    port = api_port or api_port_from_env()
    api, stop = listen(port)
    settings = settings.replace(twilio_auth_token=server_token(token),
                                twilio_api_base=f"http://127.0.0.1:{port}")
    driver = RemoteDriver(settings, url, script, speed=8.0 if fast else 1.0, api=api)
    try:
        if interactive:
            from app.sim.interactive import play
            play(driver)
            return None
        return with_api_note(run_script(script, driver), driver, api, port)
    except SimError as exc:
        raise click.ClickException(str(exc)) from None
    except NETWORK_ERRORS as exc:
        raise click.ClickException(f"the call to {url} broke off: {short(exc)}") from None
    finally:
        stop()


def check_server(url: str) -> None:
    """Before any call: is an IVR server at `url`? One line when not."""
    if not re.match(r"^https?://[^/]+", url):
        raise click.BadParameter(f"expected the server's base URL like http://127.0.0.1:8000, got {url!r}",
                                 param_hint="--url")
    try:
        response = requests.get(url + "/healthz", timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"no server answers at {url} ({short(exc)}); start one with "
                                   "`make run`, or correct --url") from None
    if response.status_code != 200 or "transport" not in response.text:
        raise click.ClickException(f"{url}/healthz answered {response.status_code}, not the IVR server's "
                                   "health check: --url is the server's base URL, e.g. http://127.0.0.1:8000")


def server_token(token: str | None) -> str:
    """--token, else TWILIO_AUTH_TOKEN, else the local token `make run` wrote."""
    found = token or os.environ.get("TWILIO_AUTH_TOKEN") or ""
    if not found and DEV_TOKEN.is_file():
        found = DEV_TOKEN.read_text().strip()
    if not found:
        raise click.UsageError("no token to sign with: give --token or set TWILIO_AUTH_TOKEN to the "
                               "server's (`make run` keeps its local one in var/dev-token)")
    return found


def api_port_from_env() -> int:
    """Where the server's TWILIO_API_BASE points when it is on this machine, else 8099."""
    match = re.match(r"https?://(127\.0\.0\.1|localhost):(\d+)", os.environ.get("TWILIO_API_BASE", ""))
    return int(match.group(2)) if match else DEFAULT_API_PORT


def listen(port: int) -> tuple[FakeTwilioApi, object]:
    """The stand-in REST API on `port`, or one line saying the port is taken."""
    try:
        return serve_fake_api(port)
    except OSError as exc:
        raise click.ClickException(
            f"--api-port {port}: cannot listen there ({os.strerror(exc.errno) if exc.errno else exc}); another simulator or program "
            f"holds it. Give a free --api-port and start the server with TWILIO_API_BASE=http://127.0.0.1:PORT "
            "(`make run SIM_API_PORT=PORT`)") from None


def with_api_note(result: SimResult, driver: RemoteDriver, api: FakeTwilioApi, port: int) -> SimResult:
    """A streaming server moves and ends calls over REST: if none of it arrived, say where it should."""
    if driver.streamed and not api.auth_seen and result.outcome == "hangup" and not result.passed:
        result.failures.append(f"no REST call from the server reached the simulator's stand-in API on port "
                               f"{port}; if the server should have moved or ended the call, start it with "
                               f"TWILIO_API_BASE=http://127.0.0.1:{port} (`make run SIM_API_PORT={port}`) "
                               "or give --api-port its port")
    return result


def short(exc: BaseException) -> str:
    """'Connection refused' rather than a urllib3 pool repr."""
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if known in text:
            return known.lower()
    return text.splitlines()[0][:200] if text else type(exc).__name__
