"""Labelled recordings: what was said, in which dialog state, and what the bot should do.

Our own format (`labels.tsv` in a set's folder): file, state, intent, slots (JSON), with an
optional `text` column (what the synthetic caller said). The shared real-speech sets keep their
own labels (see ../shared/speech/README.md) and are read here, at the boundary:
- AN4 (kind, truth): 4-5 digit strings are order numbers answered where the number is asked
  for; longer strings (phone numbers) are not order numbers and must not be acted on; the words
  yes/no answer "are you calling about order ...?", help and repeat are asked at the menu, and
  "stop" is no request of ours (no-match is right).
- Speech Commands (word): yes/no at the yes/no question; other words at the menu, where none of
  them is a request (no-match is right); digit words there too.
- FSDD (digit): a single digit where the order number is asked for is not an order number.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

MENU, COLLECT, YES_NO, ANYTHING_ELSE = "menu", "collect_order", "offer_order", "anything_else"
STATES = (MENU, COLLECT, YES_NO, ANYTHING_ELSE)


class LabelError(ValueError):
    """A labels file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Item:
    """One recording and what the bot should make of it."""

    path: Path
    set_name: str
    state: str                                  # where in the dialog it is said (STATES)
    intent: str                                 # the intent a right answer acts on ("none": no-match)
    slots: dict[str, str] = field(default_factory=dict)
    text: str = ""                              # what was said, when known
    condition: str = "clean"                    # e.g. "clean", "snr20", "snr10"

    @property
    def number(self) -> str:
        """The order number said, if any."""
        return self.slots.get("order_number", "")


def read_set(folder: Path, order_digits: tuple[int, ...] = (5,)) -> list[Item]:
    """The items of one set folder, whichever of the known label formats it uses."""
    labels = folder / "labels.tsv"
    if not labels.is_file():
        raise LabelError(f"{folder}: no labels.tsv")
    with labels.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if not rows:
        return []
    columns = set(rows[0])
    reader = (_ours if {"state", "intent"} <= columns else _an4 if "kind" in columns
              else _commands if "word" in columns else _fsdd if "digit" in columns else None)
    if reader is None:
        raise LabelError(f"{labels}: unknown label columns {sorted(columns)}")
    return [item for n, row in enumerate(rows, 2) if (item := reader(folder, row, order_digits, n))]


def _ours(folder: Path, row: dict, order_digits: tuple[int, ...], line: int) -> Item:
    if row["state"] not in STATES:
        raise LabelError(f"{folder / 'labels.tsv'}:{line}: unknown state {row['state']!r} (known: {', '.join(STATES)})")
    try:
        slots = json.loads(row.get("slots") or "{}")
    except json.JSONDecodeError as exc:
        raise LabelError(f"{folder / 'labels.tsv'}:{line}: slots are not JSON: {exc}") from exc
    return Item(folder / row["file"], folder.name, row["state"], row["intent"], slots,
                row.get("text", ""), row.get("condition") or "clean")


def _an4(folder: Path, row: dict, order_digits: tuple[int, ...], line: int) -> Item:
    truth, path = row["truth"], folder / row["file"]
    if row["kind"] == "digits":
        if len(truth) in order_digits:
            return Item(path, "an4-numbers", COLLECT, "order_status", {"order_number": truth}, truth)
        return Item(path, "an4-other-numbers", COLLECT, "none", {}, truth)
    if truth in ("yes", "no"):
        return Item(path, "an4-yes-no", YES_NO, truth, {}, truth)
    return Item(path, "an4-words", MENU, truth if truth in ("help", "repeat") else "none", {}, truth)


def _commands(folder: Path, row: dict, order_digits: tuple[int, ...], line: int) -> Item:
    word, path = row["word"], folder / row["file"]
    if word in ("yes", "no"):
        return Item(path, "commands-yes-no", YES_NO, word, {}, word)
    return Item(path, "commands-other", MENU, "none", {}, word)


def _fsdd(folder: Path, row: dict, order_digits: tuple[int, ...], line: int) -> Item:
    return Item(folder / row["file"], "fsdd-digit", COLLECT, "none", {}, row["digit"])
