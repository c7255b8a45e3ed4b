"""Settings: one frozen dataclass, read from the environment once by Settings.from_env()."""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlparse


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line naming it."""


TRANSPORTS = ("stream", "record", "keypad")
# Who hears an order's item, carrier and payment details: only its customer (caller id on the
# order, or the last 4 digits of its phone keyed in), or anyone who says a valid order number.
ORDER_DETAILS = ("verified", "anyone")
ASR_ENGINES = ("auto", "vosk", "pocketsphinx")
_E164 = re.compile(r"^\+?[0-9]{3,15}$")
VOICES = {"en": "en-us", "fr": "fr"}     # espeak-ng voice per language


# Where the grammars and prompts that come with the package are: a built wheel carries them
# as package data (setup.py copies them into app/data/); a checkout or an editable install
# reads them where they are kept, beside app/. IVR_GRAMMARS_DIR and IVR_PROMPTS_DIR override.
_PACKAGE = Path(__file__).resolve().parent


def language_files(name: str) -> Path:
    """The packaged `grammars` or `prompts` directory, wherever the package is installed."""
    packaged = _PACKAGE / "data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know, parsed and validated."""

    twilio_auth_token: str
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    public_url: str = "http://127.0.0.1:8000"
    agent_numbers: tuple[str, ...] = ("+15550199",)
    database_url: str = "sqlite:///var/ivr.db"
    redis_url: str | None = None
    vosk_model_path: Path | None = None
    lang: str = "en"
    twilio_api_base: str = "https://api.twilio.com"
    asr: str = "auto"
    transport: str = "stream"
    data_dir: Path = Path("var")
    grammars_dir: Path = field(default_factory=lambda: language_files("grammars"))
    prompts_dir: Path = field(default_factory=lambda: language_files("prompts"))
    agent_token: str | None = None
    endpoint_silence_ms: int = 600
    max_utterance_s: float = 12.0
    no_input_s: float = 6.0
    ring_timeout_s: int = 20
    keep_recordings: bool = False
    retention_days: int = 30
    tts_voice: str | None = None          # espeak-ng voice of the default language (else its own)
    tts_rate: int = 165
    bot_disclosure: str | None = None
    log_level: str = "INFO"
    survey: bool = False
    order_details: str = "verified"       # verified | anyone (see ORDER_DETAILS)
    models_dir: Path | None = None        # Vosk model cache (default ~/.cache/ivr/models)
    order_number_digits: tuple[int, ...] = (5,)   # how many digits the business's order numbers have
    langs: tuple[str, ...] = ()           # languages served besides `lang` (IVR_LANGS); two: offered at the greeting
    lang_by_number: tuple[tuple[str, str], ...] = ()   # called number -> the call's language
    agent_lang: str | None = None         # the language agents hear the whisper in (default: lang)
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def stream_url(self) -> str:
        """The wss:// (or ws:// for plain http) URL Twilio opens for Media Streams.

        PUBLIC_URL whole, path prefix included: behind a proxy serving https://host/ivr/ the
        stream is wss://host/ivr/media, like every other URL we give Twilio (and Twilio signs).
        """
        scheme = "wss" if self.public_url.startswith("https") else "ws"
        return scheme + self.public_url[self.public_url.index("://"):] + "/media"

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language this server serves, the default first (each has grammars and prompts)."""
        return tuple(dict.fromkeys((self.lang, *self.langs, *(lang for _, lang in self.lang_by_number))))

    def voice_for(self, lang: str) -> str:
        """The espeak-ng voice prompts in `lang` are spoken with: IVR_TTS_VOICE for the default
        language when set, else the language's own voice (en-us, fr)."""
        if lang == self.lang and self.tts_voice:
            return self.tts_voice
        return VOICES.get(lang, lang)

    @property
    def agents_lang(self) -> str:
        """The language of the agents' whisper."""
        return self.agent_lang or self.lang

    def lang_for(self, called: str) -> str:
        """The language of a call to `called` (the number the caller dialled), else the default."""
        return next((lang for number, lang in self.lang_by_number if number == called), self.lang)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None,
                 defaults: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from the environment; raise SettingsError naming the first bad value.

        `defaults` fill names the environment leaves unset (the simulator's own token, say).
        """
        env = {**(defaults or {}), **(os.environ if env is None else env)}
        _reject_unknown(env)
        values: dict[str, object] = {}
        for name, (attr, parse) in _FIELDS.items():
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[attr] = parse(raw.strip())
            except (ValueError, TypeError) as exc:
                raise SettingsError(f"{name}: {exc}") from None
        if "twilio_auth_token" not in values:
            raise SettingsError("TWILIO_AUTH_TOKEN: missing (needed to check Twilio's request signatures)")
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> "Settings":
        """A copy with some fields changed (tests use this)."""
        return dataclasses.replace(self, **changes)


def _url(raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"expected an http(s) URL, got {raw!r}")
    if parsed.query or parsed.fragment or raw.endswith(("?", "#")):
        # Paths are appended to it: a query or fragment would end up in the middle of each URL.
        raise ValueError(f"expected a base URL without ?query or #fragment, got {raw!r}")
    return raw.rstrip("/")


def _numbers(raw: str) -> tuple[str, ...]:
    numbers = tuple(n.strip() for n in raw.split(",") if n.strip())
    bad = [n for n in numbers if not (_E164.match(n) or n.startswith("sip:") or n.startswith("client:"))]
    if not numbers or bad:
        raise ValueError(f"expected a comma list of phone numbers like +15550199, got {raw!r}")
    return numbers


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {raw!r}")
        return raw.lower()
    return parse


def _positive_int(raw: str) -> int:
    # int()'s own message ("invalid literal for int() with base 10") means nothing to an operator.
    value = int(raw) if re.fullmatch(r"[+-]?\d+", raw) else 0
    if value <= 0:
        raise ValueError(f"expected a positive whole number, got {raw!r}")
    return value


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a positive number, got {raw!r}")
    return value


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _existing_dir(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ValueError(f"no such directory: {raw}")
    return path


def _lang(raw: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", raw.lower()):
        raise ValueError(f"expected a language code like en or fr, got {raw!r}")
    return raw.lower()


def _langs(raw: str) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in raw.split(",") if c.strip())
    if not codes:
        raise ValueError(f"expected a comma list of language codes like en,fr, got {raw!r}")
    return tuple(_lang(c) for c in codes)


def _lang_by_number(raw: str) -> tuple[tuple[str, str], ...]:
    """"+15550100=fr,+15550101=en": the language of calls to each of the business's numbers."""
    pairs = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        number, _, lang = (x.strip() for x in part.partition("="))
        if not _E164.match(number) or not lang:
            raise ValueError(f"expected number=language pairs like +15550100=fr,+15550101=en, got {part!r}")
        pairs.append((number if number.startswith("+") else "+" + number, _lang(lang)))
    if not pairs:
        raise ValueError(f"expected number=language pairs like +15550100=fr, got {raw!r}")
    return tuple(pairs)


def _database_url(raw: str) -> str:
    if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", raw):
        raise ValueError(f"expected sqlite:///path or postgresql://..., got {raw!r}")
    return raw


def _redis_url(raw: str) -> str:
    if not re.match(r"^(redis|rediss|unix)://", raw):
        raise ValueError(f"expected redis://host:port/db, got {raw!r}")
    return raw


def _log_level(raw: str) -> str:
    return _choice(("debug", "info", "warning", "error"))(raw).upper()


def _account_sid(raw: str) -> str:
    # It becomes part of every REST URL: letters and digits only, as Twilio issues it.
    if not re.fullmatch(r"AC[0-9A-Za-z]{1,64}", raw):
        raise ValueError(f"expected an account SID like AC0123..., got {raw[:40]!r}")
    return raw


def _text(raw: str) -> str:
    return raw


def _digit_counts(raw: str) -> tuple[int, ...]:
    """"5", "4-5" or "5,7": the lengths an order number may have (4 to 8 digits)."""
    counts: set[int] = set()
    for part in raw.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"expected digit counts such as 5, 4-5 or 5,7, got {raw!r}")
        counts.update(range(int(low), int(high or low) + 1))
    if not counts or min(counts) < 4 or max(counts) > 8:
        raise ValueError(f"order numbers may have 4 to 8 digits, got {raw!r}")
    return tuple(sorted(counts))


# Environment name -> (Settings attribute, parser). The single list of what may be set.
_FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "TWILIO_AUTH_TOKEN": ("twilio_auth_token", _text),
    "TWILIO_ACCOUNT_SID": ("twilio_account_sid", _account_sid),
    "PUBLIC_URL": ("public_url", _url),
    "AGENT_NUMBER": ("agent_numbers", _numbers),
    "DATABASE_URL": ("database_url", _database_url),
    "REDIS_URL": ("redis_url", _redis_url),
    "VOSK_MODEL_PATH": ("vosk_model_path", _existing_dir),
    "IVR_LANG": ("lang", _lang),
    "TWILIO_API_BASE": ("twilio_api_base", _url),
    "IVR_ASR": ("asr", _choice(ASR_ENGINES)),
    "IVR_TRANSPORT": ("transport", _choice(TRANSPORTS)),
    "IVR_DATA_DIR": ("data_dir", lambda raw: Path(raw).expanduser()),
    "IVR_GRAMMARS_DIR": ("grammars_dir", _existing_dir),
    "IVR_PROMPTS_DIR": ("prompts_dir", _existing_dir),
    "IVR_AGENT_TOKEN": ("agent_token", _text),
    "IVR_ENDPOINT_SILENCE_MS": ("endpoint_silence_ms", _positive_int),
    "IVR_MAX_UTTERANCE_S": ("max_utterance_s", _positive_float),
    "IVR_NO_INPUT_S": ("no_input_s", _positive_float),
    "IVR_RING_TIMEOUT_S": ("ring_timeout_s", _positive_int),
    "IVR_KEEP_RECORDINGS": ("keep_recordings", _bool),
    "IVR_RETENTION_DAYS": ("retention_days", _positive_int),
    "IVR_TTS_VOICE": ("tts_voice", _text),
    "IVR_TTS_RATE": ("tts_rate", _positive_int),
    "IVR_BOT_DISCLOSURE": ("bot_disclosure", _text),
    "IVR_LOG_LEVEL": ("log_level", _log_level),
    "IVR_SURVEY": ("survey", _bool),
    "IVR_ORDER_DETAILS": ("order_details", _choice(ORDER_DETAILS)),
    "IVR_MODELS_DIR": ("models_dir", lambda raw: Path(raw).expanduser()),
    "IVR_ORDER_NUMBER_DIGITS": ("order_number_digits", _digit_counts),
    "IVR_LANGS": ("langs", _langs),
    "IVR_LANG_BY_NUMBER": ("lang_by_number", _lang_by_number),
    "IVR_AGENT_LANG": ("agent_lang", _lang),
}


def _reject_unknown(env: Mapping[str, str]) -> None:
    """An IVR_* variable we do not know is almost always a typo: say so instead of ignoring it."""
    unknown = sorted(k for k in env if k.startswith("IVR_") and k not in _FIELDS)
    if unknown:
        raise SettingsError(f"{unknown[0]}: unknown setting; {_suggestion(unknown[0])}")


def _suggestion(name: str) -> str:
    """The closest known name (a typo is the usual cause), else where the list is."""
    # Compared without the shared IVR_ prefix, which would make any two names look alike.
    known = [k.removeprefix("IVR_") for k in _FIELDS if k.startswith("IVR_")]
    close = difflib.get_close_matches(name.removeprefix("IVR_"), known, n=1, cutoff=0.7)
    return f"did you mean IVR_{close[0]}?" if close else "the README's Settings table lists every IVR_ name"
