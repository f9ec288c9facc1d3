"""``coinbase-level2``: a Coinbase ``level2`` recording -> L2 source events (and trades).

``snapshot`` (``bids``/``asks`` as ``[[price, size]]``) becomes one ``Snapshot``; each change
``[side, price, size]`` of an ``l2update`` one ``Level`` (size = the level's new total, ``0``
removes it); a ``match`` (the ``matches`` channel, or ``full``'s in a mixed recording) becomes a
``Trade`` with the TAKER's side (Coinbase's ``side`` is the maker's, so it is flipped).
``last_match`` (the trade before the subscribe, not a new one), ``ticker``, ``heartbeat``,
``status``, ``subscriptions`` and the ``full`` channel's order messages are passed over.
Times never go back; sequences are not checked (``l2update`` has none).
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
_TAKER = {"buy": "sell", "sell": "buy"}


class _Snapshot(Message, tag="snapshot", kw_only=True):
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


class _Update(Message, tag="l2update", kw_only=True):
    changes: list[tuple[Side, Decimal, Decimal]]


class _Match(Message, tag="match", kw_only=True):
    trade_id: int | None = None
    side: Side
    price: Decimal
    size: Decimal


SKIPPED = ("last_match", "ticker", "ticker_batch", "heartbeat", "status", "subscriptions",
           "received", "open", "done", "change", "activate")
_SKIP = tuple(skipped(*SKIPPED))
KNOWN = frozenset({*SKIPPED, "snapshot", "l2update", "match"})
_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    Union[(_Snapshot, _Update, _Match, *_SKIP)])


def _levels(rows: list[tuple[Decimal, Decimal]], best_first_descending: bool,
            ) -> tuple[tuple[Decimal, Decimal], ...]:
    checked = [(amount(price, "price"), amount(size, "size")) for price, size in rows]
    checked.sort(key=lambda row: row[0], reverse=best_first_descending)
    return tuple(checked)


def _update(m: _Update, line: int, time: int) -> tuple[events.SourceEvent, ...]:
    product = m.product_id
    return tuple(events.Level(line, time, product, side, amount(price, "price"),
                              amount(size, "size")) for side, price, size in m.changes)


def _match(m: _Match, line: int, time: int) -> tuple[events.SourceEvent]:
    trade_id = None if m.trade_id is None else str(m.trade_id)
    return (events.Trade(line, time, m.product_id, _TAKER[m.side], amount(m.price, "price"),
                         amount(m.size, "size"), trade_id),)


def _snapshot(m: _Snapshot, line: int, time: int) -> tuple[events.SourceEvent]:
    return (events.Snapshot(line, time, m.product_id, _levels(m.bids, True),
                            _levels(m.asks, False)),)


_CONVERT: dict[type, Convert] = {_Update: _update, _Match: _match, _Snapshot: _snapshot}


def read(files: list[LineFile], position: Position) -> Iterator[events.SourceEvent]:
    """The L2 events and trades of ``files``, read one after the other."""
    return read_messages(files, _decoder, _CONVERT, KNOWN, check_sequence=False,
                         position=position)
