"""`ivr classify`: utterances on stdin -> one JSON intent object per line on stdout."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.cli import main
from app.config import language_files

if TYPE_CHECKING:  # the matcher pulls in numpy and rapidfuzz: loaded only when a command runs
    from app.nlu.intents import Matcher

GRAMMARS_OPTION = click.option(
    "--grammars-dir", type=click.Path(path_type=Path), envvar="IVR_GRAMMARS_DIR",
    default=lambda: language_files("grammars"),
    help="Directory holding one grammar directory per language (default: IVR_GRAMMARS_DIR, else the "
         "grammars installed with the package).")
LANG_OPTION = click.option("--lang", default="en", show_default=True, help="Language of the utterances.")


def load_matcher(grammars_dir: Path, lang: str) -> "Matcher":
    """The matcher for a language; an unknown language is a usage error (exit 2)."""
    from app.nlu.grammar import GrammarError, load_grammar
    from app.nlu.intents import Matcher

    directory = grammars_dir / lang
    if not directory.is_dir() or not any(directory.glob("*.yaml")):
        known = sorted(p.name for p in grammars_dir.iterdir() if p.is_dir()) if grammars_dir.is_dir() else []
        raise click.BadParameter(
            f"no grammar for language '{lang}' in {grammars_dir.resolve()}/ (available: "
            f"{', '.join(known) or 'none'}; --grammars-dir or IVR_GRAMMARS_DIR points elsewhere)",
            param_hint="'--lang'")
    try:
        return Matcher(load_grammar(directory, lang))
    except GrammarError as exc:
        raise click.ClickException(f"bad grammar: {exc}") from exc
    except ValueError as exc:       # a grammar for a language whose spoken numbers we cannot read
        raise click.BadParameter(str(exc), param_hint="'--lang'") from exc


@main.command("classify")
@LANG_OPTION
@GRAMMARS_OPTION
@click.option("--expect", default="", help="Comma-separated intents the dialog expects (preferred).")
def classify(lang: str, grammars_dir: Path, expect: str) -> None:
    """Classify utterances read one per line from stdin; print one JSON object per line."""
    matcher = load_matcher(grammars_dir, lang)
    expected = tuple(e.strip() for e in expect.split(",") if e.strip())
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        match = matcher.match(text, expected)
        record = {"text": text, "intent": match.intent, "confidence": round(match.confidence, 3),
                  "slots": match.slots}
        click.echo(json.dumps(record, ensure_ascii=False))
