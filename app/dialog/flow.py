"""The call flow: step(state, event) -> (state, actions). Decides; never performs."""
from __future__ import annotations

from datetime import date

from app.dialog import orders, summary, survey
from app.dialog.callerid import callable_number, keyed_number
from app.dialog.actions import (Action, Hangup, LookupOrder, LookupStores, RecordMessage,
                                RequestCallback, Say)
from app.dialog.events import (AgentAnswered, CallerHungUp, CallStarted, Digits, Event, Heard, LanguageChosen,
                               MessageRecorded,
                               NoInput, OrderLookedUp, RecognizerFailed, StoresLookedUp,
                               TechnicalFault, TransferEnded, WhisperStarted)
from app.dialog.nodes import (HANDOFF_TASKS, MENU_KEYS, NODES, ORDER_TASKS, STORE_TASKS,
                              YES_NO_KEYS)
from app.dialog.state import CallState
from app.dialog.turns import ask, goodbye, listen, remember_says, replay, reset_task, transfer
from app.dialog.wording import say_hours, say_list

Result = tuple[CallState, list[Action]]
MAX_WORDS_KEPT = 6
LANGUAGE_KEY = "9"              # "For French, press 9": free on the menus that offer it
LANGUAGE_NODES = ("menu", "offer_order")   # where the greeting's offer is still the question


def step(state: CallState, event: Event) -> Result:
    """Advance one call by one event; returns the new state and what to do."""
    s, actions = _dispatch(state.copy(), event)
    remember_says(s, actions)
    return s, actions


def _dispatch(s: CallState, event: Event) -> Result:
    if isinstance(event, CallerHungUp):
        return _hung_up(s)
    if s.node == "ended":
        return s, []
    if isinstance(event, TechnicalFault):
        return transfer(s, "technical problem")
    if s.node == "transferred" or isinstance(event, _AGENT_LEG):
        # The agent leg reports in whichever way the transfer started (the fallback URL dials too).
        return _after_transfer(s, event)
    if isinstance(event, CallStarted):
        return _greet(s, event)
    if isinstance(event, (OrderLookedUp, StoresLookedUp)):
        return _looked_up(s, event)
    if isinstance(event, RecognizerFailed):
        return _keypad_only(s)
    if s.node == "voicemail":
        return _voicemail(s, event)
    if s.node == "survey":
        return survey.answer(s, event)
    return _caller_turn(s, event)


def _caller_turn(s: CallState, event: Event) -> Result:
    s.turns += 1
    if isinstance(event, NoInput):
        return _no_input(s)
    if isinstance(event, Digits) and event.digits.rstrip("#") == LANGUAGE_KEY and s.other_lang \
            and s.node in LANGUAGE_NODES:
        event = LanguageChosen(s.other_lang)
    if isinstance(event, LanguageChosen):
        return _switch_language(s, event)
    if isinstance(event, Digits):
        event = _digits_as_intent(s, event)
        if isinstance(event, Digits):
            return _node_digits(s, event.digits)
    if isinstance(event, Heard):
        return _heard(s, event)
    return s, []


def _heard(s: CallState, heard: Heard) -> Result:
    s.no_input = 0
    if heard.words:
        s.caller_words = (s.caller_words + [heard.words])[-MAX_WORDS_KEPT:]
        if heard.confidence >= summary.QUOTE_CONFIDENCE:
            s.sure_words = (s.sure_words + [heard.words])[-MAX_WORDS_KEPT:]
        s.frustration += summary.frustration_in(heard.words)
    if heard.intent == "agent":
        s.agent_asks += 1
        return transfer(s, "asked for a person")
    if heard.intent in ("repeat", "help", "start_over", "goodbye"):
        return _global(s, heard.intent)
    handled = _node_heard(s, heard)
    if handled is None:
        return _no_match(s)
    s.no_match = 0
    return handled


def _switch_language(s: CallState, chosen: LanguageChosen) -> Result:
    """Go on in another language: what was collected stays, the question is asked again in it
    (by keypad where that language has no recognizer)."""
    if chosen.lang == s.lang or s.node not in NODES:
        return s, replay(s)
    s.other_lang, s.lang = s.lang, chosen.lang
    s.keypad_only = chosen.lang in s.unheard
    s.no_match = s.no_input = 0
    return s, [Say("language_chosen")] + ask(s, s.node)


def _global(s: CallState, intent: str) -> Result:
    if intent == "repeat":
        return s, replay(s)
    if intent == "help":
        return s, [Say("help")] + ask(s, s.node, full=False)
    if intent == "start_over":
        reset_task(s)
        return s, [Say("start_over")] + ask(s, "menu")
    return goodbye(s)


def _digits_as_intent(s: CallState, event: Digits) -> Event:
    """Map single keys to intents where the node offers a keypad menu; 0 is always a person."""
    digits = event.digits.rstrip("#")
    if digits == "0" or (digits.startswith("0") and NODES.get(s.node, NODES["menu"]).max_digits == 1):
        return Heard("agent", 1.0, {}, "")
    if digits == "*":
        return Heard("repeat", 1.0, {}, "")
    expect = NODES[s.node].expect if s.node in NODES else ()
    if "yes" in expect and digits in YES_NO_KEYS:
        return Heard(YES_NO_KEYS[digits], 1.0, {}, "")
    if s.node in ("menu", "anything_else") and digits in MENU_KEYS:
        return Heard(MENU_KEYS[digits], 1.0, {}, "")
    return Digits(digits)


def _node_digits(s: CallState, digits: str) -> Result:
    if s.node == "verify_caller":
        return orders.verify_answer(s, digits)
    if s.node == "collect_callback" and keyed_number(digits):
        return _take_callback_number(s, keyed_number(digits))
    if s.node in ("collect_order", "confirm_number") and 4 <= len(digits) <= 8:
        s.no_match = 0
        s.no_input = 0
        return s, [LookupOrder(digits)]
    return _no_match(s)


def _node_heard(s: CallState, heard: Heard) -> Result | None:
    """The node's own reaction, or None when the utterance does not fit here."""
    handler = _NODE_HANDLERS.get(s.node, _menu)
    return handler(s, heard)


def _menu(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "no" and s.told:
        return goodbye(s)       # "what else?" -- "nothing": the caller is done
    if heard.intent == "yes" and s.node == "menu":
        return s, ask(s, "menu", full=False)
    return start_task(s, heard) if heard.intent in ORDER_TASKS + STORE_TASKS + HANDOFF_TASKS else None


def start_task(s: CallState, heard: Heard) -> Result:
    """Begin serving a request: collect what it needs, look it up, or hand over."""
    s.task = heard.intent
    if heard.intent in HANDOFF_TASKS:
        reason = "billing question" if heard.intent == "billing_issue" else "complaint"
        return transfer(s, reason)
    if heard.intent in STORE_TASKS:
        s.city = heard.slots.get("city", "") or s.city
        return s, [LookupStores()]
    number = heard.slots.get("order_number", "")
    if number:
        return orders.take_number(s, number, heard.confidence)
    if s.order_number:
        return s, [LookupOrder(s.order_number)]
    return s, ask(s, "collect_order")


def _offer_order(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "yes":
        s.task = s.task or "order_status"
        return s, [LookupOrder(s.suggested_order)]
    if heard.intent == "no":
        return s, ask(s, "menu")
    if heard.intent in ORDER_TASKS and not heard.slots.get("order_number"):
        # They did not say yes to the offered order: ask which, keeping "yes" for the offered one.
        s.task = heard.intent
        return s, ask(s, "collect_order", {"order_number": s.suggested_order}, prompt="ask_order_number_known")
    return _menu(s, heard)


def _collect_order(s: CallState, heard: Heard) -> Result | None:
    number = heard.slots.get("order_number", "")
    if heard.intent == "yes" and s.suggested_order and not number:
        return s, [LookupOrder(s.suggested_order)]
    if heard.intent in ORDER_TASKS:
        s.task = heard.intent
    if number:
        return orders.take_number(s, number, heard.confidence)
    if heard.intent in ORDER_TASKS:
        return s, ask(s, "collect_order", full=False)
    return _menu(s, heard) if heard.intent in STORE_TASKS + HANDOFF_TASKS else None


def _confirm_number(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "yes":
        number, s.pending_number = s.pending_number, ""
        return s, [LookupOrder(number)]
    if heard.intent == "no":
        s.pending_number = ""
        return s, [Say("number_again")] + listen(s, "collect_order")
    return _collect_order(s, heard) if heard.slots.get("order_number") else None


def _anything_else(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "yes":
        return s, [Say("what_else")] + listen(s, "menu")
    if heard.intent == "no":
        return goodbye(s)
    return _menu(s, heard)


def _offer_agent(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "yes":
        return transfer(s, s.transfer_reason or "asked for a person")
    if heard.intent == "no":
        s.transfer_reason = ""
        return s, ask(s, "anything_else")
    return _menu(s, heard)


def _ask_city(s: CallState, heard: Heard) -> Result | None:
    city = heard.slots.get("city", "")
    if not city:
        return _menu(s, heard) if heard.intent not in STORE_TASKS else None
    s.city = city
    return s, [LookupStores()]


def _agent_unavailable(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "yes":
        s.node = "voicemail"
        withheld = not callable_number(s.caller)
        return s, [Say("record_message_withheld" if withheld else "record_message"), RecordMessage()]
    if heard.intent == "no":
        return _callback(s, "")
    return None


def _collect_callback(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "no":            # they would rather not leave a number
        s.node, s.outcome = "ended", "voicemail"
        return s, [Say("callback_no_number"), Hangup("voicemail")]
    number = keyed_number(heard.slots.get("order_number", ""))
    return _take_callback_number(s, number) if number else None


def _take_callback_number(s: CallState, number: str) -> Result:
    s.callback_number = number
    return s, ask(s, "confirm_callback", {"number": number})


def _confirm_callback(s: CallState, heard: Heard) -> Result | None:
    if heard.intent == "yes":
        return _callback(s, "")
    if heard.intent == "no":
        s.callback_number = ""
        return s, ask(s, "collect_callback")
    return None


_NODE_HANDLERS = {
    "menu": _menu, "offer_order": _offer_order, "collect_order": _collect_order,
    "confirm_number": _confirm_number, "confirm_cancel": orders.confirm_cancel,
    "anything_else": _anything_else, "offer_agent": _offer_agent, "ask_city": _ask_city,
    "agent_unavailable": _agent_unavailable, "collect_callback": _collect_callback,
    "confirm_callback": _confirm_callback, "verify_caller": orders.verify_heard,
}


def _greet(s: CallState, event: CallStarted) -> Result:
    s.caller = event.caller
    s.survey = event.survey
    s.verify_orders = event.verify_orders
    s.today = (event.today or date.today()).isoformat()
    s.lang, s.other_lang = event.lang, event.offer_lang
    s.unheard = list(event.unheard)
    s.keypad_only = s.lang in s.unheard      # never another language's recognizer on this one
    # The other language is offered in that language: its speakers may not follow this one.
    offer = [Say("offer_language", {}, event.offer_lang)] if event.offer_lang else []
    if event.customer is None and not s.keypad_only:
        return s, [Say("greeting")] + offer + listen(s, "menu")
    if event.customer is None:
        return s, _before_listen([Say("greeting")] + ask(s, "menu"), offer)
    s.caller_name = event.customer.name
    actions: list[Action] = [Say("greeting_known", {"first_name": event.customer.first_name})]
    if event.recent_order is not None and not s.keypad_only:
        s.suggested_order = event.recent_order.number
        return s, _before_listen(actions + ask(s, "offer_order", {"order_number": s.suggested_order}), offer)
    return s, _before_listen(actions + ask(s, "menu"), offer)


def _before_listen(actions: list[Action], extra: list[Action]) -> list[Action]:
    """`extra` said last, just before the bot listens (the last action)."""
    return actions[:-1] + extra + actions[-1:]


def _looked_up(s: CallState, event: OrderLookedUp | StoresLookedUp) -> Result:
    if isinstance(event, OrderLookedUp):
        return orders.answer(s, event)
    return _answer_stores(s, event)


def _answer_stores(s: CallState, event: StoresLookedUp) -> Result:
    lang = s.lang or "en"
    cities = say_list([store.city for store in event.stores], lang)
    store = next((st for st in event.stores if st.city.lower() == s.city.lower()), None)
    if s.city and store is None:
        unknown, s.city = s.city, ""
        return s, [Say("location_unknown_city", {"city": unknown.title(), "cities": cities})] + \
            listen(s, "ask_city", {"cities": cities})
    if store is None:
        if s.task == "store_hours":
            s.told.append("store hours")
            return s, [Say("hours_all")] + ask(s, "anything_else")
        return s, ask(s, "ask_city", {"cities": cities})
    hours = say_list([say_hours(days, span, lang) for days, span in store.hours], lang)
    prompt = "hours_city" if s.task == "store_hours" else "location_city"
    s.told.append(f"{store.city} store {'hours' if s.task == 'store_hours' else 'address'}")
    return s, [Say(prompt, {"city": store.city, "address": store.address, "hours": hours})] + \
        ask(s, "anything_else")


def _no_input(s: CallState) -> Result:
    s.no_input += 1
    if s.no_input >= 2 and s.node == "anything_else" and s.told:
        # Silence after an answer means nothing more to ask: a served call, not a problem.
        return goodbye(s, ask_rating=False)
    if s.no_input >= 2:
        return transfer(s, "silent twice")
    return s, ask(s, s.node if s.node in NODES else "menu", full=False)


def _no_match(s: CallState) -> Result:
    s.no_match += 1
    if s.no_match >= 2:
        return transfer(s, "not understood twice")
    node = NODES.get(s.node, NODES["menu"])
    return s, [Say(node.rephrase, dict(s.last_listen.get("params", {})))] + \
        listen(s, s.node, s.last_listen.get("params"))


def _keypad_only(s: CallState) -> Result:
    if s.keypad_only:
        return transfer(s, "speech recognition failed")
    s.keypad_only = True
    node = s.node if s.node in NODES else "menu"
    return s, [Say("keypad_fallback")] + ask(s, node, s.last_listen.get("params"))


def _voicemail(s: CallState, event: Event) -> Result:
    transcript = event.transcript if isinstance(event, MessageRecorded) else ""
    return _callback(s, transcript, left_message=isinstance(event, MessageRecorded))


def _callback(s: CallState, transcript: str, left_message: bool = False) -> Result:
    # Never a promise to call back a withheld number: ask for one to be keyed in instead.
    number = s.callback_number or callable_number(s.caller)
    if not number and not left_message:
        return s, ask(s, "collect_callback")
    s.node = "ended"
    s.outcome = "voicemail"
    about = summary.build(s, s.transfer_reason or "agent unavailable")   # the message is apart
    actions: list[Action] = [RequestCallback(number, transcript=transcript, summary=about)]
    closing = "message_saved" if left_message else "callback_saved_keyed" if s.callback_number else "callback_saved"
    return s, actions + [Say(closing), Hangup("voicemail")]


_AGENT_LEG = (TransferEnded, AgentAnswered, WhisperStarted)


def _after_transfer(s: CallState, event: Event) -> Result:
    if isinstance(event, AgentAnswered):
        s.agent_accepted = event.accepted
        return s, []
    if isinstance(event, WhisperStarted):
        s.transfer_stage, s.agent_call_sid = "agent whisper", event.agent_call_sid
        return s, []
    if not isinstance(event, TransferEnded):
        return s, []
    s.transfer_attempts += 1
    # A whisper that was not accepted ends the agent leg as "completed" too: it is a decline.
    if event.status == "completed" and s.agent_accepted:
        s.node = "ended"
        return s, [Hangup("transferred")]
    s.outcome, s.transfer_stage, s.agent_call_sid = "", "", ""
    withheld = not callable_number(s.caller)
    return s, ask(s, "agent_unavailable", prompt="agent_unavailable_withheld" if withheld else "")


def _hung_up(s: CallState) -> Result:
    if s.node == "transferred" and not s.agent_accepted:
        # Gone before an agent took the call: abandoned, at the stage the transfer had reached.
        s.outcome, s.abandoned_at = "hangup", s.transfer_stage or "agent ringing"
    elif s.node not in ("ended", "transferred"):
        # A caller who got an answer and hung up at "anything else?" was served by the bot.
        s.outcome = s.outcome or ("resolved" if s.told and s.node in ("anything_else", "survey") else "hangup")
    s.node = "ended"
    return s, []


