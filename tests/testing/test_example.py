"""The worked example of docs/testing.md runs, and the page shows its files as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
FILES = ("grid_bot.py", "test_grid_bot.py")


def test_the_grid_bot_example_passes(pytester: pytest.Pytester) -> None:
    for name in FILES:
        pytester.makepyfile(**{name[:-3]: (ROOT / "examples" / name).read_text()})
    pytester.syspathinsert()
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_readme_test_your_bot_example_passes(pytester: pytest.Pytester) -> None:
    section = (ROOT / "README.md").read_text().split("## Test your bot", 1)[1]
    pytester.makepyfile(test_readme=section.split("```python\n", 1)[1].split("```", 1)[0])
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_testing_page_shows_the_example_files_verbatim() -> None:
    page = (ROOT / "docs" / "testing.md").read_text()
    for name in FILES:
        assert f"```python\n{(ROOT / 'examples' / name).read_text()}```" in page, name
