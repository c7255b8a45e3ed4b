"""Interactive simulator: type what the caller says; /press KEYS, /silence SECONDS, /quit."""
from __future__ import annotations

import click

from app.config import Settings
from app.sim.driver import BotTurn, CallDriver
from app.sim.script import Script

HELP = "Type what the caller says. /press 123# presses keys, /silence 6 stays silent, /quit hangs up."


def run_interactive(settings: Settings, audio: bool = False, demo_data: bool = True,
                    caller: str = "+15550123") -> str:
    """Run one in-process call typed at the terminal; returns its outcome."""
    script = Script(name="interactive", steps=(), caller=caller)
    from app.sim.local import local_driver, local_services
    with local_services(settings, demo_data, audio=audio) as services:
        voice = None
        if audio:
            from app.sim.hearing import caller_voice
            voice = caller_voice(settings)
        return play(local_driver(services, script, voice))


def play(driver: CallDriver) -> str:
    """Type the caller's part of a call over `driver` (in-process or over --url)."""
    click.echo(HELP)
    turn = driver.start()
    while _show(turn):
        line = click.prompt("caller", default="", show_default=False).strip()
        if line in ("/quit", "/q", "/hangup"):
            break
        turn = _act(driver, line)
    outcome = driver.finish()
    click.echo(f"call ended: {outcome}")
    return outcome


def _act(driver: CallDriver, line: str) -> BotTurn:
    if line.startswith("/press"):
        return driver.press(line.removeprefix("/press").strip() or "#")
    if line.startswith("/silence"):
        raw = line.removeprefix("/silence").strip()
        return driver.silence(float(raw) if raw.replace(".", "", 1).isdigit() else 6.0)
    if not line:
        return driver.silence(6.0)
    return driver.say(line)


def _show(turn: BotTurn) -> bool:
    for text in turn.texts:
        click.echo(f"   bot: {text}")
    if turn.transfer:
        click.echo(f"   [transferred to {turn.transfer['to']}] whisper: {turn.transfer['summary']}")
    return not turn.ended
