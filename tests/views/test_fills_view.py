"""The fills view builds a trade's two fills when fills are next read, not when it trades:
whatever the order of trades and reads, every read gives exactly the fills built at each
trade, in the same order; a saved copy (pickled, as ``SaveSnapshot`` keeps one) with trades
still noted reads the same."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

from sandex.core import REPLAY_PROFILE_ID, Matched, Side
from sandex.views import Fill, FillsView
from tests.support.venue_kit import Venue

PROFILES = ("alice", "bob", "carol")


def _fills_of(m: Matched) -> list[Fill]:
    taker_side = Side.SELL if m.side is Side.BUY else Side.BUY
    return [f for f in (
        Fill(m.trade_id, m.product_id, m.maker_order_id, m.maker_profile_id, "M", m.price,
             m.size, m.maker_fee, m.side, m.time),
        Fill(m.trade_id, m.product_id, m.taker_order_id, m.taker_profile_id, "T", m.price,
             m.size, m.taker_fee, taker_side, m.time)) if f.profile_id != REPLAY_PROFILE_ID]


def test_lazy_fills_read_what_eager_ones_hold() -> None:
    v = Venue()
    v.product("BTC-USD")
    lazy = FillsView()
    by_order: dict[str, list[Fill]] = {}
    by_product: dict[tuple[str, str], list[Fill]] = {}

    def feed(events: Sequence[object]) -> None:
        for event in events:
            if type(event) is Matched:
                lazy.on_match(event)
                for fill in _fills_of(event):
                    by_order.setdefault(fill.order_id, []).append(fill)
                    by_product.setdefault((fill.profile_id, fill.product_id), []).append(fill)

    for name in PROFILES:
        v.profile(name, maker="0.004" if name != "carol" else "0", taker="0.006")
        feed(v.deposit(name, "USD", "100000"))
        feed(v.deposit(name, "BTC", "10"))
    reads, saved = 0, b""
    for step in range(30):
        maker, taker = ("alice", "bob") if step % 2 else ("bob", "carol")
        sell = v.sell(maker, f"{100 + step % 3}", "0.5")
        feed(sell[1])
        feed(v.buy(taker, f"{100 + step % 3}", "0.3")[1])
        if step == 7:
            saved = pickle.dumps(lazy, protocol=5)  # trades noted, not yet built
            saved_order, saved_product = (
                {k: list(v) for k, v in by_order.items()},
                {k: list(v) for k, v in by_product.items()})
        if step % 5 == 0:  # read midway: later trades are built after these
            order_id = sell[0]
            assert lazy.for_order(order_id) == by_order.get(order_id, [])
            for name in PROFILES[step % 3:]:
                assert lazy.for_product(name, "BTC-USD") == by_product.get((name, "BTC-USD"),
                                                                           [])
            reads += 1
    assert reads and sum(len(fills) for fills in by_order.values()) > 40
    assert lazy.by_order == by_order
    assert lazy.by_product == by_product
    copy = pickle.loads(saved)
    assert copy.by_product == saved_product and copy.by_order == saved_order
