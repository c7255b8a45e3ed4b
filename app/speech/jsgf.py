"""The JSGF grammars PocketSphinx decodes with: phrases, escapes, order numbers, garbage phones."""
from __future__ import annotations

from typing import Sequence

from app.speech.recognizer import DIGIT_WORDS, DIGITS

# The bundled model's phones; each becomes a one-phone "garbage" word for the out-of-grammar path.
PHONES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
          "UH UW V W Y Z ZH").split()
GARBAGE_PREFIX = "oog_"
# A phone-loop path beats the word models on synthetic voices unless every garbage phone pays a
# price. JSGF weights are relative, so a never-matching dummy word with this much weight makes
# each garbage phone cost ~ln(1e16). Measured on 80 in-grammar / 40 out-of-grammar synthesized
# phrases with the "speech absorbed by silence" check (pocketsphinx_stream.py): 1e12 -> 77/80
# kept, 0/40 forced; 1e16 -> 79/80, 0/40; 1e20 -> 80/80, 4/40. Without the garbage path 30/40
# were forced.
GARBAGE_PENALTY = "10000000000000000"
HESITATIONS = ("um", "uh", "er")   # in the dictionary; see jsgf


def jsgf_for(phrases: list[str], escapes: Sequence[str] = (), lengths: Sequence[int] = (5,)) -> str:
    """A JSGF grammar: a phrase (DIGITS = one order number), an escape, or garbage phones."""
    garbage = " | ".join(f"/1/ {GARBAGE_PREFIX}{p.lower()}" for p in PHONES)
    alternatives = _alternatives(phrases)
    if escapes:
        alternatives.append("/1/ <escape>")
    rules = f"<escape> = {' | '.join(escapes)};\n" if escapes else ""
    if any(DIGITS in p for p in phrases):
        rules += number_rules(lengths)
    # Callers start a number with a hesitation ("um, four eight two..."): on 44 synthesized
    # order numbers, 10 right instead of 6 and no-matches 18 instead of 25, AN4 numbers as
    # before (both before TELEPHONE_CMN; docs/benchmarks.md). Not elsewhere: at a yes/no question "agent" came back as "uh agent" and fewer
    # escapes were heard.
    lead = f"[{' | '.join(HESITATIONS)}] " if any(DIGITS in p for p in phrases) else ""
    return ("#JSGF V1.0;\ngrammar ivr;\n"
            f"public <utt> = {lead}({' | '.join(alternatives)}) | <garbage>;\n" + rules +
            "<garbage> = <phone>+;\n"
            f"<phone> = {garbage} | /{GARBAGE_PENALTY}/ {GARBAGE_PREFIX}void;\n")


def _alternatives(phrases: list[str]) -> list[str]:
    """Weighted JSGF alternatives, the phrases around a number sharing one <number> reference.

    The JSGF compiler copies a rule at every reference: with <number> in each of ~100 phrases
    ("it is <number>", "my order number is <number>", ...) one number grammar took ~3 s to
    compile, holding the GIL, and every call in that worker went deaf meanwhile (`ivr bench calls`
    lost 3 of 20 calls at the order-number questions). Grouped by what follows the number, it
    compiles in ~0.17 s. Each group weighs as many phrases as it holds, so every phrase keeps the
    prior it had as an alternative of its own."""
    plain = [f"/1/ {p}" for p in phrases if DIGITS not in p]
    around: dict[str, list[str]] = {}
    for phrase in phrases:
        if DIGITS in phrase:
            before, after = phrase.split(DIGITS, 1)
            around.setdefault(after.strip(), []).append(before.strip() or "<NULL>")
    for after, befores in around.items():
        lead = f"({' | '.join(dict.fromkeys(befores))}) " if befores != ["<NULL>"] else ""
        plain.append(f"/{len(befores)}/ {lead}<number>{' ' + after if after else ''}")
    return plain


def number_rules(lengths: Sequence[int]) -> str:
    """<number>: exactly one of the allowed digit counts, as callers say them ("double seven")."""
    def compositions(n: int) -> list[list[str]]:
        if n == 0:
            return [[]]
        out = []
        for size, word in ((1, "<digit>"), (2, "double <digit>"), (3, "triple <digit>")):
            if size <= n:
                out += [[word] + rest for rest in compositions(n - size)]
        return out
    bodies = [" ".join(c) for n in sorted(set(lengths)) for c in compositions(n)]
    return f"<number> = {' | '.join(bodies)};\n<digit> = {' | '.join(DIGIT_WORDS)};\n"
