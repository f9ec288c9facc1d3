"""coinbasepro 0.4.2 (acontry) against a running sandex.

This library converts what it reads (Decimal numbers, datetimes in three strict formats,
``int(trade_id)``) and raises one exception class per status: 400 BadRequest, 401 InvalidAPIKey,
403 InvalidAuthorization, 429 RateLimitError, anything else CoinbaseAPIError. Prices are sent
as floats (JSON numbers), the way its users must pass them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import coinbasepro
import pytest
from coinbasepro.exceptions import (
    BadRequest,
    CoinbaseAPIError,
    InvalidAPIKey,
    InvalidAuthorization,
)

from tests.support.clients_kit import (
    CURRENCIES,
    FEE_MAKER,
    FEE_TAKER,
    UNKNOWN_KEY,
    WRONG_SECRET,
    ask_price,
    bid_price,
    cross_price,
    make_coinbasepro,
    make_coinbasepro_public,
    new_oid,
    wrong,
)
from tests.support.rest_kit import ALICE, BOB, BOB_PROFILE, VIEWER, Server

PRODUCT = "BTC-USD"


@pytest.fixture(scope="module")
def alice(server: Server) -> coinbasepro.AuthenticatedClient:
    return make_coinbasepro(server, ALICE)


@pytest.fixture(scope="module")
def bob(server: Server) -> coinbasepro.AuthenticatedClient:
    return make_coinbasepro(server, BOB)


def accounts(client: coinbasepro.AuthenticatedClient) -> dict[str, dict]:
    return {a["currency"]: a for a in client.get_accounts()}


def test_products_currencies_time_and_fees(server: Server,
                                           alice: coinbasepro.AuthenticatedClient) -> None:
    public = make_coinbasepro_public(server)
    products = {p["id"]: p for p in public.get_products()}
    btc = products["BTC-USD"]
    assert btc["base_increment"] == Decimal("0.00000001")
    assert btc["quote_increment"] == Decimal("0.01")
    assert btc["min_market_funds"] == Decimal("1")
    assert products["ETH-BTC"]["min_market_funds"] == Decimal("0.0001")
    assert public.get_product("ETH-USD")["quote_currency"] == "USD"
    with pytest.raises(CoinbaseAPIError, match="NotFound"):
        public.get_product("NOPE-USD")
    currencies = {c["id"]: c for c in public.get_currencies()}
    assert currencies["BTC"]["min_size"] == Decimal("0.00000001")
    assert currencies["USD"]["min_size"] == Decimal("0.01")
    server_time = public.get_time()
    assert isinstance(server_time["iso"], datetime)  # parsed with %Y-%m-%dT%H:%M:%S.%fZ
    assert abs(server_time["iso"] - datetime.utcnow()) < timedelta(seconds=5)
    fees = alice.get_fees()
    assert (fees["maker_fee_rate"], fees["taker_fee_rate"]) == (FEE_MAKER, FEE_TAKER)
    assert isinstance(fees["usd_volume"], Decimal)


def test_limit_order_lifecycle_with_float_prices(alice: coinbasepro.AuthenticatedClient) -> None:
    price, client_oid = bid_price(), new_oid()
    before = accounts(alice)
    placed = alice.place_limit_order(PRODUCT, "buy", float(price), 0.03, client_oid=client_oid)
    oid = placed["id"]
    assert placed["status"] == "pending"
    assert (placed["price"], placed["size"]) == (price, Decimal("0.03"))
    assert isinstance(placed["created_at"], datetime)

    order = alice.get_order(oid)
    assert (order["status"], order["price"], order["size"]) == ("open", price, Decimal("0.03"))
    assert order["filled_size"] == 0
    assert order["client_oid"] == client_oid
    assert order["created_at"] == placed["created_at"]
    assert alice.get_order("client:" + client_oid)["id"] == oid
    assert oid in [o["id"] for o in alice.get_orders(product_id=PRODUCT)]

    hold = price * Decimal("0.03") * (1 + FEE_TAKER)
    usd = accounts(alice)["USD"]
    assert usd["hold"] == before["USD"]["hold"] + hold
    assert usd["available"] == before["USD"]["available"] - hold
    assert usd["balance"] == before["USD"]["balance"]
    (held,) = [h for h in alice.get_account_holds(usd["id"]) if h["ref"] == oid]
    assert held["amount"] == hold
    assert isinstance(held["created_at"], datetime)

    assert alice.cancel_order(oid) == oid
    assert accounts(alice)["USD"] == before["USD"]
    with pytest.raises(CoinbaseAPIError, match=r"^order not found$") as cancel_again:
        alice.cancel_order(oid)
    assert not isinstance(cancel_again.value, BadRequest)  # 404, not 400
    with pytest.raises(CoinbaseAPIError, match=r"^NotFound$") as purged:
        alice.get_order(oid)
    assert not isinstance(purged.value, BadRequest)
    with pytest.raises(BadRequest, match=r"^Invalid order id$"):
        alice.get_order("12345")


def test_cancel_by_client_oid(alice: coinbasepro.AuthenticatedClient) -> None:
    client_oid = new_oid()
    placed = alice.place_limit_order(PRODUCT, "sell", float(ask_price()), 0.01,
                                     client_oid=client_oid)
    assert alice.cancel_order("client:" + client_oid) == client_oid
    with pytest.raises(CoinbaseAPIError, match="NotFound"):
        alice.get_order(placed["id"])


def test_cross_fills_and_balances(alice: coinbasepro.AuthenticatedClient,
                                  bob: coinbasepro.AuthenticatedClient) -> None:
    price, size = cross_price(), Decimal("0.125")
    notional = price * size
    a0, b0 = accounts(alice), accounts(bob)
    buy = bob.place_limit_order(PRODUCT, "buy", float(price), float(size))  # bob is the maker
    b_rest = accounts(bob)["USD"]
    b_hold = notional * (1 + FEE_TAKER)
    assert (b_rest["hold"], b_rest["available"], b_rest["balance"]) == (
        b0["USD"]["hold"] + b_hold, b0["USD"]["available"] - b_hold, b0["USD"]["balance"])

    sell = alice.place_limit_order(PRODUCT, "sell", float(price - 3), float(size))  # taker
    (maker,) = list(bob.get_fills(order_id=buy["id"]))
    (taker,) = list(alice.get_fills(order_id=sell["id"]))
    assert maker["trade_id"] == taker["trade_id"]
    assert (maker["liquidity"], maker["side"], maker["price"], maker["size"]) == (
        "M", "buy", price, size)
    assert (taker["liquidity"], taker["side"], taker["price"], taker["size"]) == (
        "T", "sell", price, size)
    assert maker["fee"] == notional * FEE_MAKER
    assert taker["fee"] == notional * FEE_TAKER
    assert maker["usd_volume"] == notional
    assert maker["profile_id"] == BOB_PROFILE
    assert isinstance(maker["created_at"], datetime)

    sold = alice.get_order(sell["id"])
    assert (sold["status"], sold["done_reason"]) == ("done", "filled")
    assert (sold["filled_size"], sold["executed_value"], sold["fill_fees"]) == (
        size, notional, notional * FEE_TAKER)
    assert sold["price"] == price - 3

    a1, b1 = accounts(alice), accounts(bob)
    for name in ("balance", "available"):
        assert a1["USD"][name] == a0["USD"][name] + notional * (1 - FEE_TAKER)
        assert a1["BTC"][name] == a0["BTC"][name] - size
        assert b1["USD"][name] == b0["USD"][name] - notional * (1 + FEE_MAKER)
        assert b1["BTC"][name] == b0["BTC"][name] + size
    assert b1["USD"]["hold"] == b0["USD"]["hold"]
    assert a1["BTC"]["hold"] == a0["BTC"]["hold"]

    entries = [e for e in bob.get_account_history(b1["BTC"]["id"])
               if e["details"].get("order_id") == buy["id"]]
    assert [(e["type"], e["amount"]) for e in entries] == [("match", size)]
    assert entries[0]["balance"] == b1["BTC"]["balance"]
    assert isinstance(entries[0]["created_at"], datetime)


def test_partial_fill_then_cancel(alice: coinbasepro.AuthenticatedClient,
                                  bob: coinbasepro.AuthenticatedClient) -> None:
    price = cross_price()
    buy = bob.place_limit_order(PRODUCT, "buy", float(price), 1.5)
    alice.place_limit_order(PRODUCT, "sell", float(price), 0.5)
    assert bob.cancel_order(buy["id"]) == buy["id"]
    order = bob.get_order(buy["id"])
    assert (order["status"], order["done_reason"]) == ("done", "canceled")
    assert (order["filled_size"], order["size"]) == (Decimal("0.5"), Decimal("1.5"))
    assert order["fill_fees"] == price * Decimal("0.5") * FEE_MAKER
    with pytest.raises(BadRequest, match=r"^Order already done$"):
        bob.cancel_order(buy["id"])
    assert buy["id"] in [o["id"] for o in bob.get_orders(product_id=PRODUCT, status="all")]


def test_cancel_all_and_pagination_past_100(alice: coinbasepro.AuthenticatedClient) -> None:
    product = "ETH-BTC"
    placed = [alice.place_limit_order(product, "buy", float(Decimal("0.001") + n *
                                                            Decimal("0.00001")), 0.1)["id"]
              for n in range(130)]
    try:
        listed = list(alice.get_orders(product_id=product, status=["open", "pending"]))
        assert [o["id"] for o in listed] == placed[::-1]
        stamps = [o["created_at"] for o in listed]
        assert stamps == sorted(stamps, reverse=True)
        assert all(o["status"] == "open" for o in listed)
        assert [o["id"] for o in alice.get_orders(product_id=product, limit=40)] == placed[::-1]
    finally:
        canceled = alice.cancel_all(product_id=product)
    assert sorted(canceled) == sorted(placed)
    assert list(alice.get_orders(product_id=product)) == []


def test_authentication_and_permission_errors(server: Server) -> None:
    with pytest.raises(InvalidAPIKey, match=r"^invalid signature$"):
        make_coinbasepro(server, wrong(ALICE, secret=WRONG_SECRET)).get_accounts()
    with pytest.raises(InvalidAPIKey, match=r"^Invalid Passphrase$"):
        make_coinbasepro(server, wrong(ALICE, passphrase="nope")).get_accounts()
    with pytest.raises(InvalidAPIKey, match=r"^Invalid API Key$"):
        list(make_coinbasepro(server, wrong(ALICE, key=UNKNOWN_KEY)).get_orders())
    viewer = make_coinbasepro(server, VIEWER)
    assert {a["currency"] for a in viewer.get_accounts()} == CURRENCIES
    with pytest.raises(InvalidAuthorization, match=r"^Forbidden$"):
        viewer.place_limit_order(PRODUCT, "buy", float(bid_price()), 0.01)
    with pytest.raises(InvalidAuthorization, match=r"^Forbidden$"):
        viewer.cancel_all()


def test_order_entry_rejections(alice: coinbasepro.AuthenticatedClient) -> None:
    with pytest.raises(BadRequest, match=r"^Insufficient funds$"):
        alice.place_limit_order(PRODUCT, "sell", float(ask_price()), 1000)
    with pytest.raises(BadRequest, match=r"^Product not found$"):
        alice.place_market_order("XRP-USD", "buy", funds=10)
    with pytest.raises(BadRequest, match=r"^size is too accurate\. Smallest unit is 0\.00000001$"):
        alice.place_limit_order(PRODUCT, "buy", float(bid_price()), "0.000000001")


def test_market_data_conversions(server: Server, alice: coinbasepro.AuthenticatedClient,
                                 bob: coinbasepro.AuthenticatedClient) -> None:
    public = make_coinbasepro_public(server)
    price = cross_price()
    for size in (0.3, 0.4):  # two trades: the second is the newest
        alice.place_limit_order(PRODUCT, "sell", float(price), size)
        bob.place_limit_order(PRODUCT, "buy", float(price), size)

    ticker = public.get_product_ticker(PRODUCT)
    assert isinstance(ticker["trade_id"], int)
    assert (ticker["price"], ticker["size"]) == (price, Decimal("0.4"))
    assert isinstance(ticker["time"], datetime)

    trades = list(public.get_product_trades(PRODUCT))
    assert trades[0]["trade_id"] == ticker["trade_id"]
    assert (trades[0]["price"], trades[0]["size"], trades[0]["side"]) == (
        price, Decimal("0.4"), "sell")
    assert isinstance(trades[0]["time"], datetime)
    # trade_id=N sends after=N+1: the trades from N down.
    older = list(public.get_product_trades(PRODUCT, trade_id=ticker["trade_id"] - 1))
    assert [t["trade_id"] for t in older] == [t["trade_id"] for t in trades[1:]]
    assert (older[0]["price"], older[0]["size"]) == (price, Decimal("0.3"))

    candles = public.get_product_historic_rates(PRODUCT, granularity=60)
    assert isinstance(candles[0]["time"], datetime)
    assert candles[0]["time"].second == 0
    assert candles[0]["close"] == price
    assert candles[0]["low"] <= price <= candles[0]["high"]

    stats = public.get_product_24hr_stats(PRODUCT)
    assert stats["last"] == price
    assert stats["volume"] >= Decimal("0.4")
    assert stats["volume_30day"] >= stats["volume"]

    book = public.get_product_order_book(PRODUCT, level=2)
    assert isinstance(book["sequence"], int)
    assert all(isinstance(n, int) for _, _, n in book["bids"] + book["asks"])


def test_stats_and_candles_are_exact_ohlcv(server: Server, alice: coinbasepro.AuthenticatedClient,
                                           bob: coinbasepro.AuthenticatedClient) -> None:
    """ETH-USD trades only here (in this module): stats and candles must be the exact OHLCV of
    these four trades, grouped by the minute of each fill's time."""
    public = make_coinbasepro_public(server)
    trades = [(Decimal(3000), Decimal(1)), (Decimal(3050), Decimal(2)),
              (Decimal("2990.5"), Decimal("0.5")), (Decimal(3020), Decimal("1.5"))]
    fills = []
    for price, size in trades:
        alice.place_limit_order("ETH-USD", "sell", str(price), str(size))
        buy = bob.place_limit_order("ETH-USD", "buy", str(price), str(size))
        (fill,) = list(bob.get_fills(order_id=buy["id"]))
        fills.append(fill)

    stats = public.get_product_24hr_stats("ETH-USD")
    assert (stats["open"], stats["high"], stats["low"], stats["last"], stats["volume"]) == (
        Decimal(3000), Decimal(3050), Decimal("2990.5"), Decimal(3020), Decimal(5))
    ticker = public.get_product_ticker("ETH-USD")
    assert (ticker["price"], ticker["size"], ticker["volume"]) == (
        Decimal(3020), Decimal("1.5"), Decimal(5))

    buckets: dict[datetime, list[dict]] = {}
    for fill in fills:
        start = fill["created_at"].replace(second=0, microsecond=0)
        buckets.setdefault(start, []).append(fill)
    expected = [{"time": start,
                 "low": min(f["price"] for f in group), "high": max(f["price"] for f in group),
                 "open": group[0]["price"], "close": group[-1]["price"],
                 "volume": sum(f["size"] for f in group)}
                for start, group in sorted(buckets.items(), reverse=True)]
    assert public.get_product_historic_rates("ETH-USD", granularity=60) == expected
