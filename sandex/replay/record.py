"""``sandex record``: write a venue's WebSocket feed to a file, one message a line.

Each text frame is written exactly as received, followed by a newline: the Coinbase line
format the ``coinbase-full`` and ``coinbase-level2`` readers take (no receive-time prefix:
every book message carries its own ``time``). A name ending in ``.gz`` is gzip-compressed,
``.zst`` zstd-compressed. The file is flushed at least every ``FLUSH_SECONDS`` and closed
properly (a complete gzip or zstd stream) when the recording stops: after ``duration``
seconds, after ``count`` messages, on ``stop`` (SIGINT/SIGTERM in the CLI) or when the venue
closes the connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import hmac
import json
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

FLUSH_SECONDS = 0.25
VERIFY_PATH = "/users/self/verify"  # what a feed subscribe is signed over (docs/feed.md)


class RecordError(Exception):
    """The recording could not start: the venue is unreachable or refused the subscribe."""


@dataclass(frozen=True, slots=True)
class Credentials:
    key: str
    secret: str  # base64
    passphrase: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a recording wrote: ``messages`` lines (the ``subscriptions`` reply included)."""

    path: Path
    messages: int


def feed_url(url: str) -> str:
    """``ws://host:port/`` for a ``ws://``, ``wss://``, ``http://`` or ``https://`` URL."""
    for web, feed in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(web):
            url = feed + url[len(web):]
    if not url.startswith(("ws://", "wss://")):
        raise RecordError(f"{url} is not a ws:// or http:// URL")
    return url if url.count("/") > 2 else url + "/"


def products_of(url: str) -> list[str]:
    """Every product id of the venue at ``url`` (its REST ``GET /products``)."""
    rest = url.replace("ws://", "http://", 1).replace("wss://", "https://", 1).rstrip("/")
    try:
        with urllib.request.urlopen(f"{rest}/products", timeout=10) as reply:
            return sorted(product["id"] for product in json.loads(reply.read()))
    except OSError as exc:
        raise RecordError(f"cannot list the products of {rest}: {exc}") from None


def subscribe_message(channels: Sequence[str], products: Sequence[str],
                      credentials: Credentials | None) -> dict[str, Any]:
    """The ``subscribe``, signed when ``credentials`` are given (``full`` and ``level2`` need
    it): HMAC-SHA256 over ``timestamp + "GET" + "/users/self/verify"``."""
    message: dict[str, Any] = {"type": "subscribe", "product_ids": list(products),
                               "channels": list(channels)}
    if credentials is not None:
        stamp = str(time.time())
        digest = hmac.new(base64.b64decode(credentials.secret),
                          f"{stamp}GET{VERIFY_PATH}".encode(), hashlib.sha256).digest()
        message.update(signature=base64.b64encode(digest).decode(), key=credentials.key,
                       passphrase=credentials.passphrase, timestamp=stamp)
    return message


def open_output(path: Path) -> IO[bytes]:
    """``path`` for writing: gzip for ``.gz``, zstd for ``.zst``, else plain."""
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "wb"))
    if path.suffix == ".zst":
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(open(path, "wb"))
    return open(path, "wb")


async def record(url: str, out: Path, channels: Sequence[str],
                 products: Sequence[str] | None = None, credentials: Credentials | None = None,
                 duration: float | None = None, count: int | None = None,
                 stop: asyncio.Event | None = None,
                 on_subscribed: Callable[[list[str]], None] | None = None) -> Recorded:
    """Record the feed at ``url`` into ``out`` until ``duration`` seconds have passed,
    ``count`` messages after the ``subscriptions`` reply are written, ``stop`` is set or the
    venue closes; ``products`` default to all the venue's. ``on_subscribed(products)`` is
    called once the venue has accepted the subscribe."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, WebSocketException

    url = feed_url(url)
    chosen = list(products) if products else products_of(url)
    stop = stop or asyncio.Event()
    written = 0
    try:
        connection = await connect(url, max_size=None)
    except (OSError, WebSocketException, TimeoutError) as exc:
        raise RecordError(f"cannot connect to {url}: {exc}") from None
    async with connection:
        await connection.send(json.dumps(subscribe_message(channels, chosen, credentials)))
        try:
            first = await asyncio.wait_for(connection.recv(), 10)
        except (WebSocketException, TimeoutError) as exc:
            raise RecordError(f"{url} did not answer the subscribe: {exc!r}") from None
        reply = json.loads(first)
        if reply.get("type") == "error":
            raise RecordError(f"{url} refused the subscribe: {reply.get('message')}: "
                              f"{reply.get('reason')}")
        if on_subscribed is not None:
            on_subscribed(chosen)
        deadline = None if duration is None else time.monotonic() + duration
        output = open_output(out)
        try:
            output.write(_text(first) + b"\n")
            written = 1
            flushed = time.monotonic()
            waiter = asyncio.ensure_future(stop.wait())
            receive = asyncio.ensure_future(connection.recv())
            try:
                while count is None or written - 1 < count:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        break
                    wait = FLUSH_SECONDS if left is None else min(FLUSH_SECONDS, left)
                    done, _ = await asyncio.wait({receive, waiter}, timeout=wait,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if receive in done:
                        try:
                            output.write(_text(receive.result()) + b"\n")
                        except ConnectionClosed:
                            break
                        written += 1
                        receive = asyncio.ensure_future(connection.recv())
                    if waiter in done:
                        break
                    if time.monotonic() - flushed >= FLUSH_SECONDS:
                        output.flush()
                        flushed = time.monotonic()
            finally:
                waiter.cancel()
                receive.cancel()  # safe: websockets loses no message on a cancelled recv
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await receive
        finally:
            output.close()
    return Recorded(out, written)


def _text(frame: str | bytes) -> bytes:
    return frame.encode() if isinstance(frame, str) else frame
