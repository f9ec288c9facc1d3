"""Test support for the REST API: a running server subprocess and a raw signed HTTP client.

The raw client signs exactly what it sends (§2.3) and never re-encodes: tests control the
timestamp, the target and the body bytes, so every signing edge case can be written down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCENARIO = Path(__file__).parent / "scenario.toml"

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    In memory (``--ephemeral``) unless ``data_dir`` is given.
    """
    port = free_port()
    where = ["--ephemeral"] if data_dir is None else ["--data-dir", str(data_dir)]
    log_file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(
        [sys.executable, "-m", "sandex.cli", "serve", "--port", str(port), "--scenario",
         str(scenario), *where, *args],
        stdout=subprocess.DEVNULL, stderr=log_file, env={**os.environ})
    server = Server(process, port, log_file)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/time")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start")


def sign(secret: str, timestamp: str, method: str, target: str, body: bytes) -> str:
    message = timestamp.encode() + method.encode() + target.encode() + body
    return base64.b64encode(hmac.new(base64.b64decode(secret), message,
                                     hashlib.sha256).digest()).decode()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RawClient:
    """HTTP/1.1 keep-alive client that signs with (key, secret, passphrase) if given."""

    def __init__(self, port: int, creds: tuple[str, str, str] | None = None) -> None:
        self.port = port
        self.creds = creds
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def request(self, method: str, target: str, body: Any = None, *, timestamp: str | None = None,
                headers: dict[str, str] | None = None, sign_target: str | None = None,
                raw_body: bytes | None = None) -> Reply:
        data = raw_body if raw_body is not None else (
            b"" if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"}
        if self.creds is not None:
            key, secret, passphrase = self.creds
            ts = timestamp if timestamp is not None else str(int(time.time()))
            sent.update({
                "CB-ACCESS-KEY": key, "CB-ACCESS-TIMESTAMP": ts, "CB-ACCESS-PASSPHRASE": passphrase,
                "CB-ACCESS-SIGN": sign(secret, ts, method, sign_target or target, data)})
        sent.update(headers or {})
        self.conn.request(method, target, body=data or None, headers=sent)
        response = self.conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())

    def get(self, target: str, **kw: Any) -> Reply:
        return self.request("GET", target, **kw)

    def post(self, target: str, body: Any, **kw: Any) -> Reply:
        return self.request("POST", target, body, **kw)

    def delete(self, target: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("DELETE", target, body, **kw)
