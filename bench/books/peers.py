"""The PyPI order books of ``bench/books/run.py``, each driven by one seeded stream of ops.

Runs in the peers' own environment (``bench/books/.venv``, ``requirements.txt`` beside this
file), never sandex's: standard library only (and ``bench/cgmarks.py``, which is too), plus
the book it is asked to time.

    bench/books/.venv/bin/python bench/books/peers.py BOOK OPS_FILE

``OPS_FILE`` is a pickle of ``(ops, resting)`` written by ``run.py``: ``ops`` a list of
``(kind, buy, price, quantity, number)`` with prices in ticks and quantities in the product's
smallest unit (both machine-sized ints), kinds ``LIMIT`` (GTC, rests what it does not fill),
``IOC`` (limit, the rest canceled), ``MARKET`` (by size; a market order by funds is sent as
the size those funds bought in sandex's run) and ``CANCEL`` (of the order placed as
``number``; about 3 % are of orders already done, as in sandex's stream); ``resting`` is
how many orders sandex's book holds at the end. Prints one JSON line: the book, ops/s (wall
and CPU), and the orders it holds at the end (same as ``resting``: it replayed the stream).

Each book is used the way its documentation shows; where a book lacks IOC or market orders,
the adapter does what the stream asks with what it has (see each ``run_*``). Order objects
are made inside the timed loop, as the books' own APIs make them per order. Each timed loop
is a function whose names are its arguments (locals, as a loop written inline reads them),
run through ``sys.call_tracing``: under callgrind (``bench/books/count.py``) that call is
its own dump, so its instructions are counted alone.
"""

from __future__ import annotations

import gc
import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LIMIT, IOC, MARKET, CANCEL = 0, 1, 2, 3
Op = tuple[int, bool, int, int, int]


def timed(loop: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``loop(*args)`` (through ``sys.call_tracing``), and its value."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    value = sys.call_tracing(loop, args)
    return time.perf_counter() - start, time.process_time() - cpu, value


def run_limit_order_book(ops: list[Op]) -> tuple[float, float, int]:
    """limit-order-book (C++ behind ctypes): limit, market and cancel by integer id."""
    from limit_order_book import LimitOrderBook

    book = LimitOrderBook()

    def loop(ops: list[Op], limit: Any, market: Any, cancel: Any, has: Any) -> None:
        for kind, buy, price, quantity, number in ops:
            if kind == CANCEL:
                if has(number):
                    cancel(number)
            elif kind == LIMIT:
                limit(buy, number, quantity, price)
            elif kind == MARKET:
                market(buy, number, quantity)
            else:  # no IOC: a limit order, its remainder (if it rests) canceled at once
                limit(buy, number, quantity, price)
                if has(number):
                    cancel(number)

    has = book.has
    wall, cpu, _ = timed(loop, ops, book.limit, book.market, book.cancel, has)
    resting = sum(1 for _, _, _, _, number in ops if has(number))
    return wall, cpu, resting


def _akhil4n_like(module: Any, ops: list[Op]) -> tuple[float, float, int]:
    """akhil4n-orderbook and cython-orderbook (the same API): ``Order(side, price,
    original_quantity)`` with ids it numbers itself; no IOC, market orders by size."""
    Order, Book, Side = module.Order, module.OrderBook, module.OrderSide
    market_order = getattr(module, "MarketOrder", None)
    bid, ask = Side.BID, Side.ASK
    book = Book()

    def loop(ops: list[Op], Order: Any, market_order: Any, bid: Any, ask: Any, add_limit: Any,
             add_market: Any, cancel: Any, ids: dict[int, str]) -> None:
        for kind, buy, price, quantity, number in ops:
            if kind == CANCEL:
                order_id = ids.get(number)
                if order_id is not None:
                    cancel(order_id)
            elif kind == MARKET:
                side = bid if buy else ask
                if market_order is not None:
                    add_market(market_order(side=side, original_quantity=quantity))
                else:
                    add_market(Order(side=side, price=0, original_quantity=quantity))
            else:
                order = Order(side=bid if buy else ask, price=price, original_quantity=quantity)
                add_limit(order)
                if kind == IOC:
                    cancel(order.order_id)  # its remainder, if any rests
                else:
                    ids[number] = order.order_id

    wall, cpu, _ = timed(loop, ops, Order, market_order, bid, ask, book.add_limit_order,
                         book.add_market_order, book.cancel_order, {})
    resting = sum(len(level.queue) for side in (book.bids, book.asks) for level in side.values())
    return wall, cpu, resting


def run_akhil4n_orderbook(ops: list[Op]) -> tuple[float, float, int]:
    import orderbook

    return _akhil4n_like(orderbook, ops)


def run_cython_orderbook(ops: list[Op]) -> tuple[float, float, int]:
    import cython_orderbook.orderbook as module

    return _akhil4n_like(module, ops)


def run_liquibook(ops: list[Op]) -> tuple[float, float, int]:
    """liquibook's Python wrapper (C++ behind SWIG): ``SimpleOrder(is_buy, price, qty)`` on a
    ``DepthOrderBook``; IOC and market orders (price 0) added with ``oc_immediate_or_cancel``;
    no listeners (none is needed to match)."""
    import liquibook

    book = liquibook.DepthOrderBook()
    book.set_symbol("BTC-USD")

    def loop(ops: list[Op], simple: Any, add: Any, cancel: Any, ioc: Any,
             orders: dict[int, Any]) -> None:
        for kind, buy, price, quantity, number in ops:
            if kind == CANCEL:
                order = orders.pop(number, None)
                if order is not None:
                    cancel(order)
            elif kind == LIMIT:
                order = simple(buy, price, quantity)
                add(order)
                orders[number] = order
            else:
                add(simple(buy, 0 if kind == MARKET else price, quantity), ioc)

    orders: dict[int, Any] = {}  # the book's orders kept alive (SWIG) until it is read
    wall, cpu, _ = timed(loop, ops, liquibook.SimpleOrder, book.add, book.cancel,
                         liquibook.oc_immediate_or_cancel, orders)
    resting = sum(tracker.open_qty() > 0 for side in (book.bids(), book.asks())
                  for tracker in side.values())
    return wall, cpu, resting


def run_lightmatchingengine(ops: list[Op]) -> tuple[float, float, int]:
    """lightmatchingengine: ``add_order(instmt, price, qty, side)`` (price 0: market) and
    ``cancel_order(id, instmt)``; no IOC: a remainder that rests is canceled at once. Its
    id map keeps filled orders (canceling one fails an assertion), so a cancel is sent only
    for an order with quantity left, as a client holding the order object would."""
    from lightmatchingengine.lightmatchingengine import LightMatchingEngine, Side

    engine = LightMatchingEngine()

    def loop(ops: list[Op], add: Any, cancel: Any, buy_side: Any, sell_side: Any,
             orders: dict[int, Any]) -> None:
        for kind, buy, price, quantity, number in ops:
            if kind == CANCEL:
                order = orders.pop(number, None)
                if order is not None and order.leaves_qty > 0:
                    cancel(order.order_id, "BTC-USD")
                continue
            order, _ = add("BTC-USD", 0 if kind == MARKET else price, quantity,
                           buy_side if buy else sell_side)
            if kind == LIMIT:
                orders[number] = order
            elif order.leaves_qty > 0:
                cancel(order.order_id, "BTC-USD")

    wall, cpu, _ = timed(loop, ops, engine.add_order, engine.cancel_order, Side.BUY, Side.SELL,
                         {})
    book = engine.order_books.get("BTC-USD")
    resting = 0 if book is None else sum(
        len(level) for side in (book.bids, book.asks) for level in side.values())
    return wall, cpu, resting


BOOKS: dict[str, Callable[[list[Op]], tuple[float, float, int]]] = {
    "limit-order-book": run_limit_order_book,
    "cython-orderbook": run_cython_orderbook,
    "liquibook": run_liquibook,
    "lightmatchingengine": run_lightmatchingengine,
    "akhil4n-orderbook": run_akhil4n_orderbook,
}


def main() -> None:
    name, path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/: cgmarks
    from cgmarks import mark, under_valgrind

    if under_valgrind():  # bench/books/count.py: the timed loop its own callgrind dump
        mark()
    with open(path, "rb") as f:
        ops, expected = pickle.load(f)
    wall, cpu, resting = BOOKS[name](ops)
    print(json.dumps({"book": name, "ops": len(ops), "seconds": wall, "per_s": len(ops) / wall,
                      "cpu_per_s": len(ops) / cpu, "resting": resting,
                      "expected_resting": expected}))


if __name__ == "__main__":
    main()
