"""Loading the operator's language files: grammars and prompts (file I/O happens only here)."""
from __future__ import annotations

from pathlib import Path

import yaml

from app.config import Settings
from app.dialog.prompts import PromptError, Prompts
from app.nlu.grammar import Grammar, load_grammar


def load_prompts(prompts_dir: Path, lang: str, disclosure: str | None = None) -> Prompts:
    """prompts/<lang>.yaml as a Prompts catalog; a missing or broken file is a clear error."""
    path = prompts_dir / f"{lang}.yaml"
    if not path.is_file():
        raise PromptError(f"{path}: no prompts for language {lang!r}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: not valid YAML ({exc})") from None
    return Prompts.from_document(doc, str(path)).with_variables(disclosure=disclosure)


def load_language(settings: Settings) -> tuple[Grammar, Prompts]:
    """The grammar and prompts for the configured language."""
    grammar_dir = settings.grammars_dir / settings.lang
    if not grammar_dir.is_dir():
        raise FileNotFoundError(f"{grammar_dir}: no grammars for language {settings.lang!r}")
    return load_grammar(grammar_dir), load_prompts(settings.prompts_dir, settings.lang,
                                                   settings.bot_disclosure)
