"""Public market data: time, currencies, products, book, ticker, trades, candles, stats (§6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from sandex.api import shapes
from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.order_request import product_id_of
from sandex.api.rest.pagination import by_trade_id, page
from sandex.api.rest.routing import Context, Route
from sandex.core import Product
from sandex.errors import Error
from sandex.timefmt import iso, parse_iso
from sandex.units import PRICE_DECIMALS, format_trimmed, price_text

GRANULARITIES = frozenset({60, 300, 900, 3600, 21600, 86400})  # §6.6
CANDLES_MAX = 300
_numbers = msgspec.json.Encoder(decimal_format="number")  # candles and /time are numbers


def _number(units: int, decimals: int = PRICE_DECIMALS) -> Decimal:
    """An exact JSON number (``5236.01``), for the endpoints whose fields are numbers."""
    return Decimal(format_trimmed(units, decimals))


def _product(app: Context, product_id: str) -> Product:
    product = app.node.engine.products.get(product_id_of(product_id) or "")
    if product is None:
        raise ApiError(Error.NOT_FOUND)
    return product


def _trim(units: int) -> str:
    return format_trimmed(units, PRICE_DECIMALS)


async def get_time(app: Context, request: Request) -> Response:
    now = app.node.now()
    return Response(_numbers.encode({"iso": iso(now), "epoch": Decimal(now).scaleb(-6)}))


async def list_currencies(app: Context, request: Request) -> Response:
    return json_response([shapes.currency(c)
                          for c in app.node.engine.currencies.values()])


async def get_currency(app: Context, request: Request, currency_id: str) -> Response:
    currency = app.node.engine.currencies.get(currency_id.upper())
    if currency is None:
        raise ApiError(Error.NOT_FOUND)
    return json_response(shapes.currency(currency))


async def list_products(app: Context, request: Request) -> Response:
    return json_response([shapes.product(p) for p in app.node.engine.products.values()])


async def get_product(app: Context, request: Request, product_id: str) -> Response:
    return json_response(shapes.product(_product(app, product_id)))


async def get_book(app: Context, request: Request, product_id: str) -> Response:
    """§6.3: level 1/2 entries ``[price, size, num_orders]``, level 3 ``[price, size, id]``."""
    product = _product(app, product_id)
    level = request.param("level") or "1"
    book = product.book
    if level in ("1", "2"):
        bids, asks = book.level1() if level == "1" else book.level2()
        sides: tuple[list[Any], list[Any]] = (
            [[_trim(p), _trim(s), n] for p, s, n in bids],
            [[_trim(p), _trim(s), n] for p, s, n in asks])
    elif level == "3":
        bids3, asks3 = book.level3()
        sides = ([[_trim(p), _trim(s), i] for p, s, i in bids3],
                 [[_trim(p), _trim(s), i] for p, s, i in asks3])
    else:
        raise ApiError(Error.INVALID_FIELD, "level")
    return json_response({"bids": sides[0], "asks": sides[1], "sequence": product.sequence,
                          "auction_mode": False, "auction": None,
                          "time": iso(app.node.now())})


async def get_ticker(app: Context, request: Request, product_id: str) -> Response:
    product = _product(app, product_id)
    node = app.node
    last = node.market.last_trade(product.id)
    day, _ = node.market.stats(product.id, node.now())
    bid, ask = product.book.best_bid(), product.book.best_ask()
    return json_response({
        "ask": _trim(ask) if ask is not None else "0",
        "bid": _trim(bid) if bid is not None else "0",
        "volume": price_text(day.volume if day else 0),
        "trade_id": last.trade_id if last else 0,
        "price": price_text(last.price) if last else "0",
        "size": price_text(last.size) if last else "0",
        "time": iso(last.time if last else node.now()),
    })


async def list_trades(app: Context, request: Request, product_id: str) -> Response:
    product = _product(app, product_id)
    chunk, headers = page(app.node.market.product(product.id).trades, by_trade_id, request)
    return json_response([{"time": iso(t.time), "trade_id": t.trade_id,
                           "price": price_text(t.price), "size": price_text(t.size),
                           "side": t.side.value} for t in chunk], headers=headers)


async def get_candles(app: Context, request: Request, product_id: str) -> Response:
    """§6.6: ``[time, low, high, open, close, volume]`` numbers, newest first, at most 300."""
    product = _product(app, product_id)
    text = request.param("granularity") or "60"
    if not (text.isascii() and text.isdigit()) or int(text) not in GRANULARITIES:
        raise ApiError(Error.UNSUPPORTED_GRANULARITY)
    granularity = int(text)
    start_text, end_text = request.param("start"), request.param("end")
    end = app.node.now()
    start = end - CANDLES_MAX * granularity * 1_000_000
    if start_text and end_text:  # only one of them given: both are ignored (§6.6)
        first, last = parse_iso(start_text), parse_iso(end_text)
        if first is None or last is None:
            raise ApiError(Error.INVALID_FIELD, "start" if first is None else "end")
        start, end = first, last
        if (end - start) // (granularity * 1_000_000) > CANDLES_MAX:
            raise ApiError(Error.TOO_MANY_CANDLES)
    candles = app.node.market.candles(product.id, granularity, start, end)[:CANDLES_MAX]
    return Response(_numbers.encode([
        [c.start // 1_000_000, _number(c.low), _number(c.high), _number(c.open),
         _number(c.close), _number(c.volume)] for c in candles]))


async def get_spark_lines(app: Context, request: Request) -> Response:
    """Hourly ``[time, low, high, open, close]`` per product over 24 hours, newest first.

    Not in Coinbase's docs; ccxt's ``fetch_tickers`` reads it (element 4 of the first candle
    is the last price; client-compatibility §2.2).
    """
    now = app.node.now()
    market = app.node.market
    return Response(_numbers.encode({
        product_id: [[c.start // 1_000_000, _number(c.low), _number(c.high), _number(c.open),
                      _number(c.close)]
                     for c in market.candles(product_id, 3600, now - 86_400_000_000, now)]
        for product_id in app.node.engine.products}))


async def get_stats(app: Context, request: Request, product_id: str) -> Response:
    product = _product(app, product_id)
    market = app.node.market
    day, month_volume = market.stats(product.id, app.node.now())
    last = market.last_trade(product.id)
    last_price = last.price if last else 0
    return json_response({
        "open": price_text(day.open if day else last_price),
        "high": price_text(day.high if day else last_price),
        "low": price_text(day.low if day else last_price),
        "volume": price_text(day.volume if day else 0),
        "last": price_text(last_price),
        "volume_30day": price_text(month_volume),
    })


ROUTES = [
    Route("GET", "/time", get_time),
    Route("GET", "/currencies", list_currencies),
    Route("GET", "/currencies/{currency_id}", get_currency),
    Route("GET", "/products", list_products),
    Route("GET", "/products/spark-lines", get_spark_lines),
    Route("GET", "/products/{product_id}", get_product),
    Route("GET", "/products/{product_id}/book", get_book),
    Route("GET", "/products/{product_id}/ticker", get_ticker),
    Route("GET", "/products/{product_id}/trades", list_trades),
    Route("GET", "/products/{product_id}/candles", get_candles),
    Route("GET", "/products/{product_id}/stats", get_stats),
]
