"""Who owns a data dir: the lock a running server holds, its address, and the admin token.

A server holds an exclusive ``flock`` on ``DIR/lock`` for its whole life (the kernel drops it
if the process dies, even by ``kill -9``), writes ``DIR/server.json`` with its URL and pid,
and authenticates admin requests with the token in ``DIR/admin.token`` (created once, mode
0600). The CLI takes the lock to work offline; if a server holds it, it goes online instead.

The journal and snapshots hold every API secret (HMAC needs them), so a data dir is its
owner's only: whoever takes the lock sets the umask to 077 (files 0600, directories 0700 from
then on) and removes group and other access from what is already there, with a log line.
A data dir that cannot be locked or restricted (read-only, full, no permission) raises
``StorageError`` saying which.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import stat
from pathlib import Path

from sandex.journal import StorageError
from sandex.journal.store import describe

log = logging.getLogger("sandex.data_dir")

LOCK_FILE = "lock"
SERVER_FILE = "server.json"
TOKEN_FILE = "admin.token"
OWNER_ONLY = 0o077  # the umask while a data dir is held: no access for group or others


class DataDirBusy(RuntimeError):
    """Another process holds the data dir."""


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._fd: int | None = None
        self._umask: int | None = None  # the process's umask before ``acquire``

    def acquire(self) -> None:
        """Take the lock and make the data dir its owner's only (see the module docstring).

        Raises ``DataDirBusy`` naming the holder, or ``StorageError`` naming the fault.
        """
        self._umask = os.umask(OWNER_ONLY)
        try:
            self._fd = self._lock()
            restrict(self.data_dir)
        except BaseException:
            self.release()
            raise

    def _lock(self) -> int:
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(f"{self.data_dir}: cannot use the data dir: "
                               f"{describe(exc)}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_server(self.data_dir)
            who = f" (a server at {holder['url']}, pid {holder['pid']})" if holder else ""
            raise DataDirBusy(f"{self.data_dir} is in use by another sandex{who}") from None
        return fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._umask is not None:
            os.umask(self._umask)
            self._umask = None


def restrict(data_dir: Path) -> list[Path]:
    """Remove group and other access from ``data_dir`` and everything in it (symlinks are
    left alone); log what changed and return it."""
    changed = []
    try:
        for path in [data_dir, *sorted(data_dir.rglob("*"))]:
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & OWNER_ONLY:
                path.chmod(stat.S_IMODE(mode) & ~OWNER_ONLY)
                changed.append(path)
    except OSError as exc:
        raise StorageError(f"{data_dir}: cannot restrict access to the data dir: "
                           f"{describe(exc)}") from exc
    if changed:
        names = ", ".join(str(p.relative_to(data_dir)) for p in changed)
        log.warning("%s: removed group and other access (it holds API secrets) from %s",
                    data_dir, names)
    return changed


def admin_token(data_dir: Path) -> str:
    """The data dir's admin token, created on first use."""
    path = data_dir / TOKEN_FILE
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    token = secrets.token_hex(32)  # hex: never starts with "-", which a --token flag would misread
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
