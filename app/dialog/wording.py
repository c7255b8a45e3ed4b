"""How things are said on the phone: dates, statuses, lists, digit runs."""
from __future__ import annotations

import re
from datetime import date, timedelta

_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}
_STATUS_WORDS = {
    "processing": "being prepared",
    "shipped": "on its way",
    "delivered": "delivered",
    "delayed": "delayed at the carrier",
    "cancelled": "cancelled",
    "returned": "returned",
}
_DIGIT_RUN = re.compile(r"\d{4,}")


def ordinal(day: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    suffix = "th" if 10 <= day % 100 <= 20 else _ORDINAL_SUFFIX.get(day % 10, "th")
    return f"{day}{suffix}"


def say_date(day: date, today: date | None = None) -> str:
    """A date as a caller hears it: 'today', 'tomorrow', or 'on Tuesday, November 25th'."""
    if today is not None:
        if day == today:
            return "today"
        if day == today + timedelta(days=1):
            return "tomorrow"
        if day == today - timedelta(days=1):
            return "yesterday"
    return f"on {day.strftime('%A')}, {day.strftime('%B')} {ordinal(day.day)}"


def say_status(status: str) -> str:
    """An order status in plain words."""
    return _STATUS_WORDS.get(status, status)


def say_list(items: list[str]) -> str:
    """'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def speakable(text: str) -> str:
    """Text for a speech synthesizer: order-like digit runs are read digit by digit."""
    return _DIGIT_RUN.sub(lambda m: " ".join(m.group(0)), text)
