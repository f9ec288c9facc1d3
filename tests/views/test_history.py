"""The read models' history lists are out of the garbage collector's walk (compiled), and the
fills view reads the same whichever way an order's fills are kept."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from sandex import native
from sandex.core import Matched
from sandex.views.fills import FillsView
from sandex.views.history import history
from sandex.views.ledger import LedgerView
from sandex.views.market import MarketView
from tests.support.venue_kit import Venue

compiled_only = pytest.mark.skipif(not native.compiled(), reason="untracking needs the build")


def fed(takers: int) -> tuple[FillsView, LedgerView, MarketView, str, list[str]]:
    """The views after the maker's one sell filled by ``takers`` buys (the maker's order id,
    the takers')."""
    v = Venue()
    v.product("BTC-USD")
    fills, ledger, market = FillsView(), LedgerView(), MarketView()
    for name in ("maker", "taker"):
        v.profile(name)
        v.deposit(name, "USD", "100000")
        v.deposit(name, "BTC", "10")
    rest, _ = v.sell("maker", "100", "5")
    taken = []
    for _ in range(takers):
        order_id, events = v.buy("taker", "100", "0.01")
        taken.append(order_id)
        for m in events:
            if type(m) is Matched:
                fills.on_match(m)
                ledger.on_match(m, v.engine.products["BTC-USD"])
                market.on_match(m)
    return fills, ledger, market, rest, taken


def test_an_order_filled_once_or_more_reads_in_trade_order() -> None:
    # the maker's order fills three times, each taker's order once
    fills, _, _, rest, taken = fed(3)
    trades = [f.trade_id for f in fills.for_product("taker", "BTC-USD")]
    assert len(trades) == 3 and trades == sorted(trades)
    assert [(f.trade_id, f.liquidity) for f in fills.for_order(rest)] == [
        (t, "M") for t in trades]
    assert [(f.trade_id, f.liquidity, f.side.value) for f in fills.for_order(taken[1])] == [
        (trades[1], "T", "buy")]
    assert fills.for_order("never") == []
    assert [f.order_id for f in fills.for_product("taker", "BTC-USD")] == taken
    restored = FillsView()  # a snapshot's restore adds fill by fill
    for group in fills.by_product.values():
        for fill in group:
            restored._add(fill)
    assert restored.for_order(rest) == fills.for_order(rest)
    assert restored.for_order(taken[2]) == fills.for_order(taken[2])


def test_the_fills_by_order_hold_nothing_the_collector_tracks() -> None:
    fills, _, _, _, _ = fed(49)
    gc.collect()
    assert not gc.is_tracked(fills.by_order)  # fills only: a full collection skips it


@compiled_only
def test_the_history_lists_are_not_walked_when_compiled() -> None:
    fills, ledger, market, _, _ = fed(49)
    tails = [tail for by_currency in ledger._tails.values() for tail in by_currency.values()]
    lists: list[list[Any]] = [*fills.by_product.values(), *fills.more.values(), *tails,
                              market.product("BTC-USD").trades]
    # both profiles' fills, the maker's order's, four accounts' pending trades, the trades
    assert len(lists) == 2 + 1 + 4 + 1 and all(len(items) >= 49 for items in lists)
    assert not any(gc.is_tracked(items) for items in lists)
    # and the pending trades themselves ((match, base, quote) tuples), untracked when made
    assert not any(gc.is_tracked(trade) or gc.is_tracked(trade[0])
                   for tail in tails for trade in tail)
    ledger.for_account("maker", "USD")  # expanded into entries: a history list too
    assert not gc.is_tracked(ledger._entries[("maker", "USD")])
    assert not gc.is_tracked(history([1, 2]))


def test_history_is_the_same_list() -> None:
    items = [1, 2]
    assert history(items) is items and items == [1, 2]
