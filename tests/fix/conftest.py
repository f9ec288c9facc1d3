"""A ``sandex serve`` with FIX order entry on a free port (plaintext), per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fix_kit import QuickFixClient, start_fix_server
from tests.support.rest_kit import ALICE, BOB, RawClient, Server

Rest = type[RawClient]


@pytest.fixture(scope="module")
def fix_server() -> Iterator[tuple[Server, int]]:
    server, port = start_fix_server()
    yield server, port
    server.stop()


@pytest.fixture
def fix_port(fix_server: tuple[Server, int]) -> int:
    return fix_server[1]


@pytest.fixture
def rest(fix_server: tuple[Server, int]) -> Rest:
    """``rest(creds)``: a signed REST client on the same venue."""
    port = fix_server[0].port

    class Client(RawClient):
        def __init__(self, creds: tuple[str, str, str]) -> None:
            super().__init__(port, creds)

    return Client


@pytest.fixture
def bob(fix_port: int, tmp_path: Path) -> Iterator[QuickFixClient]:
    """Bob's QuickFIX order entry session, logged on."""
    client = QuickFixClient(fix_port, BOB, tmp_path / "bob")
    client.start()
    yield client
    client.stop()


@pytest.fixture
def clean_orders(rest: Rest) -> Iterator[None]:
    """After the test: Alice's and Bob's orders canceled (the venue is the module's)."""
    yield
    for creds in (ALICE, BOB):
        rest(creds).delete("/orders")
