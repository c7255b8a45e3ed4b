"""French callers: every script in tests/calls/fr, routing by the number dialled, and the switch
at the greeting (by its name or key 9) that keeps what was collected."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.factory import build_services
from app.services import Services
from app.sim.local import local_driver, script_settings
from app.sim.runner import run_script
from app.sim.script import load_script
from app.store.sessions import MemorySessions
from tests.callrun import run_call
from tests.conftest import TODAY

CALLS = sorted((Path(__file__).parent.parent / "calls" / "fr").glob("*.yaml"))
FRENCH_LINE = "+15550111"


def services_for(settings: Settings) -> Services:
    return build_services(settings, MemorySessions(), today=lambda: TODAY)


@pytest.mark.parametrize("path", CALLS, ids=[p.stem for p in CALLS])
def test_french_scripted_call(path: Path, settings: Settings) -> None:
    script = load_script(path)
    result = run_script(script, local_driver(services_for(script_settings(settings, script)), script))
    assert result.passed, "\n".join(result.failures + [str(t) for t in result.turns])


def test_every_intent_has_a_french_script() -> None:
    said = " ".join(p.read_text(encoding="utf-8") for p in CALLS)
    assert len(CALLS) >= 15 and "press:" in said and "silence:" in said


def last_record_lang(services: Services) -> str:
    services.records.flush()
    return services.records.recent(1)[0].lang


def test_a_call_to_the_french_number_is_answered_and_recorded_in_french(settings: Settings) -> None:
    services = services_for(settings.replace(lang_by_number=((FRENCH_LINE, "fr"),)))
    result = run_call(services, {"name": "French line", "to": FRENCH_LINE, "steps": [
        {"expect_say": "je suis un assistant automatique"},
        {"expect_say": "for english, say english or press 9"},     # the other language, in itself
        {"say": "où en est ma commande"},
        {"expect_say": "quel est votre numéro de commande"},
        {"say": "un conseiller s'il vous plaît"},
        {"expect_transfer": {"summary_contains": ["Caller speaks French", "about order status"]}},
    ]})
    assert result.passed and last_record_lang(services) == "fr"


def test_the_other_numbers_stay_in_the_default_language(settings: Settings) -> None:
    services = services_for(settings.replace(lang_by_number=((FRENCH_LINE, "fr"),)))
    run_call(services, {"name": "English line", "steps": [
        {"expect_say": "i'm an automated assistant"},
        {"expect_say": "pour le français, dites français ou appuyez sur 9"},
        {"say": "agent"}, {"expect_transfer": {"summary_contains": ["asked for a person"]}},
    ]})
    assert last_record_lang(services) == "en"


@pytest.mark.parametrize("choice", [{"say": "français"}, {"say": "en français s'il vous plaît"}, {"press": "9"}],
                         ids=["name", "name in a sentence", "key 9"])
def test_switching_to_french_at_the_greeting(settings: Settings, choice: dict) -> None:
    services = services_for(settings.replace(langs=("fr",)))
    run_call(services, {"name": "switch", "steps": [
        {"expect_say": "how can i help you today"}, choice,
        {"expect_say": "nous continuons en français. que puis-je faire pour vous"},
        {"say": "quels sont vos horaires"}, {"expect_say": "du lundi au samedi, de 9 h à 20 h"},
        {"say": "non merci"}, {"expect_say": "au revoir"}, {"expect_outcome": "resolved"},
    ]})
    assert last_record_lang(services) == "fr"


def test_switching_mid_call_keeps_what_was_collected(settings: Settings) -> None:
    services = services_for(settings.replace(langs=("fr",)))
    run_call(services, {"name": "switch while collecting", "from": "+15550100", "steps": [
        {"say": "no"}, {"say": "i want to cancel my order"}, {"expect_say": "order number"},
        {"say": "français"},
        {"expect_say": "quel est votre numéro de commande"},         # the same question, in French
        {"say": "trois zéro cinq un deux"},
        {"expect_say": "voulez-vous que je l'annule"},               # still the cancellation
        {"say": "non"}, {"expect_say": "je ne touche pas à la commande 30512"},
        {"say": "english please"}, {"expect_say": "let's continue in english"},
        {"say": "no"}, {"expect_say": "goodbye"},
    ]})


def test_the_whisper_is_in_the_agents_language(settings: Settings) -> None:
    services = services_for(settings.replace(langs=("fr",), agent_lang="fr"))
    run_call(services, {"name": "French agents", "steps": [
        {"say": "i was charged twice"},
        {"expect_transfer": {"summary_contains": ["L'appelant parle anglais", "problème de facturation"]}},
    ]})


def test_one_language_served_offers_nothing_and_hears_no_language_names(settings: Settings) -> None:
    services = services_for(settings)
    result = run_call(services, {"name": "English only", "steps": [
        {"say": "français"}, {"expect_say": "you can say things like"},
    ]})
    assert "9" not in result.turns[0]["bot"]
