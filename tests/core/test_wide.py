"""The compiled core's 128-bit amounts (``sandex/core/wide.pxd``): its constants are the
units', and the twin test's wide stream trades on both sides of the bounds that choose
between the C settlement and Python's ints."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from sandex import units
from sandex.core import Engine, Matched
from sandex.core.commands import AddProduct, SetMatching, SetProductStatus
from sandex.core.engine import notional_in, notional_of
from sandex.core.enums import ProductStatus
from sandex.core.holds import buy_hold, plain_notional
from sandex.core.image import export, restore
from sandex.core.limits import unit_max
from sandex.core.product import Product
from sandex.core.wide import NO_UNIT, small, unit
from sandex.native import compiled
from tests.core.test_compiled_twin import wide_stream

WIDE_PXD = Path(__file__).resolve().parents[2] / "sandex" / "core" / "wide.pxd"


def test_the_c_constants_are_the_units() -> None:
    text = WIDE_PXD.read_text()
    defined = dict(re.findall(r"#define SANDEX_(\w+) \(\(sandex_wide\)(\d+)\)", text))
    assert defined == {"RATE_SCALE": str(units.RATE_SCALE),
                       "SIZE_TO_AMOUNT": str(units.SIZE_TO_AMOUNT)}
    # ``div_scale``'s long division shifts a remainder below the scale up by 32 bits
    assert 0 < units.RATE_SCALE < 2**32


def test_small_is_at_most_120_bits_of_an_exact_int() -> None:
    assert small(2**120 - 1) and small(-(2**120 - 1)) and small(0)
    assert not small(2**120) and not small(-(2**120))
    assert not small(None) and not small(True) and not small(1.0)


def test_the_wide_stream_trades_on_both_sides_of_the_bounds() -> None:
    engine = Engine()
    trades = [event for command in wide_stream(random.Random(1), 400)
              for event in engine.apply(command) if isinstance(event, Matched)]
    prices = {trade.price >= 2**53 for trade in trades}
    balances = {max(trade.seller_quote_balance, trade.buyer_base_balance) >= 2**120
                for trade in trades}
    assert len(trades) > 50 and prices == {True, False} and balances == {True, False}


def _near_bounds(rnd: random.Random) -> int:
    """An int on either side of a bound the C paths check (2**53, 120 bits), or the venue's
    (``unit_max``), or small."""
    base = rnd.choice([0, 1, 3, 10**6, 2**53, unit_max, 2**106, 2**120, 2**125])
    return rnd.choice([1, -1, 1, 1]) * (base + rnd.randint(-3, 3)) * rnd.choice([1, 1, 10**6])


def test_plain_notional_is_its_python_expression() -> None:
    """The fast path's guard (C ``wide`` when the values are small enough) answers as the
    Python expression it replaces, on both sides of every bound."""
    rnd = random.Random(7)
    for _ in range(20_000):
        price, size, increment, base, funds = (_near_bounds(rnd) for _ in range(5))
        if rnd.random() < 0.5:  # on the grid, so the remainders and the product are reached
            increment, base = abs(increment) or 1, abs(base) or 1
            price, size = increment * rnd.randint(1, 9), base * rnd.randint(1, 9)
        try:
            expected = (size * price if unit_max >= price >= increment
                        and unit_max >= size >= base
                        and not price % increment and not size % base
                        and size * price >= funds else None)
        except ZeroDivisionError:
            continue
        assert plain_notional(price, size, increment, base, funds) == expected


def test_notional_of_is_plain_notional() -> None:
    """The engine's guard (``notional_of``: the notional as a C ``wide``, -1 for ``None``)
    answers as ``plain_notional`` on both sides of every bound, and raises where it does."""
    rnd = random.Random(11)
    for _ in range(20_000):
        price, size, increment, base, funds = (_near_bounds(rnd) for _ in range(5))
        if rnd.random() < 0.5:
            increment, base = abs(increment) or 1, abs(base) or 1
            price, size = increment * rnd.randint(1, 9), base * rnd.randint(1, 9)
        try:
            expected = plain_notional(price, size, increment, base, funds)
        except ZeroDivisionError:
            with pytest.raises(ZeroDivisionError):
                notional_of(price, size, increment, base, funds)
            continue
        assert notional_of(price, size, increment, base, funds) == (
            -1 if expected is None else expected)


def test_unit_is_an_exact_int_below_2_to_the_53() -> None:
    """``unit`` (uncompiled here; compiled it is C, read from one or two 30-bit digits)."""
    assert NO_UNIT == -(2**63)
    for value in (0, 1, -1, 2**30 - 1, 2**30, 2**53 - 1, -(2**53 - 1)):
        assert unit(value) == value
    for value in (2**53, -(2**53), 2**60, 2**63, None, True, 1.0):
        assert unit(value) == NO_UNIT


def _rules(product: Product) -> tuple[int, int, int]:
    return product.quote_increment, product.base_increment, product.min_market_funds


def test_notional_in_is_notional_of_the_products_rules() -> None:
    """The engine's guard (``notional_in``: compiled, the product's rules as the C values it
    made once, ``Product.plain_rules``) answers as ``notional_of`` of the product's own
    increments and minimum funds, for rules on each side of ``unit``'s and ``small``'s edges
    (and non-positive increments: not plain, ``notional_of``'s path) and prices and sizes
    on each side of theirs."""
    edges = [1, 2, 7, 2**30 - 1, 2**30, 2**30 + 1, 2**53 - 1, 2**53, 2**60, 10**16, 2**120,
             2**121]
    rules = [*edges, 0, -1, -(2**30), -(2**53), -(2**121)]
    rnd = random.Random(29)
    products = [Product("X-Y", "X", "Y", base, quote, funds, ProductStatus.ONLINE)
                for base in (1, 2**30, 2**53 - 1, 2**53, 0, -3) for quote in (1, 7, 2**53, -1)
                for funds in rules]
    values = [*edges, *(e * k for e in (1, 2**30, 2**53 - 1) for k in (2, 3, 10**8)),
              *(-e for e in edges), 0]
    for product in products:
        quote, base, _ = _rules(product)
        for _ in range(60):
            price, size = rnd.choice(values), rnd.choice(values)
            if rnd.random() < 0.4 and quote > 0 and base > 0:  # on the increments' grid
                price, size = quote * rnd.randint(1, 10**6), base * rnd.randint(1, 10**6)
            try:
                expected = notional_of(price, size, *_rules(product))
            except ZeroDivisionError:
                with pytest.raises(ZeroDivisionError):
                    notional_in(product, price, size)
                continue
            assert notional_in(product, price, size) == expected, (_rules(product), price, size)


def test_a_products_c_rules_follow_it_through_admin_commands_and_images() -> None:
    """The C rules are made with the product (``AddProduct``, and a snapshot's restore); the
    admin commands change its status and its matching, never its rules, and compiled the
    rules are read-only, so the C values cannot go stale: after each command and through an
    image, ``notional_in`` still answers as ``notional_of`` of the product's rules."""
    engine = Engine()
    grid = [(10**8 * k, 10**6 * j) for k in (1, 3, 7919) for j in (1, 2, 10**4)]
    for product_id, (base, quote, funds) in {
            "A-B": (10**6, 10**6, 10**16), "C-D": (1, 2**53, 2**121),
            "E-F": (2**30 + 1, 3, 0)}.items():
        engine.apply(AddProduct(time=0, product_id=product_id, base_currency=product_id[0],
                                quote_currency=product_id[2], base_increment=base,
                                quote_increment=quote, min_market_funds=funds))
    commands = [SetProductStatus(time=0, product_id="A-B", status=ProductStatus.LIMIT_ONLY),
                SetMatching(time=0, product_id="C-D", halted=True),
                SetProductStatus(time=0, product_id="E-F", status=ProductStatus.ONLINE),
                SetMatching(time=0, product_id="C-D", halted=False)]

    def agree(engine: Engine) -> None:
        for product in engine.products.values():
            quote, base, _ = _rules(product)
            for price, size in [*grid, (quote * 9, base * 4), (quote, base), (quote + 1, base)]:
                assert notional_in(product, price, size) == notional_of(
                    price, size, *_rules(product))

    agree(engine)
    for command in commands:
        engine.apply(command)
        agree(engine)
    copy = restore(export(engine))
    assert {k: _rules(p) for k, p in copy.products.items()} == {
        k: _rules(p) for k, p in engine.products.items()}
    agree(copy)
    if compiled():
        for name in ("quote_increment", "base_increment", "min_market_funds"):
            with pytest.raises(AttributeError):
                setattr(engine.products["A-B"], name, 1)


def test_notional_of_at_the_digit_and_unit_edges() -> None:
    """The compiled guard reads its four operands by ``unit`` (one or two digits, below
    2**53) and ``min_funds`` by ``unit`` or ``small``: on each side of those edges, for both
    signs and non-ints, it answers as ``plain_notional``."""
    edges = [0, 1, 2, 7, 2**30 - 1, 2**30, 2**30 + 1, 2**52, 2**53 - 1, 2**53, 2**53 + 1,
             2**60 - 1, 2**60, 2**60 + 1, 2**63, 10**18, 2**120, 2**121]
    values: list[object] = [*edges, *(-e for e in edges if e), True, None]
    rnd = random.Random(17)
    cases = [(p, s, i, b, m) for p in (2**30, 2**53 - 1, 2**53) for s in (2**30, 2**53 - 2)
             for i in (1, 2**30) for b in (1, 2) for m in values]
    for _ in range(20_000):
        cases.append(tuple(rnd.choice(values) for _ in range(5)))  # type: ignore[arg-type]
    for price, size, increment, base, funds in cases:
        try:
            expected = plain_notional(price, size, increment, base, funds)  # type: ignore[arg-type]
        except (ZeroDivisionError, TypeError) as error:
            with pytest.raises(type(error)):
                notional_of(price, size, increment, base, funds)
            continue
        assert notional_of(price, size, increment, base, funds) == (
            -1 if expected is None else expected)


def test_buy_hold_divides_by_the_scale_as_python_floors() -> None:
    """``buy_hold``'s C branch divides ``amount * rate`` by the scale with ``div_scale`` (long
    division in 64-bit steps for a non-negative product, libgcc's 128-bit division floored
    for a negative one): it answers as the Python expression, on both sides of 2**64 and
    every bound, for both signs of the amount and the rate, exact multiples of the scale and
    their neighbours included."""
    rnd = random.Random(13)
    scale = units.RATE_SCALE
    amounts = [0, 1, scale - 1, scale, scale + 1, 2**32, 2**44, 2**63, 2**64 - 1, 2**64,
               2**64 + 1, 2**96, 2**105, 2**106 - 1, 2**106, 2**120]
    rates = [0, 1, -1, 999, scale - 1, scale, 2**19, 2**20 - 1, 2**20, -(2**20 - 1)]
    cases = [(a, r) for a in amounts for r in rates]
    # every bit length to the C branch's bound (``to_int``'s digits: one to four 30-bit digits
    # and each word's edge), both signs below
    cases += [(2**k + d, r) for k in range(106) for d in (-1, 0, 1) for r in (0, 1, -1)]
    for _ in range(30_000):
        bits = rnd.choice([10, 40, 63, 64, 65, 80, 100, 105, 106, 107])
        amount = rnd.getrandbits(bits)
        if rnd.random() < 0.3:  # a product that is a multiple of the scale, or next to one
            cases.append((amount // scale * scale + rnd.choice([-1, 0, 1]), rnd.choice([1, -1])))
        else:
            cases.append((amount, rnd.randint(-(2**20), 2**20)))
    for amount, rate in cases:
        for a in (amount, -amount):
            assert buy_hold(a, rate) == a + a * rate // scale, (a, rate)


def test_to_int_writes_every_digit_count_of_both_signs() -> None:
    """``to_int`` (compiled: through ``buy_hold``'s C branch at a zero rate, ``a + 0``) of
    the values next to each 30-bit digit boundary, both signs: one to three digits written
    by hand below 2**63, the interpreter's shared ints from -5 to 256, the bit-length path
    beyond."""
    values = set(range(-7, 260))
    for bits in (30, 60, 63, 64, 90, 105):
        for v in (2**bits - 1, 2**bits, 2**bits + 1):
            values.update((v, -v))
    for a in sorted(values):
        got = buy_hold(a, 0)
        assert got == a and type(got) is int, a
        assert got.bit_length() == a.bit_length()
        assert str(got) == str(a) and hash(got) == hash(a)
        if -5 <= a <= 256:
            assert got is int(str(a))  # the shared small int, as PyLong_FromLong answers
