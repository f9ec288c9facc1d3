"""Shared fixtures: a real ``sandex serve`` subprocess per test module (tests/scenario.toml)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.rest_kit import Server, start_server


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A running server with the test scenario, shared by the tests of one module."""
    running = start_server()
    yield running
    running.stop()
