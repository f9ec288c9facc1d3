"""The market maker: its ladder, its re-quoting, and its determinism (no venue involved)."""

from __future__ import annotations

from itertools import pairwise

from sandex.core import ProductStatus, Side, TimeInForce
from sandex.demo import Cancel, MarketMaker, Observation, OwnOrder, Place
from tests.support.demo_kit import BTC_TICK, UNIT, USD_TICK, FakeVenue, config, view

BUY, SELL = Side.BUY, Side.SELL
USD = UNIT  # a price of 1.00


def run(maker: MarketMaker, ticks: int, venue: FakeVenue | None = None,
        **fields: object) -> tuple[list[Observation], list[list[object]]]:
    """Drive ``maker`` against a fake venue; return what it saw and what it decided."""
    venue = venue or FakeVenue()
    seen, decided = [], []
    for _ in range(ticks):
        observation = {"BTC-USD": view(orders=venue.own("BTC-USD"), **fields)}
        intents = maker.decide(observation)
        venue.apply(intents)
        seen.append(observation)
        decided.append(intents)
    return seen, decided


def test_the_first_ladder_is_five_levels_a_side_one_spacing_apart():
    intents = MarketMaker(config()).decide({"BTC-USD": view()})
    bids = [(i.price, i.size) for i in intents if isinstance(i, Place) and i.side is BUY]
    asks = [(i.price, i.size) for i in intents if isinstance(i, Place) and i.side is SELL]
    # reference 60000, spacing 1 bp = $6.00; the mid starts at the reference
    assert bids == [(p * USD, 5_000_000) for p in (60000, 59994, 59988, 59982, 59976)]
    assert asks == [(p * USD, 5_000_000) for p in (60006, 60012, 60018, 60024, 60030)]
    assert all(i.post_only and i.time_in_force is TimeInForce.GTC for i in intents)


def test_every_ladder_respects_increments_and_never_crosses_itself():
    venue = FakeVenue()
    maker = MarketMaker(config())
    for _ in range(300):
        run(maker, 1, venue)
        bids, asks = venue.ladder("BTC-USD", BUY), venue.ladder("BTC-USD", SELL)
        assert len(bids) == len(asks) == 5
        assert bids[0] < asks[0] and asks[0] - bids[0] == 6 * USD
        assert maker.mid("BTC-USD") is not None and bids[0] <= maker.mid("BTC-USD") < asks[0]
        for side in (bids, asks):
            assert all(p % USD_TICK == 0 for p in side)
            assert [abs(a - b) for a, b in pairwise(side)] == [6 * USD] * 4


def test_a_quiet_market_is_requoted_a_few_orders_at_a_time():
    _, decided = run(MarketMaker(config()), 300)
    assert len(decided[0]) == 10
    later = [len(intents) for intents in decided[1:]]
    assert set(later) <= {0, 4}  # a grid line crossed: one level changes side, the ends move
    assert sum(later) == 168  # about 0.56 commands a tick for this seed
    crossing = next(intents for intents in decided[1:] if intents)
    assert [type(i) for i in crossing] == [Cancel, Cancel, Place, Place]


def test_the_same_seed_and_observations_give_the_same_intents():
    seen, decided = run(MarketMaker(config(seed=5)), 200)
    twin = MarketMaker(config(seed=5))
    assert [twin.decide(observation) for observation in seen] == decided
    other = MarketMaker(config(seed=6))
    assert [other.decide(observation) for observation in seen] != decided


def test_ticks_and_sizes_follow_the_product_increments():
    eth_btc = {"id": "ETH-BTC", "reference_price": "0.05", "spacing_ticks": 1, "size": "1.2345",
               "levels": 3}
    maker = MarketMaker(config(eth_btc))
    intents = maker.decide({"ETH-BTC": view("ETH-BTC", quote_increment=BTC_TICK,
                                            base_increment=10**6, min_market_funds=10**12)})
    assert [(i.side, i.price, i.size) for i in intents] == [  # type: ignore[union-attr]
        (BUY, 5_000_000, 123_000_000), (BUY, 4_999_000, 123_000_000),
        (BUY, 4_998_000, 123_000_000), (SELL, 5_001_000, 123_000_000),
        (SELL, 5_002_000, 123_000_000), (SELL, 5_003_000, 123_000_000)]


def test_levels_below_the_minimum_notional_are_left_out():
    small = {"id": "BTC-USD", "reference_price": "60000", "size": "0.0001"}  # $6 a level
    intents = MarketMaker(config(small)).decide({"BTC-USD": view(min_market_funds=10 * 10**16)})
    assert intents == []
    assert len(MarketMaker(config(small)).decide({"BTC-USD": view()})) == 10


def test_quotes_never_cross_someone_elses_order():
    others_bid = 60012 * USD  # a user bids above the maker's mid
    intents = MarketMaker(config()).decide({"BTC-USD": view(others_bid=others_bid,
                                                            bid=others_bid)})
    asks = [i.price for i in intents if isinstance(i, Place) and i.side is SELL]
    assert asks == [p * USD for p in (60018, 60024, 60030)]
    intents = MarketMaker(config()).decide({"BTC-USD": view(others_ask=59988 * USD)})
    bids = [i.price for i in intents if isinstance(i, Place) and i.side is BUY]
    assert bids == [p * USD for p in (59982, 59976)]


def test_a_level_eaten_past_half_is_refilled_and_one_less_eaten_kept():
    still = {"id": "BTC-USD", "reference_price": "60000", "size": "0.05", "walk": "0"}
    maker = MarketMaker(config(still))
    venue = FakeVenue()
    run(maker, 1, venue)
    orders = list(venue.own("BTC-USD"))
    best_bid = next(o for o in orders if o.side is BUY)
    best_ask = next(o for o in orders if o.side is SELL)
    eaten = [OwnOrder(o.order_id, o.side, o.price, o.remaining * 49 // 100) if o is best_bid
             else OwnOrder(o.order_id, o.side, o.price, o.remaining // 2) if o is best_ask
             else o for o in orders]
    intents = maker.decide({"BTC-USD": view(orders=tuple(eaten))})
    assert maker.mid("BTC-USD") == 60_000 * USD  # a walk of 0: the mid stands still
    assert intents == [Cancel("BTC-USD", best_bid.order_id),
                       Place("BTC-USD", BUY, 5_000_000, best_bid.price, post_only=True)]


def test_a_restarted_maker_keeps_the_ladder_it_finds():
    venue = FakeVenue()
    run(MarketMaker(config(seed=9)), 57, venue)
    before = venue.own("BTC-USD")
    for seed in (9, 10):  # whatever its seed, it starts between its own quotes
        restarted = MarketMaker(config(seed=seed))
        assert restarted.decide({"BTC-USD": view(orders=before, last_price=1)}) == []


def test_it_starts_at_the_last_trade_and_stays_within_the_drift_band():
    maker = MarketMaker(config())
    maker.decide({"BTC-USD": view(last_price=61_000 * USD)})
    assert maker.mid("BTC-USD") == 61_000 * USD
    far = MarketMaker(config())
    far.decide({"BTC-USD": view(last_price=90_000 * USD)})
    assert far.mid("BTC-USD") == 63_000 * USD  # 5 % above the reference
    run(far, 2000)
    assert 57_000 * USD <= far.mid("BTC-USD") <= 63_000 * USD  # type: ignore[operator]


def test_a_closed_or_absent_product_gets_no_quotes():
    for status in (ProductStatus.CANCEL_ONLY, ProductStatus.DISABLED):
        assert MarketMaker(config()).decide({"BTC-USD": view(status=status)}) == []
    assert MarketMaker(config()).decide({}) == []
    assert len(MarketMaker(config()).decide({"BTC-USD": view(
        status=ProductStatus.POST_ONLY)})) == 10


def test_sizes_rise_to_size_max_at_the_deepest_level():
    """20 levels from 0.01 to 2 BTC (a BTC-USD-like depth): equal steps, floored to the base
    increment (here 0.0001 BTC), the same on both sides."""
    deep = config({"id": "BTC-USD", "reference_price": "60000", "levels": 20, "size": "0.01",
                   "size_max": "2", "spacing": "0.0001"})
    intents = MarketMaker(deep).decide({"BTC-USD": view(base_increment=10_000)})
    bids = [i.size for i in intents if isinstance(i, Place) and i.side is BUY]
    asks = [i.size for i in intents if isinstance(i, Place) and i.side is SELL]
    wanted = [1_000_000 + 199_000_000 * k // 19 for k in range(20)]  # 0.01 + k * 1.99 / 19
    assert bids == asks == [s - s % 10_000 for s in wanted]
    assert bids[:3] == [1_000_000, 11_470_000, 21_940_000] and bids[-1] == 200_000_000


def test_size_max_below_size_is_refused():
    import pytest

    with pytest.raises(ValueError, match=r"demo.products\[0\].size_max: must be at least size"):
        config({"id": "BTC-USD", "reference_price": "60000", "size": "1", "size_max": "0.5"})
