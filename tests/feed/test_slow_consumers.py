"""Slow consumers on a real server: 50 subscribers that stop reading are cut (their connections
aborted, server-side buffers dropped) while a reading client gets every message in order and
orders keep being answered. The bounds are small here (``queue_bytes_max`` 16 KiB, a 4 KiB
kernel send buffer) so that a few dozen orders are enough; the defaults and the 2,000
subscriber figures are in docs/performance.md (bench/slow_consumers.py)."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.feed_kit import auth_fields, feed, place, scenario_with
from tests.support.rest_kit import ALICE, BOB, RawClient, Server, start_server

SILENT = 50
PAIRS = 100  # ~180 KB for each subscriber: past what kernel, transport and queue hold


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = scenario_with(tmp_path_factory.mktemp("slow"),
                         "queue_bytes_max = 16384\nsocket_send_bytes = 4096")
    running = start_server(scenario=path)
    yield running
    running.stop()


def silent_subscriber(port: int, receive_buffer: int | None = 4096) -> socket.socket:
    """A raw connection that subscribes to ``full`` BTC-USD, reads the answer, and stops
    (its kernel receive buffer ``receive_buffer`` bytes; ``None``: the system's own)."""
    sock = socket.socket()
    if receive_buffer is not None:  # before the window is offered
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    seen = b""
    while b"\r\n\r\n" not in seen:  # the 101 first, as a real client waits for it
        seen += sock.recv(4096)
    assert seen.startswith(b"HTTP/1.1 101 ")
    body = json.dumps({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["full"],
                       **auth_fields(BOB)}).encode()
    assert len(body) < 65536
    head = bytes([0x81, 0x80 | 126]) + len(body).to_bytes(2, "big") if len(body) > 125 \
        else bytes([0x81, 0x80 | len(body)])
    sock.sendall(head + b"\0\0\0\0" + body)  # masked with the zero key
    while b'"subscriptions"' not in seen:
        chunk = sock.recv(4096)
        assert chunk, "closed before the subscriptions reply"
        seen += chunk
    return sock


def closed_by_server(sock: socket.socket) -> tuple[bool, bytes]:
    """Read what is left; whether the connection ended (EOF or reset), and the tail read."""
    sock.settimeout(3)
    tail = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True, tail
            tail = (tail + chunk)[-512:]
    except ConnectionResetError:
        return True, tail
    except TimeoutError:
        return False, tail


def test_silent_subscribers_are_cut_and_a_reader_keeps_up(server: Server) -> None:
    alice, bob = RawClient(server.port, ALICE), RawClient(server.port, BOB)
    silent = [silent_subscriber(server.port) for _ in range(SILENT)]
    try:
        with feed(server, max_queue=None) as reader:  # reads as frames come (not only 16)
            assert reader.subscribe(["full"], ["BTC-USD"], creds=ALICE)["type"] == \
                "subscriptions"
            started = time.monotonic()
            for i in range(PAIRS):  # crossing pairs: 6 full messages each (~1.8 KB)
                place(alice, product_id="BTC-USD", side="sell", price=f"{200 + i % 7}",
                      size="0.01")
                place(bob, product_id="BTC-USD", side="buy", price=f"{200 + i % 7}",
                      size="0.01")
            placing = time.monotonic() - started
            sequences = []
            while len(sequences) < 6 * PAIRS:
                message = reader.recv()
                if message["type"] in ("received", "open", "done", "match"):
                    sequences.append(message["sequence"])
            assert sequences == list(range(sequences[0], sequences[0] + 6 * PAIRS))  # no gap
        ended = [closed_by_server(sock) for sock in silent]
    finally:
        for sock in silent:
            sock.close()
    assert [done for done, _ in ended] == [True] * SILENT
    # ErrSlowConsume goes out only if the socket takes it at once: theirs were full, so none
    # got it (the case where it is sent: tests/feed/test_limits.py, the queue bound)
    assert [b"ErrSlowConsume" in tail for _, tail in ended] == [False] * SILENT
    assert placing < 30  # 200 orders; nobody waited for the silent ones (generous: CI load)
