"""A live voice call: caller audio in, recognised turns to the engine, synthesized replies out.

Transport-neutral: the Media Streams handler feeds it frames, keys and marks, and gives it a
Sink to speak through. Time is counted in the caller's 20 ms frames, so no-input and digit
timeouts follow the call's own clock (and the simulator can run faster than real time).
"""
from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

from app.dialog.actions import Hangup, Listen, RecordMessage
from app.dialog.events import Digits, Event, MessageRecorded, NoInput, RecognizerFailed, TransferEnded
from app.engine import Engine, Handover, Reply, Speak
from app.speech.audio import dbfs, ulaw_to_pcm16
from app.speech.endpoint import EndpointConfig, Endpointer, EventKind, speech_onset
from app.speech.vad import DetectorPool, SileroDetector
from app.telephony import twiml
from app.telephony.rest import LiveCallError
from app.telephony.twiml import TwimlStyle

log = logging.getLogger(__name__)
FRAME_MS = 20
DIGIT_TIMEOUT_MS = 3000
MAX_ENTRY_KEYS = 32             # longer than any card number; bounds what one entry holds
MESSAGE_SILENCE_MS = 2500
MESSAGE_RATE = 8000           # caller audio on the stream: 8 kHz μ-law, kept as 16-bit PCM
LEAD_IN_FRAMES = 30            # audio kept while waiting for speech (600 ms): the detector notices
                               # a weak first syllable up to ~400 ms late; speech_onset() picks the
                               # words' start from it (a fixed 100 ms lead-in clipped "it's", "no")
OWNER_CHECK_FRAMES = 50       # once a second: is this stream still the one carrying the call?
BARGE_IN_MS = 200              # voiced speech that stops a playing prompt: a cough, a breath or
                               # a click is shorter for the detector (docs/benchmarks.md)
# Speech at least this long that the recognizer could not place is a no-match turn ("Sorry, I
# didn't catch that"), never silence; shorter bursts (a cough, a click) keep the bot listening.
NO_MATCH_SPEECH_MS = 300
HANGUP_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


class Sink(Protocol):
    """Where a call's outbound side goes (the websocket and Twilio's REST API)."""

    def play(self, ulaw: bytes, text: str) -> None: ...
    def clear(self) -> None: ...
    def update_call(self, twiml_doc: str) -> None: ...


@dataclass(frozen=True)
class SpokenLanguage:
    """How calls in one language are heard and spoken to; no `asr`: heard by keypad only."""

    asr: object | None
    synthesize: Callable[[str], bytes]
    phrases_for: Callable[[Sequence[str], bool], list[str] | None]
    is_complete: Callable[[str, Sequence[str]], bool]


@dataclass(frozen=True)
class VoiceKit:
    """What every live call shares: loaded once per process by create_app.

    `asr`, `synthesize`, `phrases_for` and `is_complete` serve `lang`, the default language;
    `languages` holds every language served (a call follows its own, which it may switch)."""

    engine: Engine
    asr: object                                   # app.speech engine: new_recognizer()
    synthesize: Callable[[str], bytes]            # text -> 8 kHz μ-law
    phrases_for: Callable[[Sequence[str], bool], list[str] | None]   # expect, numbers expected
    is_complete: Callable[[str, Sequence[str]], bool]
    style: TwimlStyle
    endpoint_silence_ms: int = 600
    max_utterance_ms: int = 12000
    no_input_ms: int = 6000
    on_reply: Callable[[float], None] | None = None   # seconds, end of caller speech -> reply audio sent
    keep_message: Callable[[str, bytes, int], None] | None = None   # CallSid, PCM, rate (IVR_KEEP_RECORDINGS)
    detectors: DetectorPool = field(default_factory=DetectorPool)   # voice activity, one per call
    lang: str = ""
    languages: Mapping[str, SpokenLanguage] = field(default_factory=dict)


class VoiceCall:
    """One call's live audio loop; every method returns quickly (the transport's thread runs it)."""

    def __init__(self, call_sid: str, kit: VoiceKit, sink: Sink, stream_sid: str = "") -> None:
        self.call_sid = call_sid
        self.stream_sid = stream_sid          # "" where no stream carries the call (simulator)
        self.superseded = False               # a newer stream took the call over: stop here
        self.frames = 0
        self.kit = kit
        self.sink = sink
        self.recognizer = kit.asr.new_recognizer() if kit.asr is not None else None  # type: ignore[attr-defined]
        self.lang = kit.lang
        self.spoken = SpokenLanguage(kit.asr, kit.synthesize, kit.phrases_for, kit.is_complete)
        self._recognizers: dict[str, object | None] = {kit.lang: self.recognizer}
        # Per call: it follows this line's audio across turns; back to the pool at close().
        self.detector: SileroDetector | None = kit.detectors.acquire()
        self.endpointer = self._new_endpointer(kit.endpoint_silence_ms, ())
        self.listen: Listen | None = None
        self.recording = False
        self.message: list[bytes] = []         # the voicemail's audio, kept only when asked to
        self.playing = 0
        self.after_playback: list[object] = []
        self.digits = ""
        self.quiet_ms = 0
        self.digit_ms = 0
        self.speaking = False
        self.barged_in = False                 # this turn's speech stopped a prompt
        self.prompt: list[tuple[bytes, str]] = []   # the last prompt, replayed after an empty barge-in
        self.lead_in: deque[bytes] = deque(maxlen=LEAD_IN_FRAMES)
        self.keypad_only = False
        self.finished = False
        self.last_reply_at = 0.0
        self.turn_ended_at: float | None = None

    def begin(self, caller: str = "") -> None:
        """The stream is up: greet (or, on a reconnect, repeat the last question)."""
        self._perform(self.kit.engine.start(self.call_sid, caller, stream=self.stream_sid))

    def close(self) -> None:
        """The stream is over: give the voice-activity detector back for the next call."""
        if self.detector is not None:
            self.kit.detectors.release(self.detector)
            self.detector = None
        self.finished = True

    def on_audio(self, ulaw: bytes) -> None:
        """20 ms of caller audio."""
        if self.finished:
            return
        self.frames += 1
        if self.frames % OWNER_CHECK_FRAMES == 0 and self._taken_over():
            return
        self._tick_digits()
        if self.listen is None and not self.recording:
            return
        pcm = ulaw_to_pcm16(ulaw)
        if self.recording and self.kit.keep_message is not None:
            self.message.append(pcm)
        if not self.deaf:
            self._hear(pcm)
        self._tick_silence()

    def on_dtmf(self, digit: str) -> None:
        """A keypad key: one key answers a one-key question; longer entries end with # or a pause."""
        if self.finished or (self.listen is None and not self.recording):
            return
        self._barge_in()
        if self.recording:
            if digit == "#":
                self._end_message()
            return
        if self.listen is not None and self.listen.max_digits <= 1:
            self._turn(lambda: self._handle(Digits(digit)))
            return
        # An entry is never cut at the question's length: the caller's whole entry goes in as one
        # (a card number keyed at the order question is then masked whole, not split in two
        # "order numbers"). It ends with #, a pause, or a length no real answer reaches.
        self.digits, self.digit_ms = self.digits + digit, 0
        if digit == "#" or len(self.digits) >= MAX_ENTRY_KEYS:
            self._submit_digits()

    def on_mark(self, name: str) -> None:
        """Twilio played (or cleared) our audio up to this mark."""
        self.playing = max(0, self.playing - 1)
        if self.playing == 0:
            self.quiet_ms = 0
            self._run_after_playback()

    def _hear(self, pcm: bytes) -> None:
        """Voice activity on every frame; the recognizer only sees speech (plus a short lead-in).

        Callers are silent most of the time: decoding only around speech keeps the CPU per live
        call small, and the lead-in keeps the first syllable the VAD needed to notice speech.
        """
        events = self.endpointer.feed(pcm)
        if not self.speaking and not any(e.kind == EventKind.SPEECH_START for e in events):
            self.lead_in.append(pcm)
            return
        if not self.speaking:
            self.speaking = True
            self._recognize_lead_in(pcm)
        else:
            self._recognize(pcm)
        if self.playing and not self.barged_in and self.endpointer.voiced_ms >= BARGE_IN_MS:
            self.barged_in = True
            self._barge_in()
        if any(e.kind == EventKind.END for e in events):
            self._end_of_speech()

    def _recognize_lead_in(self, pcm: bytes) -> None:
        """Speech started: the recognizer gets the words from their first sound, then this frame."""
        self.lead_in.append(pcm)
        kept = list(self.lead_in)
        voiced_frames = (self.endpointer.now_ms - (self.endpointer.speech_start_ms or 0)) // FRAME_MS
        first = speech_onset([dbfs(frame) for frame in kept], len(kept) - max(voiced_frames, 1))
        for frame in kept[first:]:
            self._recognize(frame)
        self.lead_in.clear()

    @property
    def deaf(self) -> bool:
        """No speech is recognised: the recognizer failed, or the call's language has none."""
        return self.keypad_only or self.recognizer is None

    def _use_language(self, lang: str) -> None:
        """Hear and speak in the call's language: set at its start, switchable at the greeting.

        A language without a recognizer is heard by keypad only: never another language's."""
        if lang == self.lang or lang not in self.kit.languages:
            return
        self.lang, self.spoken = lang, self.kit.languages[lang]
        if lang not in self._recognizers:
            asr = self.spoken.asr
            self._recognizers[lang] = asr.new_recognizer() if asr is not None else None  # type: ignore[attr-defined]
        self.recognizer = self._recognizers[lang]

    def _recognize(self, pcm: bytes) -> None:
        if self.deaf:
            return
        try:
            result = self.recognizer.accept(pcm)
        except Exception:  # noqa: BLE001 - a broken recognizer must not end the call: use keys
            log.exception("call %s: recognizer failed", self.call_sid)
            self.keypad_only = True
            self.speaking = False
            self._turn(lambda: self._handle(RecognizerFailed("accept failed")))
            return
        if result is not None and result.text:
            self.endpointer.partial(result.text)

    def _end_of_speech(self) -> None:
        self.speaking = False
        barged_in, self.barged_in = self.barged_in, False
        self.lead_in.clear()
        began = self.turn_ended_at = time.perf_counter()
        final = self.recognizer.finish()
        asr_ms = (time.perf_counter() - began) * 1000
        spoke_ms = self.endpointer.last_voiced_ms - (self.endpointer.speech_start_ms or 0)
        self.endpointer.reset()
        if self.recording:
            self._end_message(final.text)
            return
        if not final.text.strip() and (spoke_ms < NO_MATCH_SPEECH_MS or barged_in):
            self.turn_ended_at = None
            if barged_in:
                self._replay_prompt()  # we stopped the prompt for nothing: never leave silence
            return  # a cough or line noise: keep listening, the no-input clock keeps running
        # Words, or speech the recognizer could not place (an empty text): a no-match, not silence.
        self._turn(lambda: self.kit.engine.hear(self.call_sid, final.text, final.confidence, asr_ms,
                                                stream=self.stream_sid, open_words=final.open_words))

    def _tick_silence(self) -> None:
        if self.speaking or self.playing or self.digits:
            return
        self.quiet_ms += FRAME_MS
        limit = MESSAGE_SILENCE_MS * 4 if self.recording else self.kit.no_input_ms
        if self.quiet_ms >= limit:
            if self.recording:
                self._end_message()
            else:
                self._turn(lambda: self._handle(NoInput()))

    def _tick_digits(self) -> None:
        if not self.digits:
            return
        self.digit_ms += FRAME_MS
        if self.digit_ms >= DIGIT_TIMEOUT_MS:
            self._submit_digits()

    def _submit_digits(self) -> None:
        entry, self.digits = self.digits.rstrip("#"), ""
        if entry:
            self._turn(lambda: self._handle(Digits(entry)))
        else:
            self._turn(lambda: self._handle(NoInput()))

    def _end_message(self, transcript: str = "") -> None:
        self.recording = False
        if self.kit.keep_message is not None and self.message:
            self.kit.keep_message(self.call_sid, b"".join(self.message), MESSAGE_RATE)
        self.message = []
        self._turn(lambda: self._handle(MessageRecorded(transcript.strip())))

    def _barge_in(self) -> None:
        if self.playing:
            self.sink.clear()

    def _replay_prompt(self) -> None:
        """Say the interrupted prompt again (its marks count as playback, as the first time)."""
        for audio, text in self.prompt:
            self.sink.play(audio, text)
            self.playing += 1
        self.quiet_ms = 0

    def _turn(self, handle: Callable[[], Reply]) -> None:
        """One caller turn: stop listening, let the engine decide, perform its reply."""
        self._barge_in()  # a turn heard before the barge-in minimum still stops the prompt
        self.listen = None
        self.recording = False
        self.quiet_ms = 0
        self._perform(handle())

    def _handle(self, event: Event) -> Reply:
        return self.kit.engine.handle(self.call_sid, event, stream=self.stream_sid)

    def _taken_over(self) -> bool:
        """Twilio opened a newer stream for this call (it does, before the old one is gone)."""
        if self.stream_sid and self.kit.engine.superseded(self.call_sid, self.stream_sid):
            self._stop_superseded()
        return self.superseded

    def _stop_superseded(self) -> None:
        log.warning("call %s: stream %s replaced by a newer stream; closing it", self.call_sid, self.stream_sid)
        self.superseded = self.finished = True
        self.listen, self.after_playback = None, []

    def _perform(self, reply: Reply) -> None:
        if reply.superseded:
            self._stop_superseded()
            return
        self.last_reply_at = time.perf_counter()
        if reply.state is not None:
            self._use_language(reply.state.lang)
        if any(isinstance(output, Speak) for output in reply.outputs):
            self.prompt = []
        for output in reply.outputs:
            if isinstance(output, Speak):
                # In the voice of the language it is said in (the offer of the other language too).
                voice = self.kit.languages.get(output.lang, self.spoken)
                audio = voice.synthesize(output.spoken)
                self.prompt.append((audio, output.text))
                self.sink.play(audio, output.text)
                self.playing += 1
                self._reply_timed()
            elif isinstance(output, Listen):
                self._start_listening(output)
            elif isinstance(output, RecordMessage):
                self._start_message()
            elif isinstance(output, (Handover, Hangup)):
                self.after_playback.append(output)
        self.turn_ended_at = None
        if not self.playing:
            self._run_after_playback()

    def _reply_timed(self) -> None:
        # What the caller waits beyond the endpointer's trailing silence: recognizer final pass,
        # the engine's step, prompt audio and the send. `ivr bench calls` reads it from /metrics.
        if self.turn_ended_at is not None and self.kit.on_reply is not None:
            self.kit.on_reply(time.perf_counter() - self.turn_ended_at)
        self.turn_ended_at = None

    def _start_listening(self, listen: Listen) -> None:
        self.listen = listen
        self.digits, self.quiet_ms, self.speaking, self.barged_in = "", 0, False, False
        self.endpointer = self._new_endpointer(self.kit.endpoint_silence_ms, listen.expect)
        if not self.deaf:
            self.recognizer.set_phrases(self.spoken.phrases_for(listen.expect, listen.max_digits > 1))
            self.recognizer.reset()

    def _start_message(self) -> None:
        self.recording = True
        self.quiet_ms, self.speaking = 0, False
        self.endpointer = self._new_endpointer(MESSAGE_SILENCE_MS)
        if not self.deaf:
            self.recognizer.set_phrases(None)      # a message is free speech
            self.recognizer.reset()

    def _run_after_playback(self) -> None:
        """Transfer or hang up only once the caller has heard what we said before it."""
        pending, self.after_playback = self.after_playback, []
        for output in pending:
            self.finished = True
            if isinstance(output, Handover):
                self._transfer(output)
            elif isinstance(output, Hangup):
                self._update_call(HANGUP_TWIML)

    def _transfer(self, handover: Handover) -> None:
        if not self._update_call(twiml.render(Reply([handover]), self.kit.style)):
            # Twilio would not move the call: say so and offer a message instead of dead air.
            self.finished = False
            self._turn(lambda: self._handle(TransferEnded("failed")))

    def _update_call(self, doc: str) -> bool:
        try:
            self.sink.update_call(doc)
            return True
        except LiveCallError:
            log.error("call %s: the live call could not be updated", self.call_sid)
            return False

    def _new_endpointer(self, silence_ms: int, expect: Sequence[str] | None = None) -> Endpointer:
        # No-input is timed here (from the end of our prompt), not by the endpointer.
        config = EndpointConfig(silence_ms=silence_ms, max_utterance_s=self.kit.max_utterance_ms / 1000,
                                no_input_s=None)
        if expect is None:
            return Endpointer(config, detector=self.detector)
        return Endpointer(config, is_complete=lambda text: self.spoken.is_complete(text, expect),
                          detector=self.detector)
