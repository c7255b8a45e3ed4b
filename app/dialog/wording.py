"""How things are said on the phone: dates, statuses, lists, digit runs, in the call's language."""
from __future__ import annotations

import re
from datetime import date, timedelta

_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}
_STATUS_WORDS = {
    "en": {"processing": "being prepared", "shipped": "on its way", "delivered": "delivered",
           "delayed": "delayed at the carrier", "cancelled": "cancelled", "returned": "returned"},
    "fr": {"processing": "en préparation", "shipped": "en cours de livraison", "delivered": "livrée",
           "delayed": "retardée chez le transporteur", "cancelled": "annulée", "returned": "retournée"},
}
# Relative days, the joining word of a list, and what a prompt says when a detail is missing.
_WORDS = {
    "en": {"today": "today", "tomorrow": "tomorrow", "yesterday": "yesterday", "on": "on ", "and": " and ",
           "soon": "soon", "already": "already", "order": "order", "carrier": "the carrier",
           "payment": "original payment method"},
    "fr": {"today": "aujourd'hui", "tomorrow": "demain", "yesterday": "hier", "on": "le ", "and": " et ",
           "soon": "bientôt", "already": "déjà", "order": "commande", "carrier": "le transporteur",
           "payment": "moyen de paiement d'origine"},
}
_FR_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_FR_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
              "octobre", "novembre", "décembre")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))? ?(am|pm)\b", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\d{4,}")


def word(key: str, lang: str = "en") -> str:
    """A small fixed word in the call's language ("soon", "the carrier")."""
    return _WORDS.get(lang, _WORDS["en"])[key].strip()


def ordinal(day: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    suffix = "th" if 10 <= day % 100 <= 20 else _ORDINAL_SUFFIX.get(day % 10, "th")
    return f"{day}{suffix}"


def say_date(day: date, today: date | None = None, lang: str = "en", bare: bool = False) -> str:
    """A date as a caller hears it: 'today', 'tomorrow', or 'on Tuesday, November 25th'.

    French: "aujourd'hui", "demain", or "le mardi 25 novembre" (1er for the first).
    bare: without the "on"/"le" in front ("until Tuesday, November 25th")."""
    words = _WORDS.get(lang, _WORDS["en"])
    if today is not None:
        for key, offset in (("today", 0), ("tomorrow", 1), ("yesterday", -1)):
            if day == today + timedelta(days=offset):
                return words[key]
    if lang == "fr":
        text = f"{_FR_DAYS[day.weekday()]} {'1er' if day.day == 1 else day.day} {_FR_MONTHS[day.month - 1]}"
    else:
        text = f"{day.strftime('%A')}, {day.strftime('%B')} {ordinal(day.day)}"
    return text if bare else words["on"] + text


def say_status(status: str, lang: str = "en") -> str:
    """An order status in plain words."""
    return _STATUS_WORDS.get(lang, _STATUS_WORDS["en"]).get(status, status)


def say_list(items: list[str], lang: str = "en") -> str:
    """'a, b and c' ('a, b et c')."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + _WORDS.get(lang, _WORDS["en"])["and"] + items[-1]


def say_hours(days: str, span: str, lang: str = "en") -> str:
    """A store's opening line from the business data, the French way when the call is French:
    ("Monday to Saturday", "9 am to 8 pm") -> "du lundi au samedi, de 9 h à 20 h"."""
    if lang != "fr":
        return f"{days}, {span}"
    names = dict(zip((d.lower() for d in _EN_DAYS), _FR_DAYS))
    found = [names[w] for w in re.findall(r"[a-z]+", days.lower()) if w in names]
    day_text = f"du {found[0]} au {found[1]}" if len(found) == 2 else " ".join(f"le {d}" for d in found) or days
    times = [_clock_fr(m) for m in _CLOCK.finditer(span)]
    span_text = f"de {times[0]} à {times[1]}" if len(times) == 2 else span
    return f"{day_text}, {span_text}"


def _clock_fr(match: re.Match[str]) -> str:
    """'8 pm' -> '20 h', '9:30 am' -> '9 h 30' (the 24-hour clock French callers expect)."""
    hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "pm" else 0)
    return f"{hour} h" + (f" {match.group(2)}" if match.group(2) and match.group(2) != "00" else "")


# French clock times as written ("20 h", "9 h 30"): synthesizers read a lone "h" as a letter.
_FRENCH_HOUR = re.compile(r"\b(\d{1,2}) h(?: (\d{2}))?(?!\w)")


def speakable(text: str) -> str:
    """Text for a speech synthesizer: order-like digit runs are read digit by digit, and French
    clock times in words ("20 h" -> "20 heures")."""
    text = _FRENCH_HOUR.sub(lambda m: f"{m.group(1)} heure{'s' if m.group(1) not in ('0', '1') else ''}"
                            + (f" {m.group(2)}" if m.group(2) else ""), text)
    return _DIGIT_RUN.sub(lambda m: " ".join(m.group(0)), text)
