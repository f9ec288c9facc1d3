"""Signed REST clients that place the orders whose feed messages the tests read.

Module-scoped, like the server they talk to: a feed test drives many orders in a row.
"""

from __future__ import annotations

import pytest

from tests.support.rest_kit import ALICE, BOB, RawClient, Server


@pytest.fixture(scope="module")
def alice(server: Server) -> RawClient:
    return RawClient(server.port, ALICE)


@pytest.fixture(scope="module")
def bob(server: Server) -> RawClient:
    return RawClient(server.port, BOB)
