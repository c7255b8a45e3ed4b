"""Phrase lists for speech recognizers, built from the same grammars the matcher uses.

A recognizer restricted to a short list of whole phrases is both faster and more accurate than
one given every expansion, so the list is capped and spread round-robin over the templates.
Slots: {city} becomes each city; {order_number} becomes the marker DIGITS ("one or more digit
words") where a number is expected, and is dropped elsewhere.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from app.nlu.grammar import Grammar
from app.nlu.templates import WILDCARD, Template, expand_nodes

DIGITS = "{digits}"
SPEECH_PHRASE_CAP = 300
_CITY, _NUMBER = "{city}", "{order_number}"


def speech_phrases(grammar: Grammar, intents: Iterable[str], numbers: bool = False,
                   limit: int = SPEECH_PHRASE_CAP) -> list[str]:
    """What a recognizer should listen for when these intents are expected."""
    pools = [iter(_phrases(t, grammar, numbers)) for name in dict.fromkeys(intents)
             if name in grammar.intents
             for t in grammar.intents[name].phrases + grammar.intents[name].keywords]
    if numbers:
        pools += [iter(_phrases(t, grammar, numbers)) for t in grammar.answers]
    seen: dict[str, None] = {DIGITS: None} if numbers else {}
    while pools and len(seen) < limit:
        for pool in list(pools):
            phrase = next(pool, None)
            if phrase is None:
                pools.remove(pool)
            elif phrase:
                seen[phrase] = None
    return list(seen)[:limit]


def _phrases(template: Template, grammar: Grammar, numbers: bool) -> Iterator[str]:
    cities = grammar.slots.get("city", ())
    for tokens in expand_nodes(template.nodes):
        words = [t for t in tokens if t != WILDCARD]
        if _NUMBER in words:
            if not numbers:
                words = [w for w in words if w != _NUMBER]
            else:
                words = [DIGITS if w == _NUMBER else w for w in words]
        if _CITY in words:
            for city in cities:
                yield " ".join(city if w == _CITY else w for w in words)
        elif not any(w.startswith("{") and w != DIGITS for w in words):
            yield " ".join(words)
