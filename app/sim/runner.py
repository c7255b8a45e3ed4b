"""Runs a call script against a driver and checks every expectation."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from app.sim.driver import BotTurn, CallDriver
from app.sim.script import (CALLER_STEPS, ExpectHangup, ExpectOutcome, ExpectSay, ExpectTransfer,
                            PressStep, SayStep, Script, SilenceStep, Step)


@dataclass
class SimResult:
    """The `--json` report of one scripted call (ARCHITECTURE §5)."""

    name: str
    outcome: str = "hangup"
    passed: bool = True
    failures: list[str] = field(default_factory=list)
    turns: list[dict] = field(default_factory=list)
    transfer: dict | None = None

    def to_dict(self) -> dict:
        """The JSON object `ivr sim --json` prints."""
        return asdict(self)


@dataclass
class _Call:
    heard_since: list[str] = field(default_factory=list)
    hung_up: bool = False      # the bot hung up
    ended: bool = False        # the call is over (hung up, or bridged to an agent)


def run_script(script: Script, driver: CallDriver) -> SimResult:
    """Play the script step by step; expectations are checked as they come."""
    result = SimResult(name=script.name)
    call = _Call()
    _record(result, call, "", driver.start())
    for index, step in enumerate(script.steps, start=1):
        if isinstance(step, CALLER_STEPS):
            if call.ended:
                result.failures.append(f"step {index}: the call had already ended")
                break
            call.heard_since = []
            _record(result, call, _caller_label(step), _act(driver, step))
            continue
        if isinstance(step, ExpectOutcome):
            result.outcome = driver.finish()
            call.ended = True
        _check(result, call, index, step)
    if not call.ended:
        result.outcome = driver.finish()
    result.passed = not result.failures
    return result


def _act(driver: CallDriver, step: Step) -> BotTurn:
    if isinstance(step, SayStep):
        return driver.say(step.text)
    if isinstance(step, PressStep):
        return driver.press(step.keys)
    assert isinstance(step, SilenceStep)
    return driver.silence(step.seconds)


def _caller_label(step: Step) -> str:
    if isinstance(step, SayStep):
        return step.text
    if isinstance(step, PressStep):
        return f"[press {step.keys}]"
    assert isinstance(step, SilenceStep)
    return f"[silence {step.seconds:g}s]"


def _record(result: SimResult, call: _Call, caller: str, turn: BotTurn) -> None:
    call.heard_since += turn.texts
    call.hung_up = call.hung_up or turn.hung_up
    call.ended = call.ended or turn.ended
    result.transfer = result.transfer or turn.transfer
    result.turns.append({"caller": caller, "bot": " ".join(turn.texts), "intent": turn.intent,
                         "latency_ms": turn.latency_ms})


def _check(result: SimResult, call: _Call, index: int, step: Step) -> None:
    failure = _failure(result, call, step)
    if failure:
        result.failures.append(f"step {index}: {failure}")


def _failure(result: SimResult, call: _Call, step: Step) -> str | None:
    if isinstance(step, ExpectSay):
        said = " ".join(call.heard_since)
        ok = step.text.lower() in said.lower()
        return None if ok else f"expected the bot to say {step.text!r}; it said {said!r}"
    if isinstance(step, ExpectTransfer):
        if result.transfer is None:
            return "expected a transfer to a person; there was none"
        summary = result.transfer["summary"].lower()
        missing = [w for w in step.summary_contains if w.lower() not in summary]
        return f"summary lacks {missing}: {result.transfer['summary']!r}" if missing else None
    if isinstance(step, ExpectHangup):
        return None if call.hung_up == step.hung_up else \
            f"expected the bot {'to' if step.hung_up else 'not to'} end the call"
    if isinstance(step, ExpectOutcome):
        return None if result.outcome == step.outcome else \
            f"expected outcome {step.outcome}, got {result.outcome}"
    return None
