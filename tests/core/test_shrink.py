"""``matching.shrink`` (an STP decrement, a replayed ``change``): compiled, its release is C
``wide`` arithmetic (a limit buy's new hold as ``holds.buy_hold``'s C branch within
``_fits_wide``'s bounds, else ``limit_buy_hold``); here against the Python ints' formula,
for limit buys and sells of random prices, sizes and fee rates, the order's and its
account's hold and the ``Changed`` event after each shrink.
"""

from __future__ import annotations

import random

import pytest

from sandex.core.events import Changed
from sandex.core.matching import shrink
from sandex.core.model import Side
from sandex.units import RATE_SCALE, SIZE_TO_AMOUNT
from tests.support.venue_kit import Venue


@pytest.mark.parametrize("seed", range(4))
def test_shrink_releases_what_the_smaller_order_no_longer_holds(seed: int) -> None:
    rng = random.Random(seed)
    v = Venue(check=False)  # the level's size is shrink's caller's: not kept here
    v.product("BTC-USD")
    maker = ("0", "0", "0.004", "0.25")[seed]
    v.profile("alice", maker=maker, taker=("0", "0.006", "0.3", "0.01")[seed],
              usd="900000000000", btc="9000000")
    engine = v.engine
    product = engine.products["BTC-USD"]
    for i in range(60):
        buy = rng.random() < 0.5
        cents = rng.randrange(100_000, 5_000_000) if buy else rng.randrange(5_000_001, 9_000_000)
        size = rng.choice((rng.randrange(10**5, 10**5 + 50), rng.randrange(10**5, 10**9)))
        oid, _ = v.order("alice", "buy" if buy else "sell", f"{cents // 100}.{cents % 100:02d}",
                         f"{size // 10**8}.{size % 10**8:08d}", order_id=f"o{i}")
        order = engine._live[oid]
        account = order.hold_account
        for _ in range(3):
            old = order._remaining
            if old < 2:
                break
            new = rng.randrange(1, old)
            before, account_before = order.hold, account.hold
            engine._events = []
            shrink(engine, order, new, product, v.stamp())
            if order.side is Side.BUY:
                notional = new * order.price
                expected = notional + notional * order.hold_rate // RATE_SCALE
                release = before - expected
                assert order.hold == expected
            else:
                release = (old - new) * SIZE_TO_AMOUNT
                assert order.hold == before - release
            assert account.hold == account_before - release
            assert order._remaining == new
            [event] = engine._events
            assert isinstance(event, Changed)
            assert (event.order_id, event.old_size, event.new_size, event.reason,
                    event.sequence) == (oid, old, new, "STP", product.sequence)
