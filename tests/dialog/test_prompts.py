"""Prompts: every prompt the flow can say exists in every language and renders."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.dialog.prompts import PromptError, Prompts
from app.loading import load_prompts

ROOT = Path(__file__).resolve().parents[2]
DIALOG = ROOT / "app" / "dialog"


def prompt_ids_in_code() -> set[str]:
    """String literals passed to Say(...) or used as node prompts in app/dialog."""
    ids: set[str] = set()
    for path in DIALOG.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("Say", "Node"):
                ids |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return ids


@pytest.mark.parametrize("lang", [p.stem for p in (ROOT / "prompts").glob("*.yaml")])
def test_every_prompt_the_flow_uses_exists(lang: str) -> None:
    prompts = load_prompts(ROOT / "prompts", lang)
    missing = {p for p in prompt_ids_in_code() if p not in prompts.texts and not p.startswith("status_")}
    assert not missing
    for status in ("processing", "shipped", "delivered", "delayed", "cancelled", "returned"):
        assert f"status_{status}" in prompts.texts


def test_render_fills_slots_and_variables() -> None:
    prompts = Prompts({"hi": "Hi {first_name}, this is {business}."}, {"business": "Acme"})
    assert prompts.render("hi", {"first_name": "Jane"}) == "Hi Jane, this is Acme."


def test_missing_slot_names_the_prompt() -> None:
    with pytest.raises(PromptError, match="prompt 'hi' needs a value for {first_name}"):
        Prompts({"hi": "Hi {first_name}"}).render("hi")


def test_disclosure_is_configurable() -> None:
    prompts = load_prompts(ROOT / "prompts", "en", disclosure="This is a recorded assistant.")
    assert "This is a recorded assistant." in prompts.render("greeting")


def test_malformed_catalog_is_a_clear_error() -> None:
    with pytest.raises(PromptError, match="expected a mapping with a 'prompts' section"):
        Prompts.from_document(["not", "a", "mapping"])


def test_the_greeting_style_is_chosen_in_the_prompts_file(tmp_path) -> None:
    from app.factory import build_services
    from app.store.sessions import MemorySessions
    from tests.callrun import demo_settings, run_call

    shipped = (ROOT / "prompts" / "en.yaml").read_text(encoding="utf-8")
    assert 'style: "open"' in shipped
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "en.yaml").write_text(shipped.replace('style: "open"', 'style: "menu"'), encoding="utf-8")
    for style_dir, heard in ((ROOT / "prompts", "How can I help you today?"),
                             (tmp_path / "prompts", "press 1 for order status, 2 for returns")):
        settings = demo_settings(f"sqlite:///{tmp_path / (style_dir.parent.name + '.db')}", prompts_dir=style_dir)
        services = build_services(settings, MemorySessions())
        result = run_call(services, {"steps": [{"expect_say": heard}, {"press": "1"},
                                               {"expect_say": "order number"}]})
        assert heard in result.turns[0]["bot"]


def test_a_style_without_variants_is_refused() -> None:
    with pytest.raises(PromptError, match="vars.style is 'menus', but no prompt has a '__menus' variant"):
        Prompts.from_document({"vars": {"style": "menus"}, "prompts": {"greeting": "Hi", "greeting__menu": "Hi, 1"}})
