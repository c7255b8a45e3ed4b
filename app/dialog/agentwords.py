"""The words of the agent's whisper: parsed from the `agent:` section of prompts/<lang>.yaml.

The words themselves live in the prompts files, where an operator edits them; this module only
knows their shape (which frames exist and which {slots} each may use) and how to look them up.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Mapping

from app.dialog.prompts import PromptError

SECTION = "agent"
# Every frame of the whisper, with the {slots} it may use. A frame missing from a file, or a slot
# the code does not fill, would fail mid-call on the agent's leg: both are refused at load.
FRAME_SLOTS: Mapping[str, frozenset[str]] = {
    "incoming": frozenset(),                  # said alone when the call's state is gone
    "unknown": frozenset(),                   # a caller with a number but no name
    "withheld": frozenset(),                  # a caller without a number
    "about": frozenset({"want"}),             # follows who is calling
    "speaks": frozenset({"language"}),        # when the caller's language is not the agents'
    "order": frozenset({"number", "status"}),   # {status} is ", <status words>" or ""
    "reason": frozenset({"why"}),
    "not_found": frozenset({"number"}),       # the reason, for an order never found
    "tries": frozenset({"tries"}),            # follows the reason
    "frustrated": frozenset(),
    "said": frozenset({"quote"}),
    "page": frozenset(),                      # when agents have a call page (AGENT_TOKEN)
    "take": frozenset(),                      # the last thing the agent hears
}
# The lookups by name: a missing entry falls back to the English identifier the code carries.
LOOKUPS = ("wants", "reasons", "languages")


@dataclass(frozen=True)
class AgentWords:
    """The whisper's words in one language (`lang`, the agents' language).

    frames: frame id -> text with {slots} (every id of FRAME_SLOTS);
    wants: task (intent) -> what the call is about; reasons: the flow's handover reason ->
    words; languages: language code -> its name, as said in `lang`.
    """

    lang: str
    frames: Mapping[str, str]
    wants: Mapping[str, str]
    reasons: Mapping[str, str]
    languages: Mapping[str, str]

    @classmethod
    def from_document(cls, doc: object, lang: str, origin: str = "prompts") -> "AgentWords":
        """Validate the `agent:` section of a parsed prompts file.

        Raises PromptError naming `origin` and the key: no section or an unknown part of it, a
        missing or unknown frame, a malformed frame or one with a {slot} it cannot be given, a
        lookup that is not a mapping of words."""
        section = doc.get(SECTION) if isinstance(doc, dict) else None
        if not isinstance(section, dict):
            raise PromptError(f"{origin}: expected an '{SECTION}' section (the words of the agent's "
                              f"whisper: frames, wants, reasons, languages)")
        unknown = [str(key) for key in section if key not in ("frames", *LOOKUPS)]
        if unknown:     # a misspelt lookup would otherwise be ignored without a word
            raise PromptError(f"{origin}: {SECTION}.{unknown[0]} is not a part of the whisper's words "
                              f"(known: frames, {', '.join(LOOKUPS)})")
        frames = _words(section, "frames", origin)
        for key, text in frames.items():
            _check_frame(origin, key, text)
        missing = [key for key in FRAME_SLOTS if key not in frames]
        if missing:
            raise PromptError(f"{origin}: {SECTION}.frames.{missing[0]} is missing "
                              f"(the whisper needs every frame: {', '.join(FRAME_SLOTS)})")
        wants, reasons, languages = (_words(section, name, origin, required=False) for name in LOOKUPS)
        return cls(lang=lang, frames=frames, wants=wants, reasons=reasons, languages=languages)

    def frame(self, key: str, **slots: object) -> str:
        """One frame with its slots filled."""
        return self.frames[key].format(**slots)

    def want(self, task: str, default: str) -> str:
        """What a call about `task` is about ('' for none), else `default` (the summary's own)."""
        return self.wants.get(task, default) if task else default

    def reason(self, reason: str) -> str:
        """The flow's handover reason in words (the identifier itself when it has none)."""
        return self.reasons.get(reason, reason)

    def language(self, code: str) -> str:
        """'French' for an English-speaking agent, 'français' for a French-speaking one."""
        return self.languages.get(code, code)


def _words(section: Mapping[str, object], name: str, origin: str, required: bool = True) -> dict[str, str]:
    """section[name] as a mapping of words; an optional one may be absent (then empty)."""
    value = section.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PromptError(f"{origin}: {SECTION}.{name} must be a mapping of words")
    for key, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise PromptError(f"{origin}: {SECTION}.{name}.{key} must be words in quotes, got {text!r}")
    return {str(k): v for k, v in value.items()}


def _check_frame(origin: str, key: str, text: str) -> None:
    where = f"{origin}: {SECTION}.frames.{key}"
    if key not in FRAME_SLOTS:
        raise PromptError(f"{where} is not a whisper frame (known: {', '.join(FRAME_SLOTS)})")
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise PromptError(f"{where} is malformed: {exc}") from None
    allowed = FRAME_SLOTS[key]
    for name in fields:
        if name not in allowed:
            can = f"can only use {', '.join(f'{{{s}}}' for s in sorted(allowed))}" if allowed else "takes no slots"
            raise PromptError(f"{where} uses {{{name}}}, but this frame {can}")
    try:        # what parsing lets through ({want:{x}}, {want!z}) fails here, not mid-call
        text.format(**{name: "" for name in allowed})
    except (KeyError, IndexError, ValueError) as exc:
        raise PromptError(f"{where} is malformed: {exc!r}") from None
