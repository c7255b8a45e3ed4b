"""`ivr speech-eval` and `ivr speech-synth`: how well the bot hears callers, measured end to end."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app.cli import main

DEFAULT_TSVS = ("tests/nlu/tuning_utterances.tsv",)


@main.command("speech-eval")
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--limit", type=int, default=0, help="At most this many items per folder (0: all), spread evenly.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--misses", is_flag=True, help="Also list every item the bot got wrong.")
def speech_eval(folders: tuple[Path, ...], limit: int, as_json: bool, misses: bool) -> None:
    """Play labelled recordings through the live call path and report how the bot heard them.

    Each FOLDER holds WAV files and a labels.tsv: ours (file, state, intent, slots[, text,
    condition]; see `ivr speech-synth`) or one of the shared real-speech sets (AN4, Speech
    Commands, FSDD). Settings come from the environment as for the server (IVR_ASR,
    VOSK_MODEL_PATH, IVR_ORDER_NUMBER_DIGITS, ...); the demo business data is used.
    """
    from app.cli.report import tool_settings
    from app.sim.local import local_services
    from app.speecheval.items import LabelError, read_set
    from app.speecheval.report import grouped, misses as miss_lines, render
    from app.speecheval.runner import run_items

    settings = tool_settings().replace(transport="stream")   # in-process: no Twilio token needed
    try:
        items = [item for folder in folders for item in _spread(read_set(folder, settings.order_number_digits), limit)]
    except LabelError as exc:
        raise click.ClickException(str(exc)) from exc
    with local_services(settings, audio=True) as services:
        outcomes = run_items(services, items)
    rows = grouped(outcomes)
    if as_json:
        click.echo(json.dumps({"figures": [r.as_dict() for r in rows],
                               "misses": miss_lines(outcomes) if misses else []}))
        return
    click.echo(render(rows))
    if misses:
        click.echo("\n".join(miss_lines(outcomes)))


@main.command("speech-synth")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--utterances", "tsvs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled utterance files (text, intent, slots) to speak; repeatable.")
@click.option("--noise", default="", help="Comma list of SNRs in dB for noisy copies, e.g. 20,15,10.")
@click.option("--voices", default=0, type=int, help="Use only the first N voices (0: all four).")
@click.option("--numbers", default=24, type=int, help="How many spoken order numbers to add.")
def speech_synth(out: Path, tsvs: tuple[Path, ...], noise: str, voices: int, numbers: int) -> None:
    """Write a synthesized caller set (WAVs and labels.tsv) for `ivr speech-eval`.

    Every utterance of the given files, the escape phrases in every state, order numbers read
    out and yes/no answers, in several espeak-ng voices, clean and with line noise."""
    from app.speecheval.synth import VOICES, all_lines, write_set

    try:
        snrs = [float(s) for s in noise.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers such as 20,10, got {noise!r}", param_hint="--noise")
    paths = tsvs or tuple(Path(p) for p in DEFAULT_TSVS if Path(p).is_file())
    count = write_set(out, all_lines(paths, numbers), VOICES[:voices] if voices else VOICES, snrs)
    print(f"{out}: {count} recordings", file=sys.stderr)


def _spread(items: list, limit: int) -> list:
    """Every n-th item so that at most `limit` remain (keeps every set and state represented)."""
    if not limit or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]
