"""The runner on a real in-process venue (the default scenario): book, trades, candles."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest

from sandex.core import CancelAll, Side, Status, Withdraw, check_invariants, state_hash
from sandex.demo import DemoTimer, run_demo, withdraw_quotes
from sandex.demo import runner as demo_runner
from sandex.node import ClockMode, Node, SetClock
from sandex.server import Venue, build
from tests.support.demo_kit import UNIT, default_config

PRODUCTS = ("BTC-USD", "ETH-USD", "ETH-BTC", "BTC-EUR")
LEVELS = {"BTC-USD": 20, "ETH-USD": 5, "ETH-BTC": 5, "BTC-EUR": 20}  # a side, the default table
QUOTES = 2 * sum(LEVELS.values())  # the maker's orders once its ladders are up: 100
CONFIG = default_config(tick_seconds=0.001)
MAKER, TAKER = CONFIG.maker_profile_id, CONFIG.taker_profile_id
DEMO_USER = "8058d771-2d88-4f0f-ab6e-299c153d4308"


def venue() -> Venue:
    return build(None, data_dir=None, seed=7)


def demo(node: Node, ticks: int) -> int:
    """Run ``ticks`` ticks; return how many commands were journaled."""
    before = node.position
    asyncio.run(run_demo(node, CONFIG, ticks=ticks))
    return node.position - before


@pytest.fixture(scope="module")
def traded() -> tuple[Node, int]:
    node = venue().node
    return node, demo(node, 300)


def test_the_book_has_both_sides_on_every_product(traded):
    node, _ = traded
    spacing = {"BTC-USD": 6 * UNIT, "ETH-USD": 30_000_000, "ETH-BTC": 1000,
               "BTC-EUR": 550_000_000}
    for product_id in PRODUCTS:
        bids, asks = node.engine.products[product_id].book.level2()
        assert len(bids) == len(asks) == LEVELS[product_id], product_id
        assert asks[0][0] - bids[0][0] == spacing[product_id]
        resting = [order_id for side in node.engine.products[product_id].book.level3()
                   for _, _, order_id in side]
        assert {node.engine.orders[i].profile_id for i in resting} == {MAKER}
    check_invariants(node.engine)


def test_trades_moved_the_ticker_and_made_candles(traded):
    node, journaled = traded
    trades = {p: len(node.market.product(p).trades) for p in PRODUCTS}
    assert trades == {"BTC-USD": 69, "ETH-USD": 62, "ETH-BTC": 32, "BTC-EUR": 35}
    assert journaled == QUOTES + 930  # the first ladders, then ~3.1 commands a tick
    reference = {p.product_id: p.reference_price for p in CONFIG.products}
    for product_id in PRODUCTS:
        last = node.market.last_trade(product_id)
        assert last is not None and last.price == node.engine.products[product_id].last_price
        candles = node.market.candles(product_id, 60, 0, node.now())
        day, _ = node.market.stats(product_id, node.now())
        assert candles and day is not None and day.volume == sum(
            t.size for t in node.market.product(product_id).trades)
        assert abs(last.price - reference[product_id]) * 20 <= reference[product_id]  # 5 %


def test_only_the_demo_profiles_traded_and_everything_reconciles(traded):
    node, _ = traded
    engine = node.engine
    check_invariants(engine)
    for trade_list in node.market.products.values():
        assert trade_list.trades
    maker, taker = engine.profiles[MAKER], engine.profiles[TAKER]
    assert all(o.status is Status.OPEN for o in maker.live.values())
    assert len(maker.live) == QUOTES and not taker.live
    usd_bids = [o for o in maker.live.values() if o.side is Side.BUY and o.product_id in (
        "BTC-USD", "ETH-USD")]
    assert maker.accounts["USD"].hold == sum(o.remaining * o.price for o in usd_bids)
    deposited = {"USD": 10**8, "EUR": 10**8, "BTC": 10**4, "ETH": 10**5}
    for currency, amount in deposited.items():  # fees are zero: one's loss is the other's gain
        total = maker.accounts[currency].balance + taker.accounts[currency].balance
        assert total == 2 * amount * 10**16, currency
    user = engine.profiles[DEMO_USER]
    assert user.accounts["USD"].balance == 100_000 * 10**16  # the demo user is untouched


def test_a_run_is_reproducible_from_its_seed(traded):
    node, _ = traded
    again = venue().node
    demo(again, 300)
    assert state_hash(again.engine) == state_hash(node.engine)


def test_a_restarted_server_picks_up_the_makers_open_orders(tmp_path):
    node = build(None, data_dir=tmp_path, seed=7).node
    demo(node, 20)
    before = set(node.engine.profiles[MAKER].live)
    asyncio.run(node.close())
    node = build(None, data_dir=tmp_path, seed=7).node  # replays the journal
    assert set(node.engine.profiles[MAKER].live) == before
    journaled = demo(node, 1)  # a new maker, seeded afresh: it starts between its own quotes
    assert journaled == 0  # for this seed no grid line is crossed and no taker order comes
    assert set(node.engine.profiles[MAKER].live) == before
    journaled = demo(node, 10)
    assert 0 < journaled < 40  # it trades on, re-quoting only what moves
    asyncio.run(node.close())


def test_refused_commands_are_logged_and_the_demo_goes_on(caplog):
    node = venue().node
    demo(node, 1)
    usd = node.engine.profiles[MAKER].accounts["USD"]

    async def drain() -> None:  # no USD left for the maker's BTC-USD bids
        await node.execute(CancelAll(time=node.stamp(), profile_id=MAKER, product_id="BTC-USD"))
        await node.execute(Withdraw(time=node.stamp(), profile_id=MAKER, currency="USD",
                                    amount=usd.balance - usd.hold, transfer_id="drain"))

    asyncio.run(drain())
    with caplog.at_level(logging.DEBUG, logger="sandex.demo"):
        demo(node, 3)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) >= 5 and all("Insufficient funds" in m for m in refused)
    assert all(m.startswith("demo: Place(product_id='BTC-USD', side=<Side.BUY") for m in refused)
    check_invariants(node.engine)
    bids, asks = node.engine.products["BTC-USD"].book.level2()
    assert len(asks) == 20 and bids == []
    assert len(node.engine.products["ETH-USD"].book.level2()[0]) == 5


def test_a_failing_tick_does_not_stop_the_demo(monkeypatch, caplog):
    node = venue().node
    real, calls = demo_runner.observe, []

    def flaky(engine, config):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real(engine, config)

    monkeypatch.setattr(demo_runner, "observe", flaky)
    with caplog.at_level(logging.WARNING, logger="sandex.demo"):
        demo(node, 5)
    assert len(calls) == 5
    assert any("tick failed" in r.getMessage() for r in caplog.records)
    assert len(node.engine.profiles[MAKER].live) == QUOTES


def test_without_its_profiles_the_demo_stays_off(caplog):
    node = venue().node
    config = replace(CONFIG, maker_profile_id="nobody")
    with caplog.at_level(logging.WARNING, logger="sandex.demo"):
        asyncio.run(run_demo(node, config, ticks=5))
    assert any("maker profile nobody does not exist" in r.getMessage() for r in caplog.records)
    assert not any(t.trades for t in node.market.products.values())


def test_withdrawing_the_quotes_empties_the_makers_side_of_the_book():
    node = venue().node
    demo(node, 3)
    canceled = asyncio.run(withdraw_quotes(node, CONFIG))
    assert canceled == QUOTES and not node.engine.profiles[MAKER].live
    assert all(node.engine.products[p].book.level2() == ([], []) for p in PRODUCTS)
    before = node.position
    assert asyncio.run(withdraw_quotes(node, CONFIG)) == 0 and node.position == before
    check_invariants(node.engine)


def test_on_the_wall_clock_a_stalled_tick_runs_once_re_anchored_not_in_a_burst():
    node = venue().node
    timer = DemoTimer(node, CONFIG, first_due=1_000_000_000)
    tick = 1000  # CONFIG's tick: 1 ms
    assert timer.due(1_000_000_000 + tick - 1) == 1_000_000_000  # late by less than a tick
    assert timer.due(1_000_000_000 + 50 * tick) == 1_000_000_000 + 50 * tick  # a stall
    timer.fire(1_000_000_000 + 50 * tick)
    assert timer.due(1_000_000_000 + 50 * tick) == 1_000_000_000 + 51 * tick
    node.apply(SetClock(time=node.stamp(), mode=ClockMode.VIRTUAL, rate=0.0))
    assert timer.due(1_000_000_000 + 500 * tick) == 1_000_000_000 + 51 * tick  # virtual: due
