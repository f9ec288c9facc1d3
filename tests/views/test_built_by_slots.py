"""Compiled, the fills view builds its ``Fill`` records and the market view its ``Trade``
records from their slots (``slots.new``/``put``, as ``emit`` builds the core's events) instead
of msgspec's constructor: a replay makes one of each a trade side. The records must be the
ones the constructor makes (equal, same field types and objects, hashable as frozen
Structs), and hold each field's reference once."""

from __future__ import annotations

import sys

import pytest

from sandex import native
from sandex.core import Side
from sandex.views import fills as fills_module
from sandex.views import market as market_module
from sandex.views.fills import Fill, FillsView
from sandex.views.market import MarketView, Trade
from tests.support.refcounts_kit import fresh


def test_fills_are_the_constructors() -> None:
    view = FillsView()
    trade_id, price, size, maker_fee, taker_fee, time = (fresh(i) for i in range(1, 7))
    product, maker_order, taker_order = "BTC-USD", f"m-{id(view)}", f"t-{id(view)}"
    maker, taker = f"pm-{id(view)}", f"pt-{id(view)}"
    counted = [trade_id, price, size, maker_fee, taker_fee, time, maker_order, taker_order,
               maker, taker]
    before = [sys.getrefcount(value) for value in counted]
    view.on_trade(trade_id, product, maker_order, taker_order, maker, taker, Side.BUY, price,
                  size, maker_fee, taker_fee, time)
    made = view.by_order[maker_order], view.by_order[taker_order]
    assert made == (
        Fill(trade_id, product, maker_order, maker, "M", price, size, maker_fee, Side.BUY,
             time),
        Fill(trade_id, product, taker_order, taker, "T", price, size, taker_fee, Side.SELL,
             time))
    assert all(type(fill) is Fill for fill in made)
    assert made[0].side is Side.BUY and made[1].side is Side.SELL
    assert made[0].price is price and made[1].created_at is time
    assert hash(made[0]) == hash(Fill(*(getattr(made[0], f) for f in Fill.__struct_fields__)))
    view.by_order.clear()
    view.more.clear()
    view.by_product.clear()
    view._lists.clear()
    del made
    # compiled, the view keeps its last lists by the profiles' ids (kept.pxd) until it is
    # freed: every reference given back then
    del view
    assert [sys.getrefcount(value) for value in counted] == before


def test_trades_are_the_constructors() -> None:
    view = MarketView()
    trade_id, time, price, size = fresh(1), 60_000_000 * 7 + 5, fresh(3), fresh(4)
    counted = [trade_id, price, size]
    view.on_trade("BTC-USD", trade_id, time, price, size, Side.SELL)
    trade = view.product("BTC-USD").trades[-1]
    assert type(trade) is Trade
    assert trade == Trade(trade_id, time, price, size, Side.SELL)
    assert trade.trade_id is trade_id and trade.side is Side.SELL
    before = [sys.getrefcount(value) for value in counted]
    view.product("BTC-USD").trades.clear()
    del trade
    assert [sys.getrefcount(value) for value in counted] == [n - 1 for n in before]


def test_built_by_slots_when_compiled() -> None:
    if not native.compiled():
        assert fills_module.FILLS_BUILT_BY_SLOTS is False
        assert market_module.TRADES_BUILT_BY_SLOTS is False
        pytest.skip(f"the compiled core is not built ({native.WHY_PURE})")
    assert fills_module.FILLS_BUILT_BY_SLOTS is True
    assert market_module.TRADES_BUILT_BY_SLOTS is True
