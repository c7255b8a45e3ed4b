"""Call scripts for the simulator (the `ivr sim --script` YAML format of ARCHITECTURE §5)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import yaml

OUTCOMES = ("resolved", "transferred", "voicemail", "hangup")
AGENT_BEHAVIOURS = ("answer", "decline", "no-answer", "busy")


class ScriptError(ValueError):
    """A script that does not follow the format; the message says where."""


@dataclass(frozen=True)
class SayStep:
    """The caller speaks."""

    text: str


@dataclass(frozen=True)
class PressStep:
    """The caller presses keypad keys."""

    keys: str


@dataclass(frozen=True)
class SilenceStep:
    """The caller says nothing for a while."""

    seconds: float


@dataclass(frozen=True)
class ExpectSay:
    """Everything the bot said since the caller's previous step contains this text."""

    text: str


@dataclass(frozen=True)
class ExpectTransfer:
    """The call was handed to a person; the whisper contains these texts."""

    summary_contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExpectHangup:
    """The bot ended the call (or, with False, did not)."""

    hung_up: bool = True


@dataclass(frozen=True)
class ExpectOutcome:
    """How the call ended."""

    outcome: str


Step = Union[SayStep, PressStep, SilenceStep, ExpectSay, ExpectTransfer, ExpectHangup, ExpectOutcome]
CALLER_STEPS = (SayStep, PressStep, SilenceStep)


@dataclass(frozen=True)
class Script:
    """One scripted call."""

    name: str
    steps: tuple[Step, ...]
    caller: str = "+15550123"
    agent: str = "answer"          # what the simulated agent does when the call is transferred
    voice: str = ""                # espeak-ng voice for --audio (default: the simulator's)
    to: str = "+15550000"          # the number dialled (Twilio's To: IVR_LANG_BY_NUMBER routes on it)
    lang: str = ""                 # in-process: the language the simulated server answers in

    def caller_voice(self, voices: dict[str, str]) -> str:
        """The espeak-ng voice the simulated caller speaks in: the script's, else its language's."""
        return self.voice or voices.get(self.lang, "")
    extra: dict = field(default_factory=dict)


def load_script(path: Path) -> Script:
    """Read and validate a script file."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScriptError(f"{path}: {exc}") from None
    return parse_script(doc, str(path))


def parse_script(doc: object, origin: str = "script") -> Script:
    """Validate a parsed script document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise ScriptError(f"{origin}: expected a mapping with a list of steps")
    agent = str(doc.get("agent", "answer"))
    if agent not in AGENT_BEHAVIOURS:
        raise ScriptError(f"{origin}: agent must be one of {', '.join(AGENT_BEHAVIOURS)}")
    steps = tuple(_step(item, f"{origin}: step {i + 1}") for i, item in enumerate(doc["steps"]))
    caller = doc.get("from", "+15550123")
    return Script(name=str(doc.get("name", Path(origin).stem)), steps=steps,
                  caller="" if caller is None else str(caller), agent=agent,
                  voice=str(doc.get("voice", "")), to=str(doc.get("to", "+15550000")),
                  lang=_lang(doc.get("lang", ""), origin))


def _lang(value: object, origin: str) -> str:
    if value in ("", None):
        return ""
    if not isinstance(value, str) or not value.isalpha() or len(value) != 2:
        raise ScriptError(f"{origin}: lang must be a language code such as en or fr")
    return value.lower()


def _step(item: object, where: str) -> Step:
    if not isinstance(item, dict) or len(item) != 1:
        raise ScriptError(f"{where}: expected one key such as say, press, silence or expect_say")
    (key, value), = item.items()
    parser = _PARSERS.get(key)
    if parser is None:
        raise ScriptError(f"{where}: unknown step {key!r}")
    try:
        return parser(value)
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"{where}: {key}: {exc}") from None


def _text(value: object) -> str:
    if not isinstance(value, (str, int)) or str(value) == "":
        raise ValueError("expected text")
    return str(value)


def _keys(value: object) -> PressStep:
    keys = _text(value)
    if any(ch not in "0123456789*#" for ch in keys):
        raise ValueError("keys must be 0-9, * or #")
    return PressStep(keys)


def _silence(value: object) -> SilenceStep:
    seconds = float(value)  # type: ignore[arg-type]
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    return SilenceStep(seconds)


def _transfer(value: object) -> ExpectTransfer:
    if value in (True, None):
        return ExpectTransfer()
    if not isinstance(value, dict):
        raise ValueError("expected true or a mapping with summary_contains")
    wanted = value.get("summary_contains", [])
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    return ExpectTransfer(tuple(str(w) for w in wanted))


def _outcome(value: object) -> ExpectOutcome:
    if value not in OUTCOMES:
        raise ValueError(f"expected one of {', '.join(OUTCOMES)}")
    return ExpectOutcome(str(value))


def _hangup(value: object) -> ExpectHangup:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return ExpectHangup(value)


_PARSERS = {
    "say": lambda v: SayStep(_text(v)),
    "press": _keys,
    "silence": _silence,
    "expect_say": lambda v: ExpectSay(_text(v)),
    "expect_transfer": _transfer,
    "expect_hangup": _hangup,
    "expect_outcome": _outcome,
}
