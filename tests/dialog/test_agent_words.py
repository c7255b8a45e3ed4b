"""The whisper's words come from the prompts files' `agent:` section, checked when they load."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.dialog.agentwords import FRAME_SLOTS, AgentWords
from app.dialog.prompts import PromptError
from app.loading import load_agent_words, load_prompts
from tests.dialog.shipped_words import PROMPTS

SHIPPED = (PROMPTS / "en.yaml").read_text(encoding="utf-8")


def edited(tmp_path: Path, old: str, new: str, lang: str = "en") -> Path:
    """A prompts directory whose <lang>.yaml is the shipped one with `old` replaced by `new`."""
    text = (PROMPTS / f"{lang}.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / f"{lang}.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("lang", [p.stem for p in PROMPTS.glob("*.yaml")])
def test_every_prompts_file_has_every_frame_and_the_same_lookups(lang: str) -> None:
    words = load_agent_words(PROMPTS, lang)
    english = load_agent_words(PROMPTS, "en")
    assert set(words.frames) == set(FRAME_SLOTS) and words.lang == lang
    assert (set(words.wants), set(words.reasons), set(words.languages)) == \
        (set(english.wants), set(english.reasons), set(english.languages))


def test_a_file_missing_a_whisper_frame_fails_to_load_naming_file_and_key(tmp_path: Path) -> None:
    folder = edited(tmp_path, '    take: "Press 1 to take the call."\n', "")
    with pytest.raises(PromptError, match=r"en\.yaml: agent\.frames\.take is missing"):
        load_prompts(folder, "en")


def test_a_frame_with_a_slot_it_cannot_be_given_fails_to_load(tmp_path: Path) -> None:
    folder = edited(tmp_path, '"Reason: {why}."', '"Reason: {reason}."')
    with pytest.raises(PromptError, match=r"en\.yaml: agent\.frames\.reason uses \{reason\}, but this "
                                          r"frame can only use \{why\}"):
        load_prompts(folder, "en")


@pytest.mark.parametrize("old,new,error", [
    ('"Reason: {why}."', '"Reason: {why."', r"agent\.frames\.reason is malformed"),
    ('"Reason: {why}."', '"Reason: {why:{x}}."', r"agent\.frames\.reason is malformed"),
    ('"Incoming caller."', '"Incoming caller {}."', r"agent\.frames\.incoming uses \{\}, but this frame takes no slots"),
    ('    take: "Press', '    tak: "Press', r"agent\.frames\.tak is not a whisper frame"),
    ('    order_status: "order status"', '    order_status: 3', r"agent\.wants\.order_status must be words in quotes"),
    ("\nagent:\n", "\nwhisper:\n", r"en\.yaml: expected an 'agent' section"),
    ("  wants:\n", "  want:\n", r"agent\.want is not a part of the whisper's words"),
])
def test_broken_whisper_words_are_clear_errors(tmp_path: Path, old: str, new: str, error: str) -> None:
    with pytest.raises(PromptError, match=error):
        load_prompts(edited(tmp_path, old, new), "en")


def test_lookups_fall_back_to_the_codes_identifiers() -> None:
    words = AgentWords.from_document({"agent": {"frames": {key: key for key in FRAME_SLOTS}}}, "de")
    assert (words.want("order_status", "order status"), words.reason("silent twice"), words.language("fr")) == \
        ("order status", "silent twice", "fr")


def test_agents_language_needs_its_prompts_file(settings) -> None:
    from app.factory import build_services
    from app.loading import LanguageFilesError
    from app.store.sessions import MemorySessions

    with pytest.raises(LanguageFilesError, match=r"IVR_AGENT_LANG: .*de\.yaml: no prompts for language 'de'"):
        build_services(settings.replace(agent_lang="de"), MemorySessions())
    # Agents may hear a language no caller is served in: its file is read for the whisper alone.
    services = build_services(settings.replace(agent_lang="fr"), MemorySessions())
    assert services.agent_words.lang == "fr" and "fr" not in services.engine.languages
