"""Call drivers: play the phone network's part for one call, in-process or over the wire."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Protocol

from app.dialog.actions import Hangup, Listen, RecordMessage
from app.dialog.events import AgentAnswered, Digits, Event, MessageRecorded, NoInput, TransferEnded
from app.engine import Engine, Handover, Reply


@dataclass
class BotTurn:
    """What the bot did after one caller step."""

    texts: list[str] = field(default_factory=list)
    intent: str | None = None
    transfer: dict | None = None       # {"to": ..., "summary": ...}
    hung_up: bool = False              # the bot ended the call
    ended: bool = False                # the call is over (hung up or bridged to a person)
    latency_ms: float | None = None


class CallDriver(Protocol):
    """One simulated call, step by step."""

    def start(self) -> BotTurn: ...
    def say(self, text: str) -> BotTurn: ...
    def press(self, keys: str) -> BotTurn: ...
    def silence(self, seconds: float) -> BotTurn: ...
    def finish(self) -> str: ...


def agent_events(behaviour: str) -> list[Event]:
    """What the phone network tells the engine on the simulated agent's leg of a transfer."""
    return {
        "answer": [AgentAnswered(True), TransferEnded("completed")],
        "decline": [AgentAnswered(False), TransferEnded("completed")],
        "no-answer": [TransferEnded("no-answer")],
        "busy": [TransferEnded("busy")],
    }[behaviour]


class InProcessDriver:
    """Drives the engine directly; caller lines arrive as recognised text (the text mode)."""

    def __init__(self, engine: Engine, caller: str, agent: str = "answer",
                 agent_number: str = "", no_input_s: float = 6.0, called: str = "+15550000") -> None:
        self.engine = engine
        self.called = called
        self.caller = caller
        self.agent = agent
        self.agent_number = agent_number
        self.no_input_s = no_input_s
        self.call_sid = "CA" + uuid.uuid4().hex
        self.listen: Listen | None = None
        self.recording = False
        self.ended = False

    def start(self) -> BotTurn:
        """Place the call."""
        return self._timed(lambda: self.engine.start(self.call_sid, self.caller, self.called))

    def say(self, text: str) -> BotTurn:
        """The caller speaks (a voicemail message when the bot is recording)."""
        if self.recording:
            return self._timed(lambda: self.engine.handle(self.call_sid, MessageRecorded(text)))
        return self._timed(lambda: self.engine.hear(self.call_sid, text))

    def press(self, keys: str) -> BotTurn:
        """Keypad keys: a whole entry where the bot takes several digits, else key by key."""
        turn = BotTurn()
        for entry in self._entries(keys):
            self._merge(turn, self._timed(lambda e=entry: self.engine.handle(self.call_sid, Digits(e))))
        return turn

    def silence(self, seconds: float) -> BotTurn:
        """Each full no-input window that passes is one NoInput for the flow."""
        turn = BotTurn()
        for _ in range(int(seconds // self.no_input_s)):
            if self.ended:
                break
            self._merge(turn, self._timed(lambda: self.engine.handle(self.call_sid, NoInput())))
        return turn

    def finish(self) -> str:
        """Hang up if the bot has not; the call's outcome."""
        if not self.ended:
            self.engine.hang_up(self.call_sid)
        state = self.engine.state(self.call_sid)
        return state.outcome if state and state.outcome else "hangup"

    def _entries(self, keys: str) -> list[str]:
        if self.listen is not None and self.listen.max_digits > 1:
            return [e for e in keys.split("#") if e] or [keys]
        return [k for k in keys if k != "#"]

    def _timed(self, call: Callable[[], Reply]) -> BotTurn:
        began = time.perf_counter()
        reply = call()
        turn = self._absorb(reply)
        turn.latency_ms = round((time.perf_counter() - began) * 1000, 2)
        return turn

    def _absorb(self, reply: Reply) -> BotTurn:
        turn = BotTurn(texts=list(reply.texts), intent=reply.heard.intent if reply.heard else None)
        self.listen = reply.listen or self.listen
        self.recording = any(isinstance(o, RecordMessage) for o in reply.outputs)
        for output in reply.outputs:
            if isinstance(output, Handover):
                turn.transfer = {"to": self.agent_number, "summary": output.whisper_text}
                self._merge(turn, self._agent_leg())
            elif isinstance(output, Hangup):
                turn.hung_up = output.outcome != "transferred"
                self.ended = turn.ended = True
        return turn

    def _agent_leg(self) -> BotTurn:
        """The simulated agent's side of a warm transfer."""
        turn = BotTurn()
        for event in agent_events(self.agent):
            self._merge(turn, self._absorb(self.engine.handle(self.call_sid, event)))
        return turn

    @staticmethod
    def _merge(into: BotTurn, turn: BotTurn) -> None:
        into.texts += turn.texts
        into.intent = into.intent or turn.intent
        into.transfer = into.transfer or turn.transfer
        into.hung_up = into.hung_up or turn.hung_up
        into.ended = into.ended or turn.ended
        if turn.latency_ms is not None and into.latency_ms is None:
            into.latency_ms = turn.latency_ms
