"""The demo market maker: a pure function of its seed and what it has observed.

Each tick it moves a mid price by a seeded random walk (an integer in 1e-8 units, finer than
the quote increment, pulled back toward the reference price the further it strays), lays a
ladder of ``levels`` quotes a side on a fixed price grid (multiples of the level spacing, so
of the quote increment), and returns the intents that turn its open orders into that
ladder. Because the grid is fixed, a move of the mid within a grid cell changes nothing, and
a move across a grid line changes four orders (the level crossed changes side, the far ends
of the ladder shift), so the journal grows only with what the book visibly does.

No clock, no global randomness, no I/O: the same seed and the same observations give the
same intents, bit for bit.
"""

from __future__ import annotations

import random

from sandex.core import ProductStatus, Side
from sandex.demo.config import DemoConfig, ProductConfig
from sandex.demo.model import Cancel, Intent, Observation, OwnOrder, Place, ProductView

BUY, SELL = Side.BUY, Side.SELL
QUOTING = (ProductStatus.ONLINE, ProductStatus.LIMIT_ONLY, ProductStatus.POST_ONLY)

Quote = tuple[Side, int, int]  # (side, price, size)


class MarketMaker:
    """Quotes both sides of every configured product around a random-walk mid."""

    def __init__(self, config: DemoConfig) -> None:
        self._config = config
        self._random = random.Random(f"sandex-demo-maker/{config.seed}")
        self._mids: dict[str, int] = {}  # product id -> mid price (1e-8)

    def mid(self, product_id: str) -> int | None:
        """The current mid of ``product_id`` (``None`` before its first observation)."""
        return self._mids.get(product_id)

    def decide(self, observation: Observation) -> list[Intent]:
        """This tick's intents: cancels first, then places, product by product."""
        cancels: list[Intent] = []
        places: list[Intent] = []
        for product in self._config.products:  # config order: never dict or set order
            view = observation.get(product.product_id)
            if view is None:
                continue
            mid = self._mids.get(view.product_id)
            if mid is None:
                mid = initial_mid(product, view)
            else:
                mid = self._step(product, view.quote_increment, mid)
            self._mids[view.product_id] = mid
            if view.status not in QUOTING:
                continue  # cancel-only or disabled: leave the book alone
            gone, new = requote(view.product_id, view.orders, ladder(product, view, mid))
            cancels.extend(gone)
            places.extend(new)
        return cancels + places  # a level's cancel always lands before its replacement

    def _step(self, product: ProductConfig, tick: int, mid: int) -> int:
        """One step of the walk: uniform in ``[-walk, walk]``, plus a pull back toward the
        reference that grows linearly to a full ``walk`` at the edge of the band."""
        walk, band = product.walk(tick), product.band(tick)
        reference = snap(product.reference_price, tick)
        step = self._random.randint(-walk, walk)
        offset = mid - reference
        pull = abs(offset) * walk // band
        step += -pull if offset > 0 else pull
        return clamp(mid + step, reference, band, tick)


def initial_mid(product: ProductConfig, view: ProductView) -> int:
    """Where the walk starts: between the maker's own quotes if it has both sides (a restart
    keeps its ladder), else at the last trade, else at the reference price."""
    tick = view.quote_increment
    reference = snap(product.reference_price, tick)
    bids = [o.price for o in view.orders if o.side is BUY]
    asks = [o.price for o in view.orders if o.side is SELL]
    if bids and asks and max(bids) < min(asks):
        mid = (max(bids) + min(asks)) // 2
    elif view.last_price is not None:
        mid = view.last_price
    else:
        mid = reference
    return clamp(mid, reference, product.band(tick), tick)


def ladder(product: ProductConfig, view: ProductView, mid: int) -> list[Quote]:
    """The quotes wanted around ``mid``: bids best first, then asks best first.

    Prices are multiples of the spacing (so of the quote increment): the best bid is the grid
    line at or below the mid and the best ask the next one up, one spacing apart; sizes are
    floored to the base increment (``ProductConfig.level_size``: one size, or rising to
    ``size_max`` at the deepest level). A level that would cross someone else's order (and so
    take liquidity) or whose notional is below the product's minimum is left out.
    """
    tick = view.quote_increment
    spacing = product.spacing(tick)
    increment = view.base_increment
    sizes = [s - s % increment for s in map(product.level_size, range(product.levels))]
    if sizes[0] <= 0:
        return []
    best_bid = mid // spacing * spacing
    best_ask = best_bid + spacing
    quotes: list[Quote] = []
    for k, size in enumerate(sizes):
        price = best_bid - k * spacing
        if price < tick:
            break
        if view.others_ask is not None and price >= view.others_ask:
            continue
        if size * price >= view.min_market_funds:
            quotes.append((BUY, price, size))
    for k, size in enumerate(sizes):
        price = best_ask + k * spacing
        if view.others_bid is not None and price <= view.others_bid:
            continue
        if size * price >= view.min_market_funds:
            quotes.append((SELL, price, size))
    return quotes


def requote(product_id: str, orders: tuple[OwnOrder, ...],
            quotes: list[Quote]) -> tuple[list[Intent], list[Intent]]:
    """Cancels and places that turn ``orders`` into ``quotes``, touching only what differs.

    An open order stays if a quote wants its side and price and it still has at least half
    the quote's size (a level eaten further is refilled); every other order is canceled.
    """
    wanted = {(side, price): size for side, price, size in quotes}
    kept: set[tuple[Side, int]] = set()
    cancels: list[Intent] = []
    for order in orders:
        key = (order.side, order.price)
        size = wanted.get(key)
        if size is not None and key not in kept and order.remaining * 2 >= size:
            kept.add(key)
        else:
            cancels.append(Cancel(product_id, order.order_id))
    places: list[Intent] = [Place(product_id, side, size, price, post_only=True)
                            for side, price, size in quotes if (side, price) not in kept]
    return cancels, places


def snap(price: int, tick: int) -> int:
    """``price`` floored to a multiple of ``tick``, and at least one tick."""
    return max(tick, price - price % tick)


def clamp(mid: int, reference: int, band: int, tick: int) -> int:
    """``mid`` kept within ``band`` of ``reference``, and above two ticks (room for a bid)."""
    return min(max(mid, reference - band, 2 * tick), reference + band)
