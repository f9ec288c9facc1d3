"""One venue for the fault tests (the packaged testing scenario, seed 1), reset before each
test: a reset also takes every fault rule away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandex.testing import TESTING_SCENARIO, LocalServer, Venue


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    server = LocalServer.start(TESTING_SCENARIO, 1, tmp_path_factory.mktemp("faults") /
                               "sandex.log")
    yield server
    server.stop()


@pytest.fixture
def venue(local: LocalServer) -> Iterator[Venue]:
    running = Venue(local.url, local.admin_token)
    running.reset()
    yield running
    running.close()


def log_of(local: LocalServer) -> str:
    return Path(local.log_path).read_text()
