"""The order path's fast paths give what the general paths give, for every input.

``parse_order`` skips the lookups of option fields a body does not have, and parses
decimals sent as plain digit strings in line; ``wire.new_order_body`` encodes a limit order's
reply from a ``Struct``; ``Request.access_headers`` reads the four ``CB-ACCESS-*`` values from the
raw header dict. Each is checked here against the path it shortcuts.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sandex.api import order_request
from sandex.api.http import ApiError, Request, request_of
from sandex.api.order_request import order_fields, parse_fields, parse_order
from sandex.api.rest import wire
from sandex.auth.verify import HEADER_KEY, HEADER_PASSPHRASE, HEADER_SIGN, HEADER_TIMESTAMP
from sandex.core import AddCurrency, AddProduct, CreateProfile, Engine
from sandex.errors import Error
from sandex.units import parse_units

PROFILE = "0f0e0d0c-0b0a-4908-8706-050403020100"
ORDER_ID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine()
    engine.apply(AddCurrency(time=1, currency="BTC", name="Bitcoin", min_size=1))
    engine.apply(AddCurrency(time=2, currency="USD", name="US Dollar", min_size=1))
    engine.apply(AddProduct(time=3, product_id="BTC-USD", base_currency="BTC",
                            quote_currency="USD", quote_increment=1_000_000,
                            base_increment=1, min_market_funds=1))
    engine.apply(CreateProfile(time=4, profile_id=PROFILE, user_id="u", name="p",
                               maker_fee_rate=0, taker_fee_rate=0))
    return engine


def _parse(engine: Engine, body: dict[str, Any]) -> Any:
    try:
        return parse_order(body, engine, PROFILE, ORDER_ID, 5)
    except ApiError as exc:
        return exc.error, exc.message


DECIMALS = ["10", "10.", "10.00", "10.50", "0.2", "0.20000000", "0.000000001", "0.0000000010",
            "007.5", "1e3", ".5", "5.", "-1", "+1", " 1", "1 ", "1.2.3", "", "١٢", "12.٣",
            "1_000", "nan", "Infinity", "0x10", "9" * 40, "9" * 41, "1." + "0" * 38,
            "1." + "0" * 39, 10, 0, True, None, 1.5, [], {}]


@pytest.mark.parametrize("price", DECIMALS, ids=repr)
def test_a_price_or_size_parses_as_the_general_path_parses_it(engine: Engine, price: Any
                                                               ) -> None:
    for field in ("price", "size"):
        body = {"product_id": "BTC-USD", "side": "buy", field: price,
                "size" if field == "price" else "price": "1"}
        # an unknown field sends the same body down the general path
        assert _parse(engine, body) == _parse(engine, {**body, "x-unknown": 1})
    command = _parse(engine, {"product_id": "BTC-USD", "side": "buy", "price": price,
                              "size": "1"})
    if isinstance(price, str) and not isinstance(command[0], Error):
        assert command[0].price == parse_units(price, 8)
        assert command[1]["price"] == price


@pytest.mark.parametrize("body", [
    {"side": "BUY", "type": "LIMIT"}, {"side": "Sell"}, {"side": 1}, {"side": None},
    {"type": "market", "size": "1"}, {"type": "stop"}, {"type": None}, {"type": 5},
    {"client_oid": "ABCDEF00-0000-4000-8000-000000000000"}, {"client_oid": "not-a-uuid"},
    {"client_oid": 7}, {"profile_id": PROFILE}, {"profile_id": "someone-else"},
    {"time_in_force": "IOC"}, {"post_only": "true"}, {"stp": "co"}, {"funds": "5"},
    {"stop_price": "9"}, {"stop": "loss", "stop_price": "9"}, {"cancel_after": "min"},
    {"time_in_force": None, "post_only": None, "stp": None, "funds": None},
], ids=repr)
def test_an_order_parses_the_same_with_or_without_the_general_path(
        engine: Engine, body: dict[str, Any]) -> None:
    full = {"product_id": "BTC-USD", "side": "buy", "price": "10.00", "size": "0.5", **body}
    assert _parse(engine, full) == _parse(engine, {**full, "x-unknown": 1})


def test_a_limit_orders_reply_is_the_general_one_field_for_field(engine: Engine) -> None:
    command, echo = parse_order({"product_id": "BTC-USD", "side": "sell", "price": "10.5",
                                 "size": "0.25"}, engine, PROFILE, ORDER_ID, 1_700_000_000_123_456)
    fast = msgspec.json.decode(wire.new_order_body(command, echo, None))
    # the general path builds the same reply when the Struct does not apply (funds echoed)
    general = wire.new_order(command, {**echo, "funds": "1"}, None)
    del general["funds"]
    assert list(fast.items()) == list(general.items())
    assert fast == {"id": ORDER_ID, "price": "10.5", "size": "0.25", "product_id": "BTC-USD",
                    "profile_id": PROFILE, "side": "sell", "stp": "dc", "type": "limit",
                    "time_in_force": "GTC", "post_only": False,
                    "created_at": "2023-11-14T22:13:20.123456Z", "fill_fees": "0",
                    "filled_size": "0", "executed_value": "0", "status": "pending",
                    "settled": False}


@pytest.mark.parametrize("body", [
    {"price": "10.5", "size": "0.25"}, {"price": "10.50000", "size": "1"},
    {"price": "10.5", "size": "0.25", "client_oid": "abcdef00-0000-4000-8000-000000000000"},
    {"price": "10.5", "size": "0.25", "post_only": True, "time_in_force": "GTT",
     "cancel_after": "hour"},
    {"price": "10.5", "size": "0.25", "time_in_force": "IOC", "stp": "co"},
    {"price": "10.5", "size": "0.25", "stop": "loss", "stop_price": "9"},
    {"type": "market", "size": "0.25"}, {"type": "market", "funds": "10"},
    {"type": "market", "funds": "10", "side": "buy"}, {"price": "10.5", "funds": "10"},
    {"price": 10, "size": 1}, {"price": "10.5", "size": "0.25", "side": "buy"},
], ids=repr)
@pytest.mark.parametrize("funds", [None, 5 * 10**16])
def test_a_new_orders_reply_bytes_are_its_dicts_encoded(
        engine: Engine, body: dict[str, Any], funds: int | None) -> None:
    """``new_order_body`` (a limit order's reply from a ``Struct``) writes exactly what
    encoding ``new_order``'s dict writes, field order included."""
    command, echo = parse_order({"product_id": "BTC-USD", "side": "sell", **body}, engine,
                                PROFILE, ORDER_ID, 1_700_000_000_123_456)
    expected = msgspec.json.encode(wire.new_order(command, echo, funds))
    assert wire.new_order_body(command, echo, funds) == expected


def _request(headers: list[tuple[bytes, bytes]]) -> Request:
    scope = {"type": "http", "method": "POST", "path": "/orders", "raw_path": b"/orders",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 5000)}
    return request_of(scope, b"{}")


@pytest.mark.parametrize("headers", [
    [],
    [(b"host", b"h"), (b"cb-access-key", b"k"), (b"cb-access-sign", b"s"),
     (b"cb-access-timestamp", b"1"), (b"cb-access-passphrase", b"p")],
    [(b"cb-access-key", b"k"), (b"cb-access-timestamp", b"")],
    [(b"cb-access-sign", b"s")],
    [(b"cb-access-other", b"x")],
    [(b"cb-access-key", b"k\xc3\xa9y"), (b"cb-access-passphrase", b"p\xe9")],  # not UTF-8
    [(b"cb-access-key", b"first"), (b"cb-access-key", b"last")],
], ids=repr)
def test_the_access_headers_are_those_of_the_whole_decoded_dict(
        headers: list[tuple[bytes, bytes]]) -> None:
    request = _request(headers)
    found = request.access_headers()
    decoded = _request(headers).headers
    expected = tuple(decoded.get(name) for name in (HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP,
                                                    HEADER_PASSPHRASE))
    assert found == (None if expected == (None, None, None, None) else expected)
    assert request.headers == decoded


_ACCESS = (b"cb-access-key", b"cb-access-sign", b"cb-access-timestamp", b"cb-access-passphrase")


@pytest.mark.parametrize("present", range(16))
@pytest.mark.parametrize("value", [b"v", b"", b"\xff"], ids=repr)  # plain, empty, not UTF-8
def test_each_subset_of_the_four_access_headers_is_read_as_the_whole_dict_reads_it(
        present: int, value: bytes) -> None:
    """The four values looked up one by one and tested by identity (the nineteenth pass):
    every subset of them present, with a plain, an empty and a non-UTF-8 value."""
    headers = [(b"host", b"h")] + [(name, value + bytes([48 + i]))
                                   for i, name in enumerate(_ACCESS) if present >> i & 1]
    found = _request(headers).access_headers()
    decoded = _request(headers).headers
    expected = tuple(decoded.get(name) for name in (HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP,
                                                    HEADER_PASSPHRASE))
    assert found == (None if expected == (None, None, None, None) else expected)


def _one_decode(engine: Engine, raw: bytes) -> Any:
    """``place_order``'s way: the body's fields in one decode (``parse_fields``), else
    ``parse_order`` of the body's dict, as the handler falls back."""
    try:
        fields = order_fields(raw)
        parsed = None if fields is None else parse_fields(fields, engine, PROFILE, ORDER_ID, 5)
        if parsed is None:
            parsed = parse_order(_json_object(raw), engine, PROFILE, ORDER_ID, 5)
        return parsed
    except ApiError as exc:
        return exc.error, exc.message


def _json_object(raw: bytes) -> dict[str, Any]:
    return request_of({"type": "http", "method": "POST", "path": "/orders", "headers": []},
                      raw).json_once()


def _dict_path(engine: Engine, raw: bytes) -> Any:
    try:
        return parse_order(_json_object(raw), engine, PROFILE, ORDER_ID, 5)
    except ApiError as exc:
        return exc.error, exc.message


RAW_BODIES = [
    b"", b"  ", b"null", b"[]", b'"x"', b"5", b"{", b'{"product_id":"BTC-USD"', b"{}",
    b'{"product_id":"BTC-USD","side":"buy","price":"10.00","size":"0.5","price":"11.00"}',
    b'{"product_id":"BTC-USD","product_id":"ETH-USD","side":"buy","price":"1","size":"1"}',
    b'{"product_id":"btc-usd","side":"buy","price":"1","size":"1"}',
    b'{"product_id":"BTC/USD","side":"buy","price":"1","size":"1"}',
    b'{"product_id":"NOPE-USD","side":"buy","price":"1","size":"1"}',
    b'{"product_id":"BTC-USD","side":"buy","price":1.50,"size":1e-3}',
    b'{"product_id":"BTC-USD","side":"buy","price":1E400,"size":"1"}',
    b'{"product_id":"BTC-USD","side":"buy","price":123456789012345678901234567890,"size":"1"}',
    b'{"pr\\u006fduct_id":"BTC-USD","side":"buy","price":"1","size":"1"}',
    b'{"product_id":"BTC-USD","side":"buy","price":"1","size":"1","extra":{"a":[1,2]}}',
    b'{"product_id":"BTC-USD","side":"sell","type":"market","size":"1"}',
    b'{"product_id":"BTC-USD","side":"sell","type":"market","price":"1","size":"1"}',
    b'{"product_id":"BTC-USD","side":"sell","type":"market","funds":"10"}',
    b'\n {"product_id":"BTC-USD","side":"buy","price":"10.00","size":"0.5"} \n',
    b'{"product_id":"BTC-USD","side":"buy","price":"10.00","size":"0.5"} x',
]


@pytest.mark.parametrize("raw", RAW_BODIES, ids=repr)
def test_one_decode_parses_a_body_as_its_dict_parses(engine: Engine, raw: bytes) -> None:
    _dict_path(engine, b'{"product_id":"BTC-USD","side":"buy","price":"1","size":"1"}')
    assert _one_decode(engine, raw) == _dict_path(engine, raw)


@pytest.mark.parametrize("price", DECIMALS, ids=repr)
def test_one_decode_parses_every_decimal_as_its_dict_parses(engine: Engine, price: Any
                                                             ) -> None:
    _dict_path(engine, b'{"product_id":"BTC-USD","side":"buy","price":"1","size":"1"}')
    for field, other in (("price", "size"), ("size", "price")):
        for extra in ({}, {"type": "market"}, {"client_oid": None}):
            raw = msgspec.json.encode({"product_id": "BTC-USD", "side": "buy", field: price,
                                       other: "1", **extra})
            assert _one_decode(engine, raw) == _dict_path(engine, raw)


@pytest.mark.parametrize("body", [
    {"side": "BUY", "type": "LIMIT"}, {"side": "Sell"}, {"side": 1}, {"side": None},
    {"type": "market", "size": "1"}, {"type": "stop"}, {"type": None}, {"type": 5},
    {"client_oid": "ABCDEF00-0000-4000-8000-000000000000"}, {"client_oid": "not-a-uuid"},
    {"client_oid": 7}, {"profile_id": PROFILE}, {"profile_id": "someone-else"},
    {"profile_id": None}, {"time_in_force": "IOC"}, {"post_only": "true"}, {"stp": "co"},
    {"funds": "5"}, {"stop_price": "9"}, {"stop": "loss", "stop_price": "9"},
    {"cancel_after": "min"}, {"post_only": False}, {"product_id": None},
    {"product_id": 5}, {"product_id": ""},
    {"time_in_force": None, "post_only": None, "stp": None, "funds": None},
], ids=repr)
def test_one_decode_parses_an_order_as_its_dict_parses(engine: Engine,
                                                       body: dict[str, Any]) -> None:
    _dict_path(engine, b'{"product_id":"BTC-USD","side":"buy","price":"1","size":"1"}')
    full = {"product_id": "BTC-USD", "side": "buy", "price": "10.00", "size": "0.5", **body}
    for extra in ({}, {"x-unknown": 1}):
        raw = msgspec.json.encode({**full, **extra})
        assert _one_decode(engine, raw) == _dict_path(engine, raw)


def test_a_plain_order_takes_the_one_decode(engine: Engine) -> None:
    raw = b'{"product_id":"BTC-USD","side":"buy","type":"limit","price":"10.00","size":"0.2"}'
    _dict_path(engine, raw)  # the product id as sent is known from then on
    fields = order_fields(raw)
    assert fields is not None
    parsed = parse_fields(fields, engine, PROFILE, ORDER_ID, 5)
    assert parsed is not None and parsed == _dict_path(engine, raw)
    for other in (b'{"product_id":"BTC-USD","side":"buy","price":"1","size":"1","stp":"co"}',
                  b'{"product_id":"BTC-USD","side":"BUY","price":"1","size":"1"}'):
        fields = order_fields(other)
        assert fields is not None and parse_fields(fields, engine, PROFILE, ORDER_ID, 5) is None


@pytest.mark.parametrize("price", DECIMALS, ids=repr)
def test_a_remembered_decimal_parses_as_a_first_one(engine: Engine, price: Any) -> None:
    """``_UNITS``: a plain price or size text seen before is answered from memory with the
    units and echo (and errors) it got the first time, and as the dict path answers it."""
    _dict_path(engine, b'{"product_id":"BTC-USD","side":"buy","price":"1","size":"1"}')
    for field, other in (("price", "size"), ("size", "price")):
        for extra in ({}, {"type": "market"}):
            raw = msgspec.json.encode({"product_id": "BTC-USD", "side": "buy", field: price,
                                       other: "1", **extra})
            order_request._UNITS.clear()
            first = _one_decode(engine, raw)  # parsed, and remembered if plain
            again = _one_decode(engine, raw)  # from memory if it was
            assert first == again == _dict_path(engine, raw)
    order_request._UNITS.clear()
    _one_decode(engine, b'{"product_id":"BTC-USD","side":"buy","price":"10.50","size":"1"}')
    assert order_request._UNITS == {"10.50": 1_050_000_000, "1": 100_000_000}


def test_the_remembered_decimals_are_bounded(engine: Engine) -> None:
    order_request._UNITS.clear()
    for i in range(order_request._UNITS_MAX + 10):
        raw = b'{"product_id":"BTC-USD","side":"buy","price":"%d.5","size":"1"}' % (i + 1)
        command, echo = _one_decode(engine, raw)
        assert command.price == (i + 1) * 10**8 + 5 * 10**7 and echo["price"] == f"{i + 1}.5"
    assert 0 < len(order_request._UNITS) <= order_request._UNITS_MAX


def test_a_remembered_product_id_is_the_product_tables_own_key(engine: Engine) -> None:
    """``_CANONICAL`` keeps the product table's key object for a known product (its probes
    then match by identity), the canonical text for an unknown one; the commands are equal."""
    order_request._CANONICAL.clear()
    for sent in ("btc-usd", "BTC/USD", "BTC-USD"):
        command, _ = _parse(engine, {"product_id": sent, "side": "buy", "price": "1",
                                     "size": "1"})
        stored = next(key for key in engine.products if key == "BTC-USD")
        assert order_request._CANONICAL[sent] is stored
        assert command.product_id is stored
        fields = order_fields(msgspec.json.encode({"product_id": sent, "side": "buy",
                                                   "type": "limit", "price": "1",
                                                   "size": "1"}))
        assert fields is not None
        parsed = parse_fields(fields, engine, PROFILE, ORDER_ID, 5)
        assert parsed is not None and parsed[0] == command
    assert _parse(engine, {"product_id": "eth-usd", "side": "buy", "price": "1",
                           "size": "1"}) == (Error.PRODUCT_NOT_FOUND, "Product not found")
    assert order_request._CANONICAL["eth-usd"] == "ETH-USD"
    order_request._CANONICAL.clear()
