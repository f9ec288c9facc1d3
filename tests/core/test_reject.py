"""``events.reject`` reads a member's name and template from its own attributes when it has
no arguments (``Enum.name``/``value`` are Python-level properties on CPython 3.11): the same
event, field for field, as the properties and ``Error.format`` give, for every ``Error``."""

from __future__ import annotations

import pytest

from sandex.core.events import Rejected, reject
from sandex.errors import Error


@pytest.mark.parametrize("error", list(Error), ids=lambda e: e.name)
def test_reject_without_arguments(error: Error) -> None:
    event = reject(error)
    assert type(event) is Rejected
    assert (event.reason, event.message) == (error.name, error.format())
    assert event == Rejected(error.name, error.template)


@pytest.mark.parametrize("error", [e for e in Error if "{" in e.template], ids=lambda e: e.name)
def test_reject_with_arguments(error: Error) -> None:
    args = tuple(f"arg{i}" for i in range(error.template.count("{")))
    try:
        expected = error.template.format(*args)
    except (IndexError, KeyError, ValueError):
        pytest.skip("a template whose fields are not positional")
    event = reject(error, *args)
    assert (event.reason, event.message) == (error.name, expected)
