"""Privacy: mask card numbers, security codes and PINs before anything is stored or logged."""
from __future__ import annotations

import re

from text_to_num import alpha2digit

# Digits possibly separated by spaces, dashes or commas, as recognizers and keypads produce them
# ("4111, 1111, 1111, 1111" is how a card is read out in groups).
_SEP = r"(?:[ \-]|, ?)?"
_DIGIT_RUN = re.compile(rf"\d(?:{_SEP}\d)*")
_CUE_TAIL = r"(?:'s)?(?:\s+(?:is|it's|its|was|number|code|ending in|ends in))*\s*[:\-]?\s*"
_SECRET_CUE = re.compile(
    r"\b(security code|cvv|cvc|card verification|pin|pin number|pin code|passcode|password|code)"
    rf"{_CUE_TAIL}((?:\d[ \-]?){{3,8}})", re.IGNORECASE)
# Digits said right after "card" are (part of) a card number whatever their count: half of one,
# said in a turn of its own, is no less a secret.
_CARD_CUE = re.compile(rf"\b((?:credit |debit )?card(?: number)?){_CUE_TAIL}(\d(?:{_SEP}\d){{3,}})",
                       re.IGNORECASE)
CARD_MIN, CARD_MAX = 12, 19
MASK = "[redacted]"
SECRET_OPEN = -1        # digits_before value: the caller's previous turn carried a masked secret


def redact(text: str) -> str:
    """Text with card-like numbers (12-19 digits) and cued secrets (PIN, CVV, card) masked."""
    if not text:
        return text
    numeric = _digits_from_words(text)
    masked = _SECRET_CUE.sub(lambda m: f"{m.group(1)} {MASK}", numeric)
    masked = _CARD_CUE.sub(lambda m: m.group(0)[:m.start(2) - m.start(0)] + MASK, masked)
    masked = _DIGIT_RUN.sub(_mask_card, masked)
    return masked if masked != numeric else text


def redact_digits(digits: str) -> str:
    """Keypad entry: a card-length entry is masked whole."""
    count = sum(ch.isdigit() for ch in digits)
    return MASK if CARD_MIN <= count <= CARD_MAX else digits


def continue_secret(text: str, before: list[int]) -> str:
    """Mask the digits of `text` (already redacted) that go on a secret from the previous turn.

    `before` is digit_tail() of that turn: after a masked secret every digit run that follows is
    masked; after a bare run of digits, a run that makes a Luhn-valid card number with it is.
    """
    if not before or not text:
        return text
    numeric = _digits_from_words(text)
    first = _DIGIT_RUN.search(numeric)
    if first is None:
        return text
    if before[0] != SECRET_OPEN and not _completes_card(before, _digits_of(first.group(0))):
        return text
    return _DIGIT_RUN.sub(lambda m: MASK if len(_digits_of(m.group(0))) >= 2 else m.group(0), numeric)


def digit_tail(text: str) -> list[int]:
    """What the next turn needs to tell whether it goes on a secret, never the digits themselves.

    [SECRET_OPEN] after a masked secret; for text ending in digits, [count, s0, s1]: their Luhn
    sums (mod 10) for an even and an odd number of digits to follow; [] otherwise.
    """
    if MASK in text:
        return [SECRET_OPEN]
    numeric = _digits_from_words(text)
    tail = re.search(rf"(\d(?:{_SEP}\d)*)\W*$", numeric)
    if tail is None:
        return []
    digits = _digits_of(tail.group(1))
    return [len(digits), _luhn_sum(digits, 0), _luhn_sum(digits, 1)]


def _completes_card(before: list[int], digits: str) -> bool:
    count = before[0] + len(digits)
    if not CARD_MIN <= count <= CARD_MAX:
        return False
    return (before[1 + len(digits) % 2] + _luhn_sum(digits, 0)) % 10 == 0


def _luhn_sum(digits: str, shift: int) -> int:
    """Luhn sum of `digits` when `shift` more digits follow them (only its parity matters)."""
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if (position + shift) % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10


def _digits_of(run: str) -> str:
    return "".join(ch for ch in run if ch.isdigit())


def _mask_card(match: re.Match[str]) -> str:
    run = match.group(0)
    count = sum(ch.isdigit() for ch in run)
    return MASK if CARD_MIN <= count <= CARD_MAX else run


_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_WORD = "(?:" + "|".join(_DIGIT_WORDS) + ")"
# Digits read out one by one: text2num leaves a run of "one"s alone ("one" is also a pronoun).
_WORD_RUN = re.compile(rf"\b{_WORD}(?:[ ,\-]+{_WORD})+\b", re.IGNORECASE)


def _digits_from_words(text: str) -> str:
    text = _WORD_RUN.sub(lambda m: " ".join(_DIGIT_WORDS[w.lower()] for w in re.findall(r"\w+", m.group(0))), text)
    # "oh" is a zero on the phone; text2num turns the other number words into numerals.
    spoken = re.sub(r"\boh\b", "zero", text, flags=re.IGNORECASE)
    try:
        return alpha2digit(spoken, "en")
    except Exception:  # noqa: BLE001 - never lose the text because the number parser choked
        return text
