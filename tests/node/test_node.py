"""The node: strictly increasing stamps, commands applied in order, read models fed."""

from __future__ import annotations

import asyncio

from sandex.core import AddProduct, CreateProfile, Deposit, OrderType, PlaceOrder, Side
from sandex.node import Ids, ManualClock, Node

T0 = 1_700_000_000_000_000


def test_stamps_strictly_increase_even_when_the_clock_stands_still():
    clock = ManualClock(T0)
    node = Node(clock=clock, ids=Ids(seed=7))
    assert [node.stamp() for _ in range(3)] == [T0, T0 + 1, T0 + 2]
    clock.advance(1)
    assert node.stamp() == T0 + 1_000_000
    assert node.now() == T0 + 1_000_000


def test_seeded_ids_are_reproducible_uuid4():
    first, second = Ids(seed=3), Ids(seed=3)
    ids = [first.uuid() for _ in range(3)]
    assert ids == [second.uuid() for _ in range(3)]
    assert all(len(i) == 36 and i[14] == "4" and i[19] in "89ab" for i in ids)
    assert len(Ids().user_id()) == 24


def test_execute_applies_and_feeds_fills_ledger_and_trades():
    node = Node(clock=ManualClock(T0), ids=Ids(seed=1))
    node.apply(AddProduct(time=node.stamp(), product_id="BTC-USD", base_currency="BTC",
                          quote_currency="USD", base_increment=1, quote_increment=10**6,
                          min_market_funds=0))
    for name in ("a", "b"):
        node.apply(CreateProfile(time=node.stamp(), profile_id=name, user_id=name, name=name,
                                 maker_fee_rate=0, taker_fee_rate=0))
    node.apply(Deposit(time=node.stamp(), profile_id="a", currency="BTC", amount=10**16,
                       transfer_id="t1"))
    node.apply(Deposit(time=node.stamp(), profile_id="b", currency="USD", amount=10**20,
                       transfer_id="t2"))

    def order(profile: str, side: Side) -> PlaceOrder:
        return PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(), profile_id=profile,
                          product_id="BTC-USD", side=side, type=OrderType.LIMIT,
                          price=100 * 10**8, size=10**8)

    sell = order("a", Side.SELL)
    asyncio.run(node.execute(sell))
    asyncio.run(node.execute(order("b", Side.BUY)))
    assert [f.liquidity for f in node.fills.for_order(sell.order_id)] == ["M"]
    assert [t.price for t in node.market.product("BTC-USD").trades] == [100 * 10**8]
    ledger = node.ledger.for_account("a", "USD")
    assert [e.balance for e in ledger] == [100 * 10**16]
    assert sell.order_id in node.orders.for_profile("a")
