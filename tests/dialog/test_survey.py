"""The optional satisfaction question: asked before goodbye when the call says so, keys 1-5 kept."""
from __future__ import annotations

from datetime import date

import pytest

from app.dialog.actions import Hangup, Listen, Say, Transfer
from app.dialog.business import Store
from app.dialog.events import CallerHungUp, CallStarted, Digits, Heard, NoInput, StoresLookedUp
from app.dialog.flow import step
from app.dialog.state import CallState

STORES = (Store("Portland", "1 Main St", (("Monday to Saturday", "9 am to 8 pm"),)),)


def served(survey: bool) -> CallState:
    """A call that got its answer (store hours) and is at "anything else?"."""
    state, _ = step(CallState("CA1"), CallStarted("CA1", "+15550123", "", today=date(2026, 11, 21), survey=survey))
    state, _ = step(state, Heard("store_hours", 0.95, {}, "hours"))
    state, _ = step(state, StoresLookedUp(STORES))
    assert state.node == "anything_else" and state.told
    return state


def prompts(actions) -> list[str]:
    return [a.prompt for a in actions if isinstance(a, Say)]


def test_without_the_survey_no_means_goodbye() -> None:
    state, actions = step(served(False), Heard("no", 0.95, {}, "no"))
    assert prompts(actions) == ["goodbye"] and actions[-1] == Hangup("resolved")
    assert state.satisfaction is None


def test_with_the_survey_no_asks_for_a_single_key() -> None:
    state, actions = step(served(True), Heard("no", 0.95, {}, "no"))
    assert prompts(actions) == ["survey"]
    assert actions[-1] == Listen(expect=(), digits=True, max_digits=1)
    assert state.node == "survey" and not state.ended


@pytest.mark.parametrize("key", ["1", "3", "5"])
def test_a_key_from_1_to_5_is_kept_then_goodbye(key: str) -> None:
    asked, _ = step(served(True), Heard("goodbye", 0.95, {}, "bye"))
    state, actions = step(asked, Digits(key))
    assert state.satisfaction == int(key) and state.outcome == "resolved" and state.node == "ended"
    assert prompts(actions) == ["survey_thanks", "goodbye"] and actions[-1] == Hangup("resolved")


@pytest.mark.parametrize("event", [Digits("7"), Digits("*"), NoInput(), Heard("none", 0.2, {}, "great")])
def test_anything_else_says_goodbye_without_a_rating(event) -> None:
    asked, _ = step(served(True), Heard("no", 0.95, {}, "no"))
    state, actions = step(asked, event)
    assert state.satisfaction is None and prompts(actions) == ["goodbye"] and actions[-1] == Hangup("resolved")


@pytest.mark.parametrize("event", [Digits("0"), Heard("agent", 0.95, {}, "agent")])
def test_a_person_is_still_one_step_away(event) -> None:
    asked, _ = step(served(True), Heard("no", 0.95, {}, "no"))
    state, actions = step(asked, event)
    assert any(isinstance(a, Transfer) for a in actions) and state.outcome == "transferred"


def test_hanging_up_at_the_question_still_counts_as_served() -> None:
    asked, _ = step(served(True), Heard("no", 0.95, {}, "no"))
    state, _ = step(asked, CallerHungUp())
    assert state.outcome == "resolved" and state.satisfaction is None


def test_an_unserved_caller_is_not_asked() -> None:
    state, _ = step(CallState("CA1"), CallStarted("CA1", "+15550123", "", survey=True))
    state, actions = step(state, Heard("goodbye", 0.95, {}, "bye"))
    assert prompts(actions) == ["goodbye"] and state.outcome == "hangup"
