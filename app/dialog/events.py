"""What happens to a call: the events the flow reacts to."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Union

from app.dialog.business import Customer, Order, Store


@dataclass(frozen=True)
class CallStarted:
    """A new call reached the bot."""

    call_sid: str
    caller: str = ""
    called: str = ""
    customer: Customer | None = None
    recent_order: Order | None = None     # the known caller's most recent open order
    today: date | None = None
    survey: bool = False                  # the operator wants the satisfaction question asked
    verify_orders: bool = True            # order details only for the order's own customer
    lang: str = ""                        # the call's language (by the number dialled, else the default)
    offer_lang: str = ""                  # another language to offer at the greeting ("" for none)
    unheard: tuple[str, ...] = ()         # languages without a recognizer: keypad menus in them


@dataclass(frozen=True)
class Heard:
    """The caller said something and the NLU classified it."""

    intent: str
    confidence: float
    slots: dict[str, str] = field(default_factory=dict)
    words: str = ""


@dataclass(frozen=True)
class LanguageChosen:
    """The caller asked for another language (its name said, or key 9 at the greeting)."""

    lang: str


@dataclass(frozen=True)
class Digits:
    """Keypad digits (a full entry ending with # or a single key)."""

    digits: str


@dataclass(frozen=True)
class NoInput:
    """The caller stayed silent for the whole listening window."""


@dataclass(frozen=True)
class OrderLookedUp:
    """Answer to a LookupOrder action: the order, or None when the number is unknown."""

    number: str
    order: Order | None


@dataclass(frozen=True)
class StoresLookedUp:
    """Answer to a LookupStores action."""

    stores: tuple[Store, ...]


@dataclass(frozen=True)
class TransferEnded:
    """The agent leg finished: completed (bridged), no-answer, busy, failed or declined."""

    status: str


@dataclass(frozen=True)
class AgentAnswered:
    """The agent heard the whisper and pressed 1 (accepted) or declined."""

    accepted: bool


@dataclass(frozen=True)
class WhisperStarted:
    """The agent picked up and hears the summary; the caller is still waiting, not yet bridged."""

    agent_call_sid: str = ""


@dataclass(frozen=True)
class TechnicalFault:
    """Twilio could not get TwiML from our webhook and asked the fallback URL instead."""


@dataclass(frozen=True)
class MessageRecorded:
    """The caller left a voicemail; its transcript (already recognised and redacted)."""

    transcript: str
    recording_url: str = ""


@dataclass(frozen=True)
class RecognizerFailed:
    """Speech recognition is not available for this call: fall back to the keypad."""

    detail: str = ""


@dataclass(frozen=True)
class CallerHungUp:
    """The caller ended the call."""


Event = Union[CallStarted, Heard, Digits, LanguageChosen, NoInput, OrderLookedUp, StoresLookedUp,
              TransferEnded, AgentAnswered, WhisperStarted, TechnicalFault, MessageRecorded,
              RecognizerFailed, CallerHungUp]
