"""What a speech recognizer listens for at one dialog state, built from the matcher's grammars.

A recognizer restricted to a short list of whole phrases is both faster and more accurate than
one given every expansion, so the state's own phrases are capped and spread round-robin over the
templates. Two things are never capped, because losing them loses the caller:
- escapes: every way the grammar has of asking for a person (the override intent's templates,
  kept whole as rules, not as a capped list of expansions);
- the order number, which engines decode as exactly the business's number of digits (the
  NUMBER marker), never as an open loop of digits (measured on real recordings of 4-5 digit
  strings: 34 of 45 right with exact lengths, 27 of 45 with a loop).
Slots: {city} becomes each city; {order_number} becomes NUMBER where a number is expected and
is dropped elsewhere.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from app.nlu.grammar import Grammar
from app.nlu.templates import WILDCARD, Choice, Node, Template, Word, expand_nodes

DIGITS = "{digits}"
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SPEECH_PHRASE_CAP = 300
_CITY, _NUMBER = "{city}", "{order_number}"


@dataclass(frozen=True)
class SpeechGrammar:
    """The phrases of one listening point, as an engine-neutral value.

    phrases: whole phrases (lower case); DIGITS in a phrase stands for one order number.
    escapes: the templates that reach a person; engines must keep every one of them (as a
        pattern where the engine takes rules, `pattern()`, or expanded, `expansions()`).
    number_lengths: how many digits an order number has (the business's format), when a
        phrase holds DIGITS.
    sentences: callers answer here in their own words; engines may add a second, open pass.
    """

    phrases: tuple[str, ...]
    escapes: tuple[Template, ...] = ()
    number_lengths: tuple[int, ...] = ()
    sentences: bool = False

    @classmethod
    def of(cls, phrases: "SpeechGrammar | Sequence[str]") -> "SpeechGrammar":
        """Accept a plain phrase list too (engines' tests and simple callers)."""
        if isinstance(phrases, SpeechGrammar):
            return phrases
        listed = tuple(phrases)
        return cls(listed, number_lengths=(5,) if any(DIGITS in p for p in listed) else ())


def speech_phrases(grammar: Grammar, intents: Iterable[str], numbers: bool = False,
                   limit: int = SPEECH_PHRASE_CAP) -> list[str]:
    """The state's own phrases for these intents (escapes not included), capped at `limit`.

    Where a number is asked for, the ways of saying one ("it's ...", "my order number is ...")
    come first and whole: they are the answer the question expects (capped among the other
    phrases, "it's three nine..." lost its carrier words and the number with them)."""
    pools = [iter(_phrases(t, grammar, numbers)) for name in dict.fromkeys(intents)
             if name in grammar.intents
             for t in grammar.intents[name].phrases + grammar.intents[name].keywords]
    seen: dict[str, None] = {DIGITS: None} if numbers else {}
    if numbers:
        seen.update((p, None) for t in grammar.answers for p in _phrases(t, grammar, numbers) if DIGITS in p)
    while pools and len(seen) < limit:
        for pool in list(pools):
            phrase = next(pool, None)
            if phrase is None:
                pools.remove(pool)
            elif phrase:
                seen[phrase] = None
    return list(seen)[:max(limit, len(seen) if numbers else limit)]


def escape_templates(grammar: Grammar) -> tuple[Template, ...]:
    """Every phrase and cue template of the override intents (asking for a person)."""
    return tuple(t for rule in grammar.intents.values() if rule.override
                 for t in rule.phrases + rule.keywords)


def pattern(nodes: Sequence[Node], known: Callable[[str], bool]) -> str | None:
    """A template as a JSGF-style rule body: words, (a | b), [optional].

    Alternatives with a word the engine does not know are left out; None when nothing of a
    required part is left. Slots and wildcards are dropped (escapes have none that matter)."""
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Word):
            if node.text == WILDCARD:
                continue
            if not all(known(w) for w in node.text.split()):
                return None
            parts.append(node.text)
        elif isinstance(node, Choice):
            options = [o for o in (pattern(option, known) for option in node.options) if o]
            if options:
                body = " | ".join(options)
                parts.append(f"[{body}]" if node.optional else f"({body})")
            elif not node.optional:
                return None
    return " ".join(parts) or None


def expansions(templates: Iterable[Template]) -> list[str]:
    """Every phrase the templates stand for, slots and wildcards left out (for engines that
    take phrase lists)."""
    return list(dict.fromkeys(" ".join(w for w in tokens if w != WILDCARD and not w.startswith("{"))
                              for t in templates for tokens in expand_nodes(t.nodes)))


def build(grammar: Grammar, expect: Sequence[str], numbers: bool, number_lengths: Sequence[int],
          sentences: bool, limit: int = SPEECH_PHRASE_CAP) -> SpeechGrammar:
    """The SpeechGrammar of one listening point (see the module docstring)."""
    own = speech_phrases(grammar, [i for i in expect if not grammar.intents[i].override], numbers, limit)
    return SpeechGrammar(tuple(own), escape_templates(grammar),
                         tuple(number_lengths) if numbers else (), sentences)


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


def sample_sentences(grammar: Grammar, per_intent: int = 240, seed: int = 7) -> list[str]:
    """Sentences for a domain language model: random walks through every template.

    Each intent gets about `per_intent` walks spread over its templates (keywords count a third
    of a phrase), so no intent outweighs the others by having more templates: with a fixed number
    per template, the many ways of asking for a person made the model hear "talk to a human" in
    sentences about orders. Slots take random values: cities, and order numbers spelled out digit
    by digit. Seeded: the same grammar gives the same model."""
    rng = random.Random(seed)
    out: list[str] = []
    for rule in grammar.intents.values():
        shares = len(rule.phrases) + len(rule.keywords) / 3 or 1
        each = max(1, round(per_intent / shares))
        for templates, count in ((rule.phrases, each), (rule.keywords, max(1, each // 3))):
            for template in templates:
                out += [" ".join(_walk(template.nodes, grammar, rng)) for _ in range(count)]
    for template in grammar.answers:
        out += [" ".join(_walk(template.nodes, grammar, rng)) for _ in range(per_intent // 4)]
    return [s for s in out if s]


def _walk(nodes: Sequence[Node], grammar: Grammar, rng: random.Random) -> list[str]:
    words: list[str] = []
    for node in nodes:
        if isinstance(node, Word):
            words += [] if node.text == WILDCARD else node.text.split()
        elif isinstance(node, Choice):
            if not (node.optional and rng.random() < 0.5):
                words += _walk(rng.choice(node.options), grammar, rng)
        elif node.name == "order_number":
            words += [DIGIT_NAMES[rng.randrange(10)] for _ in range(rng.choice((4, 5, 5, 5, 6)))]
        else:
            words += rng.choice(grammar.slots.get(node.name) or (node.name,)).split()
    return words
