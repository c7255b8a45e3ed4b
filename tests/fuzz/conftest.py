"""Fuzzing profiles and the count of generated inputs.

HYPOTHESIS_PROFILE picks the profile: `ivr-short` (default, part of `make test`) or `ivr-fuzz`
(the long run behind `make fuzz`, over 10,000 inputs in all). The number of inputs the fuzz
tests ran is printed at the end of the session.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

# Fixtures here are module-scoped on purpose (one app, many inputs), and a webhook through a real
# SQLite store is slower than Hypothesis' defaults expect.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.large_base_example])
settings.register_profile("ivr-short", max_examples=150, **_COMMON)
settings.register_profile("ivr-fuzz", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ivr-short"))

INPUTS: Counter[str] = Counter()


def count(kind: str) -> None:
    """One generated input was run (by kind: webhook, stream message)."""
    INPUTS[kind] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many generated inputs the fuzz tests ran, by kind and in total."""
    if INPUTS:
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(INPUTS.items()))
        terminalreporter.write_line(f"fuzz: {sum(INPUTS.values())} generated inputs ({parts}), "
                                    f"profile {settings._current_profile}")
