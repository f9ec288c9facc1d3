"""A ``sandex serve --ephemeral`` subprocess on a free loopback port, its log in a file.

The admin token is random and reaches the child in ``SANDEX_ADMIN_TOKEN`` (never on its
command line, which any local user can read). The server is ready once ``GET /time``
answers; it is stopped with SIGTERM (SIGKILL after 10 s).
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TOKEN_VARIABLE = "SANDEX_ADMIN_TOKEN"
START_TIMEOUT_S = 30.0
PORT_TRIES = 3  # another process may take the free port before the server binds it
LOG_LINES_MAX = 200  # a failed test's report shows at most this many of its log lines


class StartError(RuntimeError):
    """The server exited or never answered; the text ends with its log."""


@dataclass
class RemoteServer:
    """A venue started elsewhere (``--sandex-url``): no process, no log to show."""

    url: str
    admin_token: str

    def log_mark(self) -> int | None:
        return None

    def log_since(self, mark: int) -> str:
        return ""

    def stop(self) -> None:
        pass


@dataclass
class LocalServer:
    """A running ``sandex serve`` child."""

    process: subprocess.Popen[bytes]
    port: int
    admin_token: str
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_mark(self) -> int | None:
        """Where the log ends now (``log_since`` reads from there)."""
        return self.log_path.stat().st_size

    def log_since(self, mark: int) -> str:
        """The log lines written after ``mark`` (the last ``LOG_LINES_MAX`` of them)."""
        with self.log_path.open("rb") as log:
            log.seek(mark)
            lines = log.read().decode(errors="replace").splitlines()
        if len(lines) > LOG_LINES_MAX:
            lines = [f"... {len(lines) - LOG_LINES_MAX} earlier lines in {self.log_path}",
                     *lines[-LOG_LINES_MAX:]]
        return "\n".join(lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @classmethod
    def start(cls, scenario: Path, seed: int, log_path: Path) -> LocalServer:
        """``sandex serve`` from ``scenario`` with ``seed``, waited for; ``StartError`` if
        it cannot start (the log says why)."""
        attempt = 0
        while True:
            server = cls._spawn(scenario, seed, log_path, _free_port())
            try:
                server._wait_ready()
                return server
            except StartError as exc:
                server.stop()
                attempt += 1
                tail = log_path.read_text(errors="replace")[-3000:]
                if "address already in use" not in tail or attempt == PORT_TRIES:
                    raise StartError(f"sandex serve did not start ({exc}); its log "
                                     f"({log_path}):\n{tail}") from None

    @classmethod
    def _spawn(cls, scenario: Path, seed: int, log_path: Path, port: int) -> LocalServer:
        token = secrets.token_hex(32)  # hex: never starts with "-" (a --token flag misreads it)
        command = [sys.executable, "-m", "sandex.cli", "serve", "--ephemeral",
                   "--host", "127.0.0.1", "--port", str(port), "--scenario", str(scenario),
                   "--seed", str(seed)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT,
                                       env={**os.environ, TOKEN_VARIABLE: token})
        return cls(process, port, token, log_path)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartError(f"exit status {self.process.returncode}")
            try:  # with the token: another venue that took the port first answers 401
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                if self.admin_token:
                    conn.request("GET", "/admin/clock",
                                 headers={"Authorization": f"Bearer {self.admin_token}"})
                else:  # a venue whose token is not known here: any answer
                    conn.request("GET", "/time")
                ready = conn.getresponse().status == 200
                conn.close()
                if ready:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise StartError(f"no answer in {START_TIMEOUT_S:g} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
