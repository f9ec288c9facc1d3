"""A FIX gateway whose port another process takes between uvloop's bind and its listen.

Two venues starting at once on the default FIX ports both bind with ``SO_REUSEADDR`` (allowed
while neither listens); the second's ``listen()`` then fails. uvloop hands that error to the
loop's exception handler, not to ``create_server``'s caller, and returns a server whose socket
is closed: ``sockets == [None]`` (reproduced here with a thread listening on a port while
uvloop bound it: 1 of 44 attempts; seen in CI as a venue that failed to start). The venue must
treat it as a taken port (that gateway skipped with a warning, the others served), as it
treats a bind that fails."""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any, cast

import pytest
import uvloop

from sandex.api.fix.listener import FixOptions, Listener, start_listeners
from sandex.api.fix.session import Gateway

GATEWAY = cast(Gateway, object())  # no connection is made: the listener never calls it


class ClosedServer:
    """What uvloop's ``create_server`` returns when its listen() failed after the bind."""

    def __init__(self) -> None:
        self.sockets: list[Any] = [None]
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_a_listen_that_failed_after_the_bind_is_a_taken_port() -> None:
    closed = ClosedServer()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.create_server = lambda *args, **kw: _returning(closed)  # type: ignore[method-assign]
        listener = Listener(GATEWAY, "order", "127.0.0.1", 6121, None)
        with pytest.raises(OSError) as raised:
            await listener.start()
        assert raised.value.errno == errno.EADDRINUSE
        assert closed.closed
        await listener.close()  # nothing was started: nothing to stop

    uvloop.run(main())


def test_the_venue_serves_its_other_gateways(caplog: pytest.LogCaptureFixture) -> None:
    closed = ClosedServer()
    ports: list[int] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        create_server = loop.create_server

        async def first_closed(*args: Any, **kw: Any) -> Any:
            ports.append(args[2])
            if len(ports) == 1:
                return closed
            return await create_server(*args, **kw)

        loop.create_server = first_closed  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING, logger="sandex.fix"):
            started = await start_listeners(FixOptions(plaintext=True),
                                            [("order", GATEWAY, 0), ("drop copy", GATEWAY, 0)],
                                            None)
        assert [listener.name for listener in started] == ["drop copy"]
        assert started[0].port > 0  # the port the system chose for port 0
        for listener in started:
            await listener.close()

    uvloop.run(main())
    assert ports == [0, 0] and closed.closed
    assert [r.getMessage() for r in caplog.records] == [
        "FIX order not started: 127.0.0.1:0: Address already in use (--fix-*-port chooses "
        "another port, --no-fix switches FIX off)"]


async def _returning(value: Any) -> Any:
    return value
