"""Wiring the live-voice side: recognizer engine, prompt audio, REST client, recorded turns."""
from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from functools import lru_cache
from typing import Callable, Sequence

from app.config import Settings
from app.dialog.prompts import Prompts
from app.dialog.wording import speakable
from app.engine import Engine
from app.nlu.grammar import Grammar
from app.dialog.nodes import NODES, TASKS
from app.nlu.intents import GLOBAL_INTENTS, Matcher
from app.nlu.languages import SPOKEN_NAMES
from app.nlu.speech_phrases import SpeechGrammar, build, sample_sentences
from app.speech.engines import choose_engine
from app.speech.recognizer import EngineError
from app.speech.models import default_cache_dir
from app.speech.tts import Synthesizer
from app.store.messages import MessageStore
from app.telephony.recorded import RecordedTurns
from app.telephony.rest import TwilioRest
from app.telephony.twiml import TwimlStyle
from app.telephony.voice import SpokenLanguage, VoiceKit

log = logging.getLogger(__name__)


def build_rest(settings: Settings) -> TwilioRest:
    """Twilio's REST API (TWILIO_API_BASE points tests and the simulator at a local fake)."""
    return TwilioRest(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base)


Language = tuple[Grammar, Matcher, Prompts]


def build_voice(settings: Settings, engine: Engine, languages: dict[str, Language], style: TwimlStyle,
                rest: TwilioRest, messages: MessageStore) -> tuple[VoiceKit, RecordedTurns, str]:
    """The recognizers (loaded once per process), prompt audio and the voice kit calls share:
    one of each per language served, the default (IVR_LANG) first."""
    heard = {lang: hearing(settings, lang) for lang in languages}
    warn_without_espeak()
    spoken = {lang: spoken_language(settings, lang, heard[lang], *parts) for lang, parts in languages.items()}
    engine.unheard = frozenset(lang for lang, s in spoken.items() if s.asr is None)
    own = spoken[settings.lang]
    kit = VoiceKit(engine=engine, asr=own.asr, synthesize=own.synthesize, phrases_for=own.phrases_for,
                   is_complete=own.is_complete, style=style,
                   endpoint_silence_ms=settings.endpoint_silence_ms,
                   max_utterance_ms=int(settings.max_utterance_s * 1000),
                   no_input_ms=int(settings.no_input_s * 1000),
                   keep_message=messages.save_pcm if settings.keep_recordings else None,
                   lang=settings.lang, languages=spoken)
    recorded = RecordedTurns(engine, rest, own.asr, own.phrases_for, settings.keep_recordings, messages, spoken)
    return kit, recorded, getattr(own.asr, "name", "keypad")


def spoken_language(settings: Settings, lang: str, asr: object | None, grammar: Grammar, matcher: Matcher,
                    prompts: Prompts) -> SpokenLanguage:
    """Phrase lists and prompt audio (in the language's own voice) for one language and its
    recognizer (`asr`, None: keypad only)."""
    lookup = phrases_lookup(grammar, settings.order_number_digits, names_for(settings, lang))
    if asr is not None:
        prepare_engine(asr, grammar)
        precompile(asr, lookup)
    # Each language's prompts have a cache directory of their own: rendering one language's
    # prompts clears what is not its own from its directory.
    synth = Synthesizer(settings.data_dir / "tts" / lang if lang != settings.lang else settings.data_dir / "tts",
                        settings.voice_for(lang), settings.tts_rate)
    static = render_static_prompts(synth, prompts)
    return SpokenLanguage(asr, prompt_audio(synth, static), lookup, matcher.is_complete)


def names_for(settings: Settings, lang: str) -> tuple[str, ...]:
    """Where two languages are served, every question also listens for their names (to switch)."""
    return SPOKEN_NAMES.get(lang, ()) if len(settings.languages) > 1 else ()


def precompile(asr: object, lookup: Callable[..., SpeechGrammar | None]) -> None:
    """Compile every listening point's grammar into the engine's idle decoders, at start-up.

    Compiling holds the GIL (~0.05 s a grammar, ~0.2 s with a number in it): done at a caller's
    turn, it stalled every call in the worker. Before gunicorn forks, the compiled searches are
    shared copy-on-write by the workers."""
    prepare = getattr(asr, "prepare", None)
    if prepare is not None:
        prepare([lookup(node.expect, node.max_digits > 1) for node in NODES.values() if node.expect])


def hearing(settings: Settings, lang: str) -> object | None:
    """The recognizer engine for a language, or None: that language is then heard by keypad only.

    Only a model of the language itself will do (never English recognition on French speech).
    VOSK_MODEL_PATH is the default language's model; other languages are found in the cache."""
    path = settings.vosk_model_path if lang == settings.lang else None
    try:
        asr, reason = choose_engine(settings.asr, lang, path, settings.models_dir or default_cache_dir())
    except EngineError as exc:
        if lang == settings.lang and settings.asr != "auto":
            raise                              # the operator asked for that engine: say it is missing
        if lang == settings.lang:
            log.warning("%s calls are heard by keypad only (no recognizer: %s)", lang, exc)
        else:
            log.warning("%s calls are heard by keypad only: no Vosk model for %s in the model cache "
                        "(run `ivr models download %s`)", lang, lang, lang)
        return None
    # The engine in use and why, once per start (the preloaded master; workers inherit it); named
    # by language where there are several.
    named = f"{lang}: {reason}" if len(settings.languages) > 1 else reason
    log.log(logging.WARNING if "WARNING" in reason else logging.INFO, named)
    return asr


def warn_without_espeak() -> bool:
    """Say once, at start-up, that prompts fall back to pyttsx3 (its voice and timing differ)."""
    if shutil.which("espeak-ng") or shutil.which("espeak"):
        return False
    log.warning("espeak-ng not found: prompts are synthesized with pyttsx3 instead "
                "(install the espeak-ng package for the tested voice)")
    return True


def render_static_prompts(synth: Synthesizer, prompts: Prompts) -> frozenset[str]:
    """Prompts without slots are rendered ahead (cached on disk), so no caller waits for them.

    Returns their texts. Any other file in the cache is removed: only these belong there (an
    older version also cached prompts that carried caller data).
    """
    texts = [prompts.render(pid) for pid, text in prompts.texts.items() if not _has_slots(text, prompts)]
    synth.render_many(texts)
    keep = {synth.cache_path(" ".join(text.split())) for text in texts}
    if synth.cache_dir is not None and synth.cache_dir.is_dir():
        for stale in set(synth.cache_dir.glob("*.ulaw")) - keep:
            stale.unlink(missing_ok=True)
    return frozenset(" ".join(form.split()) for text in texts for form in (text, speakable(text)))


def prompt_audio(synth: Synthesizer, static: frozenset[str], in_memory: int = 256) -> Callable[[str], bytes]:
    """Prompt text -> audio: fixed prompts from the disk cache, the rest only in memory.

    A prompt that carries caller data (an order number, a date) is never written to disk: a
    cache file named by the hash of its text would let anyone who lists the directory guess it.
    """
    plain = Synthesizer(None, synth.voice, synth.rate, synth.pitch)

    @lru_cache(maxsize=in_memory)
    def dynamic(text: str) -> bytes:
        return plain.render(text)

    def render(text: str) -> bytes:
        normal = " ".join(text.split())
        return synth.render(normal) if normal in static else dynamic(normal)
    return render


def _has_slots(text: str, prompts: Prompts) -> bool:
    import string
    names = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    return bool(names - set(prompts.variables))


# The open pass (a domain language model beside the phrase grammar) is off: in live calls over
# the network it turned a spoken "no" at "anything else?" and read-back answers into no-matches
# and invented intents for nonsense (issue 10's closing note). Measure with `ivr speech-eval`
# before turning it on.
OPEN_PASS = False


def prepare_engine(asr: object, grammar: Grammar) -> None:
    """Give an engine that takes one the domain language model built from the grammars."""
    set_domain = getattr(asr, "set_domain", None) if OPEN_PASS else None
    if set_domain is not None and not getattr(asr, "has_domain", False):
        log.info("domain language model: %d sentences from the grammars", set_domain(sample_sentences(grammar)))


def phrases_lookup(grammar: Grammar, number_lengths: Sequence[int] = (5,), extra: Sequence[str] = ()):
    """expect, numbers -> the recognizer's SpeechGrammar (cached: a call's states repeat).

    Where a caller may answer with a request of their own (a task is expected), the grammar
    says so (`sentences`): engines then also listen with the domain language model. Not where
    a number is asked for: there, what the phrases cannot place is a no-match, since the
    domain model turned misheard digits into invented sentences."""
    @lru_cache(maxsize=64)
    def phrases_for(expect: tuple[str, ...], numbers: bool) -> SpeechGrammar:
        built = build(grammar, expect + GLOBAL_INTENTS, numbers, tuple(number_lengths),
                      sentences=OPEN_PASS and not numbers and any(i in TASKS for i in expect))
        return replace(built, phrases=built.phrases + tuple(extra)) if extra else built

    def lookup(expect: Sequence[str], numbers: bool = False) -> SpeechGrammar | None:
        return phrases_for(tuple(expect), numbers) if expect else None
    return lookup
