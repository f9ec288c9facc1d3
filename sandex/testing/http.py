"""JSON over one kept-alive HTTP/1.1 connection to a venue; a refusal raises ``VenueError``."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

# A kept-alive connection the server closed while idle fails before the request is read:
# sending again on a new connection cannot apply it twice.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class VenueError(RuntimeError):
    """The venue answered ``status`` >= 400; ``message`` is its ``{"message": ...}``."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


class Http:
    """Requests to ``url`` (``http://host:port``) with fixed ``headers``, JSON both ways."""

    def __init__(self, url: str, headers: dict[str, str] | None = None,
                 timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r} is not an http://host:port URL")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, body)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer; ``VenueError`` for a status of 400 or more."""
        data = None if body is None else json.dumps(body).encode()
        fresh = self._conn is None
        try:
            status, raw = self._send(method, path, data)
        except _STALE:
            self.close()
            if fresh:
                raise
            status, raw = self._send(method, path, data)
        answer = _decode(raw)
        if status >= 400:
            message = answer.get("message") if isinstance(answer, dict) else None
            raise VenueError(method, path, status, str(message or raw.decode(errors="replace")))
        return answer

    def _send(self, method: str, path: str, data: bytes | None) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self._conn.request(method, path, body=data, headers=self._headers)
            reply = self._conn.getresponse()
            return reply.status, reply.read()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
