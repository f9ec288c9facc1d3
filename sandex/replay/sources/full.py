"""``coinbase-full``: a Coinbase ``full`` (level 3) feed recording -> L3 source events.

``received``, ``open``, ``done``, ``change`` and ``match`` become ``Received``, ``Open``,
``Done``, ``Change`` and ``Match``; ``activate`` (a private stop trigger), ``subscriptions``,
``heartbeat``, ``status``, ``ticker``, ``last_match`` and level 2 messages (``snapshot``,
``l2update``: a recording of several channels) are passed over. Each product's ``sequence``
must go up by one from message to message where messages carry one.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal, Union

import msgspec

from sandex.replay import events
from sandex.replay.sources.common import LineFile, Position, amount
from sandex.replay.sources.lines import Convert, Message, read_messages, skipped

Side = Literal["buy", "sell"]


class _Received(Message, tag="received", kw_only=True):
    order_id: str
    side: Side
    order_type: Literal["limit", "market"]
    price: Decimal | None = None
    size: Decimal | None = None
    funds: Decimal | None = None


class _Open(Message, tag="open", kw_only=True):
    order_id: str
    side: Side
    price: Decimal
    remaining_size: Decimal


class _Done(Message, tag="done", kw_only=True):
    order_id: str
    side: Side
    reason: Literal["filled", "canceled"]
    price: Decimal | None = None
    remaining_size: Decimal | None = None


class _Change(Message, tag="change", kw_only=True):
    order_id: str
    side: Side
    price: Decimal | None = None
    new_size: Decimal | None = None
    old_size: Decimal | None = None
    new_funds: Decimal | None = None
    old_funds: Decimal | None = None


class _Match(Message, tag="match", kw_only=True):
    trade_id: int | None = None
    maker_order_id: str
    taker_order_id: str
    side: Side
    price: Decimal
    size: Decimal


SKIPPED = ("activate", "subscriptions", "heartbeat", "status", "ticker", "ticker_batch",
           "last_match", "snapshot", "l2update")
_SKIP = tuple(skipped(*SKIPPED))
_BOOK = (_Received, _Open, _Done, _Change, _Match)
KNOWN = frozenset({*SKIPPED, "received", "open", "done", "change", "match"})
_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(Union[(*_BOOK, *_SKIP)])


def _refuse(m: Any, *names: str) -> None:
    """Raise for the first of ``m``'s decimal fields ``names`` that is negative or not finite
    (the converters test all of them inline first: a call per field costs)."""
    for name in names:
        value = getattr(m, name)
        if value is not None:
            amount(value, name)


def _received(m: _Received, line: int, time: int) -> tuple[events.SourceEvent]:
    p, s, f = m.price, m.size, m.funds
    if ((p is not None and (p.is_signed() or not p.is_finite()))
            or (s is not None and (s.is_signed() or not s.is_finite()))
            or (f is not None and (f.is_signed() or not f.is_finite()))):
        _refuse(m, "price", "size", "funds")
    return (events.Received(line, time, m.product_id, m.order_id, m.side, m.order_type,
                            p, s, f),)


def _open(m: _Open, line: int, time: int) -> tuple[events.SourceEvent]:
    p, s = m.price, m.remaining_size
    if p.is_signed() or s.is_signed() or not p.is_finite() or not s.is_finite():
        _refuse(m, "price", "remaining_size")
    return (events.Open(line, time, m.product_id, m.order_id, m.side, p, s),)


def _done(m: _Done, line: int, time: int) -> tuple[events.SourceEvent]:
    p, s = m.price, m.remaining_size
    if ((p is not None and (p.is_signed() or not p.is_finite()))
            or (s is not None and (s.is_signed() or not s.is_finite()))):
        _refuse(m, "price", "remaining_size")
    return (events.Done(line, time, m.product_id, m.order_id, m.side, m.reason, p, s),)


def _change(m: _Change, line: int, time: int) -> tuple[events.SourceEvent]:
    _refuse(m, "price", "new_size", "old_size", "new_funds", "old_funds")  # rare: plainly
    return (events.Change(line, time, m.product_id, m.order_id, m.side, m.price, m.new_size,
                          m.old_size, m.new_funds, m.old_funds),)


def _match(m: _Match, line: int, time: int) -> tuple[events.SourceEvent]:
    p, s = m.price, m.size
    if p.is_signed() or s.is_signed() or not p.is_finite() or not s.is_finite():
        _refuse(m, "price", "size")
    return (events.Match(line, time, m.product_id, m.trade_id, m.maker_order_id,
                         m.taker_order_id, m.side, p, s),)


_CONVERT: dict[type, Convert] = {_Received: _received, _Open: _open, _Done: _done,
                                 _Change: _change, _Match: _match}


def read(files: list[LineFile], position: Position) -> Iterator[events.SourceEvent]:
    """The L3 events of ``files``, read one after the other."""
    return read_messages(files, _decoder, _CONVERT, KNOWN, check_sequence=True,
                         position=position)
