"""Source events: what every recording reader yields, one per recorded change, in source order.

Prices and sizes are the recording's own decimals (``Decimal``, exact); the replay maps the
source symbol to a venue product and converts to the venue's integer units itself. ``time`` is
the source's time in microseconds since the epoch (the message's own ``time`` field when it has
one, else the line's receive-time prefix, else the previous event's time); ``line`` is the
1-based line (row) number in the file it came from, for error messages and the trace.

Treat them as immutable. They are not ``frozen=True`` for speed alone: a frozen dataclass's
``__init__`` sets each field through ``object.__setattr__`` (about 4 µs an event here, more
than decoding the JSON line), a plain slots dataclass's about 1 µs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(slots=True)
class Received:
    """L3: an order reached the matching engine (Coinbase ``received``)."""

    line: int
    time: int
    product: str
    order_id: str
    side: str  # "buy" | "sell"
    order_type: str  # "limit" | "market"
    price: Decimal | None  # limit orders
    size: Decimal | None  # limit orders, and market orders by size
    funds: Decimal | None  # market orders by funds


@dataclass(slots=True)
class Open:
    """L3: the rest of an order went on the book (``open``); the replay only counts it."""

    line: int
    time: int
    product: str
    order_id: str
    side: str
    price: Decimal
    remaining_size: Decimal


@dataclass(slots=True)
class Done:
    """L3: an order left the book (``done``), ``reason`` "filled" or "canceled"."""

    line: int
    time: int
    product: str
    order_id: str
    side: str
    reason: str
    price: Decimal | None
    remaining_size: Decimal | None


@dataclass(slots=True)
class Change:
    """L3: a resting order's size (or a market order's funds) changed (``change``)."""

    line: int
    time: int
    product: str
    order_id: str
    side: str
    price: Decimal | None
    new_size: Decimal | None
    old_size: Decimal | None
    new_funds: Decimal | None
    old_funds: Decimal | None


@dataclass(slots=True)
class Match:
    """L3: a trade between two known orders (``match``); ``side`` is the maker's, as Coinbase."""

    line: int
    time: int
    product: str
    trade_id: int | None
    maker_order_id: str
    taker_order_id: str
    side: str
    price: Decimal
    size: Decimal


@dataclass(slots=True)
class Trade:
    """A trade without order ids (level2 recordings' ``match`` lines, tardis ``trades``);
    ``side`` is the TAKER's (aggressor's) side: a Coinbase ``match`` line's side is flipped."""

    line: int
    time: int
    product: str
    side: str
    price: Decimal
    size: Decimal
    trade_id: str | None


@dataclass(slots=True)
class Snapshot:
    """L2: a whole book (Coinbase level2 ``snapshot``, a tardis ``is_snapshot`` run); it
    replaces every level of the product. Bids best first, asks best first."""

    line: int
    time: int
    product: str
    bids: tuple[tuple[Decimal, Decimal], ...]  # (price, size)
    asks: tuple[tuple[Decimal, Decimal], ...]


@dataclass(slots=True)
class Level:
    """L2: one level's new absolute size (a Coinbase ``l2update`` change, a tardis row);
    ``side`` "buy" (a bid) or "sell" (an ask); size 0 removes the level."""

    line: int
    time: int
    product: str
    side: str
    price: Decimal
    size: Decimal


SourceEvent = Received | Open | Done | Change | Match | Trade | Snapshot | Level
