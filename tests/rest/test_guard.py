"""The HTTP layer under abuse, against a real server over raw sockets (docs/cli.md, "Limits
and timeouts"): body and head limits, slowloris timeouts, the per-address connection cap,
the feed's handshake and subscribe deadlines, the failed-authentication budget, and the
HTTP layer's own errors as ``{"message": ...}``."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from sandex.api.guard import HttpLimits
from sandex.auth.signing import sign
from sandex.errors import Error
from tests.support.clients_kit import make_ccxt, wrong
from tests.support.feed_kit import ws_url
from tests.support.rest_kit import ALICE, SCENARIO, RawClient, Server, start_server

MiB = 1 << 20
TIMEOUT_S = 1.0  # the short timeouts of the ``guarded`` server


def scenario(tmp: Path, tables: str, rate_limits: bool = False) -> Path:
    text = SCENARIO.read_text().replace("rate_limits = false",
                                        f"rate_limits = {str(rate_limits).lower()}")
    path = tmp / "scenario.toml"
    path.write_text(f"{text}\n{tables}\n")
    return path


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = scenario(tmp_path_factory.mktemp("guarded"),
                    f"[http]\nidle_timeout_s = {TIMEOUT_S}\nheader_timeout_s = {TIMEOUT_S}\n"
                    f"body_timeout_s = {TIMEOUT_S}\n[feed]\nsubscribe_deadline_s = {TIMEOUT_S}")
    running = start_server(scenario=path)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = scenario(tmp_path_factory.mktemp("capped"), "[http]\nconnections_per_address = 4")
    running = start_server(scenario=path)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(scenario=scenario(tmp_path_factory.mktemp("limited"), "",
                                             rate_limits=True))
    yield running
    running.stop()


# -- raw sockets -----------------------------------------------------------------------------------

def opened(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def until_closed(sock: socket.socket, limit_s: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts)."""
    sock.settimeout(limit_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def parsed(data: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def refused(data: bytes, error: Error) -> None:
    """``data`` is ``error``'s JSON answer, closing the connection."""
    status, headers, body = parsed(data)
    assert (status, body) == (error.status, {"message": error.template})
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["connection"] == "close"


def signed_head(target: str, body: bytes, extra: str) -> bytes:
    key, secret, passphrase = ALICE
    stamp = str(time.time())
    signature = sign(secret, stamp, "POST", target, body)
    return (f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"CB-ACCESS-KEY: {key}\r\nCB-ACCESS-SIGN: {signature}\r\n"
            f"CB-ACCESS-TIMESTAMP: {stamp}\r\nCB-ACCESS-PASSPHRASE: {passphrase}\r\n"
            f"{extra}\r\n").encode()


def big_order(size: int) -> bytes:
    """A valid order of exactly ``size`` bytes (padded with spaces)."""
    order = json.dumps({"product_id": "BTC-USD", "side": "buy", "type": "limit",
                        "price": "100.00", "size": "0.01"}).encode()
    return order + b" " * (size - len(order))


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send what the server lets through; it may close the connection half way."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


def order_count(server: Server) -> int:
    return len(RawClient(server.port, ALICE).get("/orders?status=all").json())


def rss_kib(server: Server) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])


def announced_50mb(server: Server) -> bytes:
    """A signed 50 MB order announced by ``Content-Length`` and sent whole."""
    body = big_order(50 * MiB)
    sock = opened(server)
    sender = threading.Thread(target=send_quietly, args=(
        sock, signed_head("/orders", body, f"Content-Length: {len(body)}\r\n") + body))
    sender.start()
    answer = until_closed(sock)
    sender.join()
    sock.close()
    return answer


def chunked_50mb(server: Server) -> bytes:
    """A signed 50 MB order sent chunked (64 KiB chunks), until the server stops it."""
    body = big_order(50 * MiB)
    sock = opened(server)

    def send() -> None:
        send_quietly(sock, signed_head("/orders", body, "Transfer-Encoding: chunked\r\n"))
        for at in range(0, len(body), 65536):
            chunk = body[at:at + 65536]
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        send_quietly(sock, b"0\r\n\r\n")

    sender = threading.Thread(target=send)
    sender.start()
    answer = until_closed(sock)
    sender.join()
    sock.close()
    return answer


# -- sizes -----------------------------------------------------------------------------------------

def test_the_defaults_are_named() -> None:
    limits = HttpLimits()
    assert (limits.body_bytes_max, limits.header_bytes_max) == (MiB, 32 * 1024)
    assert (limits.idle_timeout_s, limits.header_timeout_s, limits.body_timeout_s) == (5, 10, 10)
    assert limits.connections_per_address == 128


def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(guarded: Server) -> None:
    sock = opened(guarded)
    sock.sendall(signed_head("/orders", b"", f"Content-Length: {MiB + 1}\r\n"))
    refused(until_closed(sock), Error.BODY_TOO_LARGE)  # no byte of the body was sent


def test_a_chunked_body_is_refused_once_past_the_limit(guarded: Server) -> None:
    body = big_order(MiB + 4096)
    sock = opened(guarded)
    sock.sendall(signed_head("/orders", body, "Transfer-Encoding: chunked\r\n"))
    for at in range(0, len(body), 65536):
        chunk = body[at:at + 65536]
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    refused(until_closed(sock), Error.BODY_TOO_LARGE)  # the final chunk was never sent


def test_a_body_at_the_limit_is_read(guarded: Server) -> None:
    body = big_order(MiB)
    reply = RawClient(guarded.port, ALICE).post("/orders", None, raw_body=body)
    assert reply.status == 200 and reply.json()["size"] == "0.01"
    assert RawClient(guarded.port, ALICE).delete(f"/orders/{reply.json()['id']}").status == 200


def test_a_signed_50mb_body_never_places_an_order_and_memory_stays_flat(
        guarded: Server) -> None:
    before = order_count(guarded)
    refused(announced_50mb(guarded), Error.BODY_TOO_LARGE)
    refused(chunked_50mb(guarded), Error.BODY_TOO_LARGE)
    rss = rss_kib(guarded)
    for _ in range(3):
        refused(announced_50mb(guarded), Error.BODY_TOO_LARGE)
        refused(chunked_50mb(guarded), Error.BODY_TOO_LARGE)
    grown = rss_kib(guarded) - rss
    assert grown < 8 * 1024, f"RSS grew {grown} KiB over six 50 MB attempts"
    assert order_count(guarded) == before


def test_headers_over_the_limit_are_refused(guarded: Server) -> None:
    sock = opened(guarded)
    sock.sendall(b"GET /time HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
    refused(until_closed(sock), Error.HEADERS_TOO_LARGE)
    sock = opened(guarded)  # many small ones, and never finished: refused all the same
    sock.sendall(b"GET /time HTTP/1.1\r\n" + b"X-Many: aaaaaaaaaaaaaaaaaaaa\r\n" * 2000)
    refused(until_closed(sock), Error.HEADERS_TOO_LARGE)
    sock = opened(guarded)  # a head just under the limit is served
    sock.sendall(b"GET /time HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
                 + b"a" * 30_000 + b"\r\n\r\n")
    status, _, body = parsed(until_closed(sock))
    assert status == 200 and "iso" in body


# -- the HTTP layer's own errors -------------------------------------------------------------------

@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",  # no request line
    b"GET /time HTTP/9.9\r\nHost: x\r\n\r\n",  # unknown version
    b"FROB /time HTTP/1.1\r\nHost: x\r\n\r\n",  # unknown method
    b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",  # a path that is not ASCII
    b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",  # malformed length
    b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
    b"POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
], ids=["garbage", "version", "method", "non-ascii-path", "length", "two-lengths",
        "bad-chunk", "feed-handshake-without-key"])
def test_what_the_parser_cannot_read_is_a_json_400(guarded: Server,
                                                    request_bytes: bytes) -> None:
    sock = opened(guarded)
    sock.sendall(request_bytes)
    refused(until_closed(sock), Error.BAD_REQUEST)


@pytest.mark.parametrize("request_bytes", [
    b"PATCH /time HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",  # a method no route has
    b"GET /products/%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",  # bad UTF-8
], ids=["method", "percent-utf8"])
def test_what_the_parser_reads_but_no_route_takes_is_a_json_404(guarded: Server,
                                                                 request_bytes: bytes) -> None:
    sock = opened(guarded)
    sock.sendall(request_bytes)
    status, headers, body = parsed(until_closed(sock))
    assert (status, body) == (404, {"message": "NotFound"})
    assert headers["content-type"] == "application/json; charset=utf-8"


# -- timeouts --------------------------------------------------------------------------------------

def closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` (which it must, with no answer)."""
    started = time.monotonic()
    assert until_closed(sock) == b""
    return time.monotonic() - started


def test_slow_and_idle_connections_are_closed_while_others_are_served(guarded: Server) -> None:
    idle = opened(guarded)
    half_line = opened(guarded)
    half_line.sendall(b"GET /ti")
    half_head = opened(guarded)
    half_head.sendall(b"GET /time HTTP/1.1\r\nHost: x\r\n")
    slow_body = opened(guarded)
    slow_body.sendall(signed_head("/orders", b"", "Content-Length: 100\r\n"))
    kept_alive = opened(guarded)
    kept_alive.sendall(b"GET /time HTTP/1.1\r\nHost: x\r\n\r\n")
    assert kept_alive.recv(65536).startswith(b"HTTP/1.1 200")
    trickle = opened(guarded)

    def drip() -> None:  # a byte of the head every 0.2 s: the deadline is from the first byte
        for byte in b"GET /time HTTP/1.1\r\n":
            send_quietly(trickle, bytes([byte]))
            time.sleep(0.2)

    def slowly() -> None:  # 10 bytes every 0.3 s: 100 bytes would take 3 s
        for _ in range(10):
            send_quietly(slow_body, b"0123456789")
            time.sleep(0.3)

    drips = [threading.Thread(target=drip), threading.Thread(target=slowly)]
    for thread in drips:
        thread.start()
    client = RawClient(guarded.port)
    worst = 0.0
    for _ in range(10):  # a well-behaved client meanwhile
        started = time.monotonic()
        assert client.get("/time").status == 200
        worst = max(worst, time.monotonic() - started)
        time.sleep(0.05)
    for sock in (idle, half_line, half_head, slow_body, kept_alive, trickle):
        assert closed_after(sock) < 3 * TIMEOUT_S
    for thread in drips:
        thread.join()
    assert worst < 0.5
    assert RawClient(guarded.port).get("/time").status == 200


def test_a_connection_is_not_closed_before_its_timeout(guarded: Server) -> None:
    sock = opened(guarded)
    sock.sendall(b"GET /time HTTP/1.1\r\nHost: x\r\n")
    assert closed_after(sock) >= 0.9 * TIMEOUT_S


# -- connections per address -----------------------------------------------------------------------

def test_connections_over_the_cap_are_refused(capped: Server) -> None:
    held = [opened(capped) for _ in range(3)]
    with connect(ws_url(capped), open_timeout=5):  # a feed connection counts too
        time.sleep(0.2)
        over = opened(capped)
        refused(until_closed(over), Error.TOO_MANY_CONNECTIONS)
    held.pop().close()
    time.sleep(0.3)  # both slots given back: two new connections are served
    assert RawClient(capped.port).get("/time").status == 200
    again = opened(capped)
    again.sendall(b"GET /time HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert parsed(until_closed(again))[0] == 200
    for sock in held:
        sock.close()


# -- the feed --------------------------------------------------------------------------------------

def test_a_feed_handshake_must_arrive_in_time(guarded: Server) -> None:
    sock = opened(guarded)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
    assert TIMEOUT_S * 0.9 <= closed_after(sock) < 3 * TIMEOUT_S


def test_a_feed_client_that_never_subscribes_is_closed(guarded: Server) -> None:
    started = time.monotonic()
    with connect(ws_url(guarded), open_timeout=5) as ws:
        message = json.loads(ws.recv(timeout=5))
        assert message == {"type": "error", "message": "subscribe or unsubscribe required",
                           "reason": f"No subscribe message within {TIMEOUT_S:g} seconds"}
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert TIMEOUT_S * 0.9 <= time.monotonic() - started < 3 * TIMEOUT_S


# -- failed authentications ------------------------------------------------------------------------

def test_failed_authentications_run_into_the_rate_limit(limited: Server) -> None:
    bad = RawClient(limited.port, wrong(ALICE, passphrase="guess"))
    statuses = [bad.get("/accounts").status for _ in range(40)]
    assert statuses[:20] == [401] * 20  # the budget of 20, then 429 while it refills
    assert statuses[20:].count(429) >= 18  # (a slow machine may see one token come back)
    reply = bad.get("/accounts")
    assert reply.json() == {"message": "Private rate limit exceeded"}
    exchange = make_ccxt(limited)  # the right key, the same address: refused too, for now
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_balance()
    time.sleep(1.1)  # a token back
    assert RawClient(limited.port, ALICE).get("/accounts").status == 200


# -- the [http] table ------------------------------------------------------------------------------

def test_the_http_table_overrides_and_checks() -> None:
    limits = HttpLimits.from_table({"body_bytes_max": 4096, "idle_timeout_s": 2})
    assert (limits.body_bytes_max, limits.idle_timeout_s) == (4096, 2.0)
    assert limits.header_timeout_s == 10.0
    for table, reason in [({"body_bytes": 1}, "[http]: unknown setting 'body_bytes'"),
                          ({"body_bytes_max": 1.5}, "[http]: body_bytes_max must be an integer"),
                          ({"idle_timeout_s": True}, "[http]: idle_timeout_s must be a number"),
                          ({"header_timeout_s": 0}, "[http]: header_timeout_s must be positive")]:
        with pytest.raises(ValueError) as caught:
            HttpLimits.from_table(table)
        assert str(caught.value) == reason


def test_a_bad_http_table_stops_serve(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as caught:
        start_server(scenario=scenario(tmp_path, "[http]\nconnections_per_address = -1"))
    assert "[http]: connections_per_address must be positive" in str(caught.value)
