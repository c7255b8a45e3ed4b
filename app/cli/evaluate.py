"""`ivr nlu-eval`: intent and slot accuracy of the grammars on labelled TSV files."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.cli import main
from app.cli.classify import GRAMMARS_OPTION, LANG_OPTION, load_matcher

if TYPE_CHECKING:
    from app.nlu.evaluation import Report


@main.command("nlu-eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@LANG_OPTION
@GRAMMARS_OPTION
@click.option("--fit", is_flag=True, help="Also fit and print the confidence curve (intents.CALIBRATION).")
def nlu_eval(files: tuple[Path, ...], lang: str, grammars_dir: Path, fit: bool) -> None:
    """Print intent accuracy, slot accuracy and the misclassified lines of TSV files.

    Each line: text<TAB>intent<TAB>slots JSON ({} when none); '#' lines are comments.
    """
    from app.nlu.evaluation import evaluate, fit_calibration, parse_examples, reliability

    matcher = load_matcher(grammars_dir, lang)
    everything = []
    for path in files:
        try:
            examples = parse_examples(path.read_text(encoding="utf-8").splitlines(), str(path))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        everything.extend(examples)
        _print_report(path, evaluate(matcher, examples))
    if fit:
        click.echo(f"calibration fit (bias, score, margin, unknown, keywords): {fit_calibration(matcher, everything)}")
        for floor, count, confidence, accuracy in reliability(matcher, everything):
            click.echo(f"  confidence >= {floor:.1f}: {count} answers, mean confidence {confidence:.2f}, "
                       f"accuracy {accuracy:.2f}")


def _print_report(path: Path, report: "Report") -> None:
    """Accuracy lines and one MISS line per misclassified utterance."""
    click.echo(f"{path}: {report.total} utterances")
    click.echo(f"  intent accuracy: {report.intent_accuracy:.1%} ({report.intents_right}/{report.total})")
    click.echo(f"  slot accuracy:   {report.slot_accuracy:.1%} ({report.slots_right}/{report.total}); "
               f"on lines with slots {report.slot_lines_right}/{report.slot_lines}")
    for example, match in report.errors:
        click.echo(f"  MISS {example.text!r}: expected {example.intent} {example.slots}, "
                   f"got {match.intent} {match.confidence:.2f} {match.slots}")
