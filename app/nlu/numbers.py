"""Spoken numbers and text normalisation: what a caller says -> digits and comparable text."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from text_to_num import alpha2digit

ORDER_DIGITS_MIN = 4
ORDER_DIGITS_MAX = 8



@dataclass(frozen=True)
class NumberWords:
    """One language's telephone number-reading habits around what text2num parses."""

    lang: str                          # text2num's language code
    digits: tuple[str, ...]            # spelling digits back out: a fixed ten-word list
    zero: str                          # the word text2num reads as 0
    zero_words: frozenset[str]         # other ways of saying zero ("oh")
    repeats: dict[str, int]            # "double"/"triple" repeats
    homophones: dict[str, str]         # misheard digits, trusted only between two number words
    joiners: frozenset[str]            # words inside a run: "and" (English), "et" (vingt et un)
    hesitations: frozenset[str]        # dropped in the middle of reading a number out


ENGLISH = NumberWords(
    "en", ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"), "zero",
    frozenset({"oh", "o"}), {"double": 2, "triple": 3},
    {"to": "two", "too": "two", "for": "four", "ate": "eight"}, frozenset({"and"}),
    frozenset({"um", "uh", "er", "erm", "uhm", "ah", "hmm", "mm"}))
# French callers read numbers digit by digit, in pairs ("quarante-huit, vingt et un, sept") or
# whole; text2num does the arithmetic, "zero" typed without its accent is still zero.
FRENCH = NumberWords(
    "fr", ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"), "zéro",
    frozenset({"zero"}), {"double": 2, "triple": 3}, {}, frozenset({"et"}),
    frozenset({"euh", "heu", "hum", "hmm", "bah", "ben", "mm"}))
LANGUAGES = {"en": ENGLISH, "fr": FRENCH}


# The words a recognizer must know to hear an order number in each language: digits, and in
# French the pairs callers read ("quarante-huit, vingt et un, sept").
RECOGNIZER_NUMBER_WORDS = {
    "en": ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "fr": FRENCH.digits + ("zero", "dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "vingt",
                           "trente", "quarante", "cinquante", "soixante", "cent", "mille", "et"),
}


def number_words(lang: str) -> NumberWords:
    """The number habits of a language; a language without them is a clear error."""
    if lang not in LANGUAGES:
        raise ValueError(f"no spoken-number support for language {lang!r} (known: {', '.join(LANGUAGES)})")
    return LANGUAGES[lang]

# Contractions are expanded to full words so "where's", "wheres" and "where is" compare equal.
_SUFFIXES = (
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"\blet's\b"), "let us"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(it|that|what|where|there|here|who|how|when|he|she|this|why)'s\b"), r"\1 is"),
    (re.compile(r"'s\b"), ""),  # possessive: "the store's hours" -> "the store hours"
)
# Recognisers and typists often drop the apostrophe; these are the unambiguous ones.
_BARE = {
    "dont": "do not", "cant": "can not", "cannot": "can not", "wont": "will not",
    "im": "i am", "ive": "i have", "youre": "you are", "isnt": "is not", "didnt": "did not",
    "doesnt": "does not", "havent": "have not", "hasnt": "has not", "wasnt": "was not",
    "arent": "are not", "werent": "were not", "couldnt": "could not", "wouldnt": "would not",
    "shouldnt": "should not", "whats": "what is", "wheres": "where is", "thats": "that is",
    "theres": "there is", "heres": "here is", "hows": "how is", "whos": "who is",
    "lets": "let us", "its": "it is", "youve": "you have", "weve": "we have",
    "theyre": "they are", "gonna": "going to", "wanna": "want to", "gotta": "got to",
    "ok": "okay", "alright": "all right", "id": "i would",
}
_NON_WORD = re.compile(r"[^a-z0-9' ]+")


# French keeps its accents (recognisers write them, text2num needs them); elisions and hyphens
# split words apart: "qu'est-ce que" -> "qu est ce que", "quarante-huit" -> "quarante huit".
_FRENCH_NON_WORD = re.compile(r"[^a-z0-9àâäçéèêëîïôöùûüÿœæ]+")


def normalize(text: str, lang: str = "en") -> str:
    """Lower-case, expand contractions, drop punctuation and collapse spaces."""
    if lang != "en":
        number_words(lang)
        folded = unicodedata.normalize("NFC", text.lower())
        return " ".join(_FRENCH_NON_WORD.sub(" ", folded).split())
    text = text.lower().replace("\u2019", "'").replace("`", "'")
    text = _NON_WORD.sub(" ", text)
    for pattern, replacement in _SUFFIXES:
        text = pattern.sub(replacement, text)
    words = text.replace("'", "").split()
    # "id" is only "i'd" when a verb follows; alone it is an ID number.
    return " ".join(_BARE.get(w, w) if w != "id" or _next_is_verb(words, i) else w
                    for i, w in enumerate(words))


def _next_is_verb(words: Sequence[str], i: int) -> bool:
    """True when the word after position i makes a bare "id" read as "i would"."""
    return i + 1 < len(words) and words[i + 1] in {"like", "love", "prefer", "rather", "need"}


@lru_cache(maxsize=8192)
def _as_number(word: str, lang: str = "en") -> str | None:
    """The numeral text2num reads in one word ("seven" -> "7"), or None for other words."""
    converted = alpha2digit(word, lang, threshold=0)
    return converted if converted.isdigit() else None


def is_number_word(word: str, lang: str = "en") -> bool:
    """True for a word text2num reads as a number ("seven", "forty", "48217")."""
    return _as_number(word, lang) is not None


def _is_numeric(words: Sequence[str], i: int, habits: NumberWords) -> bool:
    """True when words[i] is part of a spoken number, judged with its neighbours."""
    word = words[i]
    if _as_number(word, habits.lang) is not None:
        return True
    after = i + 1 < len(words) and _as_number(words[i + 1], habits.lang) is not None
    before = i > 0 and _as_number(words[i - 1], habits.lang) is not None
    if word in habits.repeats:
        return after
    if word in habits.zero_words:
        return after or before
    if word in habits.homophones or word in habits.joiners or word in habits.hesitations:
        return after and before  # only inside a run: "four eight to one seven"
    return False


def _run_digits(run: Sequence[str], habits: NumberWords) -> str:
    """Digits of one run of number words ("double two oh five" -> "2205")."""
    words: list[str] = []
    repeat = 1
    for word in run:
        if word in habits.repeats:
            repeat = habits.repeats[word]
            continue
        word = habits.zero if word in habits.zero_words else habits.homophones.get(word, word)
        if word not in habits.hesitations:
            words.extend([word] * repeat)
        repeat = 1
    return re.sub(r"\D", "", alpha2digit(" ".join(words), habits.lang, threshold=0))


def locate_order_number(words: Sequence[str], lang: str = "en") -> tuple[str, int, int] | None:
    """First spoken order number in a word list: (digits, start, end) with words[start:end]."""
    habits = number_words(lang)
    i = 0
    while i < len(words):
        if not _is_numeric(words, i, habits):
            i += 1
            continue
        start = i
        while i < len(words) and _is_numeric(words, i, habits):
            i += 1
        digits = _run_digits(words[start:i], habits)
        if ORDER_DIGITS_MIN <= len(digits) <= ORDER_DIGITS_MAX:
            return digits, start, i
    return None


def extract_order_number(text: str, lang: str = "en") -> str | None:
    """The order number (4-8 digits) said in the text, or None."""
    found = locate_order_number(normalize(text, lang).split(), lang)
    return found[0] if found else None


def spell_digits(digits: str, lang: str = "en") -> str:
    """Digits as a caller reads them out: "48217" -> "four eight two one seven"."""
    return " ".join(number_words(lang).digits[int(d)] for d in digits if d.isdigit())
