"""What keeps a long replay's memory flat: the public trade history is trimmed to its newest
``TRADES_KEPT`` (pages still follow trade ids), and replayed orders leave nothing behind."""

from __future__ import annotations

import pytest

from sandex.core import Matched, Side
from sandex.views import market as market_module
from sandex.views.market import MarketView


def trade(trade_id: int) -> Matched:
    return Matched(1_700_000_000_000_000 + trade_id, "BTC-USD", trade_id, trade_id, "m", "t",
                   "replay", "replay", Side.SELL, 100, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def test_the_trade_history_keeps_the_newest_and_trims_in_one_step(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market_module, "TRADES_KEPT", 10)
    view = MarketView()
    for trade_id in range(1, 21):
        view.on_match(trade(trade_id))
    assert len(view.product("BTC-USD").trades) == 20  # up to twice the number kept
    view.on_match(trade(21))
    kept = view.product("BTC-USD").trades
    assert [t.trade_id for t in kept] == list(range(12, 22))
    assert view.last_trade("BTC-USD") is kept[-1]
    # the candle of the minute counted every trade, trimmed or not
    (candle,) = view.product("BTC-USD").minutes.values()
    assert candle.volume == 21


def test_the_feed_mirror_s_price_heaps_stay_bounded_when_no_one_looks() -> None:
    from sandex.api.feed.state import HEAP_SLACK, MirrorBook

    mirror = MirrorBook()
    mirror.open("keep", True, 50, 1)
    for i in range(20_000):  # a level opened and emptied again and again, never looked at
        mirror.open(f"o{i}", True, 100 + i % 7, 1)
        mirror.remove(f"o{i}")
    assert len(mirror._bid_heap) <= 2 * len(mirror.bids) + HEAP_SLACK + 1
    assert mirror.best(True) == (50, 1)
