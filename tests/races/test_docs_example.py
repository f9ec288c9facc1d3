"""The worked example of docs/testing.md's "Races" section runs as shown, with the plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PAGE = Path(__file__).parents[2] / "docs" / "testing.md"


def test_the_races_worked_example_passes(pytester: pytest.Pytester) -> None:
    section = PAGE.read_text().split("### A worked example: the cancel that loses", 1)[1]
    pytester.makepyfile(test_race=section.split("```python\n", 1)[1].split("```", 1)[0])
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
