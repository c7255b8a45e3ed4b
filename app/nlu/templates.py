"""Template syntax: parse `[optional] (a | b) {slot} <macro> *` strings and expand them.

`*` (keywords only) stands for words the grammar does not know, such as product names:
"where (is | are) my *" matches "where are my headphones".
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Union

from app.nlu.numbers import normalize

EXPANSION_CAP = 4000  # per template: keeps the precomputed phrase lists (and start-up) bounded
WILDCARD = "*"
_TOKEN = re.compile(r"\[|\]|\(|\)|\||\{[a-z_]+\}|<[a-z_]+>|[^\s\[\]()|{}<>]+")


class GrammarError(ValueError):
    """A grammar file or template is malformed; the message names where."""


@dataclass(frozen=True)
class Word:
    """One or more literal words."""

    text: str


@dataclass(frozen=True)
class Slot:
    """A `{slot}` reference."""

    name: str


@dataclass(frozen=True)
class Choice:
    """`(a | b)` or, when optional, `[a | b]`."""

    options: tuple[tuple["Node", ...], ...]
    optional: bool


Node = Union[Word, Slot, Choice]


@dataclass(frozen=True)
class Template:
    """One parsed phrase template and where it came from."""

    text: str
    nodes: tuple[Node, ...]
    origin: str
    weight: float | None = None  # keyword evidence; None: its number of content words


class TemplateParser:
    """Recursive-descent parser for one template string."""

    def __init__(self, text: str, origin: str, slots: Collection[str],
                 macros: Mapping[str, tuple[Node, ...]], lang: str = "en") -> None:
        """Tokenise one template; `slots` and `macros` are what it may refer to."""
        self.text, self.origin, self.slots, self.macros = text, origin, slots, macros
        self.lang = lang
        self.tokens = _TOKEN.findall(text)
        self.pos = 0

    def error(self, message: str) -> GrammarError:
        """An error naming the template and its origin."""
        return GrammarError(f"{self.origin}: template '{self.text}': {message}")

    def parse(self) -> tuple[Node, ...]:
        """The whole template as a node sequence."""
        nodes = self.sequence()
        if self.pos < len(self.tokens):
            raise self.error(f"unexpected '{self.tokens[self.pos]}'")
        if not nodes:
            raise self.error("empty template")
        return nodes

    def sequence(self) -> tuple[Node, ...]:
        """Items up to a closing bracket or '|'."""
        nodes: list[Node] = []
        while self.pos < len(self.tokens) and self.tokens[self.pos] not in ("]", ")", "|"):
            nodes.extend(self.item())
        return tuple(nodes)

    def item(self) -> tuple[Node, ...]:
        """One word, slot, macro or bracketed group."""
        token = self.tokens[self.pos]
        self.pos += 1
        if token in ("(", "["):
            return (self.group(")" if token == "(" else "]"),)
        if token.startswith("{"):
            if token[1:-1] not in self.slots:
                raise self.error(f"unknown slot {token}")
            return (Slot(token[1:-1]),)
        if token.startswith("<"):
            if token[1:-1] not in self.macros:
                raise self.error(f"unknown macro {token}")
            return self.macros[token[1:-1]]
        if token == WILDCARD:
            return (Word(WILDCARD),)
        words = normalize(token, self.lang)  # "where's" -> "where is", as the caller's text will be
        return (Word(words),) if words else ()

    def group(self, closer: str) -> Choice:
        """Alternatives up to the matching closer."""
        options = [self.sequence()]
        while self.pos < len(self.tokens) and self.tokens[self.pos] == "|":
            self.pos += 1
            options.append(self.sequence())
        if self.pos >= len(self.tokens) or self.tokens[self.pos] != closer:
            raise self.error(f"missing '{closer}'")
        self.pos += 1
        if closer == ")" and not all(options):
            raise self.error("empty alternative in '( )'; use '[ ]' for optional words")
        return Choice(tuple(o for o in options if o), optional=closer == "]")



def expand_nodes(nodes: Sequence[Node]) -> Iterator[tuple[str, ...]]:
    """Every token sequence a node sequence stands for; slots stay as "{name}" tokens.

    Optional parts are left out first, so the shortest, most canonical phrase comes first.
    """
    if not nodes:
        yield ()
        return
    head, rest = nodes[0], nodes[1:]
    for first in _expand_node(head):
        for tail in expand_nodes(rest):
            yield first + tail


def _expand_node(node: Node) -> Iterator[tuple[str, ...]]:
    """Token sequences for a single node."""
    if isinstance(node, Word):
        yield tuple(node.text.split())
    elif isinstance(node, Slot):
        yield ("{" + node.name + "}",)
    else:
        if node.optional:
            yield ()
        for option in node.options:
            yield from expand_nodes(option)


def template_phrases(template: Template, limit: int = EXPANSION_CAP) -> list[tuple[str, ...]]:
    """A template's expansions (deduplicated, at most limit), slots as "{name}" tokens."""
    return list(islice(dict.fromkeys(expand_nodes(template.nodes)), limit))
