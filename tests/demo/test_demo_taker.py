"""The taker flow: seeded, small, and only where there is something to take."""

from __future__ import annotations

from sandex.core import ProductStatus, Side, TimeInForce
from sandex.demo import Place, Taker
from tests.support.demo_kit import UNIT, config, view

BID, ASK = 59_994 * UNIT, 60_006 * UNIT
OBSERVATION = {"BTC-USD": view(bid=BID, ask=ASK)}


def orders(taker: Taker, ticks: int, **fields: object) -> list[list[Place]]:
    observation = {"BTC-USD": view(**{"bid": BID, "ask": ASK, **fields})}
    return [taker.decide(observation) for _ in range(ticks)]


def test_one_tick_in_five_brings_a_small_order():
    decided = orders(Taker(config()), 1000)
    placed = [o for tick in decided for o in tick]
    assert all(len(tick) <= 1 for tick in decided)
    assert len(placed) == 202  # taker_chance 0.2 over 1000 ticks, for this seed
    assert all(500_000 <= o.size <= 2_000_000 for o in placed)  # 25-100 % of taker_size 0.02
    market = [o for o in placed if o.price is None]
    limits = [o for o in placed if o.price is not None]
    assert len(market) == 98 and len(limits) == 104
    assert all(o.time_in_force is TimeInForce.IOC for o in limits)
    assert all(o.price == (ASK if o.side is Side.BUY else BID) for o in limits)
    assert {o.side for o in placed} == {Side.BUY, Side.SELL}


def test_the_same_seed_and_observations_give_the_same_orders():
    assert orders(Taker(config(seed=4)), 300) == orders(Taker(config(seed=4)), 300)
    assert orders(Taker(config(seed=4)), 300) != orders(Taker(config(seed=5)), 300)


def test_it_takes_only_what_is_there():
    no_asks = [o for tick in orders(Taker(config()), 500, ask=None) for o in tick]
    assert no_asks and {o.side for o in no_asks} == {Side.SELL}
    assert [o for tick in orders(Taker(config()), 200, bid=None, ask=None) for o in tick] == []


def test_it_respects_the_trading_status():
    for status in (ProductStatus.POST_ONLY, ProductStatus.CANCEL_ONLY, ProductStatus.DISABLED):
        assert all(tick == [] for tick in orders(Taker(config()), 200, status=status))
    limit_only = [o for tick in orders(Taker(config()), 500, status=ProductStatus.LIMIT_ONLY)
                  for o in tick]
    assert limit_only and all(o.price is not None for o in limit_only)


def test_a_zero_chance_means_no_taker_flow():
    quiet = {"id": "BTC-USD", "reference_price": "60000", "size": "0.05", "taker_chance": "0"}
    assert all(tick == [] for tick in orders(Taker(config(quiet)), 500))
