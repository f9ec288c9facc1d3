"""The trace of the last REST requests: what each asked, met and got, found by request id,
order id or ``client_oid`` (``POST /admin/trace``, ``sandex trace``, ``Venue.trace``).

In test mode (the scenario's ``[testing] request_ids``; off by default, so the wire stays
Coinbase's and nothing is spent on it) every request gets an id (``r-000001``, counted from
the venue's start), sent back as the ``X-Sandex-Request-Id`` header, and a trace: the request
(venue time, method, target, API key, the order and ``client_oid`` it named or placed), its
auth outcome and rate-limit bucket, the fault rules that fired on it, how long the race gate
or a reply hold kept it, each command it journaled (``sandex.api.tracer``: position, group
commit wait, hold, order events, fills with the counterparty's kind, feed deliveries) and its
answer (status, the message of a refusal with its error-table rule and, for an order the
engine refused, the figures behind it as ``explain`` gives them, taken at that moment; the
journal position after it, how long it took). The last ``TRACES_MAX`` are kept, a ring:
memory is bounded, a query scans it. The view of one order adds what touched it without a
request (another profile's taker, the demo, an expiry, an engine fault's window), oldest first.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from sandex.api.http import Request, Response
from sandex.api.rest.ratelimit import RestRateLimiter
from sandex.api.tracer import CommandNote, RequestNotes, Tracer
from sandex.auth.keys import ApiKey
from sandex.errors import Error
from sandex.timefmt import iso

TRACES_MAX = 10_000
"""Requests kept (the oldest go first); each a tuple of small values and its notes, whose
size is capped (``sandex.api.tracer``: ``EVENTS_MAX``, ``FIRINGS_MAX``)."""
HEADER = b"x-sandex-request-id"

_FIELDS = ("request_id", "time", "method", "target", "key", "order_id", "client_oid",
           "status", "message", "rule", "position", "ms", "detail", "auth", "rate_limit")
_RATE_LIMITED = frozenset({Error.PUBLIC_RATE_LIMIT.name, Error.PRIVATE_RATE_LIMIT.name})


class Traces:
    def __init__(self, tracer: Tracer) -> None:
        self._ring: deque[tuple[Any, ...]] = deque(maxlen=TRACES_MAX)
        self._count = 0
        self.tracer = tracer

    def next_id(self) -> str:
        self._count += 1
        return f"r-{self._count:06d}"

    def record(self, request_id: str, request: Request, response: Response, now: int,
               position: int, started: float, detail: dict[str, Any] | None = None,
               notes: RequestNotes | None = None,
               access: tuple[Any, Any] = (None, None)) -> None:
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
            round((time.perf_counter() - started) * 1000, 3), detail, access[0], access[1],
            notes))
        headers = response.headers  # a new list: an answer may be served again (stale_read)
        stamp = (HEADER, request_id.encode())
        response.headers = [stamp] if headers is None else [
            *(header for header in headers if header[0] != HEADER), stamp]

    def find(self, request_id: object = None, order_id: object = None,
             client_oid: object = None, after: object = None,
             refused: object = False) -> list[dict[str, Any]]:
        """The traces, oldest first, of the request ``request_id``, of every request after
        the request ``after`` (with ``refused``: only those answered 400 or more), or
        everything that touched the order ``order_id`` / ``client_oid``: the requests that
        named, placed or filled it and the commands no request made (``request_id`` null);
        ``ValueError`` unless exactly one of the four is given."""
        wanted = [(i, value) for i, value in ((0, request_id), (5, order_id), (6, client_oid),
                                              (-1, after)) if value is not None]
        if len(wanted) != 1 or not isinstance(wanted[0][1], str):
            raise ValueError("give one of request_id, order_id, client_oid, after (a text)")
        index, value = wanted[0][0], str(wanted[0][1]).lower()
        if index == -1:
            since = _number(value)
            return [self._json(entry) for entry in self._ring if _number(entry[0]) > since
                    and (not refused or entry[7] >= 400)]
        if index == 0:
            return [self._json(entry) for entry in self._ring if entry[0] == value]
        return self._order(value if index == 5 else None,
                           value.removeprefix("client:") if index == 6 else None)

    def _order(self, order_id: str | None, client_oid: str | None) -> list[dict[str, Any]]:
        """Everything that touched one order, oldest first (by the time of its command)."""
        ring = self._ring
        if order_id is not None:  # the requests that named it by client_oid belong to it too
            ids = {order_id}
            oids = {entry[6] for entry in ring if entry[5] == order_id and entry[6]}
        else:
            ids = {entry[5] for entry in ring if entry[6] == client_oid and entry[5]}
            oids = {client_oid}
        found: list[tuple[int, int, int, dict[str, Any]]] = []
        for n, entry in enumerate(ring):
            notes: RequestNotes | None = entry[-1]
            if (entry[5] in ids or entry[6] in oids
                    or (notes is not None and any(not ids.isdisjoint(c.orders)
                                                  for c in notes.commands))):
                when = notes.commands[0].time if notes is not None and notes.commands \
                    else entry[1]
                found.append((when, 0, n, self._json(entry)))
        kind = self.tracer.kinds.kind
        for n, note in enumerate(self.tracer.unrequested):
            if not ids.isdisjoint(note.orders):
                found.append((note.time, 1, n, {"request_id": None, "time": iso(note.time),
                                                "commands": [note.json(kind)]}))
        found.sort(key=lambda item: item[:3])
        return [item[3] for item in found]

    def _json(self, entry: tuple[Any, ...]) -> dict[str, Any]:
        out = dict(zip(_FIELDS, entry, strict=False))
        out["time"] = iso(out["time"])
        notes: RequestNotes | None = entry[-1]
        kind = self.tracer.kinds.kind
        out["auth"], out["rate_limit"] = _auth(out["auth"], kind), _bucket(out["rate_limit"])
        commands: list[CommandNote] = notes.commands if notes is not None else []
        out["faults"] = (notes.faults if notes is not None else None) or []
        out["gate"] = notes.gate if notes is not None else None
        out["reply_hold"] = notes.reply_hold if notes is not None else None
        out["commands"] = [command.json(kind) for command in commands]
        return out

    def clear(self) -> None:
        """Forget every trace (a restore: a seeded venue hands out the same ids again, so
        another epoch's traces would answer for this one's orders); ids go on counting."""
        self._ring.clear()
        self.tracer.clear()

    def newest(self) -> str:
        """The id of the latest request (``r-000000`` before the first)."""
        return f"r-{self._count:06d}"


def _auth(access: tuple[ApiKey | None, str | None] | None,
          kind: Callable[[str], str]) -> dict[str, Any] | None:
    """A private request's authentication: ``ok`` with the key's profile (and its kind), or
    ``refused`` with the error-table rule (a bad signature, an expired timestamp, a bad
    passphrase, a key without the permission); ``None`` on a public route."""
    if access is None:
        return None
    key, error = access
    if key is None:
        return {"result": "refused", "rule": error}
    return {"result": "ok" if error is None else "refused", "rule": error,
            "profile_id": key.profile_id, "kind": kind(key.profile_id),
            "permissions": sorted(permission.value for permission in key.permissions)}


def bucket_state(limiter: RestRateLimiter, bucket: str, key: Hashable,
                 error: str | None) -> tuple[str, float | None, bool] | None:
    """The request's rate-limit bucket (``public`` per IP, ``private`` or ``fills`` per
    profile), the tokens left in it when the answer was sent and whether it answered the 429
    itself; ``None`` if rate limits are off."""
    if not limiter.limits.enabled:
        return None
    return bucket, limiter.tokens(bucket, key), error in _RATE_LIMITED


def _bucket(state: tuple[str, float | None, bool] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    bucket, tokens, refused = state
    return {"bucket": bucket, "refused": refused,
            "tokens_left": None if tokens is None else round(tokens, 3)}


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
