"""`ivr sim`: run a scripted call (or type one) in-process or against a running server."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app.cli import main
from app.config import Settings, SettingsError
from app.sim.runner import SimResult, run_script
from app.sim.script import Script, ScriptError, load_script

SIM_TOKEN = "simulator-token"
SIM_API_PORT = 8099      # where `make run` sends live-call updates without an account (its SIM_API_PORT)
SIM_API_BASE = f"http://127.0.0.1:{SIM_API_PORT}"
DEV_TOKEN = Path("var") / "dev-token"


@main.command("sim")
@click.option("--script", "script_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A call script (YAML). Without it, type the caller's lines.")
@click.option("--url", help="Play Twilio against a running server at this base URL (its PUBLIC_URL).")
@click.option("--audio", is_flag=True, help="In-process: speak the caller's lines into the live voice path (endpointer, recognizer).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the result.")
@click.option("--demo-data/--configured-data", default=True,
              help="In-process: a fresh demo database (default) or DATABASE_URL.")
@click.option("--fast", is_flag=True, help="With --url: send audio faster than real time.")
@click.option("--api-port", type=click.IntRange(1, 65535), envvar="SIM_API_PORT",
              help="With --url: the port of the simulator's stand-in for Twilio's REST API, where the "
                   "server's TWILIO_API_BASE points (default: SIM_API_PORT, else TWILIO_API_BASE's port, "
                   "else 8099, as `make run` sets them).")
@click.option("--token", help="With --url: the server's TWILIO_AUTH_TOKEN (default: TWILIO_AUTH_TOKEN, "
                              "else var/dev-token, which `make run` writes).")
def sim(script_path: Path | None, url: str | None, audio: bool, as_json: bool,
        demo_data: bool, fast: bool, api_port: int | None, token: str | None) -> None:
    """Simulate a phone call to the bot; exit status 0 when every expectation held."""
    settings = _settings()
    script = _script(script_path)
    if url:
        from app.cli.simremote import remote_call
        result = remote_call(settings, url.rstrip("/"), script, api_port, token, fast,
                             interactive=script_path is None)
    elif script_path is None:
        from app.sim.interactive import run_interactive
        run_interactive(settings, audio=audio, demo_data=demo_data)
        return
    else:
        result = _run_local(script, settings, audio, demo_data)
    if result is None:
        return
    _print(result, as_json)
    sys.exit(0 if result.passed else 1)


def _script(script_path: Path | None) -> Script:
    if script_path is None:
        return Script(name="interactive", steps=(), caller="+15550123")
    try:
        return load_script(script_path)
    except ScriptError as exc:
        raise click.UsageError(str(exc)) from None


def _settings() -> Settings:
    try:
        return Settings.from_env(defaults={"TWILIO_AUTH_TOKEN": SIM_TOKEN,
                                           "TWILIO_API_BASE": SIM_API_BASE})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _run_local(script: Script, settings: Settings, audio: bool, demo_data: bool) -> SimResult:
    from app.sim.local import local_driver, local_services, script_settings
    settings = script_settings(settings, script)
    with local_services(settings, demo_data, audio=audio) as services:
        voice = None
        if audio:
            from app.sim.hearing import caller_voice
            from app.config import VOICES
            voice = caller_voice(settings, script.caller_voice(VOICES))   # a French script speaks French
        return run_script(script, local_driver(services, script, voice))


def _print(result: SimResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    for turn in result.turns:
        if turn["caller"]:
            click.echo(f"caller: {turn['caller']}  [{turn['intent'] or '-'}]")
        click.echo(f"   bot: {turn['bot']}")
    if result.transfer:
        click.echo(f"transfer to {result.transfer['to']}: {result.transfer['summary']}")
    click.echo(f"outcome: {result.outcome}")
    click.echo("PASSED" if result.passed else "FAILED:\n  " + "\n  ".join(result.failures))
