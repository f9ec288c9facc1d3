"""Feed messages from events and state: exact §9.5 field names, order and number formats.

* ``full``/``user``/``matches``: prices and sizes with 8 decimals, funds with 16, as the
  REST order and trade objects print them; ``sequence`` and ``trade_id`` JSON integers.
  A message about the subscriber's own order adds ``user_id``/``profile_id`` (and
  ``client_oid`` on ``received``, ``cancel_reason`` on a canceled ``done``); a ``match`` adds
  the maker's or taker's fields and fee rate (§9.3, §9.5). Private-only events (``activate``,
  the ``done`` of a stop that never triggered) carry no ``sequence`` (they consume none).
* ``snapshot``/``l2update``/``level3``: prices and sizes trimmed, exactly as REST
  ``/book`` prints them; a removed level is ``"0"``.
* ``ticker``: prices trimmed, sizes and volumes with 8 decimals (as in the §9.5 example;
  GUESS where it is inconsistent); ``side`` is the taker's side (GUESS, §9.5).

Every function returns a dict; ``encode`` makes the text frame once for all recipients.
"""

from __future__ import annotations

from typing import Any

import msgspec

from sandex.api import shapes
from sandex.api.feed.auth import Identity
from sandex.api.feed.state import FeedState, ProductState
from sandex.core import (
    Activated,
    Changed,
    Currency,
    Done,
    DoneReason,
    Engine,
    Matched,
    Opened,
    OrderType,
    Product,
    Received,
    Side,
)
from sandex.timefmt import iso
from sandex.units import (
    PRICE_DECIMALS,
    RATE_DECIMALS,
    amount_text,
    format_trimmed,
    price_text,
)

_encoder = msgspec.json.Encoder()
LEVEL3_SCHEMA = {  # §9.5, the first message on ``level3``
    "change": ["type", "product_id", "sequence", "order_id", "price", "size", "time"],
    "done": ["type", "product_id", "sequence", "order_id", "time"],
    "match": ["type", "product_id", "sequence", "maker_order_id", "taker_order_id", "price",
              "size", "time"],
    "noop": ["type", "product_id", "sequence", "time"],
    "open": ["type", "product_id", "sequence", "order_id", "side", "price", "size", "time"],
}


def encode(message: dict[str, Any] | list[Any]) -> str:
    return _encoder.encode(message).decode()


def trim(units: int) -> str:
    return format_trimmed(units, PRICE_DECIMALS)


def _taker_side(maker_side: Side) -> str:
    return "buy" if maker_side is Side.SELL else "sell"


# -- full / user / matches ---------------------------------------------------------------------

def order_event(event: Any, own: Identity | None) -> dict[str, Any]:
    """``received``/``open``/``done``/``change``/``activate``; ``own``: the owner's copy."""
    kind = type(event)
    if kind is Received:
        out = _received(event, own is not None)
    elif kind is Opened:
        out = {"type": "open", "time": iso(event.time), "product_id": event.product_id,
               "sequence": event.sequence, "order_id": event.order_id,
               "price": price_text(event.price),
               "remaining_size": price_text(event.remaining_size), "side": event.side.value}
    elif kind is Done:
        out = _done(event, own is not None)
    elif kind is Changed:
        out = _changed(event)
    else:
        assert kind is Activated
        return _activate(event, own)
    if own is not None:
        out["user_id"] = own.user_id
        out["profile_id"] = own.profile_id
    return out


def _received(e: Received, own: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "received", "time": iso(e.time), "product_id": e.product_id,
                           "sequence": e.sequence, "order_id": e.order_id}
    if e.size is not None:
        out["size"] = price_text(e.size)
    if e.price is not None and e.order_type is OrderType.LIMIT:
        out["price"] = price_text(e.price)
    if e.funds is not None:
        out["funds"] = amount_text(e.funds)
    out["side"] = e.side.value
    out["order_type"] = e.order_type.value
    if own and e.client_oid is not None:
        out["client_oid"] = e.client_oid
    return out


def _done(e: Done, own: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "done", "time": iso(e.time), "product_id": e.product_id}
    if e.sequence is not None:
        out["sequence"] = e.sequence
    if e.price is not None:
        out["price"] = price_text(e.price)
    out["order_id"] = e.order_id
    out["reason"] = e.reason.value
    out["side"] = e.side.value
    if e.remaining_size is not None:
        out["remaining_size"] = price_text(e.remaining_size)
    if own and e.reason is DoneReason.CANCELED and e.cancel_reason is not None:
        out["cancel_reason"] = e.cancel_reason.value
    return out


def _changed(e: Changed) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "change", "reason": e.reason, "time": iso(e.time)}
    if e.sequence is not None:  # a modified untriggered stop: private, unnumbered
        out["sequence"] = e.sequence
    out.update(order_id=e.order_id, side=e.side.value, product_id=e.product_id)
    if e.reason == "modify_order" and e.old_size is not None and e.new_size is not None \
            and e.old_price is not None and e.price is not None:  # §9.5's modify shape
        out.update(old_size=price_text(e.old_size), new_size=price_text(e.new_size),
                   old_price=price_text(e.old_price), new_price=price_text(e.price))
        return out
    if e.old_size is None or e.new_size is None:  # funds-only market order: §9.5 [BENNY]
        out["old_funds"] = amount_text(e.old_funds or 0)
        out["new_funds"] = amount_text(e.new_funds or 0)
        out["price"] = None
        return out
    out["old_size"] = price_text(e.old_size)
    out["new_size"] = price_text(e.new_size)
    if e.price is not None:  # GUESS: a market order's size change has no price at all;
        out["price"] = price_text(e.price)  # cbpro's OrderBook fails on Decimal(None)
    return out


def _activate(e: Activated, own: Identity | None) -> dict[str, Any]:
    seconds, micros = divmod(e.time, 1_000_000)
    out: dict[str, Any] = {"type": "activate", "product_id": e.product_id,
                           "timestamp": f"{seconds}.{micros:06d}"}
    if own is not None:
        out["user_id"] = own.user_id
        out["profile_id"] = own.profile_id
    out.update({"order_id": e.order_id, "stop_type": e.stop_type.value, "side": e.side.value,
                "stop_price": price_text(e.stop_price)})
    if e.size is not None:
        out["size"] = price_text(e.size)
    if e.funds is not None:
        out["funds"] = amount_text(e.funds)
    out["private"] = True
    return out


def match(m: Matched, kind: str = "match") -> dict[str, Any]:
    """The public ``match`` (or ``last_match``); ``side`` is the maker's (§9.5)."""
    return {"type": kind, "trade_id": m.trade_id, "sequence": m.sequence,
            "maker_order_id": m.maker_order_id, "taker_order_id": m.taker_order_id,
            "time": iso(m.time), "product_id": m.product_id, "size": price_text(m.size),
            "price": price_text(m.price), "side": m.side.value}


def own_match(m: Matched, maker: Identity | None, taker: Identity | None) -> dict[str, Any]:
    """The ``match`` as its maker and/or taker sees it (§9.5 authenticated fields)."""
    out = match(m)
    for role, who, rate in (("taker", taker, m.taker_fee_rate),
                            ("maker", maker, m.maker_fee_rate)):
        if who is not None:  # the maker's fields win user_id/profile_id if both (self-trade)
            out[f"{role}_user_id"] = out["user_id"] = who.user_id
            out[f"{role}_profile_id"] = out["profile_id"] = who.profile_id
            out[f"{role}_fee_rate"] = format_trimmed(rate, RATE_DECIMALS)
    return out


# -- level3 --------------------------------------------------------------------------------------

def level3(event: Any) -> list[str] | None:
    """The compact ``level3`` array of a sequenced event; ``noop`` keeps numbers gapless."""
    sequence = getattr(event, "sequence", None)
    if sequence is None:
        return None
    kind, pid, seq, t = type(event), event.product_id, str(sequence), iso(event.time)
    if kind is Opened:
        return ["open", pid, seq, event.order_id, event.side.value, trim(event.price),
                trim(event.remaining_size), t]
    if kind is Done:
        return ["done", pid, seq, event.order_id, t]
    if kind is Matched:
        return ["match", pid, seq, event.maker_order_id, event.taker_order_id,
                trim(event.price), trim(event.size), t]
    if kind is Changed and event.new_size is not None and event.price is not None:
        return ["change", pid, seq, event.order_id, trim(event.price), trim(event.new_size), t]
    return ["noop", pid, seq, t]


# -- level2 --------------------------------------------------------------------------------------

def snapshot(state: ProductState) -> dict[str, Any]:
    bids, asks = state.book.sides()
    return {"type": "snapshot", "product_id": state.id,
            "bids": [[trim(p), trim(s)] for p, s in bids],
            "asks": [[trim(p), trim(s)] for p, s in asks]}


def l2update(state: ProductState, levels: list[tuple[bool, int]], time: int) -> dict[str, Any]:
    """The levels' sizes now (absolute, ``"0"`` = gone), ``time`` the engine event time."""
    size_at = state.book.size_at
    return {"type": "l2update", "product_id": state.id, "time": iso(time),
            "changes": [["buy" if is_bid else "sell", trim(price), trim(size_at(is_bid, price))]
                        for is_bid, price in levels]}


# -- ticker, heartbeat, status ---------------------------------------------------------------------

def ticker(feed: FeedState, state: ProductState, now: int, sequence: int) -> dict[str, Any] | None:
    """The product's ticker after its last durable trade (``None`` before any trade)."""
    last = state.last_trade
    if last is None:
        return None
    day, month_volume = feed.stats(state.id, now)
    bid, ask = state.book.best(True), state.book.best(False)
    return {
        "type": "ticker", "sequence": sequence, "product_id": state.id,
        "price": trim(last.price),
        "open_24h": trim(day.open if day else last.price),
        "volume_24h": price_text(day.volume if day else 0),
        "low_24h": trim(day.low if day else last.price),
        "high_24h": trim(day.high if day else last.price),
        "volume_30d": price_text(month_volume),
        "best_bid": trim(bid[0]) if bid else "0",
        "best_bid_size": price_text(bid[1]) if bid else "0",
        "best_ask": trim(ask[0]) if ask else "0",
        "best_ask_size": price_text(ask[1]) if ask else "0",
        "side": _taker_side(last.side), "time": iso(last.time), "trade_id": last.trade_id,
        "last_size": price_text(last.size),
    }


def heartbeat(state: ProductState, now: int) -> dict[str, Any]:
    return {"type": "heartbeat", "sequence": state.sequence,
            "last_trade_id": state.last_trade_id, "product_id": state.id, "time": iso(now)}


def status(engine: Engine) -> dict[str, Any]:
    """Every product and currency (§9.5 ``status``)."""
    return {"type": "status",
            "products": [_status_product(p) for p in engine.products.values()],
            "currencies": [_status_currency(c) for c in engine.currencies.values()]}


def _status_product(p: Product) -> dict[str, Any]:
    rest = shapes.product(p)
    return {"id": p.id, "base_currency": p.base_currency, "quote_currency": p.quote_currency,
            "base_increment": rest["base_increment"], "quote_increment": rest["quote_increment"],
            "display_name": p.id, "status": rest["status"],
            "status_message": shapes.status_message(p),
            "min_market_funds": rest["min_market_funds"], "post_only": rest["post_only"],
            "limit_only": rest["limit_only"], "cancel_only": rest["cancel_only"],
            "fx_stablecoin": False}


def _status_currency(c: Currency) -> dict[str, Any]:
    rest = shapes.currency(c)
    return {"id": c.id, "name": c.name, "display_name": c.id,
            "min_size": price_text(c.min_size // 10**8) if c.min_size else "0.00000001",
            "status": "online", "status_message": None, "max_precision": rest["max_precision"],
            "convertible_to": [], "details": {}, "default_network": "",
            "supported_networks": []}
