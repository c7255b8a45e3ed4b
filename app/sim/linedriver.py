"""The in-process audio mode: caller lines are synthesized and heard over a PhoneLine.

Everything the caller does goes through the live voice path (frames, endpointer, recognizer,
matcher, no-input timing); only the agent's leg of a transfer is played on the engine directly,
the way Twilio's webhooks would report it.
"""
from __future__ import annotations

from typing import Callable

from app.dialog.actions import Listen, RecordMessage
from app.engine import Reply
from app.services import Services
from app.sim.driver import BotTurn, InProcessDriver, agent_events
from app.sim.phoneline import LineTurn, PhoneLine


class LineDriver(InProcessDriver):
    """A scripted call whose caller speaks (audio from `voice`) into an in-process phone line."""

    def __init__(self, services: Services, caller: str, agent: str, voice: Callable[[str], bytes]) -> None:
        settings = services.settings
        super().__init__(services.engine, caller, agent, agent_number=settings.agent_numbers[0],
                         no_input_s=settings.no_input_s)
        self.line = PhoneLine(services, self.call_sid)
        self.voice = voice

    def start(self) -> BotTurn:
        """Place the call; the greeting plays out."""
        return self._heard(self.line.start(self.caller))

    def say(self, text: str) -> BotTurn:
        """The caller says `text` (a voicemail message too, when the bot is recording)."""
        return self._heard(self.line.say(self.voice(text)))

    def press(self, keys: str) -> BotTurn:
        """Keypad keys over the stream."""
        return self._heard(self.line.press(keys))

    def silence(self, seconds: float) -> BotTurn:
        """The caller stays silent; the call's own no-input timer runs."""
        return self._heard(self.line.silence(seconds))

    def finish(self) -> str:
        """Hang up if the bot has not; the call's outcome."""
        self.line.hang_up()
        state = self.engine.state(self.call_sid)
        return state.outcome if state and state.outcome else "hangup"

    def _heard(self, line: LineTurn) -> BotTurn:
        turn = BotTurn(texts=list(line.texts), intent=line.intent, hung_up=line.hung_up,
                       ended=line.ended, latency_ms=line.latency_ms)
        if line.transfer is not None and line.ended:
            turn.transfer = {"to": self.agent_number, "summary": line.transfer.whisper_text}
            leg = self._agent_leg()
            turn.texts += leg.texts
            turn.hung_up, turn.ended = turn.hung_up or leg.hung_up, leg.ended
        self.ended = turn.ended
        return turn

    def _agent_leg(self) -> BotTurn:
        """The agent's leg, as the whisper and Dial webhooks report it to the engine."""
        leg = BotTurn(ended=True)
        for event in agent_events(self.agent):
            reply = self.engine.handle(self.call_sid, event)
            if _waits_for_caller(reply):
                # Nobody took the call: Twilio opens the stream again and the bot speaks there.
                back = self._heard(self.line.reconnect())
                leg.ended = back.ended
            else:
                back = self._absorb(reply)
            leg.texts += back.texts
            leg.hung_up = leg.hung_up or back.hung_up
        return leg


def _waits_for_caller(reply: Reply) -> bool:
    return any(isinstance(o, (Listen, RecordMessage)) for o in reply.outputs)
