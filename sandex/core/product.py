"""A product: its rules (increments, minimums, status), its book, its stops and its counters."""

from __future__ import annotations

import cython

from sandex.core.book import Book
from sandex.core.model import ProductStatus
from sandex.core.records import Order
from sandex.core.stops import StopBook

if cython.compiled:
    from cython.cimports.sandex.core.wide import small, unit


@cython.no_gc
@cython.final
@cython.cclass
class Product:
    """``sequence`` numbers the product's public order events (§9.4); ``trade_id`` its trades.

    Compiled with the core (``product.pxd``). Compiled, the increments and the minimum funds
    are read-only, and kept as C values too (``plain_rules`` and the three), made here once.
    """

    __slots__ = ("base_currency", "base_increment", "book", "halted", "id", "last_price",
                 "min_market_funds", "print_high", "print_low", "quote_currency",
                 "quote_increment", "sequence", "status", "stops", "trade_id")
    id: str
    base_currency: str
    quote_currency: str
    base_increment: int
    quote_increment: int
    min_market_funds: int
    status: ProductStatus
    book: Book
    stops: StopBook
    sequence: int
    trade_id: int
    last_price: int | None
    print_low: int | None
    print_high: int | None
    halted: list[Order] | None
    # compiled only (C fields, ``product.pxd``): the rules as C values, for the fast place
    plain_rules: bool
    quote_units: int
    base_units: int
    min_funds: int

    def __init__(self, id: str, base_currency: str, quote_currency: str, base_increment: int,
                 quote_increment: int, min_market_funds: int, status: ProductStatus) -> None:
        self.id = id
        self.base_currency = base_currency
        self.quote_currency = quote_currency
        self.base_increment = base_increment
        self.quote_increment = quote_increment
        self.min_market_funds = min_market_funds
        if cython.compiled:  # the rules as C values (compiled, the three are read-only)
            self.quote_units, self.base_units = unit(quote_increment), unit(base_increment)
            self.plain_rules = (self.quote_units > 0 and self.base_units > 0
                                and small(min_market_funds))
            if self.plain_rules:
                self.min_funds = min_market_funds
        self.status = status
        self.book = Book()
        self.stops = StopBook()
        self.sequence = 0
        self.trade_id = 0
        self.last_price = None
        # the lowest and highest trade prices since the stops last looked: every print is a
        # "last trade price" for a moment, so a sweep through a stop's price triggers it
        self.print_low = None
        self.print_high = None
        # ``None`` while matching runs; while it is halted (``SetMatching``), the orders
        # accepted since, in arrival order (those canceled meanwhile are skipped on resume)
        self.halted = None
