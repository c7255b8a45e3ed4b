"""Spoken numbers and text normalisation: what a caller says -> digits and comparable text."""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from text_to_num import alpha2digit

ORDER_DIGITS_MIN = 4
ORDER_DIGITS_MAX = 8

# Spelling digits back out is a fixed ten-word list; parsing goes through text2num.
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Telephone-isms text2num does not cover: "oh" for zero and "double"/"triple" repeats.
_ZERO_WORDS = frozenset({"oh", "o"})
_REPEATS = {"double": 2, "triple": 3}
# Recognisers mishear digits as these homophones; only trusted between two number words.
_HOMOPHONES = {"to": "two", "too": "two", "for": "four", "ate": "eight"}
# Hesitations a caller drops in the middle of reading a number out.
_HESITATIONS = frozenset({"um", "uh", "er", "erm", "uhm", "ah", "hmm", "mm"})

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


def normalize(text: str) -> str:
    """Lower-case, expand contractions, drop punctuation and collapse spaces."""
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


@lru_cache(maxsize=4096)
def _as_number(word: str) -> str | None:
    """The numeral text2num reads in one word ("seven" -> "7"), or None for other words."""
    converted = alpha2digit(word, "en", threshold=0)
    return converted if converted.isdigit() else None


def is_number_word(word: str) -> bool:
    """True for a word text2num reads as a number ("seven", "forty", "48217")."""
    return _as_number(word) is not None


def _is_numeric(words: Sequence[str], i: int) -> bool:
    """True when words[i] is part of a spoken number, judged with its neighbours."""
    word = words[i]
    if _as_number(word) is not None:
        return True
    after = i + 1 < len(words) and _as_number(words[i + 1]) is not None
    before = i > 0 and _as_number(words[i - 1]) is not None
    if word in _REPEATS:
        return after
    if word in _ZERO_WORDS:
        return after or before
    if word in _HOMOPHONES or word == "and" or word in _HESITATIONS:
        return after and before  # only inside a run: "four eight to one seven"
    return False


def _run_digits(run: Sequence[str]) -> str:
    """Digits of one run of number words ("double two oh five" -> "2205")."""
    words: list[str] = []
    repeat = 1
    for word in run:
        if word in _REPEATS:
            repeat = _REPEATS[word]
            continue
        word = "zero" if word in _ZERO_WORDS else _HOMOPHONES.get(word, word)
        if word not in _HESITATIONS:
            words.extend([word] * repeat)
        repeat = 1
    return re.sub(r"\D", "", alpha2digit(" ".join(words), "en", threshold=0))


def locate_order_number(words: Sequence[str]) -> tuple[str, int, int] | None:
    """First spoken order number in a word list: (digits, start, end) with words[start:end]."""
    i = 0
    while i < len(words):
        if not _is_numeric(words, i):
            i += 1
            continue
        start = i
        while i < len(words) and _is_numeric(words, i):
            i += 1
        digits = _run_digits(words[start:i])
        if ORDER_DIGITS_MIN <= len(digits) <= ORDER_DIGITS_MAX:
            return digits, start, i
    return None


def extract_order_number(text: str) -> str | None:
    """The order number (4-8 digits) said in the text, or None."""
    found = locate_order_number(normalize(text).split())
    return found[0] if found else None


def spell_digits(digits: str) -> str:
    """Digits as a caller reads them out: "48217" -> "four eight two one seven"."""
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits if d.isdigit())
