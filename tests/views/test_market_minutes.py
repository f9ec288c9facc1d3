"""The market view's one-minute candles as trades come: compiled, a trade in the last trade's
minute finds its candle without a probe (``ProductMarket``'s cached candle, kept while the
minutes dict is unchanged); the candles must be those counted one probe a trade, whatever
changes the dict between trades (a restore's ``update``, a candle replaced or removed)."""

from __future__ import annotations

import random

import msgspec

from sandex.core import Side
from sandex.views.market import MINUTE, Candle, MarketView, add_trade


def _expected(trades: list[tuple[int, int, int]]) -> dict[int, Candle]:
    minutes: dict[int, Candle] = {}
    for time, price, size in trades:
        start = time - time % MINUTE
        c = minutes.get(start)
        if c is None:
            minutes[start] = Candle(start, price, price, price, price, size)
        else:
            c.low, c.high = min(c.low, price), max(c.high, price)
            c.close = price
            c.volume += size
    return minutes


def test_candles_are_those_of_one_probe_a_trade() -> None:
    rng = random.Random(18)
    time = 1_700_000_000_000_000
    trades = []
    for _ in range(3000):
        time += rng.choice((1, 1, 1, 1_000, 7_000_000, MINUTE))
        trades.append((time, rng.randrange(1, 10**6) * 10**6, rng.randrange(1, 10**4)))
    view = MarketView()
    for n, (t, price, size) in enumerate(trades):
        view.on_trade("BTC-USD", n, t, price, size, Side.BUY)
    assert view.products["BTC-USD"].minutes == _expected(trades)
    assert list(view.products["BTC-USD"].minutes) == list(_expected(trades))


def test_a_change_of_the_minutes_between_trades_is_seen() -> None:
    """A candle replaced (as a restore's ``update`` does), removed, or the dict cleared
    between two trades of one minute: the second counted in what the dict holds then."""
    t = 1_700_000_000_000_000
    start = t - t % MINUTE
    for change in ("replace", "remove", "clear", "update"):
        view = MarketView()
        view.on_trade("BTC-USD", 1, t, 5, 1, Side.BUY)
        minutes = view.products["BTC-USD"].minutes
        if change == "replace":
            minutes[start] = Candle(start, 3, 9, 3, 9, 10)
        elif change == "remove":
            del minutes[start]
        elif change == "clear":
            minutes.clear()
        else:
            minutes.update([(start, msgspec.structs.replace(minutes[start]))])
        kept = minutes.get(start)
        expected = {} if kept is None else {start: msgspec.structs.replace(kept)}
        add_trade(expected, t + 1, 7, 2)
        view.on_trade("BTC-USD", 2, t + 1, 7, 2, Side.SELL)
        assert minutes == expected, change
        assert minutes[start] is not None and (kept is None or minutes[start] is kept)


def test_add_trade_answers_the_minute_s_candle() -> None:
    minutes: dict[int, Candle] = {}
    t = 1_700_000_000_000_000
    first = add_trade(minutes, t, 5, 1)
    assert add_trade(minutes, t + 1, 6, 1) is first is minutes[t - t % MINUTE]
    assert first == Candle(t - t % MINUTE, 5, 6, 5, 6, 2)
