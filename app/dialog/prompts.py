"""The prompt catalog: prompt id -> text with {slots}, rendered without touching files."""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Mapping


# vars.style picks prompt variants: with `style: menu`, "greeting__menu" is said for "greeting".
STYLE_VAR = "style"
DEFAULT_STYLE = "open"      # the prompts without a suffix


class PromptError(ValueError):
    """A prompt catalog is malformed or a prompt is missing."""


@dataclass(frozen=True)
class Prompts:
    """A language's prompts plus the variables every prompt may use (business name, ...)."""

    texts: Mapping[str, str]
    variables: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_document(cls, doc: object, origin: str = "prompts") -> "Prompts":
        """Validate a parsed YAML document ({vars: {...}, prompts: {...}})."""
        if not isinstance(doc, dict) or not isinstance(doc.get("prompts"), dict):
            raise PromptError(f"{origin}: expected a mapping with a 'prompts' section")
        texts = {str(k): str(v) for k, v in doc["prompts"].items()}
        variables = {str(k): str(v) for k, v in (doc.get("vars") or {}).items()}
        for key, text in texts.items():
            _check_template(origin, key, text)
        style = variables.get(STYLE_VAR, "")
        if style not in ("", DEFAULT_STYLE) and not any(k.endswith(f"__{style}") for k in texts):
            raise PromptError(f"{origin}: vars.{STYLE_VAR} is {style!r}, but no prompt has a "
                              f"'__{style}' variant (like greeting__{style})")
        return cls(texts=texts, variables=variables)

    def with_variables(self, **overrides: str | None) -> "Prompts":
        """A copy with some variables replaced (e.g. the operator's bot disclosure)."""
        merged = dict(self.variables)
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return Prompts(texts=self.texts, variables=merged)

    def render(self, prompt: str, params: Mapping[str, str] | None = None) -> str:
        """The text of one prompt with its slots filled (its `vars.style` variant if there is one)."""
        if prompt not in self.texts:
            raise PromptError(f"unknown prompt {prompt!r}")
        values = {**self.variables, **(params or {})}
        text = self.texts.get(f"{prompt}__{self.variables.get(STYLE_VAR, '')}", self.texts[prompt])
        return string.Formatter().vformat(text, (), _Strict(values, prompt))


class _Strict(dict):
    """Formatting map that names the prompt when a slot is missing."""

    def __init__(self, values: Mapping[str, str], prompt: str) -> None:
        super().__init__(values)
        self.prompt = prompt

    def __missing__(self, key: str) -> str:
        raise PromptError(f"prompt {self.prompt!r} needs a value for {{{key}}}")


def _check_template(origin: str, key: str, text: str) -> None:
    try:
        list(string.Formatter().parse(text))
    except ValueError as exc:
        raise PromptError(f"{origin}: prompt {key!r} is malformed: {exc}") from None
