"""Every feed error text of ``sandex/errors.py`` (the ``FEED_`` members) is pinned by a literal
string in a feed test, as tests/rest/test_error_strings.py does for REST; and the feed's
texts never answer a REST request."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sandex.errors import Error

FEED_TESTS = Path(__file__).parent


def _literals() -> set[str]:
    found: set[str] = set()
    for path in FEED_TESTS.glob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_feed_error_is_pinned_by_a_feed_test() -> None:
    literals = _literals()
    feed_members = [m for m in Error if m.name.startswith("FEED_")]
    assert len(feed_members) == 20
    missing = [m.name for m in feed_members
               if not any(re.compile(re.escape(m.template).replace(r"\{\}", ".+")).fullmatch(t)
                          for t in literals)]
    assert not missing, f"no literal feed test for {missing}"


def test_feed_texts_are_not_rest_texts() -> None:
    rest = {m.template for m in Error if not m.name.startswith("FEED_")}
    assert not rest & {m.template for m in Error if m.name.startswith("FEED_")}
