"""Order requests: take the number, answer status, refunds, returns and cancellations."""
from __future__ import annotations

import re
from datetime import date

from app.dialog.actions import Action, CancelOrder, LookupOrder, Say
from app.dialog.callerid import callable_number
from app.dialog.business import Order
from app.dialog.events import Heard, OrderLookedUp
from app.dialog.state import CallState
from app.dialog.turns import ask, listen
from app.dialog.wording import say_date, say_status, word

Result = tuple[CallState, list[Action]]
# Below this recognizer/NLU confidence the number is read back before it is used. Measured with
# `ivr speech-eval` on real recordings of 4-5 digit strings through the bundled PocketSphinx
# model: right strings scored 0.47-0.79 and wrong ones 0.47-0.67 (no threshold separates them),
# so every number heard by that engine is read back; typed or keyed numbers (0.95+) are not.
CONFIRM_BELOW = 0.9
# Answers that carry the item, carrier or payment method; a caller not shown to be the order's
# customer hears the `_brief` wording instead: status and dates only.
_DETAILED = frozenset({"status_shipped", "status_processing", "status_delivered", "status_delayed",
                       "status_returned", "refund_issued", "return_eligible", "return_processing"})
VERIFY_DIGITS = 4


def take_number(s: CallState, number: str, confidence: float) -> Result:
    """Use a heard order number, reading it back first when we are not sure of it."""
    if confidence < CONFIRM_BELOW:
        s.pending_number = number
        return s, ask(s, "confirm_number", {"order_number": number})
    return s, [LookupOrder(number)]


def answer(s: CallState, event: OrderLookedUp) -> Result:
    """Answer the current task from the looked-up order (or handle an unknown number)."""
    if event.order is None:
        return _unknown(s, event.number)
    order = event.order
    s.order_number, s.order_status, s.unknown_orders = order.number, order.status, 0
    s.task = s.task or "order_status"
    phone = _digits(order.customer_phone or "")
    answered, s.verify_answer = s.verify_answer, ""
    if _owner(s, phone):
        return _TASK_ANSWERS.get(s.task, _status)(s, order, _today(s), True)
    if phone and s.verify_for != order.number:
        s.verify_for = order.number         # one question per order: then status and dates only
        return s, ask(s, "verify_caller", {"order_number": order.number})
    if answered and phone and len(answered) == VERIFY_DIGITS and phone.endswith(answered):
        s.verified_phone = phone
        return _TASK_ANSWERS.get(s.task, _status)(s, order, _today(s), True)
    _, actions = _TASK_ANSWERS.get(s.task, _status)(s, order, _today(s), False)
    return s, ([Say("verify_failed")] if answered not in ("", "no") else []) + actions


def verify_answer(s: CallState, digits: str) -> Result:
    """The caller's answer to the verification question: look the order up again to check it."""
    s.verify_answer = digits.rstrip("#") or "no"    # "no": skipped, and nothing can match it
    return s, [LookupOrder(s.verify_for)]


def verify_heard(s: CallState, heard: Heard) -> Result | None:
    """Spoken digits answer the verification question; "no" skips it (status only)."""
    number = heard.slots.get("order_number", "")
    if len(number) == VERIFY_DIGITS:
        return verify_answer(s, number)
    return verify_answer(s, "") if heard.intent == "no" else None


def _owner(s: CallState, phone: str) -> bool:
    """True when the caller may hear the order's details without a question."""
    if not s.verify_orders:
        return True
    caller = _digits(callable_number(s.caller))
    return bool(phone) and phone in (caller, s.verified_phone)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def confirm_cancel(s: CallState, heard: Heard) -> Result | None:
    """The caller's yes or no to cancelling a not-yet-shipped order."""
    params = {"order_number": s.order_number}
    if heard.intent == "yes":
        s.order_status = "cancelled"
        s.told.append(f"cancelled order {s.order_number}")
        return s, [CancelOrder(s.order_number), Say("cancelled", params)] + ask(s, "anything_else")
    if heard.intent == "no":
        s.told.append(f"order {s.order_number} left as it is")
        return s, [Say("not_cancelled", params)] + ask(s, "anything_else")
    return None


def _unknown(s: CallState, number: str) -> Result:
    s.unknown_orders += 1
    params = {"order_number": number}
    if s.unknown_orders < 2:
        return s, [Say("order_not_found", params)] + listen(s, "collect_order")
    s.transfer_reason = "order not found"
    s.told.append(f"could not find order {number}")
    return s, [Say("order_not_found_again", params)] + ask(s, "offer_agent")


def _status(s: CallState, order: Order, today: date, full: bool) -> Result:
    params = _order_params(order, today, s.lang)
    s.told.append(f"order {order.number} is {say_status(order.status)}")
    actions: list[Action] = [Say(_worded(f"status_{order.status}", full), params)]
    if order.status == "delayed":
        s.transfer_reason = "delayed order"
        return s, actions + ask(s, "offer_agent")
    return s, actions + ask(s, "anything_else")


def _refund(s: CallState, order: Order, today: date, full: bool) -> Result:
    params = _order_params(order, today, s.lang)
    if order.refund_issued_on is not None:
        prompt = "refund_issued"
    elif order.status == "delivered" and order.return_deadline() and order.return_deadline() >= today:
        prompt = "refund_none_delivered"
    else:
        prompt = "refund_none"
    s.told.append(f"refund for order {order.number}: {prompt.replace('_', ' ')}")
    return s, [Say(_worded(prompt, full), params)] + ask(s, "anything_else")


def _return(s: CallState, order: Order, today: date, full: bool) -> Result:
    params = _order_params(order, today, s.lang)
    prompt = _return_prompt(order, today)
    s.told.append(f"order {order.number}: {prompt.replace('_', ' ')}")
    if prompt == "return_processing" and full:
        s.task = "cancel_order"
        return s, [Say(prompt, params)] + ask(s, "confirm_cancel", params)
    return s, [Say(_worded(prompt, full), params)] + ask(s, "anything_else")


def _return_prompt(order: Order, today: date) -> str:
    deadline = order.return_deadline()
    if order.status == "delivered":
        return "return_eligible" if deadline and deadline >= today else "return_expired"
    return {"processing": "return_processing", "returned": "return_already",
            "cancelled": "return_cancelled"}.get(order.status, "return_not_delivered")


def _cancel(s: CallState, order: Order, today: date, full: bool) -> Result:
    params = _order_params(order, today, s.lang)
    if order.can_cancel and not full:
        s.told.append(f"order {order.number} not cancelled: the caller is not its customer")
        return s, [Say("cancel_unverified", params)] + ask(s, "anything_else")
    if order.can_cancel:
        return s, [Say("confirm_cancel", params)] + listen(s, "confirm_cancel", params)
    prompt = {"shipped": "cancel_shipped", "delayed": "cancel_shipped",
              "delivered": "cancel_delivered", "cancelled": "cancel_already"}.get(
                  order.status, "cancel_closed")
    s.told.append(f"order {order.number} cannot be cancelled ({say_status(order.status)})")
    return s, [Say(prompt, params)] + ask(s, "anything_else")


_TASK_ANSWERS = {"order_status": _status, "refund_status": _refund,
                 "return_item": _return, "cancel_order": _cancel}


def _worded(prompt: str, full: bool) -> str:
    """The answer as the caller may hear it: with details, or status and dates only."""
    return prompt if full or prompt not in _DETAILED else f"{prompt}_brief"


def _order_params(order: Order, today: date, lang: str = "") -> dict[str, str]:
    """Every slot an order prompt may use, already worded for speech in the call's language."""
    lang = lang or "en"
    deadline = order.return_deadline()
    return {
        "order_number": order.number,
        "item": order.item or word("order", lang),
        "carrier": order.carrier or word("carrier", lang),
        "expected": say_date(order.expected_delivery, today, lang) if order.expected_delivery else word("soon", lang),
        "delivered": say_date(order.delivered_on, today, lang) if order.delivered_on else word("already", lang),
        "refunded": say_date(order.refund_issued_on, today, lang) if order.refund_issued_on else "",
        "refund_method": order.refund_method or word("payment", lang),
        "deadline": say_date(deadline, today, lang, bare=True) if deadline else "",
        "status_words": say_status(order.status, lang),
    }


def _today(s: CallState) -> date:
    return date.fromisoformat(s.today) if s.today else date.today()
