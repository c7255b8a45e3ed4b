"""Privacy: mask card numbers, security codes and PINs before anything is stored or logged."""
from __future__ import annotations

import re

from text_to_num import alpha2digit

# Digits possibly separated by spaces or dashes, as recognizers and keypads produce them.
_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d)*")
_SECRET_CUE = re.compile(
    r"\b(security code|cvv|cvc|card verification|pin|pin number|passcode|password)\b"
    r"(?:\s+(?:is|it's|its|was|number|code))*\s*[:\-]?\s*((?:\d[ \-]?){3,8})", re.IGNORECASE)
CARD_MIN, CARD_MAX = 12, 19
MASK = "[redacted]"


def redact(text: str) -> str:
    """Text with card-like numbers (12-19 digits) and cued secrets (PIN, CVV) masked."""
    if not text:
        return text
    numeric = _digits_from_words(text)
    numeric = _SECRET_CUE.sub(lambda m: f"{m.group(1)} {MASK}", numeric)
    masked = _DIGIT_RUN.sub(_mask_card, numeric)
    return masked if masked != _digits_from_words(text) else text


def redact_digits(digits: str) -> str:
    """Keypad entry: a card-length entry is masked whole."""
    count = sum(ch.isdigit() for ch in digits)
    return MASK if CARD_MIN <= count <= CARD_MAX else digits


def _mask_card(match: re.Match[str]) -> str:
    run = match.group(0)
    count = sum(ch.isdigit() for ch in run)
    return MASK if CARD_MIN <= count <= CARD_MAX else run


def _digits_from_words(text: str) -> str:
    # "oh" is a zero on the phone; text2num turns the other number words into numerals.
    spoken = re.sub(r"\boh\b", "zero", text, flags=re.IGNORECASE)
    try:
        return alpha2digit(spoken, "en")
    except Exception:  # noqa: BLE001 - never lose the text because the number parser choked
        return text
