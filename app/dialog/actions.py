"""What the flow asks the engine to do: say, listen, look up, transfer, record, hang up."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Say:
    """Speak prompt `prompt` (an id in prompts/<lang>.yaml) filled with `params`."""

    prompt: str
    params: dict[str, str] = field(default_factory=dict)
    lang: str = ""       # said in this language, not the call's (the offer of the other language)


@dataclass(frozen=True)
class Listen:
    """Wait for the caller: speech limited to `expect` intents, and/or keypad digits."""

    expect: tuple[str, ...] = ()
    digits: bool = True
    max_digits: int = 1
    timeout_s: float | None = None


@dataclass(frozen=True)
class LookupOrder:
    """Fetch an order from the business system; the engine answers with OrderLookedUp."""

    number: str


@dataclass(frozen=True)
class LookupStores:
    """Fetch the store list; the engine answers with StoresLookedUp."""


@dataclass(frozen=True)
class Summary:
    """What the agent must hear before taking the call (rendered by dialog.summary)."""

    reason: str
    want: str = ""
    caller_name: str = ""
    caller_number: str = ""
    order_number: str = ""
    order_status: str = ""
    caller_words: tuple[str, ...] = ()
    sure_words: tuple[str, ...] = ()      # what the caller said that was heard with confidence
    told: tuple[str, ...] = ()
    tries: int = 0
    frustrated: bool = False
    task: str = ""                        # the intent being served (the whisper words it per language)
    caller_lang: str = ""                 # the caller's language ("" when only one is served)


@dataclass(frozen=True)
class Transfer:
    """Hand the call to a person with the summary the agent will hear."""

    reason: str
    summary: Summary


@dataclass(frozen=True)
class CancelOrder:
    """Cancel an order in the business system (after the caller said yes)."""

    number: str


@dataclass(frozen=True)
class RecordMessage:
    """Record a voicemail; the engine answers with MessageRecorded (or NoInput)."""

    max_seconds: int = 120


@dataclass(frozen=True)
class RequestCallback:
    """Store a callback request for the agents, with the call's context.

    The flow gives the `summary`; the engine words it as `note` in the agents' language (the
    flow has no words of its own), as for a transfer's whisper."""

    phone: str
    note: str = ""
    transcript: str = ""
    summary: Summary | None = None


@dataclass(frozen=True)
class Hangup:
    """End the call; `outcome` is how the call ended: resolved, transferred, voicemail, hangup."""

    outcome: str = "resolved"


Action = Union[Say, Listen, LookupOrder, LookupStores, Transfer, CancelOrder,
               RecordMessage, RequestCallback, Hangup]
