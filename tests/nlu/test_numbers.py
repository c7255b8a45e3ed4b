"""Spoken numbers and normalisation (app/nlu/numbers.py)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.nlu.numbers import extract_order_number, normalize, spell_digits


@pytest.mark.parametrize(("text", "expected"), [
    ("Where's my order?", "where is my order"),
    ("wheres my order", "where is my order"),
    ("I'd like to return it", "i would like to return it"),
    ("id like a refund", "i would like a refund"),
    ("my ID 4821", "my id 4821"),
    ("I can't, I won't!", "i can not i will not"),
    ("that’s right", "that is right"),
    ("the store's hours", "the store hours"),
    ("it's 4-8-2-1-7", "it is 4 8 2 1 7"),
    ("  Lots   of\tspace ", "lots of space"),
    ("OK", "okay"),
    ("i wanna cancel", "i want to cancel"),
])
def test_normalize_expands_contractions_and_strips_punctuation(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize("Hi, I'm calling 'cause my package hasn't shipped!")
    assert normalize(once) == once


@pytest.mark.parametrize(("text", "expected"), [
    ("four eight two one seven", "48217"),
    ("one oh three four seven", "10347"),
    ("48217", "48217"),
    ("it's 4 8 2 1 7", "48217"),
    ("double two three four", "2234"),
    ("double five one two nine", "55129"),
    ("seven seven two oh one", "77201"),
    ("triple three six zero", "33360"),
    ("forty eight two seventeen", "48217"),
    ("forty eight thousand two hundred seventeen", "48217"),
    ("track my order three zero five one two please", "30512"),
    ("four eight uh two one seven", "48217"),
    ("four eight to one seven", "48217"),
    ("order #30512.", "30512"),
])
def test_extract_order_number(text: str, expected: str) -> None:
    assert extract_order_number(text) == expected


@pytest.mark.parametrize("text", [
    "where is my order",
    "it's been two weeks",
    "one more time please",
    "i want to go for a walk",
    "oh no",
    "123",                                       # too short for an order number
    "five five five one two three four five six seven",  # a phone number: too long
    "",
])
def test_no_order_number(text: str) -> None:
    assert extract_order_number(text) is None


def test_spell_digits() -> None:
    assert spell_digits("48217") == "four eight two one seven"
    assert spell_digits("0") == "zero"
    assert spell_digits("") == ""


@given(st.text(alphabet="0123456789", min_size=4, max_size=8))
def test_spelled_order_numbers_read_back(digits: str) -> None:
    assert extract_order_number(spell_digits(digits)) == digits
    assert extract_order_number(f"my order number is {spell_digits(digits)} thanks") == digits
