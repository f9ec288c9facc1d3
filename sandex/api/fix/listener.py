"""The asyncio adapter: a TCP (TLS or plaintext) listener feeding bytes to sans-I/O sessions.

Each connection owns one ``Session``; bytes read go to ``Session.data_received``. What the
session sends in one event-loop step is gathered and written once at the end of the step
(``call_soon``): a group commit's reports, or a read's replies, leave in one transport write
(one system call) instead of one each. A market data fan-out (``Session.send_all``) has
already gathered a session's messages of a group commit: they are written at once
(``write_now``), so the first sessions' bytes leave while the rest are being framed. A
session that is closed closes its socket once its last bytes are out. A timer ticks every
session (heartbeats, timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sandex.api.fix.session import Gateway, Session
from sandex.api.fix.tls import certificate, server_context
from sandex.errors import Error

log = logging.getLogger("sandex.fix")

TICK_S = 0.25  # timers' resolution (HeartBtInt is 1 s at least)
DEFAULT_ORDER_PORT = 6121
DEFAULT_DROP_COPY_PORT = 6122
DEFAULT_MD_PORT = 6131  # market data with snapshots (Coinbase: 6121 on fix-md)
DEFAULT_MD_INCREMENTAL_PORT = 6132  # market data without (Coinbase: 6122 on fix-md)


@dataclass(frozen=True, kw_only=True)
class FixOptions:
    """The FIX gateways of ``sandex serve`` (docs/fix.md)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    order_port: int = DEFAULT_ORDER_PORT
    drop_copy_port: int = DEFAULT_DROP_COPY_PORT
    md_port: int = DEFAULT_MD_PORT
    md_incremental_port: int = DEFAULT_MD_INCREMENTAL_PORT
    plaintext: bool = False  # no TLS (clients without it, QuickFIX builds without SSL)


def tls_directory(data_dir: Path | None) -> Path:
    """Where the certificate lives: the data dir's ``fix/``, or a per-user temporary one."""
    if data_dir is not None:
        return data_dir / "fix"
    return Path(tempfile.gettempdir()) / f"sandex-fix-{os.getuid()}"


class _Connection(asyncio.Protocol):
    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        self._pending: list[bytes] = []  # written at the end of this event-loop step

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        # uvloop keeps every write until the end of the event loop's step unless it takes the
        # buffer over the high-water mark: at 0, a write leaves at once, so a fan-out's first
        # session no longer waits for its last one (nothing here acts on the pause it signals)
        self.transport.set_write_buffer_limits(high=0)
        peer = transport.get_extra_info("peername")
        session = Session(self.listener.gateway, time.monotonic(),
                          f"{peer[0]}:{peer[1]}" if peer else "")
        session.writer = self._write
        session.write_now = self._write_now
        self.session = session
        self.listener.connections.add(self)

    def _write(self, data: bytes) -> None:
        pending = self._pending
        if not pending:
            asyncio.get_running_loop().call_soon(self.flush)
        pending.append(data)

    def _write_now(self, data: bytes) -> None:
        """Write ``data`` now (a market data fan-out: each session as soon as its bytes are
        ready), after whatever this step queued for the session before it."""
        if self._pending:
            self._pending.append(data)
            self.flush()
        elif self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def flush(self) -> None:
        """Write what the session sent since the last flush, in one transport write."""
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self.session is not None:
            self.session.data_received(data, time.monotonic())
            self.check()

    def tick(self, now: float) -> None:
        if self.session is not None:
            self.session.tick(now)
            self.check()

    def check(self) -> None:
        if self.session is not None and self.session.closed and self.transport is not None:
            self.flush()  # the session's last words (a Logout) go before the close
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections.discard(self)
        if self.session is not None:
            self.session.connection_lost()


class Listener:
    """One gateway's socket."""

    def __init__(self, gateway: Gateway, name: str, host: str, port: int,
                 tls: ssl.SSLContext | None) -> None:
        self.gateway = gateway
        self.name = name
        self.host = host
        self.port = port
        self.tls = tls
        self.connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"{'tcp+ssl' if self.tls else 'tcp'}://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind and listen (``OSError`` if the port is taken) and start the timer."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, ssl=self.tls,
            ssl_handshake_timeout=10.0 if self.tls else None)
        sockets = server.sockets
        if not sockets or sockets[0] is None:
            # uvloop's listen() can fail after its bind succeeded (another process's socket,
            # bound with SO_REUSEADDR too, listening on the port in between): it hands that
            # error to the loop's exception handler, not to this caller, and returns a server
            # whose socket is closed; the port is taken as surely as a failed bind says
            server.close()
            raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
        self._server = server
        self.port = sockets[0].getsockname()[1]
        self._ticker = loop.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            for connection in list(self.connections):
                try:
                    connection.tick(now)
                except Exception:  # a bug in one session must not stop the others' timers
                    log.exception("FIX %s session timer failed", self.name)

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            session = connection.session
            if session is not None and session.active:
                session.logout(time.monotonic(), Error.FIX_SHUTDOWN)
            connection.flush()
            if connection.transport is not None:
                connection.transport.close()


async def start_listeners(options: FixOptions, gateways: list[tuple[str, Gateway, int]],
                          data_dir: Path | None) -> list[Listener]:
    """The listeners of ``gateways`` (name, gateway, port) that could start; each failure
    is logged (a port in use is a warning: the venue serves without that gateway)."""
    if not options.enabled:
        return []
    tls: ssl.SSLContext | None = None
    if not options.plaintext:
        loop = asyncio.get_running_loop()
        try:
            cert, key = await loop.run_in_executor(None, certificate, tls_directory(data_dir))
            tls = server_context(cert, key)
        except Exception as exc:
            log.warning("FIX gateways not started: no TLS certificate (%s); "
                        "--fix-plaintext serves them without TLS", exc)
            return []
    started = []
    for name, gateway, port in gateways:
        listener = Listener(gateway, name, options.host, port, tls)
        try:
            await listener.start()
        except OSError as exc:
            log.warning("FIX %s not started: %s:%d: %s (--fix-*-port chooses another port, "
                        "--no-fix switches FIX off)", name, options.host, port,
                        exc.strerror or exc)
            continue
        log.info("FIX %s on %s", name, listener.url)
        started.append(listener)
    return started
