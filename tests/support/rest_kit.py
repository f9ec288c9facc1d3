"""Test support for the REST API: a running server subprocess and a raw signed HTTP client.

The clients sign exactly what they send (§2.3) and never re-encode: tests control the
timestamp, the target and the body bytes, so every signing edge case can be written down.
``SignedClient`` is the signing half; ``RawClient`` sends over a socket, and the in-process
client of ``tests/api/rest/harness.py`` through the venue's app.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandex.auth.signing import sign

SCENARIO = Path(__file__).parent.parent / "scenario.toml"

# The credentials of tests/scenario.toml.
ALICE = ("a11ce000000000000000000000000001",
         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
         "alicepass")
BOB = ("b0b00000000000000000000000000002",
       "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTBmZWRjYmE5ODc2NTQzMjEwZmVkY2JhOTg3NjU0MzIxMA==",
       "bobpass")
VIEWER = ("7e3e0000000000000000000000000003",
          "dmlld2VyLXNlY3JldC1ieXRlcy0xMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMQ==",
          "viewpass")
ALICE_PROFILE = "a11ce000-0000-4000-8000-000000000001"
BOB_PROFILE = "b0b00000-0000-4000-8000-000000000002"
# The simulated outside world of tests/scenario.toml (its [[coinbase_accounts]] and
# [[payment_methods]]).
USD_WALLET = "c0ffee00-0000-4000-8000-0000000000d1"
BTC_WALLET = "c0ffee00-0000-4000-8000-0000000000b1"
BANK = "ba4c0000-0000-4000-8000-000000000001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_file: Any = None  # the server's stderr (a temporary file: a pipe could fill up)

    def log(self) -> str:
        """Everything the server has logged so far."""
        self.log_file.seek(0)
        return self.log_file.read().decode()  # type: ignore[no-any-return]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(*args: str, scenario: Path = SCENARIO, data_dir: Path | None = None) -> Server:
    """``sandex serve`` on a free port, waited for until it answers ``GET /time``.

    In memory (``--ephemeral``) unless ``data_dir`` is given. A port found free can be taken
    before the server binds it (by another test's server, or as the source port of some
    connection): then the server exits on "address already in use", or another process
    answers; either way it starts again on another port.
    """
    for _ in range(5):
        server = _start_once(free_port(), args, scenario, data_dir)
        if server is not None:
            return server
    raise RuntimeError("server did not start: no free port stayed free")


def _start_once(port: int, args: tuple[str, ...], scenario: Path,
                data_dir: Path | None) -> Server | None:
    where = ["--ephemeral"] if data_dir is None else ["--data-dir", str(data_dir)]
    log_file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(
        [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port), "--scenario",
         str(scenario), *where, *args],
        stdout=subprocess.DEVNULL, stderr=log_file, env={**os.environ})
    server = Server(process, port, log_file)
    logged = "--log-level" not in args  # the access log (on by default) names each request
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "address already in use" in server.log():
                return None
            raise RuntimeError(f"server exited: {server.log()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/time")
            if conn.getresponse().status == 200:
                if not logged or _logged_time(server):
                    return server
                server.stop()  # another process answered on this port
                return None
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start")


def _logged_time(server: Server) -> bool:
    """Whether the server's own access log shows the ``GET /time`` just answered."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if "GET /time" in server.log():
            return True
        time.sleep(0.02)
    return False


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def auth_headers(creds: tuple[str, str, str], method: str, target: str, body: bytes, *,
                 timestamp: str, sign_target: str | None = None,
                 sign_body: bytes | None = None) -> dict[str, str]:
    """The four §2.2 headers, signed over ``sign_target``/``sign_body`` (default: as sent)."""
    key, secret, passphrase = creds
    signature = sign(secret, timestamp, method, target if sign_target is None else sign_target,
                     body if sign_body is None else sign_body)
    return {"CB-ACCESS-KEY": key, "CB-ACCESS-SIGN": signature, "CB-ACCESS-TIMESTAMP": timestamp,
            "CB-ACCESS-PASSPHRASE": passphrase}


class SignedClient:
    """Signs with (key, secret, passphrase) if given, exactly what it sends; ``send`` is the
    transport (a socket here, the app in-process in ``tests/api/rest/harness.py``)."""

    def __init__(self, creds: tuple[str, str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.creds = creds
        self.clock = clock  # seconds, for the default timestamp

    def send(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Reply:
        raise NotImplementedError

    def request(self, method: str, target: str, body: Any = None, *, timestamp: str | None = None,
                headers: dict[str, str] | None = None, sign_target: str | None = None,
                raw_body: bytes | None = None) -> Reply:
        data = raw_body if raw_body is not None else (
            b"" if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"}
        if self.creds is not None:
            ts = timestamp if timestamp is not None else str(int(self.clock()))
            sent.update(auth_headers(self.creds, method, target, data, timestamp=ts,
                                     sign_target=sign_target))
        sent.update(headers or {})
        return self.send(method, target, data, sent)

    def get(self, target: str, **kw: Any) -> Reply:
        return self.request("GET", target, **kw)

    def post(self, target: str, body: Any, **kw: Any) -> Reply:
        return self.request("POST", target, body, **kw)

    def delete(self, target: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("DELETE", target, body, **kw)


def place(client: SignedClient, **fields: Any) -> dict[str, Any]:
    """A resting limit buy far below any test's prices (``fields`` override), as placed."""
    body = {"product_id": "BTC-USD", "side": "buy", "price": "10.00", "size": "0.5", **fields}
    reply = client.post("/orders", body)
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


class RawClient(SignedClient):
    """HTTP/1.1 keep-alive client on 127.0.0.1:``port``."""

    def __init__(self, port: int, creds: tuple[str, str, str] | None = None) -> None:
        super().__init__(creds)
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def send(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Reply:
        self.conn.request(method, target, body=body or None, headers=headers)
        response = self.conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())
