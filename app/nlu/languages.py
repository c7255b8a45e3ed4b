"""A caller naming the language they want ("français", "in English, please")."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# A language's own name and its name in the other languages served, accents folded.
_NAMES = {"francais": "fr", "french": "fr", "english": "en", "anglais": "en"}
# What a recognizer of each language listens for so that a caller can switch (spelled as its
# model writes them; in every state where two languages are served).
SPOKEN_NAMES = {"en": ("french", "in french", "english", "in english"),
                "fr": ("français", "en français", "anglais", "en anglais")}
# Words around the name that do not change the request: "en français s'il vous plaît",
# "I speak English", "oui, français". Anything else makes it a sentence, not a choice.
_AROUND = frozenset("""
en in le la the je j i parle speak parler talk please s il vous plait oui yes euh uh um
""".split())


def _fold(text: str) -> list[str]:
    """Lower-case words without accents or punctuation ("Français !" -> ["francais"])."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z]+", " ", plain).split()


def language_named(text: str, served: Sequence[str]) -> str | None:
    """The served language the utterance asks for, or None (also with one language served)."""
    if len(served) < 2:
        return None
    words = [w for w in _fold(text) if w not in _AROUND]
    if len(words) != 1 or words[0] not in _NAMES:
        return None
    lang = _NAMES[words[0]]
    return lang if lang in served else None
