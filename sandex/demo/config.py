"""The ``[demo]`` table of a scenario file: a frozen ``DemoConfig`` (see ``docs/demo.md``).

Every problem is a ``ValueError`` whose text names the field (``demo.products[1].size: ...``).
Numbers may be TOML strings (recommended), integers or floats (read through their shortest
text, never binary math); prices and sizes are exact to 8 decimals, fractions to 6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandex.units import PRICE_DECIMALS, parse_units

FRACTION_DECIMALS = 6
FRACTION_SCALE: int = 10**FRACTION_DECIMALS  # fractions (spacing, drift, chance) in 1e-6

# Each level is an order, and Coinbase allows 500 open orders per product and profile; a
# ladder deeper than this is not "light" any more (it costs journal traffic on every move).
levels_max = 50
# The tick is the demo's pace: faster than this would flood the journal, slower looks dead.
tick_seconds_min, tick_seconds_max = 0.001, 60.0

DEFAULT_LEVELS = 5
DEFAULT_SPACING = "0.0001"  # of the reference price: 1 basis point between levels
DEFAULT_MAX_DRIFT = "0.05"  # the mid stays within 5 % of the reference price
DEFAULT_TAKER_CHANCE = "0.2"  # a taker order on one tick in five

_TOP_FIELDS = {"enabled", "seed", "tick_seconds", "maker_profile_id", "taker_profile_id",
               "products"}
_PRODUCT_FIELDS = {"id", "reference_price", "levels", "size", "spacing", "spacing_ticks",
                   "walk", "max_drift", "taker_chance", "taker_size", "size_max"}


@dataclass(frozen=True, slots=True)
class ProductConfig:
    """How the demo trades one product. Prices and sizes in 1e-8, fractions in 1e-6 (of the
    reference price, except ``taker_chance``)."""

    product_id: str
    reference_price: int
    levels: int  # per side
    size: int  # per level
    spacing_ticks: int | None  # level spacing in quote increments, or else ...
    spacing_fraction: int  # ... as a fraction of the reference price
    walk_fraction: int | None  # the mid's largest step per tick (None: a quarter spacing)
    max_drift: int  # how far the mid may wander from the reference
    taker_chance: int  # chance of one taker order per tick
    taker_size: int  # the largest taker order
    size_max: int | None = None  # the deepest level's size (None: every level ``size``)

    def level_size(self, k: int) -> int:
        """The size of level ``k`` (0: the best): ``size`` there, rising in equal steps to
        ``size_max`` at the deepest level (a real book is thin at the top, deep further out)."""
        if self.size_max is None or self.levels == 1:
            return self.size
        return self.size + (self.size_max - self.size) * k // (self.levels - 1)

    def spacing(self, tick: int) -> int:
        """The level spacing (1e-8): a multiple of ``tick`` (the product's quote increment),
        at least one."""
        if self.spacing_ticks is not None:
            return self.spacing_ticks * tick
        ticks = self.reference_price * self.spacing_fraction // (FRACTION_SCALE * tick)
        return max(1, ticks) * tick

    def walk(self, tick: int) -> int:
        """The random walk's largest step per tick of the demo (1e-8; finer than ``tick``)."""
        if self.walk_fraction is not None:
            return self.reference_price * self.walk_fraction // FRACTION_SCALE
        return self.spacing(tick) // 4

    def band(self, tick: int) -> int:
        """How far the mid may wander from the reference price (1e-8), at least a level."""
        return max(self.spacing(tick), self.reference_price * self.max_drift // FRACTION_SCALE)


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """The demo liquidity: who trades, how often, and how on each product."""

    seed: int
    tick_seconds: float
    maker_profile_id: str
    taker_profile_id: str
    products: tuple[ProductConfig, ...]


def demo_config(data: Mapping[str, Any] | None) -> DemoConfig | None:
    """The ``[demo]`` table as a ``DemoConfig``; ``None`` if it is absent, empty or disabled.

    The table is checked in full even when ``enabled = false``: a mistake is reported, not
    hidden until the day the demo is switched on.
    """
    if not data:
        return None
    if not isinstance(data, Mapping):
        raise ValueError("demo: must be a table")
    _known(data, _TOP_FIELDS, "demo")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"demo.enabled: must be true or false, got {enabled!r}")
    seed = data.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"demo.seed: must be an integer, got {seed!r}")
    tick = data.get("tick_seconds", 1.0)
    if (not isinstance(tick, int | float) or isinstance(tick, bool)
            or not tick_seconds_min <= tick <= tick_seconds_max):
        raise ValueError(f"demo.tick_seconds: must be a number of seconds between "
                         f"{tick_seconds_min} and {tick_seconds_max}, got {tick!r}")
    maker = _text(data, "maker_profile_id", "demo")
    taker = _text(data, "taker_profile_id", "demo")
    if maker == taker:
        raise ValueError("demo.taker_profile_id: must differ from maker_profile_id "
                         "(the taker would trade with itself)")
    products = data.get("products")
    if not isinstance(products, list) or not products:
        raise ValueError("demo.products: must be a non-empty array of tables ([[demo.products]])")
    parsed = tuple(_product(p, f"demo.products[{i}]") for i, p in enumerate(products))
    ids = [p.product_id for p in parsed]
    for i, product_id in enumerate(ids):
        if product_id in ids[:i]:
            raise ValueError(f"demo.products[{i}].id: {product_id} is listed twice")
    if not enabled:
        return None
    return DemoConfig(seed, float(tick), maker, taker, parsed)


def _product(table: object, at: str) -> ProductConfig:
    if not isinstance(table, Mapping):
        raise ValueError(f"{at}: must be a table")
    _known(table, _PRODUCT_FIELDS, at)
    product_id = _text(table, "id", at).upper()
    if product_id.count("-") != 1:
        raise ValueError(f"{at}.id: must be BASE-QUOTE with exactly one '-', got {product_id!r}")
    if "spacing" in table and "spacing_ticks" in table:
        raise ValueError(f"{at}: give spacing or spacing_ticks, not both")
    reference = _positive(table, "reference_price", PRICE_DECIMALS, at)
    size = _positive(table, "size", PRICE_DECIMALS, at)
    spacing_ticks = (_integer(table, "spacing_ticks", at, 1, None)
                     if "spacing_ticks" in table else None)
    taker_size = (_positive(table, "taker_size", PRICE_DECIMALS, at) if "taker_size" in table
                  else max(1, size // 4))
    size_max = _positive(table, "size_max", PRICE_DECIMALS, at) if "size_max" in table \
        else None
    if size_max is not None and size_max < size:
        raise ValueError(f"{at}.size_max: must be at least size")
    return ProductConfig(
        product_id=product_id, reference_price=reference,
        levels=_integer(table, "levels", at, 1, levels_max, DEFAULT_LEVELS), size=size,
        spacing_ticks=spacing_ticks,
        spacing_fraction=_fraction(table, "spacing", at, DEFAULT_SPACING, open_low=True),
        walk_fraction=_fraction(table, "walk", at) if "walk" in table else None,
        max_drift=_fraction(table, "max_drift", at, DEFAULT_MAX_DRIFT, open_low=True),
        taker_chance=_fraction(table, "taker_chance", at, DEFAULT_TAKER_CHANCE),
        taker_size=taker_size, size_max=size_max)


def _known(table: Mapping[str, Any], fields: set[str], at: str) -> None:
    for name in table:
        if name not in fields:
            raise ValueError(f"{at}.{name}: unknown field (expected one of "
                             f"{', '.join(sorted(fields))})")


def _text(table: Mapping[str, Any], name: str, at: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{at}.{name}: must be a non-empty string, got {value!r}")
    return value


def _integer(table: Mapping[str, Any], name: str, at: str, low: int, high: int | None,
             default: int | None = None) -> int:
    value = table.get(name, default)
    if (not isinstance(value, int) or isinstance(value, bool) or value < low
            or (high is not None and value > high)):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{at}.{name}: must be an integer {bounds}, got {value!r}")
    return value


def _number(value: object, decimals: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # TOML floats: their shortest exact text
    return parse_units(value, decimals)


def _positive(table: Mapping[str, Any], name: str, decimals: int, at: str) -> int:
    value = table.get(name)
    units = _number(value, decimals)
    if units is None or units <= 0:
        raise ValueError(f"{at}.{name}: must be a positive number with at most {decimals} "
                         f"decimals, got {value!r}")
    return units


def _fraction(table: Mapping[str, Any], name: str, at: str, default: str = "",
              open_low: bool = False) -> int:
    """The fraction ``table[name]`` (or ``default``) in 1e-6."""
    value = table.get(name, default)
    units = _number(value, FRACTION_DECIMALS)
    if units is None or units > FRACTION_SCALE or units < 0 or (open_low and units == 0):
        low = "above 0" if open_low else "from 0"
        raise ValueError(f"{at}.{name}: must be a fraction {low} to 1 with at most "
                         f"{FRACTION_DECIMALS} decimals, got {value!r}")
    return units
