"""Raw signed HTTP clients for the REST tests that need a socket, one fresh connection per test.

Here: ``sandex serve`` itself, targets whose raw bytes come from the HTTP parser, and the
OpenAPI fuzz (``requests`` through uvicorn; its cost is generating cases, not the transport).
Every other REST unit runs in-process: ``tests/api/rest``. Per test, not per module: uvicorn
closes keep-alive connections idle for ~5 s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.rest_kit import ALICE, BOB, VIEWER, RawClient, Server


def _client(server: Server, creds: tuple[str, str, str] | None) -> Iterator[RawClient]:
    client = RawClient(server.port, creds)
    yield client
    client.conn.close()


@pytest.fixture
def anon(server: Server) -> Iterator[RawClient]:
    """An unsigned client."""
    yield from _client(server, None)


@pytest.fixture
def alice(server: Server) -> Iterator[RawClient]:
    yield from _client(server, ALICE)


@pytest.fixture
def bob(server: Server) -> Iterator[RawClient]:
    yield from _client(server, BOB)


@pytest.fixture
def viewer(server: Server) -> Iterator[RawClient]:
    """A key with only the view permission."""
    yield from _client(server, VIEWER)
