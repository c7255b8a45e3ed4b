"""`make run` installs what serving needs; `make test` adds what testing needs (read from make -n)."""
from __future__ import annotations

import subprocess

from tests.conftest import ROOT

TEST_ONLY = ("redis-server", "postgresql", "chromium", "'.[test]'")


def planned(target: str) -> str:
    """The commands `make` would run for `target`, everything considered out of date."""
    return subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_serving_installs_no_test_extras() -> None:
    plan = planned("run")
    assert "pip install -q -e ." in plan and "espeak-ng" in plan
    assert [extra for extra in TEST_ONLY if extra in plan] == []


def test_testing_adds_them() -> None:
    plan = planned("test")
    assert all(extra in plan for extra in TEST_ONLY)
    assert plan.index("pip install -q -e .\n") < plan.index("pip install -q -e '.[test]'")
