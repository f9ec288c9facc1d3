"""The trace of the last REST requests: what each asked and what it got, found by request id,
order id or ``client_oid`` (``POST /admin/trace``, ``sandex trace``, ``Venue.trace``).

In test mode (the scenario's ``[testing] request_ids``; off by default, so the wire stays
Coinbase's and nothing is spent on it) every request gets an id (``r-000001``, counted from
the venue's start), sent back as the ``X-Sandex-Request-Id`` header, and a trace: the request
(venue time, method, target, API key, the order and ``client_oid`` it named or placed) and its
answer (status, the message of a refusal with its error-table rule and, for an order the
engine refused, the figures behind it as ``explain`` gives them, taken at that moment; the
journal position after it, how long it took). The last ``TRACES_MAX`` are kept, a ring:
memory is bounded, a query scans it.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from sandex.api.http import Request, Response
from sandex.timefmt import iso

TRACES_MAX = 10_000
"""Requests kept (the oldest go first); each a tuple of a dozen small values."""
HEADER = b"x-sandex-request-id"

_FIELDS = ("request_id", "time", "method", "target", "key", "order_id", "client_oid",
           "status", "message", "rule", "position", "ms", "detail")


class Traces:
    def __init__(self) -> None:
        self._ring: deque[tuple[Any, ...]] = deque(maxlen=TRACES_MAX)
        self._count = 0

    def next_id(self) -> str:
        self._count += 1
        return f"r-{self._count:06d}"

    def record(self, request_id: str, request: Request, response: Response, now: int,
               position: int, started: float, detail: dict[str, Any] | None = None) -> None:
        """Keep the trace of one answered request, and stamp its id on the answer."""
        status = response.status
        message = rule = None
        if status >= 400:
            message, rule = _refusal(response.body), request.error
        ref = request.order_ref
        self._ring.append((
            request_id, now, request.method, request.target,
            request.headers.get("cb-access-key"), ref[0] if ref else None,
            ref[1] if ref else None, status, message, rule, position,
            round((time.perf_counter() - started) * 1000, 3), detail))
        headers = response.headers  # a new list: an answer may be served again (stale_read)
        stamp = (HEADER, request_id.encode())
        response.headers = [stamp] if headers is None else [
            *(header for header in headers if header[0] != HEADER), stamp]

    def find(self, request_id: object = None, order_id: object = None,
             client_oid: object = None, after: object = None,
             refused: object = False) -> list[dict[str, Any]]:
        """The traces, oldest first, of the request ``request_id``, of every request that
        named or placed ``order_id`` / ``client_oid``, or of every request after the request
        ``after`` (with ``refused``: only those answered 400 or more); ``ValueError`` unless
        exactly one of the four is given."""
        wanted = [(i, value) for i, value in ((0, request_id), (5, order_id), (6, client_oid),
                                              (-1, after)) if value is not None]
        if len(wanted) != 1 or not isinstance(wanted[0][1], str):
            raise ValueError("give one of request_id, order_id, client_oid, after (a text)")
        index, value = wanted[0][0], str(wanted[0][1]).lower()
        if index == 6:
            value = value.removeprefix("client:")
        if index == -1:
            since = _number(value)
            return [_json(entry) for entry in self._ring if _number(entry[0]) > since
                    and (not refused or entry[7] >= 400)]
        return [_json(entry) for entry in self._ring if entry[index] == value]

    def clear(self) -> None:
        """Forget every trace (a restore: a seeded venue hands out the same ids again, so
        another epoch's traces would answer for this one's orders); ids go on counting."""
        self._ring.clear()

    def newest(self) -> str:
        """The id of the latest request (``r-000000`` before the first)."""
        return f"r-{self._count:06d}"


def _json(entry: tuple[Any, ...]) -> dict[str, Any]:
    out = dict(zip(_FIELDS, entry, strict=True))
    out["time"] = iso(out["time"])
    return out


def _refusal(body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:  # a fault's HTML page
        return None
    return answer.get("message") if isinstance(answer, dict) else None


def _number(request_id: str) -> int:
    """The count in ``r-000123``; ``ValueError`` if it is not a request id."""
    digits = request_id.removeprefix("r-")
    if not digits.isdigit():
        raise ValueError(f"{request_id!r} is not a request id (r-000123)")
    return int(digits)
