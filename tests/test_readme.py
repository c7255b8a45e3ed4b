"""The README's settings table and command names match the code."""
from __future__ import annotations

import re

from app.cli import main
from app.config import _FIELDS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table_and_only_those() -> None:
    section = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])}
    assert documented == set(_FIELDS)


def test_every_ivr_command_the_readme_names_exists() -> None:
    named = set(re.findall(r"`ivr ([a-z][a-z-]*)", README))
    assert named and named <= set(main.commands)
