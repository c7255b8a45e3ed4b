"""The script format of ARCHITECTURE §5: parsing and clear errors."""
from __future__ import annotations

import re

import pytest

from app.sim.script import (ExpectOutcome, ExpectSay, ExpectTransfer, PressStep, SayStep,
                            ScriptError, SilenceStep, parse_script)


def test_contract_example_parses():
    script = parse_script({
        "name": "order status, then a person", "from": "+15550100",
        "steps": [{"say": "where is my order"}, {"expect_say": "order number"},
                  {"silence": 6}, {"press": "0"},
                  {"expect_transfer": {"summary_contains": ["48217"]}},
                  {"expect_outcome": "transferred"}]})
    assert script.caller == "+15550100"
    assert script.steps == (SayStep("where is my order"), ExpectSay("order number"), SilenceStep(6.0),
                            PressStep("0"), ExpectTransfer(("48217",)), ExpectOutcome("transferred"))


@pytest.mark.parametrize("doc,message", [
    ({"steps": [{"shout": "hi"}]}, "step 1: unknown step 'shout'"),
    ({"steps": [{"press": "12a"}]}, "step 1: press: keys must be 0-9, * or #"),
    ({"steps": [{"silence": -1}]}, "step 1: silence: seconds must be positive"),
    ({"steps": [{"expect_outcome": "won"}]}, "step 1: expect_outcome: expected one of"),
    ({"name": "x"}, "expected a mapping with a list of steps"),
])
def test_bad_scripts_name_the_problem(doc, message):
    with pytest.raises(ScriptError, match=re.escape(message)):
        parse_script(doc)
