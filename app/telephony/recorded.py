"""Record transport and voicemail: fetch a finished <Record>, recognise it offline, forget it."""
from __future__ import annotations

import logging
import wave
from typing import Any, Callable, Mapping, Sequence

from app.dialog.events import MessageRecorded, NoInput, RecognizerFailed
from app.engine import Engine, Reply
from app.speech.audio import FRAME_MS, RATE, frames, read_wav, resample
from app.speech.recognizer import Result
from app.telephony.rest import RecordingError, TwilioRest

log = logging.getLogger(__name__)
PCM_CHUNK = RATE * 2 * FRAME_MS // 1000 * 10      # 200 ms per accept() call


class RecordedTurns:
    """Turns that arrive as recordings (IVR_TRANSPORT=record, and voicemail messages)."""

    def __init__(self, engine: Engine, rest: TwilioRest, asr: object,
                 phrases_for: Callable[[Sequence[str], bool], list[str] | None],
                 keep_recordings: bool = False, messages: object = None,
                 languages: Mapping[str, Any] | None = None) -> None:
        """`asr` and `phrases_for` serve the default language; `languages` (app.telephony.voice
        SpokenLanguage by code) the others, a call being heard in its own."""
        self.engine, self.rest, self.asr = engine, rest, asr
        self.phrases_for = phrases_for
        self.languages = dict(languages or {})
        self.keep_recordings = keep_recordings
        self.messages = messages      # MessageStore: a kept voicemail is played on the call page

    def recognise_turn(self, call_sid: str, url: str) -> Reply:
        """A caller turn: recognise against what the call expects, then step the flow."""
        asr, phrases_for = self._hearing(call_sid)
        if asr is None:     # no recognizer for the call's language: it is served by keypad only
            if not self.keep_recordings:
                self.rest.delete_recording(url)   # not listened to, and not kept either
            return self.engine.handle(call_sid, NoInput())
        try:
            expect = self.engine.expected(call_sid)
            result = self._recognise(url, phrases_for(expect, self.engine.expects_number(call_sid)), asr=asr)
        except RecordingError as exc:
            log.error("call %s: recording unusable (%s)", call_sid, exc)
            return self.engine.handle(call_sid, RecognizerFailed(str(exc)))
        if not result.text.strip():
            return self.engine.handle(call_sid, NoInput())
        return self.engine.hear(call_sid, result.text, result.confidence)

    def take_voicemail(self, call_sid: str, url: str) -> Reply:
        """A message for the agents: free transcription, stored with the callback request."""
        asr, _ = self._hearing(call_sid)
        try:
            transcript = self._recognise(url, None, keep_for=call_sid, asr=asr).text
        except RecordingError as exc:
            log.error("call %s: voicemail unusable (%s)", call_sid, exc)
            transcript = ""
        return self.engine.handle(call_sid, MessageRecorded(transcript, "" if not self.keep_recordings else url))

    def _hearing(self, call_sid: str) -> tuple[object | None, Callable]:
        """The recognizer engine and phrase lookup of the call's language."""
        state = self.engine.state(call_sid)
        spoken = self.languages.get(state.lang) if state is not None else None
        return (spoken.asr, spoken.phrases_for) if spoken is not None else (self.asr, self.phrases_for)

    def _recognise(self, url: str, phrases: list[str] | None, keep_for: str = "",
                   asr: object | None = None) -> Result:
        audio = self.rest.fetch_recording(url)
        if keep_for and self.keep_recordings and self.messages is not None:
            self.messages.save_wav(keep_for, audio)  # type: ignore[attr-defined]
        try:
            pcm, rate = read_wav(audio)
        except (ValueError, EOFError, wave.Error) as exc:
            raise RecordingError(f"not a 16-bit WAV: {exc}") from None
        if not self.keep_recordings:
            self.rest.delete_recording(url)   # privacy: nothing kept once it is text
        if asr is None:       # a message in a language without a recognizer: kept, not transcribed
            return Result("", True, 0.0)
        recognizer = asr.new_recognizer()  # type: ignore[attr-defined]
        recognizer.set_phrases(phrases)
        for chunk in frames(resample(pcm, rate, RATE) if rate != RATE else pcm, PCM_CHUNK, pad=b"\x00\x00"):
            recognizer.accept(chunk)
        return recognizer.finish()
