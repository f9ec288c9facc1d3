"""The compiled core's 128-bit amounts (``sandex/core/wide.pxd``): its constants are the
units', and the twin test's wide stream trades on both sides of the bounds that choose
between the C settlement and Python's ints."""

from __future__ import annotations

import random
import re
from pathlib import Path

from sandex import units
from sandex.core import Engine, Matched
from sandex.core.wide import small
from tests.core.test_compiled_twin import wide_stream

WIDE_PXD = Path(__file__).resolve().parents[2] / "sandex" / "core" / "wide.pxd"


def test_the_c_constants_are_the_units() -> None:
    text = WIDE_PXD.read_text()
    defined = dict(re.findall(r"#define SANDEX_(\w+) \(\(sandex_wide\)(\d+)\)", text))
    assert defined == {"RATE_SCALE": str(units.RATE_SCALE),
                       "SIZE_TO_AMOUNT": str(units.SIZE_TO_AMOUNT)}


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
