"""What each action kind of each layer takes: one table, checked when a rule is added.

``LAYERS`` maps a layer to its action kinds, and each kind to its fields: a field is a checker
that turns the given value into the value kept (``ValueError`` says why not) and a default
(``REQUIRED``: must be given; ``None``: may be absent). A gateway executes the kinds of its
layer; another layer (the engine's) plugs in by adding its row here, or is named in
``NOT_YET`` until it exists. Default texts come from the one error table, ``sandex.errors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandex.errors import Error

REQUIRED = object()
"""A field default meaning: the field must be given."""

Check = Callable[[Any], Any]
Fields = dict[str, tuple[Check, Any]]

DELAY_MS_MAX = 60_000
"""Longest delay, hold, freeze or stall a rule may ask for (a minute): a test that needs
longer asks for the connection to close instead."""
STALE_LAG_MAX = 8
"""How many answers back a ``stale_read`` may go (``sandex.api.rest.faults`` keeps as many
per path)."""

DEFAULT_TEXT: dict[int, Error] = {e.status: e for e in (
    Error.INTERNAL_ERROR, Error.BAD_GATEWAY, Error.SERVICE_UNAVAILABLE, Error.GATEWAY_TIMEOUT,
    Error.PRIVATE_RATE_LIMIT, Error.NOT_FOUND, Error.UNAUTHORIZED, Error.FORBIDDEN)}
"""The message a ``status`` answers when the rule gives none: 429 is Coinbase's private rate
limit text, 5xx the gateway's texts; other statuses need a ``message``."""


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be an integer from {low} to {high}")
        return value

    return check


def one_of(*choices: Any) -> Check:
    def check(value: Any) -> Any:
        for choice in choices:
            if value == choice and type(value) is type(choice):
                return choice
        raise ValueError("must be one of " + ", ".join(repr(c) for c in choices))

    return check


def text(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 500:
        raise ValueError("must be a non-empty text of at most 500 characters")
    return value


_MS = integer(0, DELAY_MS_MAX)
_POSITIVE_MS = integer(1, DELAY_MS_MAX)

REST: dict[str, Fields] = {
    "status": {"status": (integer(400, 599), REQUIRED), "message": (text, None)},
    "delay": {"ms": (_POSITIVE_MS, REQUIRED)},
    "accept_then_timeout": {"then": (one_of("close", "504", "502-html"), "close"),
                            "hold_ms": (_MS, 0)},
    "accept_then_error": {"status": (integer(500, 599), 500), "message": (text, None)},
    "reject_before_accept": {"status": (integer(400, 599), 503), "message": (text, None)},
    "reset": {},
    "stale_read": {"lag": (integer(1, STALE_LAG_MAX), 1)},
}

FEED: dict[str, Fields] = {
    "drop": {},
    "duplicate": {},
    "reorder": {"window": (integer(2, 100), 2)},
    "delay": {"ms": (_POSITIVE_MS, REQUIRED)},
    "freeze": {"ms": (_POSITIVE_MS, None)},
    "disconnect": {"code": (one_of(1006, 1011, "slow_consume"), 1006)},
    "heartbeat_stall": {"ms": (_POSITIVE_MS, None)},
    "subscribe_error": {"message": (text, Error.FEED_SUBSCRIBE_FAILED.template),
                        "reason": (text, "Internal error")},
}

ENGINE: dict[str, Fields] = {
    "product_status": {"status": (one_of("post_only", "limit_only", "cancel_only", "disabled"),
                                  REQUIRED)},
    "engine_offline": {},
    "halt_matching": {},
}
"""Engine faults are windows on the venue clock (``sandex.faults.engine``): journaled
commands at the window's edges, seen as Coinbase shows a product. ``product_status`` and
``engine_offline`` are ``set_product_status`` (``engine_offline``: every matched product
``disabled``, new orders and cancels refused with the maintenance text); ``halt_matching`` is
``set_matching`` (orders accepted ``pending``, matched in arrival order on resume)."""

LAYERS: dict[str, dict[str, Fields]] = {"rest": REST, "feed": FEED, "engine": ENGINE}
NOT_YET: dict[str, str] = {}
KINDS_NOT_YET: dict[str, str] = {}

MATCH_FIELDS: dict[str, tuple[str, ...]] = {
    "rest": ("method", "path", "key", "product"),
    "feed": ("channel", "product", "key", "type"),
    "engine": ("product",),
}
"""What a rule of each layer may match on (``type``: a feed message's ``type``)."""

FEED_CHANNELS = ("heartbeat", "status", "ticker", "ticker_batch", "level2", "level2_batch",
                 "matches", "full", "level3", "user", "balance", "auctionfeed",
                 "rfq_matches")
"""The feed's channels (``sandex.api.feed.protocol.CHANNELS``; a test keeps them equal)."""


def default_message(status: int) -> str | None:
    """The error table's text for ``status``, if it has one for faults."""
    error = DEFAULT_TEXT.get(status)
    return None if error is None else error.template
