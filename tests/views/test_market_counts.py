"""A trade counted in its minute's candle (compiled: the price compared from its digits and
the volume added in place where only the candle holds it, ``market.pxd``) as a plain model
counts it, at any size of int, and a volume held elsewhere never changed."""

from __future__ import annotations

import random

from sandex.core import Side
from sandex.views.market import MINUTE, MarketView


def _model(trades: list[tuple[int, int, int]]) -> dict[int, tuple[int, int, int, int, int]]:
    """Each minute's (low, high, open, close, volume) of ``trades`` (time, price, size)."""
    out: dict[int, tuple[int, int, int, int, int]] = {}
    for time, price, size in trades:
        minute = time - time % MINUTE
        if minute not in out:
            out[minute] = (price, price, price, price, size)
        else:
            low, high, first, _close, volume = out[minute]
            out[minute] = (min(low, price), max(high, price), first, price, volume + size)
    return out


def test_candles_count_as_the_model_at_every_size_of_int() -> None:
    rng = random.Random(31)
    sizes = [1, 200, 10**8, 2**30 - 1, 2**30, 2**30 + 7, 2**59, 2**60 - 3, 2**60, 2**61,
             10**30]
    prices = [1, 300, 2**30 - 5, 2**30, 3 * 10**12, 2**60 - 1, 2**60, 2**64, 10**25]
    view = MarketView()
    trades: list[tuple[int, int, int]] = []
    held: list[tuple[int, int]] = []
    time = 10 * MINUTE
    for n in range(3000):
        time += rng.choice([1, 1000, MINUTE // 3])
        price = rng.choice(prices) + rng.randrange(50)
        size = rng.choice(sizes) + rng.randrange(3)
        view.on_trade("BTC-USD", n, time, price, size, Side.BUY)
        trades.append((time, price, size))
        if n % 97 == 0:  # a volume held here: never changed by a later trade
            candle = view.product("BTC-USD").minutes[time - time % MINUTE]
            held.append((candle.volume, int(str(candle.volume))))
    got = {minute: (c.low, c.high, c.open, c.close, c.volume)
           for minute, c in view.product("BTC-USD").minutes.items()}
    assert got == _model(trades)
    assert all(value == copy for value, copy in held)
    for c in view.product("BTC-USD").minutes.values():
        assert type(c.volume) is int and c.volume == int(str(c.volume))
