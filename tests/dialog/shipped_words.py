"""The whisper's words as the shipped prompts files have them (prompts/<lang>.yaml, agent:)."""
from __future__ import annotations

from pathlib import Path

from app.loading import load_agent_words

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
EN = load_agent_words(PROMPTS, "en")
FR = load_agent_words(PROMPTS, "fr")
