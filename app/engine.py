"""The engine: loads a call's state, steps the flow, performs lookups, saves, and reports."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Callable, Mapping, Protocol, Sequence

from app.dialog.actions import (Action, CancelOrder, Hangup, Listen, LookupOrder, LookupStores,
                                RecordMessage, RequestCallback, Say, Summary, Transfer)
from app.dialog.callerid import callable_number
from app.dialog.events import (CallerHungUp, CallStarted, Digits, Event, Heard, LanguageChosen, MessageRecorded,
                               OrderLookedUp, StoresLookedUp)
from app.dialog.flow import step
from app.dialog.nodes import NODES, expected_for
from app.dialog.prompts import Prompts
from app.dialog.state import CallState
from app.dialog.summary import build as build_summary, render as render_summary
from app.dialog.turns import replay
from app.dialog.wording import speakable
from app.logs import bind_call
from app.nlu.intents import Matcher
from app.nlu.languages import language_named
from app.nlu.redact import MASK, SECRET_OPEN, continue_secret, digit_tail, redact, redact_digits
from app.store.business import BusinessData
from app.store.sessions import SessionStore, StaleState

log = logging.getLogger(__name__)
# Lookups are answered inside one handle() call; this bounds a buggy flow's loop.
MAX_INNER_STEPS = 8
# The question whose keyed answer is a phone number, not a card number (issue 12's callback).
PHONE_NUMBER_NODE = "collect_callback"
# What a turn's transcript says when the caller spoke but the recognizer could place no word.
NOT_UNDERSTOOD = "(speech not understood)"


@dataclass(frozen=True)
class Speak:
    """Bot speech: `text` for transcripts and tests, `spoken` for the synthesizer."""

    text: str
    prompt: str = ""
    lang: str = ""             # the language it is said in (a caller's may differ from the server's)

    @property
    def spoken(self) -> str:
        """Text as it should be pronounced (digit runs read digit by digit)."""
        return speakable(self.text)


@dataclass(frozen=True)
class Handover:
    """Transfer with the summary already rendered for the whisper."""

    reason: str
    summary_text: str          # the full summary, kept with the call's record
    transfer: Transfer
    whisper_text: str = ""     # the short one the agent hears before taking the call


Output = Speak | Listen | Handover | RecordMessage | Hangup


@dataclass(frozen=True)
class CallLanguage:
    """What a call in one language is heard and answered with."""

    prompts: Prompts
    matcher: Matcher


@dataclass
class Reply:
    """What the transport must do after one event, in order."""

    outputs: list[Output] = field(default_factory=list)
    state: CallState | None = None
    heard: Heard | None = None            # the classified caller utterance this reply answers
    asr_latency_ms: float | None = None   # recognizer time for that utterance, when known
    superseded: bool = False              # a newer media stream carries the call: this one must stop

    @property
    def texts(self) -> list[str]:
        """Everything the bot says in this reply."""
        return [o.text for o in self.outputs if isinstance(o, Speak)]

    @property
    def listen(self) -> Listen | None:
        """The listen request, if the bot waits for the caller."""
        return next((o for o in self.outputs if isinstance(o, Listen)), None)


class CallObserver(Protocol):
    """Receives what happens on calls (call records, metrics)."""

    def on_event(self, state: CallState, event: Event) -> None: ...
    def on_reply(self, state: CallState, reply: Reply) -> None: ...
    def on_callback(self, state: CallState, request: RequestCallback) -> None: ...


class Engine:
    """Performs what the flow decides for every call; shared by all transports."""

    def __init__(self, sessions: SessionStore, business: BusinessData, prompts: Prompts,
                 matcher: Matcher, observers: Sequence[CallObserver] = (),
                 today: Callable[[], date] = date.today, survey: bool = False,
                 verify_orders: bool = True, order_digits: Sequence[int] = (5,),
                 languages: Mapping[str, CallLanguage] | None = None, lang: str = "en",
                 lang_for: Callable[[str], str] | None = None, *,
                 whisper_for: Callable[[Summary], str]) -> None:
        """`prompts` and `matcher` serve `lang`, the default; `languages` adds others, and
        `lang_for(called number)` picks a call's language (default: always `lang`).
        `whisper_for(summary)` words what the agents hear and read (a whisper, a callback's note)
        in their language: the factory gives it the words of that language's prompts file."""
        self.sessions = sessions
        self.business = business
        self.prompts = prompts
        self.matcher = matcher
        self.lang = lang
        self.languages = {lang: CallLanguage(prompts, matcher), **(languages or {})}
        self.lang_for = lang_for or (lambda called: lang)
        self.whisper_for = whisper_for
        # Languages heard by keypad only (no recognizer for them): set when the voice is wired.
        self.unheard: frozenset[str] = frozenset()
        self.observers = list(observers)
        self.today = today
        self.survey = survey
        self.verify_orders = verify_orders
        self.order_digits = tuple(order_digits)

    def start(self, call_sid: str, caller: str = "", called: str = "", stream: str = "") -> Reply:
        """A call arrived; a repeated start of a known call re-asks instead of restarting.

        `stream`: the media stream starting (a reconnect, or Twilio opening a second websocket for
        the call). It takes the call over: the stream it replaces gets `superseded` replies.
        """
        existing = self.state(call_sid)
        if existing is not None and not existing.ended:
            if stream and existing.stream_sid != stream:
                existing = self._claim(existing, stream)
            return self.reask(existing)
        # Started from what was just read (nothing, or an ended call whose CallSid came again).
        fresh = CallState(call_sid=call_sid, version=existing.version if existing else 0)
        return self.handle(call_sid, self._call_started(call_sid, caller, called), loaded=fresh, stream=stream)

    def superseded(self, call_sid: str, stream: str) -> bool:
        """True when another media stream has taken this call over."""
        state = self.state(call_sid)
        return state is not None and state.stream_sid not in ("", stream)

    def _claim(self, state: CallState, stream: str) -> CallState:
        """Record the stream now carrying the call (compare-and-set: a racing step retries)."""
        for attempt in range(2):
            claimed = state.copy()
            claimed.stream_sid, claimed.version = stream, claimed.version + 1
            try:
                self.sessions.save(claimed)
                return claimed
            except StaleState:
                state = self.load(state.call_sid) or state
        return state

    def reask(self, state: CallState) -> Reply:
        """The current question again, as on a repeated start (nothing is stored)."""
        return self._render(state, replay(state.copy()))

    def hear(self, call_sid: str, text: str, asr_confidence: float = 1.0,
             asr_latency_ms: float | None = None, stream: str = "", open_words: bool = False) -> Reply:
        """Recognised caller speech: classify it against what the current node expects.

        Secrets are masked before anything sees the words: the matcher (so no slot carries a
        card's digits), the flow, the records, the logs, and what the bot says back.
        open_words: the text came from the recognizer's open pass, not its listed phrases. Every
        way of asking for a person is listed, so a request for one heard only there was made up
        by the language model (measured: sentences about orders came back as "talk to a human"):
        it counts as not understood, and two of those still reach a person.
        """
        state = self.state(call_sid)
        redacted = redact(text)
        clean = continue_secret(redacted, state.digits_before if state else [])
        if clean != redacted and state is not None and state.caller_words:
            # The card number began in the previous turn: its digits are masked after the fact.
            state.caller_words[-1] = continue_secret(state.caller_words[-1], [SECRET_OPEN])
        chosen = language_named(clean, tuple(self.languages)) if state is not None and not state.ended else None
        if chosen is not None:        # "français": go on in French, whatever the question was
            return self.handle(call_sid, LanguageChosen(chosen), asr_latency_ms, loaded=state, stream=stream)
        matcher = self.language(state).matcher
        match = matcher.match(clean, expected_for(state.node, state.task) if state else ())
        if open_words and match.intent in matcher.overrides:
            match = replace(match, intent="none")
        confidence = min(match.confidence, asr_confidence)
        slots = dict(match.slots)
        if len(slots.get("order_number", "")) not in self.order_digits:
            slots.pop("order_number", None)   # cannot be one of our order numbers: never act on it
        heard = Heard(match.intent if text.strip() else "none", confidence, slots,
                      clean if text.strip() else NOT_UNDERSTOOD)
        return self.handle(call_sid, heard, asr_latency_ms, loaded=state, stream=stream)

    def hang_up(self, call_sid: str) -> Reply | None:
        """The caller (or the network) ended the call; unknown calls are ignored."""
        state = self.state(call_sid)
        if state is None:
            return None
        if state.node == "ended":
            # The bot already said goodbye: the status callback that follows changes nothing
            # (the flow would return the same state), so nothing is written.
            return Reply([], state)
        return self.handle(call_sid, CallerHungUp(), loaded=state)

    def expects_number(self, call_sid: str) -> bool:
        """True when the call's current question is for a number (an order number)."""
        state = self.state(call_sid)
        return bool(state) and state.node in NODES and NODES[state.node].max_digits > 1

    def expected(self, call_sid: str) -> tuple[str, ...]:
        """The intents the call's current node expects (for recognizer grammars)."""
        state = self.state(call_sid)
        return expected_for(state.node, state.task) if state else ()

    def language(self, state: CallState | None) -> CallLanguage:
        """The prompts and matcher of a call's language (the default for an unknown call)."""
        return self.languages.get(state.lang if state else "", self.languages[self.lang])

    def load(self, call_sid: str) -> CallState | None:
        """The stored state of a call, if any; raises when the store cannot be reached."""
        return self.sessions.load(call_sid)

    def state(self, call_sid: str) -> CallState | None:
        """The stored state of a call, if any (None too when the store cannot be reached)."""
        try:
            return self.load(call_sid)
        except Exception:  # noqa: BLE001 - callers treat it as unknown; handle() then hands over
            log.exception("call %s: session store unavailable", call_sid)
            return None

    def handle(self, call_sid: str, event: Event, asr_latency_ms: float | None = None,
               loaded: CallState | None = None, stream: str = "") -> Reply:
        """Step the call's flow with one event (from `loaded`, the state just read, if given).

        An event from a media stream (`stream`) the call no longer belongs to is not counted:
        the reply is empty and `superseded`.
        """
        # A StaleState (another worker raced us) is retried once, from a fresh read.
        with bind_call(call_sid):
            try:
                return self._handle_retrying(call_sid, event, asr_latency_ms, loaded, stream)
            except Exception:  # noqa: BLE001 - a caller must never hear silence because of a bug or an outage
                log.exception("call %s: could not handle %s; transferring", call_sid, type(event).__name__)
                return self._emergency_transfer(call_sid, event)

    def _handle_retrying(self, call_sid: str, event: Event, asr_latency_ms: float | None,
                         loaded: CallState | None, stream: str) -> Reply:
        try:
            return self._handle_once(call_sid, event, asr_latency_ms, loaded, stream)
        except StaleState:
            log.warning("call %s: concurrent update, retrying", call_sid)
            return self._handle_once(call_sid, event, asr_latency_ms, stream=stream)

    def _emergency_transfer(self, call_sid: str, event: Event) -> Reply:
        """Storage (or our own code) failed mid-call: apologise and hand over with what we know."""
        caller = event.caller if isinstance(event, CallStarted) else ""
        # The observers still hear the event: the records keep what the caller said or keyed.
        self._notify("on_event", CallState(call_sid=call_sid, caller=caller), event)
        state = CallState(call_sid=call_sid, caller=caller, node="transferred", outcome="transferred",
                          transfer_reason="storage unavailable")
        summary = build_summary(state, state.transfer_reason)
        reply = self._render(state, [Say("storage_trouble"), Transfer(state.transfer_reason, summary)])
        self._notify("on_reply", state, reply)
        return reply

    def _handle_once(self, call_sid: str, event: Event, asr_latency_ms: float | None,
                     loaded: CallState | None = None, stream: str = "") -> Reply:
        state = loaded or self.sessions.load(call_sid) or CallState(call_sid=call_sid)
        if stream and state.stream_sid not in ("", stream):
            return Reply([], state, superseded=True)
        event = _private(state, event)
        self._notify("on_event", state, event)
        state, actions = self._run(state, event)
        state.stream_sid = stream or state.stream_sid
        if isinstance(event, (Heard, Digits)):      # silence or a transfer between halves changes nothing
            state.digits_before = _digit_tail(event)
        state.version += 1
        reply = self._render(state, actions)
        reply.heard = event if isinstance(event, Heard) else None
        reply.asr_latency_ms = asr_latency_ms
        self.sessions.save(state)
        self._notify("on_reply", state, reply)
        return reply

    def _run(self, state: CallState, event: Event) -> tuple[CallState, list[Action]]:
        """Step, answering lookups in place, until the flow asks the transport for something."""
        done: list[Action] = []
        for _ in range(MAX_INNER_STEPS):
            state, actions = step(state, event)
            follow_up = None
            for action in actions:
                follow_up = self._perform(state, action) or follow_up
                if not isinstance(action, (LookupOrder, LookupStores, CancelOrder, RequestCallback)):
                    done.append(action)
            if follow_up is None:
                return state, done
            event = follow_up
        raise RuntimeError(f"call {state.call_sid}: flow did not settle")

    def _perform(self, state: CallState, action: Action) -> Event | None:
        if isinstance(action, LookupOrder):
            return OrderLookedUp(action.number, self.business.order(action.number))
        if isinstance(action, LookupStores):
            return StoresLookedUp(tuple(self.business.stores()))
        if isinstance(action, CancelOrder):
            self.business.cancel_order(action.number)
        elif isinstance(action, RequestCallback):
            note = self.whisper_for(action.summary) if action.summary is not None else action.note
            self._notify("on_callback", state, replace(action, note=note))
        return None

    def _render(self, state: CallState, actions: list[Action]) -> Reply:
        outputs: list[Output] = []
        own = state.lang if state.lang in self.languages else self.lang
        for action in actions:
            if isinstance(action, Say):
                lang = action.lang if action.lang in self.languages else own
                outputs.append(Speak(self.languages[lang].prompts.render(action.prompt, action.params),
                                     action.prompt, lang))
            elif isinstance(action, Transfer):
                outputs.append(Handover(action.reason, render_summary(action.summary), action,
                                        self.whisper_for(action.summary)))
            else:
                outputs.append(action)  # type: ignore[arg-type]
        return Reply(outputs, state)

    def _call_started(self, call_sid: str, caller: str, called: str) -> CallStarted:
        try:
            customer = self.business.customer_by_phone(caller) if callable_number(caller) else None
            recent = self.business.recent_open_order(caller) if customer else None
        except Exception:  # noqa: BLE001 - greet as an unknown caller rather than not at all
            log.exception("call %s: customer lookup failed", call_sid)
            customer = recent = None
        lang = self.lang_for(called) if self.lang_for(called) in self.languages else self.lang
        # With a second language served, the greeting offers it (said in that language).
        offer = next((other for other in self.languages if other != lang), "")
        return CallStarted(call_sid, caller, called, customer, recent, self.today(), self.survey,
                           self.verify_orders, lang, offer, tuple(sorted(self.unheard)))

    def _notify(self, method: str, state: CallState, payload: object) -> None:
        # An observer failing (e.g. records database down) must never break the call itself.
        for observer in self.observers:
            try:
                getattr(observer, method)(state, payload)
            except Exception:  # noqa: BLE001
                log.exception("call %s: observer %s failed", state.call_sid, method)



def _private(state: CallState, event: Event) -> Event:
    """The event with card numbers, PINs and codes masked whole: the one door caller input takes."""
    if isinstance(event, Digits) and state.node == PHONE_NUMBER_NODE:
        return event            # a phone number asked for (up to 15 digits): the records mask it as one
    if isinstance(event, Digits):
        masked = redact_digits(event.digits)
        if masked == event.digits and MASK in continue_secret(event.digits, state.digits_before):
            masked = MASK
        return Digits(masked) if masked != event.digits else event
    if isinstance(event, MessageRecorded):
        return MessageRecorded(redact(event.transcript), event.recording_url)
    return event


def _digit_tail(event: Heard | Digits) -> list[int]:
    return digit_tail(event.words if isinstance(event, Heard) else event.digits)
