"""Hold and fee arithmetic (§4.8, §12.2). Pure functions on ints; fees truncate.

Truncating fees is what makes a limit buy's hold always enough: for any split of a fill,
``floor(a) + floor(b) <= floor(a + b)``, and fills happen at the maker's price, never worse
than the buyer's limit.
"""

from __future__ import annotations

import cython

from sandex.core.limits import funds_truncation, unit_max
from sandex.units import RATE_SCALE

if cython.compiled:  # C 128-bit amounts (wide.pxd)
    from cython.cimports.sandex.core.wide import NOTIONAL_BOUND, div_scale, small, to_int, wide
else:
    from sandex.core.wide import NOTIONAL_BOUND, div_scale, small, to_int, wide

_RATE_BOUND = 1 << 20  # a fee rate's (``NOTIONAL_BOUND``)
_UNIT_BOUND = 1 << 53  # a price's or size's in ``plain_notional``: their product below 2**106


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
            return to_int(amount + div_scale(amount * fee_rate))  # // RATE_SCALE
    return notional + notional * rate // RATE_SCALE


@cython.locals(p=wide, s=wide, i=wide, b=wide, n=wide, m=wide, p64=cython.longlong,
               s64=cython.longlong, i64=cython.longlong, b64=cython.longlong)
def plain_notional(price: int, size: int, increment: int, base_increment: int,
                   min_funds: int) -> int | None:
    """``size * price`` if ``price`` and ``size`` are positive multiples of their increments
    within the venue's bound (``limits.unit_max``) and that notional reaches ``min_funds``;
    else ``None``. The arithmetic part of the fast
    path's guard (``validation.is_plain_limit``). Compiled, in C ``wide`` integers when all
    five are small enough (the same answer: positive operands, no product beyond 2**106)."""
    if (cython.compiled and small(price) and small(size) and small(increment)
            and small(base_increment) and small(min_funds)):
        p, s, i, b = price, size, increment, base_increment
        if i > 0 and b > 0 and p < _UNIT_BOUND and s < _UNIT_BOUND:
            if p < i or s < b:
                return None
            # 0 < i <= p < 2**53 and 0 < b <= s < 2**53: 64-bit remainders (one instruction
            # each; a 128-bit one is a call of ~40)
            p64, i64, s64, b64 = p, i, s, b
            if p64 % i64 or s64 % b64:
                return None
            n, m = s * p, min_funds
            if n < m:
                return None
            return to_int(n)
    if (increment <= price <= unit_max and base_increment <= size <= unit_max
            and not price % increment and not size % base_increment):
        notional = size * price
        if notional >= min_funds:
            return notional
    return None


def net_funds(specified_funds: int, taker_rate: int) -> int:
    """Spendable funds of a market buy: ``specified / (1 + taker_rate)``, to 8 decimals (§4.1)."""
    funds = specified_funds * RATE_SCALE // (RATE_SCALE + taker_rate)
    return funds - funds % funds_truncation


def size_for_funds(funds: int, price: int, base_increment: int) -> int:
    """The largest size, a multiple of ``base_increment``, worth at most ``funds`` at ``price``."""
    size = funds // price
    return size - size % base_increment
