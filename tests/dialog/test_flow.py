"""The call flow, step by step, with no server: events in, actions out."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.dialog.actions import (CancelOrder, Hangup, Listen, LookupOrder, LookupStores,
                                RecordMessage, RequestCallback, Say, Transfer)
from app.dialog.business import Customer, Order, Store
from app.dialog.events import (AgentAnswered, CallerHungUp, CallStarted, Digits, Heard,
                               MessageRecorded, NoInput, OrderLookedUp, RecognizerFailed,
                               StoresLookedUp, TransferEnded)
from app.dialog.flow import step
from app.dialog.state import CallState

TODAY = date(2026, 11, 21)
JANE = Customer("Jane Doe", "+15550100", ("48217", "30512"))
SHIPPED = Order("48217", "shipped", "+15550100", "rain jacket", "UPS",
                expected_delivery=TODAY + timedelta(days=2))
PROCESSING = Order("30512", "processing", "+15550100", "boots")
DELAYED = Order("10347", "delayed", "+15550100", "tent", "FedEx")
DELIVERED = Order("44810", "delivered", "+15550100", "scarf", delivered_on=TODAY - timedelta(days=10))
OWNER, STRANGER = "+15550100", "+15550123"      # the orders' customer, and another caller
STORES = (Store("Portland", "1 Main St", (("Monday to Saturday", "9 am to 8 pm"),)),
          Store("Seattle", "2 Pike St", (("Monday to Saturday", "9 am to 8 pm"),)))


def heard(intent: str, confidence: float = 0.95, words: str = "", **slots: str) -> Heard:
    return Heard(intent, confidence, dict(slots), words or intent.replace("_", " "))


def call(*events, customer=None, recent=None, caller=OWNER, verify_orders=True):
    """Run events from a fresh call (by default the orders' own customer calling); returns
    (state, actions of the last event)."""
    started = CallStarted("CA1", caller, "", customer, recent, TODAY, verify_orders=verify_orders)
    state, actions = step(CallState("CA1"), started)
    for event in events:
        state, actions = step(state, event)
    return state, actions


def prompts(actions) -> list[str]:
    return [a.prompt for a in actions if isinstance(a, Say)]


def transfer_of(actions) -> Transfer:
    return next(a for a in actions if isinstance(a, Transfer))


def test_greeting_discloses_bot_and_offers_agent():
    state, actions = call()
    assert prompts(actions) == ["greeting"]
    assert isinstance(actions[-1], Listen) and "order_status" in actions[-1].expect
    assert state.node == "menu"


def test_known_caller_greeted_by_name_and_offered_recent_order():
    state, actions = call(customer=JANE, recent=PROCESSING)
    assert actions[0] == Say("greeting_known", {"first_name": "Jane"})
    assert Say("offer_recent_order", {"order_number": "30512"}) in actions
    state, actions = step(state, heard("yes"))
    assert actions == [LookupOrder("30512")]
    state, actions = step(state, OrderLookedUp("30512", PROCESSING))
    assert prompts(actions)[0] == "status_processing"


def test_order_status_by_speech_answers_from_data():
    state, actions = call(heard("order_status"))
    assert prompts(actions) == ["ask_order_number"]
    assert actions[-1].max_digits == 8
    state, actions = step(state, heard("order_status", order_number="48217"))
    assert actions == [LookupOrder("48217")]
    state, actions = step(state, OrderLookedUp("48217", SHIPPED))
    assert actions[0] == Say("status_shipped", {**actions[0].params, "carrier": "UPS"})
    assert actions[0].params["expected"] == "on Monday, November 23rd"
    assert prompts(actions)[-1] == "anything_else"


def test_order_number_by_keypad():
    state, actions = call(heard("order_status"), Digits("48217"))
    assert actions == [LookupOrder("48217")]


def test_low_confidence_number_is_read_back():
    state, actions = call(heard("order_status"), heard("order_status", 0.5, order_number="48217"))
    assert Say("confirm_number", {"order_number": "48217"}) in actions
    state, actions = step(state, heard("yes"))
    assert actions == [LookupOrder("48217")]


def test_read_back_rejected_asks_again():
    state, actions = call(heard("order_status", 0.5, order_number="48211"), heard("no"))
    assert prompts(actions) == ["number_again"] and state.node == "collect_order"


def test_unknown_order_retry_then_offer_person():
    state, actions = call(heard("order_status", order_number="99999"), OrderLookedUp("99999", None))
    assert prompts(actions) == ["order_not_found"] and state.node == "collect_order"
    state, actions = step(state, OrderLookedUp("99998", None))
    assert prompts(actions) == ["order_not_found_again", "offer_agent"]
    state, actions = step(state, heard("yes"))
    assert transfer_of(actions).reason == "order not found"


def test_delayed_order_offers_a_person():
    state, actions = call(heard("order_status", order_number="10347"), OrderLookedUp("10347", DELAYED))
    assert prompts(actions) == ["status_delayed", "offer_agent"]
    state, actions = step(state, heard("yes"))
    summary = transfer_of(actions).summary
    assert summary.order_number == "10347" and summary.order_status == "delayed"
    assert summary.reason == "delayed order"


def test_cancel_only_after_explicit_yes():
    state, actions = call(heard("cancel_order", order_number="30512"), OrderLookedUp("30512", PROCESSING))
    assert prompts(actions) == ["confirm_cancel"]
    assert not any(isinstance(a, CancelOrder) for a in actions)
    state, actions = step(state, heard("yes"))
    assert actions[0] == CancelOrder("30512")
    assert prompts(actions) == ["cancelled", "anything_else"]


def test_cancel_refused_when_caller_says_no():
    state, actions = call(heard("cancel_order", order_number="30512"), OrderLookedUp("30512", PROCESSING),
                          heard("no"))
    assert prompts(actions) == ["not_cancelled", "anything_else"]
    assert not any(isinstance(a, CancelOrder) for a in actions)


def test_cancel_shipped_order_says_why_not():
    state, actions = call(heard("cancel_order", order_number="48217"), OrderLookedUp("48217", SHIPPED))
    assert prompts(actions) == ["cancel_shipped", "anything_else"]


def test_return_eligible_delivered_order():
    state, actions = call(heard("return_item", order_number="44810"), OrderLookedUp("44810", DELIVERED))
    assert prompts(actions)[0] == "return_eligible"
    assert actions[0].params["deadline"] == "Monday, December 11th".replace("Monday", "Friday")


def test_refund_for_returned_order():
    returned = Order("33602", "returned", OWNER, "shoes", refund_issued_on=TODAY - timedelta(days=3),
                     refund_method="card")
    state, actions = call(heard("refund_status", order_number="33602"), OrderLookedUp("33602", returned))
    assert prompts(actions)[0] == "refund_issued"
    assert actions[0].params["refunded"] == "on Wednesday, November 18th"


@pytest.mark.parametrize("city,prompt", [("portland", "location_city"), ("", "ask_city")])
def test_store_location(city, prompt):
    slots = {"city": city} if city else {}
    state, actions = call(heard("store_location", **slots))
    assert actions == [LookupStores()]
    state, actions = step(state, StoresLookedUp(STORES))
    assert prompts(actions)[0] == prompt


def test_store_location_asks_city_then_answers():
    state, actions = call(heard("store_location"), StoresLookedUp(STORES), heard("store_location", city="seattle"))
    state, actions = step(state, StoresLookedUp(STORES))
    assert actions[0].params["address"] == "2 Pike St"


def test_store_hours_without_city():
    state, actions = call(heard("store_hours"), StoresLookedUp(STORES))
    assert prompts(actions) == ["hours_all", "anything_else"]


@pytest.mark.parametrize("intent,reason", [("billing_issue", "billing question"), ("complaint", "complaint")])
def test_sensitive_topics_transfer_at_once(intent, reason):
    state, actions = call(heard(intent))
    assert transfer_of(actions).reason == reason
    assert state.outcome == "transferred"


ALL_NODES = {
    "menu": (),
    "collect_order": (heard("order_status"),),
    "confirm_number": (heard("order_status", 0.4, order_number="48217"),),
    "confirm_cancel": (heard("cancel_order", order_number="30512"), OrderLookedUp("30512", PROCESSING)),
    "anything_else": (heard("store_hours"), StoresLookedUp(STORES)),
    "offer_agent": (heard("order_status", order_number="10347"), OrderLookedUp("10347", DELAYED)),
    "ask_city": (heard("store_location"), StoresLookedUp(STORES)),
}


@pytest.mark.parametrize("node", sorted(ALL_NODES))
@pytest.mark.parametrize("escape", [heard("agent", words="agent"), Digits("0")])
def test_agent_reached_from_every_state_in_one_turn(node, escape):
    state, _ = call(*ALL_NODES[node])
    assert state.node == node
    state, actions = step(state, escape)
    assert transfer_of(actions).reason == "asked for a person"


def test_no_input_ladder():
    state, actions = call(NoInput())
    assert prompts(actions) == ["menu_short"]
    state, actions = step(state, NoInput())
    assert transfer_of(actions).reason == "silent twice"


def test_no_match_ladder_resets_on_success():
    state, actions = call(heard("none"))
    assert prompts(actions) == ["menu_rephrase"]
    state, actions = step(state, heard("store_hours"))
    state, actions = step(state, StoresLookedUp(STORES))
    state, actions = step(state, heard("none"))
    assert not any(isinstance(a, Transfer) for a in actions)
    state, actions = step(state, heard("none"))
    assert transfer_of(actions).reason == "not understood twice"


def test_repeat_help_start_over_everywhere():
    state, first = call(heard("order_status"))
    state, actions = step(state, heard("repeat"))
    assert prompts(actions) == prompts(first)
    state, actions = step(state, heard("help"))
    assert prompts(actions) == ["help", "ask_order_number_short"]
    state, actions = step(state, heard("start_over"))
    assert prompts(actions) == ["start_over", "menu"] and state.task == ""


def test_goodbye_ends_politely():
    state, actions = call(heard("store_hours"), StoresLookedUp(STORES), heard("no"))
    assert prompts(actions) == ["goodbye"]
    assert actions[-1] == Hangup("resolved")


def test_keypad_menu():
    state, actions = call(Digits("1"))
    assert prompts(actions) == ["ask_order_number"]


def test_unanswered_transfer_offers_message_then_callback():
    state, actions = call(heard("agent"), TransferEnded("no-answer"))
    assert prompts(actions) == ["agent_unavailable"]
    state, actions = step(state, heard("yes"))
    assert isinstance(actions[-1], RecordMessage)
    state, actions = step(state, MessageRecorded("please call me about my jacket"))
    callback = next(a for a in actions if isinstance(a, RequestCallback))
    assert callback.transcript == "please call me about my jacket" and callback.phone == OWNER
    assert actions[-1] == Hangup("voicemail")


def test_declined_whisper_is_not_a_bridge():
    state, actions = call(heard("agent"), AgentAnswered(False), TransferEnded("completed"))
    assert prompts(actions) == ["agent_unavailable"]
    state, actions = step(state, Digits("2"))
    assert any(isinstance(a, RequestCallback) for a in actions)


def test_accepted_transfer_ends_call():
    state, actions = call(heard("agent"), AgentAnswered(True), TransferEnded("completed"))
    assert actions == [Hangup("transferred")] and state.outcome == "transferred"


def test_recognizer_failure_falls_back_to_keypad():
    state, actions = call(RecognizerFailed("model crashed"))
    assert prompts(actions) == ["keypad_fallback", "menu_keypad"]


def test_hangup_outcomes():
    state, _ = call(CallerHungUp())
    assert state.outcome == "hangup"
    state, _ = call(heard("store_hours"), StoresLookedUp(STORES), CallerHungUp())
    assert state.outcome == "resolved"


def test_state_round_trips_through_json():
    state, _ = call(heard("order_status", 0.4, order_number="48217"))
    assert CallState.from_json(state.to_json()) == state


# -- order details only for the order's customer (IVR_ORDER_DETAILS=verified) ------------------

def test_another_caller_is_asked_the_last_digits_of_the_order_phone_before_details():
    state, actions = call(heard("order_status", order_number="48217"), caller=STRANGER)
    state, actions = step(state, OrderLookedUp("48217", SHIPPED))
    assert prompts(actions) == ["verify_caller"] and state.node == "verify_caller"
    assert "UPS" not in str(actions) and "rain jacket" not in str(actions)
    state, actions = step(state, Digits("0100"))
    assert actions == [LookupOrder("48217")]
    state, actions = step(state, OrderLookedUp("48217", SHIPPED))
    assert prompts(actions)[0] == "status_shipped"
    state, actions = step(state, heard("refund_status", order_number="48217"))
    state, actions = step(state, OrderLookedUp("48217", SHIPPED))
    assert prompts(actions)[0] == "refund_none"          # verified once for this customer's orders


def test_a_wrong_answer_or_no_gives_status_and_dates_only():
    for answer, said in ((Digits("9999"), ["verify_failed", "status_shipped_brief"]),
                         (heard("no"), ["status_shipped_brief", "anything_else"])):
        state, actions = call(heard("order_status", order_number="48217"), OrderLookedUp("48217", SHIPPED),
                              answer, caller=STRANGER)
        state, actions = step(state, OrderLookedUp("48217", SHIPPED))
        assert prompts(actions)[:2] == said
        state, actions = step(state, heard("order_status", order_number="48217"))
        state, actions = step(state, OrderLookedUp("48217", SHIPPED))
        assert prompts(actions)[0] == "status_shipped_brief"      # one question per order, not two


def test_another_caller_cannot_cancel_and_an_order_without_a_phone_is_status_only():
    state, actions = call(heard("cancel_order", order_number="30512"), OrderLookedUp("30512", PROCESSING),
                          Digits("1234"), caller=STRANGER)
    state, actions = step(state, OrderLookedUp("30512", PROCESSING))
    assert prompts(actions)[:2] == ["verify_failed", "cancel_unverified"]
    assert not any(isinstance(a, CancelOrder) for a in actions)
    nobody = Order("55555", "delayed", None, "tent", "FedEx")
    state, actions = call(heard("order_status", order_number="55555"), OrderLookedUp("55555", nobody),
                          caller=STRANGER)
    assert prompts(actions)[0] == "status_delayed_brief"


def test_anyone_hears_details_when_the_operator_allows_it():
    state, actions = call(heard("order_status", order_number="48217"), OrderLookedUp("48217", SHIPPED),
                          caller=STRANGER, verify_orders=False)
    assert prompts(actions)[0] == "status_shipped"
