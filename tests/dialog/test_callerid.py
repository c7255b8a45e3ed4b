"""Caller ids that are not numbers to call back."""
from __future__ import annotations

import pytest

from app.dialog.callerid import callable_number, keyed_number

WITHHELD = ["+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253", "266696687",
            "anonymous", "Anonymous", "restricted", "unknown", "private", "unavailable", "", "  ",
            "client:alice", "sip:bob@example.com", "+0123456789", "12345"]


@pytest.mark.parametrize("caller", WITHHELD)
def test_placeholders_and_non_numbers_are_withheld(caller: str) -> None:
    assert callable_number(caller) == ""


@pytest.mark.parametrize("caller", ["+15550100", "+15550123", "+447700900123", "+33612345678"])
def test_phone_numbers_can_be_called_back(caller: str) -> None:
    assert callable_number(caller) == caller


def test_a_keyed_callback_number_is_7_to_15_digits() -> None:
    assert keyed_number("5550142#") == "5550142"
    assert [keyed_number(k) for k in ("123456", "1234567890123456", "555*0142", "#")] == ["", "", "", ""]
