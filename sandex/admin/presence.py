"""Who owns a data dir: the lock a running server holds, its address, and the admin token.

A server holds an exclusive ``flock`` on ``DIR/lock`` for its whole life (the kernel drops it
if the process dies, even by ``kill -9``), writes ``DIR/server.json`` with its URL and pid,
and authenticates admin requests with the token in ``DIR/admin.token`` (created once, mode
0600). The CLI takes the lock to work offline; if a server holds it, it goes online instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from pathlib import Path

LOCK_FILE = "lock"
SERVER_FILE = "server.json"
TOKEN_FILE = "admin.token"


class DataDirBusy(RuntimeError):
    """Another process holds the data dir."""


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``DataDirBusy`` naming the holder."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_server(self.data_dir)
            who = f" (a server at {holder['url']}, pid {holder['pid']})" if holder else ""
            raise DataDirBusy(f"{self.data_dir} is in use by another sandex{who}") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def admin_token(data_dir: Path) -> str:
    """The data dir's admin token, created on first use."""
    path = data_dir / TOKEN_FILE
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    return token


def write_server(data_dir: Path, url: str) -> None:
    path = data_dir / SERVER_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n")
    os.replace(temporary, path)


def read_server(data_dir: Path) -> dict[str, object] | None:
    try:
        info = json.loads((data_dir / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "url" in info else None


def remove_server(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / SERVER_FILE).unlink()
