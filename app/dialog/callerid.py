"""Caller ids that are not phone numbers: withheld, blocked, or the network's placeholders."""
from __future__ import annotations

import re

# Carriers mark a withheld caller id with a word, or with the word spelled on a phone keypad
# (+266696687 is ANONYMOUS, +7378742833 RESTRICTED, +2562533 BLOCKED, +8656696 UNKNOWN,
# +86282452253 UNAVAILABLE, +7748283 PRIVATE): never a number anyone can be called back on.
_WORDS = ("anonymous", "restricted", "blocked", "unknown", "unavailable", "private", "withheld")
_KEYPAD = {letter: str(key) for key, letters in enumerate(
    ("", "", "abc", "def", "ghi", "jkl", "mno", "pqrs", "tuv", "wxyz")) for letter in letters}
_SPELLED = frozenset("".join(_KEYPAD[ch] for ch in word) for word in _WORDS)
_PHONE = re.compile(r"^\+?[1-9][0-9]{6,14}$")      # E.164: up to 15 digits, no leading 0
KEYED_MIN, KEYED_MAX = 7, 15                        # a callback number keyed in by the caller


def callable_number(caller: str) -> str:
    """The caller id when it is a phone number we may call back, else "" (number withheld)."""
    number = caller.strip()
    if not _PHONE.match(number) or number.lstrip("+") in _SPELLED:
        return ""
    return number


def keyed_number(digits: str) -> str:
    """A callback number keyed in (digits only, 7 to 15 of them), else ""."""
    entry = digits.rstrip("#")
    return entry if entry.isdigit() and KEYED_MIN <= len(entry) <= KEYED_MAX else ""
