"""French wording: dates, statuses, store hours and clock times as French callers say them."""
from __future__ import annotations

from datetime import date

from app.dialog.actions import Summary
from app.dialog.summary import whisper
from app.dialog.wording import say_date, say_hours, say_list, say_status, speakable
from tests.dialog.shipped_words import EN, FR

TODAY = date(2026, 11, 21)      # a Saturday


def test_dates_the_french_way() -> None:
    assert say_date(date(2026, 11, 25), TODAY, "fr") == "le mercredi 25 novembre"
    assert say_date(date(2026, 12, 1), TODAY, "fr", bare=True) == "mardi 1er décembre"
    assert say_date(date(2026, 11, 22), TODAY, "fr") == "demain"
    assert say_date(date(2026, 11, 25), TODAY) == "on Wednesday, November 25th"     # English unchanged


def test_store_hours_on_the_24_hour_clock() -> None:
    assert say_hours("Monday to Saturday", "9 am to 8 pm", "fr") == "du lundi au samedi, de 9 h à 20 h"
    assert say_hours("Sunday", "10:30 am to 6 pm", "fr") == "le dimanche, de 10 h 30 à 18 h"
    assert say_hours("Sunday", "10 am to 6 pm") == "Sunday, 10 am to 6 pm"


def test_lists_and_statuses() -> None:
    assert say_list(["Portland", "Seattle", "Denver"], "fr") == "Portland, Seattle et Denver"
    assert say_status("shipped", "fr") == "en cours de livraison"


def test_clock_times_are_spoken_as_hours() -> None:
    assert speakable("de 9 h à 20 h, commande 48217") == "de 9 heures à 20 heures, commande 4 8 2 1 7"
    assert speakable("ouvert de 1 h 30") == "ouvert de 1 heure 30"


def test_the_whisper_in_french_for_french_speaking_agents() -> None:
    summary = Summary(reason="asked for a person", want="order status", caller_name="Jane Doe",
                      order_number="48217", order_status="shipped", task="order_status", caller_lang="en")
    assert whisper(summary, FR) == ("Jane Doe, pour le suivi d'une commande. L'appelant parle anglais. "
                                      "Commande 48217, en cours de livraison. Motif : demande un conseiller.")
    assert whisper(summary, EN) == "Jane Doe, about order status. Order 48217, on its way. Reason: asked for a person."


def test_caller_speaks_french_for_english_speaking_agents() -> None:
    summary = Summary(reason="billing question", want="a billing problem", caller_number="+15550123",
                      task="billing_issue", caller_lang="fr")
    assert whisper(summary, EN) == ("Unknown caller, about a billing problem. Caller speaks French. "
                                "Reason: billing question.")
