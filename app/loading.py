"""Loading the operator's language files: grammars and prompts (file I/O happens only here)."""
from __future__ import annotations

from pathlib import Path

import yaml

from app.config import Settings, SettingsError
from app.dialog.agentwords import AgentWords
from app.dialog.prompts import PromptError, Prompts
from app.nlu.grammar import Grammar, GrammarError, load_grammar


class LanguageFilesError(SettingsError):
    """Grammars or prompts are missing or broken; the message says where it looked."""


def load_prompts(prompts_dir: Path, lang: str, disclosure: str | None = None) -> Prompts:
    """prompts/<lang>.yaml as a Prompts catalog; a missing or broken file is a clear error.

    The file's `agent:` section (the whisper's words) is checked here too, so a broken one
    stops the start-up even while agents hear another language. Raises PromptError."""
    doc, origin = _read_prompts(prompts_dir, lang)
    prompts = Prompts.from_document(doc, origin)
    AgentWords.from_document(doc, lang, origin)
    return prompts.with_variables(disclosure=disclosure)


def load_agent_words(prompts_dir: Path, lang: str) -> AgentWords:
    """The whisper's words from the `agent:` section of prompts/<lang>.yaml. Raises PromptError."""
    doc, origin = _read_prompts(prompts_dir, lang)
    return AgentWords.from_document(doc, lang, origin)


def _read_prompts(prompts_dir: Path, lang: str) -> tuple[object, str]:
    """The parsed prompts/<lang>.yaml and its path (to name in errors)."""
    path = prompts_dir / f"{lang}.yaml"
    if not path.is_file():
        raise PromptError(f"{path}: no prompts for language {lang!r} (IVR_PROMPTS_DIR names a "
                          f"directory holding <lang>.yaml)")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), str(path)
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: not valid YAML ({exc})") from None


def load_language(settings: Settings, lang: str | None = None) -> tuple[Grammar, Prompts]:
    """The grammar and prompts for a language (default: the configured one, IVR_LANG)."""
    lang = lang or settings.lang
    grammar_dir = settings.grammars_dir / lang
    if not grammar_dir.is_dir():
        raise LanguageFilesError(f"{grammar_dir.resolve()}: no grammars for language {lang!r} "
                                 f"(IVR_GRAMMARS_DIR names a directory holding <lang>/*.yaml)")
    # The operator's disclosure is written in the default language: other languages keep their own.
    disclosure = settings.bot_disclosure if lang == settings.lang else None
    try:
        return load_grammar(grammar_dir, lang), load_prompts(settings.prompts_dir, lang, disclosure)
    except (GrammarError, PromptError, ValueError) as exc:
        raise LanguageFilesError(str(exc)) from None


def load_languages(settings: Settings) -> dict[str, tuple[Grammar, Prompts]]:
    """Grammar and prompts of every language served (IVR_LANG, IVR_LANGS, IVR_LANG_BY_NUMBER)."""
    return {lang: load_language(settings, lang) for lang in settings.languages}


def load_whisper_words(settings: Settings) -> AgentWords:
    """The whisper's words in the agents' language (IVR_AGENT_LANG, default IVR_LANG).

    Read on its own: agents may speak a language no caller is served in. Raises
    LanguageFilesError (a start-up error) when that language has no valid prompts file."""
    try:
        return load_agent_words(settings.prompts_dir, settings.agents_lang)
    except PromptError as exc:
        raise LanguageFilesError(f"IVR_AGENT_LANG: {exc}") from None
