"""Testing the grid bot end to end against sandex (docs/testing.md): ``pip install sandex
ccxt`` and ``pytest`` give each test a venue reset to the scenario, clock frozen at its start."""

from decimal import Decimal

import pytest
from grid_bot import GridBot

pytestmark = pytest.mark.sandex(clock="frozen", start="2024-01-01T00:00:00Z")


def total(exchange, currency):
    return Decimal(str(exchange.fetch_balance()["total"][currency]))


def test_the_grid_trades_then_expires_and_is_quoted_again(sandex):
    bot = GridBot(sandex.ccxt())
    assert len(bot.step_once()) == 6  # an empty book: a ladder around 60000
    book = sandex.book("BTC-USD")
    assert [Decimal(bid[0]) for bid in book["bids"]] == [59900, 59800, 59700]
    assert [Decimal(ask[0]) for ask in book["asks"]] == [60100, 60200, 60300]

    # A counterparty buys 0.02 BTC up to 60200: the bot's two lowest asks fill.
    sandex.ccxt(sandex.counterparty).create_order("BTC/USD", "limit", "buy", 0.02, 60200)
    trades = bot.exchange.fetch_my_trades("BTC/USD")
    assert sorted(trade["price"] for trade in trades) == [60100, 60200]
    assert total(bot.exchange, "BTC") == Decimal("9.98")
    fees = Decimal("0.004") * (601 + 602)  # the maker fee
    assert total(bot.exchange, "USD") == 100000 + 601 + 602 - fees

    # Nothing more happens while the clock is frozen; an hour later the rest has expired.
    assert bot.step_once() == []
    assert sandex.clock.advance("1h")["fired"]["expiries"] == 4
    assert bot.exchange.fetch_open_orders("BTC/USD") == []
    assert len(bot.step_once()) == 6  # quoted again, around the mid of an empty book


def test_each_test_starts_from_the_scenario_again(sandex):
    exchange = sandex.ccxt()
    assert exchange.fetch_open_orders("BTC/USD") == []
    assert (total(exchange, "BTC"), total(exchange, "USD")) == (10, 100000)
    assert sandex.clock.now.isoformat().startswith("2024-01-01T00:00:00")
