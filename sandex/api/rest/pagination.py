"""Cursor pagination (§7): ``before``/``after``/``limit`` in, ``CB-BEFORE``/``CB-AFTER`` out.

Pages are newest first. ``after=c`` gives the page just older than ``c``; ``before=c`` the page
just newer than ``c`` (still newest first). A non-empty page carries both headers, the
cursors of its first and last item; an empty page carries neither, which is what stops
cbpro's and coinbasepro's paging loops (§7, client-compatibility §1.2).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TypeVar

from sandex.api.http import ApiError, Request
from sandex.errors import Error

T = TypeVar("T")

LIMIT_DEFAULT = 100
LIMIT_MAX = 1000  # §7 GUESS: the current pagination page says 1000

by_created_at: Callable[[object], int] = attrgetter("created_at")
"""The cursor of orders and holds: their creation time (µs, unique per command)."""
by_trade_id: Callable[[object], int] = attrgetter("trade_id")
"""The cursor of trades and fills."""


def parse_limit(request: Request, default: int = LIMIT_DEFAULT) -> int:
    text = request.param("limit")
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= LIMIT_MAX:
        raise ApiError(Error.LIMIT_RANGE)
    return int(text)


def int_cursor(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 20 else None


def page(items: Sequence[T], key: Callable[[T], int], request: Request,
         parse: Callable[[str], int | None] = int_cursor,
         render: Callable[[int], str] = str, default_limit: int = LIMIT_DEFAULT,
         ) -> tuple[list[T], list[tuple[bytes, bytes]]]:
    """One page of ``items`` (sorted oldest first by ``key``) and its cursor headers."""
    limit = parse_limit(request, default_limit)
    before, after = request.param("before"), request.param("after")
    if after:
        cursor = parse(after)
        if cursor is None:
            raise ApiError(Error.AFTER_CURSOR)
        end = bisect_left(items, cursor, key=key)
        chunk = list(items[max(0, end - limit):end])
    elif before:
        cursor = parse(before)
        if cursor is None:
            raise ApiError(Error.BEFORE_CURSOR)
        start = bisect_right(items, cursor, key=key)
        chunk = list(items[start:start + limit])
    else:
        chunk = list(items[-limit:])
    chunk.reverse()
    if not chunk:
        return chunk, []
    return chunk, [(b"cb-before", render(key(chunk[0])).encode()),
                   (b"cb-after", render(key(chunk[-1])).encode())]
