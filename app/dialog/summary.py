"""The warm-transfer summary: what the agent hears before taking the call."""
from __future__ import annotations

import re

from app.dialog.actions import Summary
from app.dialog.agentwords import AgentWords
from app.dialog.callerid import callable_number
from app.dialog.state import CallState
from app.dialog.wording import say_status
from app.nlu.redact import redact

# What the call is about, read after "Calling about" on the call page (the whisper words it
# from the prompts file's agent.wants).
_WANTS = {
    "order_status": "order status",
    "return_item": "a return",
    "refund_status": "a refund",
    "cancel_order": "cancelling an order",
    "store_hours": "store hours",
    "store_location": "a store location",
    "billing_issue": "a billing problem",
    "complaint": "a complaint",
}
# Words that signal an upset caller; matched as whole words in what they said.
_STRONG = re.compile(
    r"\b(ridiculous|terrible|awful|horrible|useless|stupid|worst|angry|furious|unacceptable|"
    r"frustrat\w*|fed up|sick of|damn|hell|joke|pathetic|disgusting|again)\b")
_MAX_QUOTE_WORDS = 14
# Heard this surely (the lower of the recognizer's and the matcher's confidence) or better, a
# caller's words may be quoted to the agent; below, a quote risks reading out a mishearing.
QUOTE_CONFIDENCE = 0.5
# About ten seconds of the prompt voice (165 words a minute), digits counted one by one.
WHISPER_WORDS = 26
# Words that tell the agent nothing the whisper does not already say: fillers, the ways of
# asking for a person, yes/no, numbers (the order number is read out on its own).
_PLAIN = frozenset("""
a an the i i'm i'd i've im id me my mine you your it it's its is am are was were be been do does
did to of for on in at by with about from and or but so that this there what what's where when
how can could would will want wanted like need please just um uh hello hi hey okay ok yes yeah
no nope not agent person human representative operator someone somebody speak talk real order
number help thanks thank one two three four five six seven eight nine zero oh
cancel track check status return refund store hours open location address
""".split()) | frozenset("""
je j' j'ai me moi mon ma mes vous votre le la les l' un une des de du d' à au et ou c'est est ce ça
voudrais voulais veux aimerais souhaite souhaiterais pouvez peux pourriez parler passer passez-moi
quelqu'un conseiller conseillère personne humain agent opérateur s'il plaît oui non merci bonjour
euh alors voilà commande numéro suivi colis retour remboursement annuler horaires magasin adresse
zéro deux trois quatre cinq six sept huit neuf dix vingt trente quarante cinquante soixante
""".split())
_NOT_FOUND = re.compile(r"could not find order (\d+)$")
_WORD = re.compile(r"\[redacted\]|[a-zà-ÿœ][a-zà-ÿœ'-]*")


def frustration_in(words: str) -> int:
    """How many strong words an utterance carries (0 for a calm one)."""
    return len(_STRONG.findall(words.lower()))


def build(s: CallState, reason: str) -> Summary:
    """Everything the bot learned, as a Summary record."""
    tries = s.no_match + s.no_input + s.unknown_orders
    frustrated = s.frustration > 0 or s.agent_asks >= 2 or s.no_match >= 2
    return Summary(
        reason=reason,
        want=_WANTS.get(s.task, ""),
        caller_name=s.caller_name,
        caller_number=callable_number(s.caller),     # a withheld id is no number to read out
        order_number=s.order_number or s.pending_number,
        order_status=s.order_status,
        caller_words=tuple(w for w in s.caller_words if w)[-2:],
        sure_words=tuple(w for w in s.sure_words if w),
        told=tuple(s.told[-2:]),
        tries=tries,
        frustrated=frustrated,
        task=s.task,
        caller_lang=s.lang,
    )


def render(summary: Summary) -> str:
    """The summary as one short paragraph (numbers as numerals; speech spells them out)."""
    parts = [_who(summary)]
    if summary.want:
        parts.append(f"Calling about {summary.want}.")
    if summary.order_number:
        status = f", {say_status(summary.order_status)}" if summary.order_status else ""
        parts.append(f"Order {summary.order_number}{status}.")
    if summary.caller_words:
        parts.append(f'Said: "{_quote(summary.caller_words[-1])}".')
    if summary.told:
        parts.append(f"Bot told them: {'; '.join(summary.told)}.")
    parts.append(f"Transferred because: {summary.reason}" + (f", after {summary.tries} failed tries." if summary.tries >= 2 else "."))
    if summary.frustrated:
        parts.append("Sounds frustrated.")
    return redact(" ".join(parts))      # a last guard: the agent never hears a card number


def _who(summary: Summary) -> str:
    if summary.caller_name:
        return f"Caller {summary.caller_name}."
    if summary.caller_number:
        return f"Caller {summary.caller_number}, not a known customer."
    return "Caller number withheld."


def _quote(words: str) -> str:
    tokens = words.split()
    clipped = " ".join(tokens[:_MAX_QUOTE_WORDS])
    return clipped + ("..." if len(tokens) > _MAX_QUOTE_WORDS else "")


def whisper(summary: Summary, words: AgentWords) -> str:
    """What the agent hears before taking the call: about ten seconds, nothing twice.

    Who, what they want, the caller's language when it is not the agents' (`words.lang`), the
    order and its status, why they were handed over, and at most one quote: the caller's surest
    words that say something the rest does not, if time is left. `words` are the agents'
    language's, from its prompts file (the `agent:` section).
    The call page keeps the full detail (render)."""
    want = words.want(summary.task, summary.want)
    parts = [_whisper_who(summary, words) + (words.frame("about", want=want) if want else ".")]
    if summary.caller_lang and summary.caller_lang != words.lang:
        parts.append(words.frame("speaks", language=words.language(summary.caller_lang)))
    if summary.order_number:
        status = f", {say_status(summary.order_status, words.lang)}" if summary.order_status else ""
        parts.append(words.frame("order", number=summary.order_number, status=status))
    parts.append(words.frame("reason", why=_why(summary, words)))
    if summary.frustrated:
        parts.append(words.frame("frustrated"))
    room = WHISPER_WORDS - spoken_words(" ".join(parts))
    quote = _clip(best_quote(summary.sure_words, " ".join(parts)), room - 1)   # "Said:" is a word
    if quote:
        parts.insert(-1 if summary.frustrated else len(parts), words.frame("said", quote=quote))
    return " ".join(parts)


def spoken_words(text: str) -> int:
    """Words as speech says them: a number is read digit by digit."""
    return sum(len(token) if token.isdigit() else 1 for token in re.findall(r"\d+|[^\s\d]+", text))


def _clip(quote: str, room: int) -> str:
    """The quote whole if it fits (a clipped one misleads), else nothing."""
    return quote if 0 < spoken_words(quote) <= room else ""


def _why(summary: Summary, words: AgentWords) -> str:
    """The reason, with the failed tries unless it counts them itself; for an order never
    found, which number the caller gave."""
    reason = words.reason(summary.reason)
    missing = next((m.group(1) for m in map(_NOT_FOUND.match, reversed(summary.told)) if m), "")
    if summary.reason == "order not found" and missing:
        reason = words.frame("not_found", number=missing)
    if summary.tries >= 2 and "twice" not in summary.reason:
        reason += words.frame("tries", tries=summary.tries)
    return reason


def _whisper_who(summary: Summary, words: AgentWords) -> str:
    if summary.caller_name:
        return summary.caller_name
    return words.frame("unknown") if summary.caller_number else words.frame("withheld")


def best_quote(utterances: tuple[str, ...], already_said: str) -> str:
    """The utterance with the most words not yet said or plain (the latest on a tie), or ""."""
    said = set(_WORD.findall(already_said.lower()))
    best, best_count = "", 0
    for words in utterances:
        count = len(set(_WORD.findall(words.lower())) - _PLAIN - said)
        if count and count >= best_count:
            best, best_count = words, count
    return best
