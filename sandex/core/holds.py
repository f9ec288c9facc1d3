"""Hold and fee arithmetic (§4.8, §12.2). Pure functions on ints; fees truncate.

Truncating fees is what makes a limit buy's hold always enough: for any split of a fill,
``floor(a) + floor(b) <= floor(a + b)``, and fills happen at the maker's price, never worse
than the buyer's limit.
"""

from __future__ import annotations

import cython

from sandex.core.limits import funds_truncation
from sandex.units import RATE_SCALE

if cython.compiled:  # C 128-bit amounts (wide.pxd)
    from cython.cimports.sandex.core.wide import NOTIONAL_BOUND, small, to_int, wide
    from cython.cimports.sandex.core.wide import RATE_SCALE as WIDE_RATE_SCALE
else:
    from sandex.core.wide import NOTIONAL_BOUND, small, to_int, wide
    from sandex.core.wide import RATE_SCALE as WIDE_RATE_SCALE

_RATE_BOUND = 1 << 20  # a fee rate's (``NOTIONAL_BOUND``)


def hold_rate(maker_rate: int, taker_rate: int) -> int:
    """The fee rate a limit buy's hold reserves: the larger, as it may fill either way."""
    return maker_rate if maker_rate > taker_rate else taker_rate


def limit_buy_hold(size: int, price: int, rate: int) -> int:
    """What a limit buy of ``size`` at ``price`` reserves: ``price * size * (1 + rate)``."""
    return buy_hold(size * price, rate)


@cython.locals(amount=wide, fee_rate=wide)
def buy_hold(notional: int, rate: int) -> int:
    """``limit_buy_hold`` of an order worth ``notional``: ``notional`` and its fee at ``rate``
    (truncated). Compiled, in C ``wide`` integers when both are small enough."""
    if cython.compiled and small(notional) and small(rate):
        amount, fee_rate = notional, rate
        if (-NOTIONAL_BOUND < amount < NOTIONAL_BOUND
                and -_RATE_BOUND < fee_rate < _RATE_BOUND):
            return to_int(amount + amount * fee_rate // WIDE_RATE_SCALE)
    return notional + notional * rate // RATE_SCALE


def net_funds(specified_funds: int, taker_rate: int) -> int:
    """Spendable funds of a market buy: ``specified / (1 + taker_rate)``, to 8 decimals (§4.1)."""
    funds = specified_funds * RATE_SCALE // (RATE_SCALE + taker_rate)
    return funds - funds % funds_truncation


def size_for_funds(funds: int, price: int, base_increment: int) -> int:
    """The largest size, a multiple of ``base_increment``, worth at most ``funds`` at ``price``."""
    size = funds // price
    return size - size % base_increment
