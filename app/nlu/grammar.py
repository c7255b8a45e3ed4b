"""Intent grammars: parse YAML phrase templates and expand them into phrases.

Grammar format (one or more YAML documents per language directory, merged):

    slots:                      # slot name -> spoken values; `{name}` in a template refers to it
      city: [portland, seattle]
      order_number: {complete_at: 5}   # no value list: filled by the number reader
    macros:                     # reusable template pieces; `<name>` in a template inserts one
      want: "(i want to | i would like to | can i)"
    fillers: [um, uh]           # words dropped before matching
    stopwords: [the, a, please] # words that carry no intent; ignored by fuzzy comparison
    answers:                    # bare slot answers ("it's {order_number}"): intent comes from
      - "[it is] {order_number}"  #   the expected intents that declare the slot
    intents:
      order_status:
        slots: [order_number]   # slots that make a bare answer count for this intent
        override: false         # true: a keyword of this intent beats every other intent
        weight: 1.0             # scales this intent's keyword evidence (generic words: < 1)
        phrases:                # templates for whole utterances
          - "<want> check [on] my order [{order_number}]"
        keywords:               # templates for cue phrases that point here wherever they appear;
          - "(track | tracking)"  #   evidence = number of content words, or a weight given
          - "placed an order": 0.5  # as a one-entry mapping (strong single words: 2)

Template syntax (app/nlu/templates.py): plain words, `[optional words]`,
`(one | alternative | another)`, nesting allowed, `{slot}` and `<macro>` references, and in
keywords `*` for unknown words. Text is normalised with `numbers.normalize`, so "where's"
and "where is" are the same.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from app.nlu.numbers import normalize, spell_digits
from app.nlu.templates import (WILDCARD, GrammarError, Node, Template, TemplateParser, expand_nodes,
                               template_phrases)

__all__ = ["Grammar", "GrammarError", "IntentRule", "Template", "expand", "load_grammar",
           "parse_grammar", "template_phrases"]

SAMPLE_ORDER_NUMBER = "48217"


@dataclass(frozen=True)
class IntentRule:
    """Everything the grammar says about one intent."""

    name: str
    phrases: tuple[Template, ...]
    keywords: tuple[Template, ...] = ()
    slots: tuple[str, ...] = ()
    override: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class Grammar:
    """A language's intents, slot lists and word lists (read-only)."""

    intents: Mapping[str, IntentRule]
    slots: Mapping[str, tuple[str, ...]]
    fillers: frozenset[str] = frozenset()
    stopwords: frozenset[str] = frozenset()
    answers: tuple[Template, ...] = ()
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    lang: str = "en"             # how text is normalised and numbers read (app.nlu.numbers)


@dataclass
class _Parts:
    """Sections collected from all documents before templates are parsed."""

    slots: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    macros: dict[str, tuple[str, str]] = field(default_factory=dict)
    fillers: set[str] = field(default_factory=set)
    stopwords: set[str] = field(default_factory=set)
    answers: list[tuple[str, str, float | None]] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    lang: str = "en"


def _fail(origin: str, message: str) -> GrammarError:
    """A GrammarError prefixed with where the problem is."""
    return GrammarError(f"{origin}: {message}")


def _strings(values: Any, origin: str) -> list[str]:
    """A YAML list of strings (templates stay raw); anything else is an error."""
    if not isinstance(values, list):
        raise _fail(origin, "expected a list of strings")
    for value in values:
        if not isinstance(value, str):  # YAML reads bare yes/no/on/off as booleans
            raise _fail(origin, f"expected a string, got {value!r} (quote it in the YAML)")
    return [v.strip().lower() for v in values if v.strip()]


def _keywords(values: Any, origin: str) -> list[tuple[str, str, float | None]]:
    """Keyword entries: "template" or {"template": weight}."""
    if not isinstance(values, list):
        raise _fail(origin, "expected a list of templates")
    out: list[tuple[str, str, float | None]] = []
    for value in values:
        if isinstance(value, dict) and len(value) == 1:
            (text, weight), = value.items()
            if not isinstance(text, str) or not isinstance(weight, (int, float)) or weight <= 0:
                raise _fail(origin, f"{value!r}: a weighted keyword is {{template: positive number}}")
            out.append((text.strip().lower(), origin, float(weight)))
        else:
            out.extend((t, origin, None) for t in _strings([value], origin))
    return out


def _words(values: Any, origin: str, lang: str = "en") -> list[str]:
    """A YAML list of plain words or phrases, normalised."""
    return [w for w in (normalize(v, lang) for v in _strings(values, origin)) if w]


def _collect(parts: _Parts, doc: Any, source: str) -> None:
    """Merge one YAML document's sections into parts."""
    if not isinstance(doc, dict):
        raise _fail(source, "a grammar document must be a mapping")
    unknown = set(doc) - {"slots", "macros", "fillers", "stopwords", "answers", "intents"}
    if unknown:
        raise _fail(source, f"unknown section(s): {', '.join(sorted(map(str, unknown)))}")
    for name, values in (doc.get("slots") or {}).items():
        if isinstance(values, dict):  # a slot with options and no value list
            parts.options[name] = dict(values)
            parts.slots.setdefault(name, [])
        else:
            parts.slots.setdefault(name, []).extend(_words(values, f"{source}: slot '{name}'", parts.lang))
    for name, text in (doc.get("macros") or {}).items():
        if not isinstance(text, str):
            raise _fail(source, f"macro '{name}' must be a template string")
        parts.macros[name] = (text, f"{source}: macro '{name}'")
    # Word lists hold single words: "i'd" normalises to "i would", which is two of them.
    parts.fillers.update(w for p in _words(doc.get("fillers") or [], f"{source}: fillers", parts.lang)
                         for w in p.split())
    parts.stopwords.update(w for p in _words(doc.get("stopwords") or [], f"{source}: stopwords", parts.lang)
                           for w in p.split())
    parts.answers.extend((t, f"{source}: answers", None) for t in _strings(doc.get("answers") or [], source))
    for name, body in (doc.get("intents") or {}).items():
        _collect_intent(parts, str(name), body, f"{source}: intent '{name}'")


def _collect_intent(parts: _Parts, name: str, body: Any, origin: str) -> None:
    """Merge one intent's raw section (intents may be split over several files)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise _fail(origin, "intent names are lower-case identifiers")
    if not isinstance(body, dict) or not (body.get("phrases") or body.get("keywords")):
        raise _fail(origin, "needs a 'phrases' and/or 'keywords' list")
    unknown = set(body) - {"phrases", "keywords", "slots", "override", "weight"}
    if unknown:
        raise _fail(origin, f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    entry = parts.intents.setdefault(
        name, {"phrases": [], "keywords": [], "slots": [], "override": False, "weight": 1.0})
    entry["phrases"].extend((t, origin, None) for t in _strings(body.get("phrases") or [], f"{origin}: phrases"))
    entry["keywords"].extend(_keywords(body.get("keywords") or [], f"{origin}: keywords"))
    entry["slots"].extend((slot, origin) for slot in _strings(body.get("slots") or [], f"{origin}: slots"))
    entry["override"] = entry["override"] or bool(body.get("override", False))
    if "weight" in body:
        if not isinstance(body["weight"], (int, float)) or not 0 < body["weight"] <= 5:
            raise _fail(origin, "weight must be a number in (0, 5]")
        entry["weight"] = float(body["weight"])


def _parse_macros(parts: _Parts) -> dict[str, tuple[Node, ...]]:
    """Parse macros in dependency order; a cycle or unknown reference is an error."""
    done: dict[str, tuple[Node, ...]] = {}
    pending = dict(parts.macros)
    while pending:
        ready = [n for n, (t, _) in pending.items()
                 if all(r in done for r in re.findall(r"<([a-z_]+)>", t))]
        if not ready:
            name, (text, origin) = next(iter(pending.items()))
            raise _parse_error_or_cycle(parts, done, text, origin)
        for name in ready:
            text, origin = pending.pop(name)
            done[name] = TemplateParser(text, origin, parts.slots, done, parts.lang).parse()
    return done


def _parse_error_or_cycle(parts: _Parts, done: dict, text: str, origin: str) -> GrammarError:
    """The error for a macro that cannot be resolved: unknown reference, else a cycle."""
    missing = [r for r in re.findall(r"<([a-z_]+)>", text) if r not in parts.macros]
    what = f"unknown macro <{missing[0]}>" if missing else "macros refer to each other in a cycle"
    return _fail(origin, f"template '{text}': {what}")


def parse_grammar(docs: Sequence[Any], sources: Sequence[str] | None = None, lang: str = "en") -> Grammar:
    """Build a Grammar from parsed YAML documents (sources name them in error messages)."""
    parts = _Parts(lang=lang)
    for index, doc in enumerate(docs):
        _collect(parts, doc, sources[index] if sources else f"document {index + 1}")
    macros = _parse_macros(parts)

    def templates(items: list[tuple[str, str, float | None]]) -> tuple[Template, ...]:
        """Parse (text, origin, weight) entries."""
        return tuple(Template(t, TemplateParser(t, o, parts.slots, macros, lang).parse(), o, w)
                     for t, o, w in items)

    intents = {}
    for name, entry in parts.intents.items():
        unknown = [(s, o) for s, o in entry["slots"] if s not in parts.slots]
        if unknown:
            raise _fail(unknown[0][1], f"unknown slot '{unknown[0][0]}'")
        intents[name] = IntentRule(name, templates(entry["phrases"]), templates(entry["keywords"]),
                                   tuple(dict.fromkeys(s for s, _ in entry["slots"])), entry["override"],
                                   entry["weight"])
    if not intents:
        raise GrammarError("grammar defines no intents")
    return Grammar(
        intents=MappingProxyType(intents),
        slots=MappingProxyType({k: tuple(dict.fromkeys(v)) for k, v in parts.slots.items()}),
        fillers=frozenset(parts.fillers), stopwords=frozenset(parts.stopwords),
        answers=templates(parts.answers), options=MappingProxyType(parts.options), lang=lang)


def load_grammar(directory: Path, lang: str = "en") -> Grammar:
    """Read and parse every *.yaml file in a directory (the only file I/O in app/nlu).

    `lang` says how its words are normalised and numbers read (grammars/fr: "fr")."""
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise GrammarError(f"{directory}: no *.yaml grammar files")
    docs: list[Any] = []
    sources: list[str] = []
    for path in files:
        try:
            loaded = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
        except yaml.YAMLError as exc:
            raise GrammarError(f"{path}: not valid YAML: {exc}") from exc
        docs.extend(loaded)
        sources.extend([str(path)] * len(loaded))
    return parse_grammar(docs, sources, lang)


def _fill(tokens: Sequence[str], grammar: Grammar) -> str:
    """A phrase with slot tokens replaced by sample spoken values."""
    out = []
    for token in tokens:
        if token == "{order_number}":
            out.append(spell_digits(SAMPLE_ORDER_NUMBER, grammar.lang))
        elif token.startswith("{"):
            values = grammar.slots.get(token[1:-1]) or (token[1:-1],)
            out.append(values[0])
        else:
            out.append(token)
    return " ".join(out)


def expand(grammar: Grammar, intent: str, limit: int | None = None) -> list[str]:
    """An intent's phrases, slots filled with sample values (cities spelled, digits as words)."""
    rule = grammar.intents[intent]
    phrases: dict[str, None] = {}
    for template in rule.phrases:
        for tokens in template_phrases(template):
            phrases[_fill(tokens, grammar)] = None
            if limit is not None and len(phrases) >= limit:
                return list(phrases)
    return list(phrases)
