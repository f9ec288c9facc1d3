"""ccxt ``coinbaseexchange`` 4.5.90 against a running sandex: markets, orders, trades, errors.

Everything goes through ccxt's unified API (and its raw ``info``), the way a ccxt user would
call it; the server is the real subprocess of tests/conftest.py.
"""

from __future__ import annotations

import json
from decimal import Decimal

import ccxt
import pytest

from tests.support.clients_kit import (
    CURRENCIES,
    FEE_MAKER,
    FEE_TAKER,
    SYMBOLS,
    UNKNOWN_KEY,
    WRONG_SECRET,
    ask_price,
    bid_price,
    cross_price,
    make_ccxt,
    new_oid,
    raw_accounts,
    wrong,
)
from tests.support.rest_kit import ALICE, ALICE_PROFILE, BOB, BOB_PROFILE, VIEWER, Server

SYMBOL = "BTC/USD"


@pytest.fixture(scope="module")
def alice(server: Server) -> ccxt.coinbaseexchange:
    exchange = make_ccxt(server, ALICE)
    exchange.load_markets()
    return exchange


@pytest.fixture(scope="module")
def bob(server: Server) -> ccxt.coinbaseexchange:
    exchange = make_ccxt(server, BOB)
    exchange.load_markets()
    return exchange


def balances(exchange: ccxt.coinbaseexchange) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """``{currency: (free, used, total)}`` from ccxt's fetch_balance, as exact decimals."""
    bal = exchange.fetch_balance()
    return {c: (Decimal(str(bal[c]["free"])), Decimal(str(bal[c]["used"])),
                Decimal(str(bal[c]["total"]))) for c in ("USD", "BTC", "ETH")}


def test_load_markets_precision_limits_and_currencies(server: Server) -> None:
    exchange = make_ccxt(server)
    markets = exchange.load_markets()
    assert set(markets) == SYMBOLS
    btc = markets["BTC/USD"]
    assert (btc["id"], btc["base"], btc["quote"]) == ("BTC-USD", "BTC", "USD")
    assert btc["active"] is True
    assert btc["spot"] is True
    assert btc["precision"]["amount"] == 1e-8
    assert btc["precision"]["price"] == 0.01
    assert btc["limits"]["cost"]["min"] == 1
    eth_btc = markets["ETH/BTC"]
    assert eth_btc["precision"]["price"] == 0.00001
    assert eth_btc["limits"]["cost"]["min"] == 0.0001
    assert exchange.price_to_precision(SYMBOL, 1234.567) == "1234.57"
    assert exchange.amount_to_precision(SYMBOL, 0.123456789) == "0.12345678"
    currencies = exchange.currencies
    assert set(currencies) == CURRENCIES
    assert currencies["USD"]["name"] == "United States Dollar"
    assert currencies["BTC"]["active"] is True


def test_limit_order_lifecycle_fetch_list_cancel(alice: ccxt.coinbaseexchange) -> None:
    price, size = bid_price(), Decimal("0.01")
    client_oid = new_oid()
    before = balances(alice)
    created = alice.create_order(SYMBOL, "limit", "buy", float(size), float(price),
                                 {"clientOrderId": client_oid})
    oid = created["id"]
    assert created["status"] == "open"  # "pending" on the wire
    assert created["symbol"] == SYMBOL
    assert (created["side"], created["type"]) == ("buy", "limit")
    assert created["price"] == float(price)
    assert created["amount"] == float(size)
    assert created["info"]["product_id"] == "BTC-USD"

    # A limit buy holds price * size * (1 + taker fee rate) USD.
    hold = price * size * (1 + FEE_TAKER)
    during = balances(alice)
    assert during["USD"] == (before["USD"][0] - hold, before["USD"][1] + hold, before["USD"][2])
    assert during["BTC"] == before["BTC"]

    fetched = alice.fetch_order(oid)
    assert fetched["id"] == oid
    assert fetched["clientOrderId"] == client_oid
    assert fetched["status"] == "open"
    assert fetched["info"]["status"] == "open"
    assert (fetched["price"], fetched["amount"], fetched["filled"], fetched["remaining"]) == (
        float(price), float(size), 0.0, float(size))
    assert fetched["info"]["profile_id"] == ALICE_PROFILE

    by_client = alice.fetch_order(None, None, {"clientOrderId": client_oid})
    assert by_client["id"] == oid
    assert by_client["clientOrderId"] == client_oid

    open_orders = alice.fetch_open_orders(SYMBOL)
    assert oid in [o["id"] for o in open_orders]
    assert all(o["status"] == "open" for o in open_orders)

    canceled = alice.cancel_order(oid, SYMBOL)  # product_id "BTC/USD" in a signed JSON body
    assert canceled["info"] == json.dumps(oid)  # the bare JSON string, undecoded by ccxt
    assert balances(alice) == before

    with pytest.raises(ccxt.OrderNotFound, match="order not found"):
        alice.cancel_order(oid, SYMBOL)
    with pytest.raises(ccxt.OrderNotFound, match="NotFound"):
        alice.fetch_order(oid)  # purged: canceled with no fills
    assert oid not in [o["id"] for o in alice.fetch_open_orders(SYMBOL)]


def test_cancel_by_client_oid_answers_the_client_oid(alice: ccxt.coinbaseexchange) -> None:
    client_oid = new_oid()
    created = alice.create_order(SYMBOL, "limit", "sell", 0.02, float(ask_price()),
                                 {"clientOrderId": client_oid})
    canceled = alice.cancel_order("", SYMBOL, {"clientOrderId": client_oid})
    assert canceled["info"] == json.dumps(client_oid)
    with pytest.raises(ccxt.OrderNotFound):
        alice.fetch_order(None, None, {"clientOrderId": client_oid})
    with pytest.raises(ccxt.OrderNotFound):
        alice.fetch_order(created["id"])
    with pytest.raises(ccxt.OrderNotFound, match="order not found"):
        alice.cancel_order("", SYMBOL, {"clientOrderId": client_oid})


def test_two_profiles_cross_fills_fees_and_balances(alice: ccxt.coinbaseexchange,
                                                    bob: ccxt.coinbaseexchange) -> None:
    price, size = cross_price(), Decimal("0.25")
    notional = price * size
    a0, b0 = balances(alice), balances(bob)

    sell = alice.create_order(SYMBOL, "limit", "sell", float(size), float(price))
    resting = balances(alice)
    assert resting["BTC"] == (a0["BTC"][0] - size, a0["BTC"][1] + size, a0["BTC"][2])
    assert resting["USD"] == a0["USD"]

    buy = bob.create_order(SYMBOL, "limit", "buy", float(size), float(price + 5))

    maker = alice.fetch_order(sell["id"])
    assert maker["status"] == "closed"
    assert maker["info"]["done_reason"] == "filled"
    assert (maker["filled"], maker["remaining"]) == (float(size), 0.0)
    assert maker["cost"] == float(notional)
    assert maker["fee"]["cost"] == float(notional * FEE_MAKER)
    assert maker["fee"]["currency"] == "USD"
    taker = bob.fetch_order(buy["id"])
    assert taker["status"] == "closed"
    assert taker["price"] == float(price + 5)
    assert taker["average"] == float(price)  # filled at the maker's price
    assert taker["fee"]["cost"] == float(notional * FEE_TAKER)

    (maker_fill,) = alice.fetch_order_trades(sell["id"], SYMBOL)
    assert (maker_fill["side"], maker_fill["takerOrMaker"]) == ("sell", "maker")
    assert (maker_fill["price"], maker_fill["amount"]) == (float(price), float(size))
    assert maker_fill["cost"] == float(notional)
    assert maker_fill["fee"]["cost"] == float(notional * FEE_MAKER)
    assert maker_fill["fee"]["currency"] == "USD"
    assert maker_fill["order"] == sell["id"]
    (taker_fill,) = bob.fetch_order_trades(buy["id"], SYMBOL)
    assert (taker_fill["side"], taker_fill["takerOrMaker"]) == ("buy", "taker")
    assert (taker_fill["price"], taker_fill["amount"]) == (float(price), float(size))
    assert taker_fill["fee"]["cost"] == float(notional * FEE_TAKER)
    assert taker_fill["id"] == maker_fill["id"]  # one trade, two fills
    assert taker_fill["id"] in [t["id"] for t in bob.fetch_my_trades(SYMBOL)]

    a1, b1 = balances(alice), balances(bob)
    usd_in = notional * (1 - FEE_MAKER)
    usd_out = notional * (1 + FEE_TAKER)
    assert a1["USD"] == (a0["USD"][0] + usd_in, a0["USD"][1], a0["USD"][2] + usd_in)
    assert a1["BTC"] == (a0["BTC"][0] - size, a0["BTC"][1], a0["BTC"][2] - size)
    assert b1["USD"] == (b0["USD"][0] - usd_out, b0["USD"][1], b0["USD"][2] - usd_out)
    assert b1["BTC"] == (b0["BTC"][0] + size, b0["BTC"][1], b0["BTC"][2] + size)


def test_partial_fill_then_cancel_stays_visible_as_canceled(
        alice: ccxt.coinbaseexchange, bob: ccxt.coinbaseexchange) -> None:
    price = cross_price()
    a0 = balances(alice)
    sell = alice.create_order(SYMBOL, "limit", "sell", 1.0, float(price))
    bob.create_order(SYMBOL, "limit", "buy", 0.4, float(price))
    partial = alice.fetch_order(sell["id"])
    assert partial["status"] == "open"
    assert (partial["filled"], partial["remaining"]) == (0.4, 0.6)

    canceled = alice.cancel_order(sell["id"], SYMBOL)
    assert canceled["info"] == json.dumps(sell["id"])

    done = alice.fetch_order(sell["id"])  # not purged: it had a fill
    assert done["status"] == "canceled"
    assert done["info"]["status"] == "done"
    assert done["info"]["done_reason"] == "canceled"
    assert (done["filled"], done["remaining"]) == (0.4, 0.6)
    assert done["fee"]["cost"] == float(price * Decimal("0.4") * FEE_MAKER)
    assert sell["id"] in [o["id"] for o in alice.fetch_orders(SYMBOL)]
    assert sell["id"] not in [o["id"] for o in alice.fetch_open_orders(SYMBOL)]
    assert sell["id"] in [o["id"] for o in alice.fetch_closed_orders(SYMBOL)]
    with pytest.raises(ccxt.OrderNotFound, match="Order already done"):
        alice.cancel_order(sell["id"], SYMBOL)

    a1 = balances(alice)  # the unfilled 0.6 BTC is released
    assert a1["BTC"] == (a0["BTC"][0] - Decimal("0.4"), a0["BTC"][1],
                         a0["BTC"][2] - Decimal("0.4"))


def test_cancel_all_orders_for_one_symbol(alice: ccxt.coinbaseexchange) -> None:
    btc_ids = {alice.create_order(SYMBOL, "limit", "buy", 0.01, float(bid_price()))["id"]
               for _ in range(3)}
    eth = alice.create_order("ETH/USD", "limit", "buy", 0.01, float(bid_price()))
    try:
        (result,) = alice.cancel_all_orders(SYMBOL)  # body {"product_id": "BTC/USD"}
        assert isinstance(result["info"], list)
        assert set(result["info"]) == btc_ids
        assert len(result["info"]) == 3
        assert not btc_ids & {o["id"] for o in alice.fetch_open_orders(SYMBOL)}
        assert eth["id"] in [o["id"] for o in alice.fetch_open_orders("ETH/USD")]
    finally:
        alice.cancel_order(eth["id"], "ETH/USD")


def test_authentication_failures(server: Server) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="invalid signature"):
        make_ccxt(server, wrong(ALICE, secret=WRONG_SECRET)).fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="Invalid Passphrase"):
        make_ccxt(server, wrong(ALICE, passphrase="not-it")).fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="Invalid API Key"):
        make_ccxt(server, wrong(ALICE, key=UNKNOWN_KEY)).fetch_balance()
    skewed = make_ccxt(server, ALICE)
    skewed.nonce = lambda: skewed.seconds() - 60  # the CB-ACCESS-TIMESTAMP ccxt signs
    with pytest.raises(ccxt.AuthenticationError, match="request timestamp expired"):
        skewed.fetch_balance()


def test_view_only_key_reads_but_cannot_trade(server: Server) -> None:
    viewer = make_ccxt(server, VIEWER)
    viewer.load_markets()
    assert viewer.fetch_balance()["USD"]["total"] > 0
    # ccxt's documented mapping: HTTP 403 -> ExchangeNotAvailable (not PermissionDenied).
    with pytest.raises(ccxt.ExchangeNotAvailable, match=r" 403 .*Forbidden"):
        viewer.create_order(SYMBOL, "limit", "buy", 0.01, float(bid_price()))
    with pytest.raises(ccxt.ExchangeNotAvailable, match="Forbidden"):
        viewer.cancel_all_orders(SYMBOL)


def test_market_data_book_ticker_trades_candles_time(alice: ccxt.coinbaseexchange,
                                                     bob: ccxt.coinbaseexchange) -> None:
    now_ms = alice.milliseconds()
    assert abs(alice.fetch_time() - now_ms) < 5000

    price = cross_price()
    alice.create_order(SYMBOL, "limit", "sell", 0.3, float(price))
    bob.create_order(SYMBOL, "limit", "buy", 0.3, float(price))
    bid, ask = bid_price(), ask_price()
    resting = [alice.create_order(SYMBOL, "limit", "buy", 0.5, float(bid)),
               bob.create_order(SYMBOL, "limit", "buy", 0.25, float(bid)),
               alice.create_order(SYMBOL, "limit", "sell", 0.1, float(ask))]
    try:
        book = alice.fetch_order_book(SYMBOL)
        assert [float(bid), 0.75, 2] in book["bids"]  # [price, size, num_orders]
        assert [float(ask), 0.1, 1] in book["asks"]
        assert book["bids"] == sorted(book["bids"], reverse=True)
        assert book["asks"] == sorted(book["asks"])
        assert isinstance(book["nonce"], int)

        ticker = alice.fetch_ticker(SYMBOL)
        assert ticker["last"] == float(price)
        assert ticker["bid"] == book["bids"][0][0]
        assert ticker["ask"] == book["asks"][0][0]

        trades = alice.fetch_trades(SYMBOL)
        last = trades[-1]  # ccxt sorts oldest first
        assert (last["price"], last["amount"]) == (float(price), 0.3)
        assert last["side"] == "buy"  # the taker's side (the wire carries the maker's "sell")
        assert last["timestamp"] >= now_ms - 1000

        candles = alice.fetch_ohlcv(SYMBOL, "1m")
        newest = candles[-1]
        assert newest[0] % 60_000 == 0
        assert newest[4] == float(price)  # close
        assert newest[2] >= float(price) >= newest[3]  # high >= close >= low
        assert newest[5] > 0
    finally:
        for order in resting:
            owner = bob if order["info"]["profile_id"] == BOB_PROFILE else alice
            owner.cancel_order(order["id"], SYMBOL)


def test_balance_matches_accounts_and_fees(server: Server, alice: ccxt.coinbaseexchange) -> None:
    truth = raw_accounts(server, ALICE)
    bal = alice.fetch_balance()
    for currency, account in truth.items():
        assert bal[currency]["free"] == float(account["available"])
        assert bal[currency]["used"] == float(account["hold"])
        assert bal[currency]["total"] == float(account["balance"])
    fees = alice.fetch_trading_fees()
    assert set(fees) == SYMBOLS
    assert (fees[SYMBOL]["maker"], fees[SYMBOL]["taker"]) == (0.004, 0.006)


def test_ledger_records_match_and_fee(alice: ccxt.coinbaseexchange,
                                      bob: ccxt.coinbaseexchange) -> None:
    price, size = cross_price(), Decimal("0.1")
    since = alice.milliseconds() - 1000
    sell = alice.create_order(SYMBOL, "limit", "sell", float(size), float(price))
    bob.create_order(SYMBOL, "limit", "buy", float(size), float(price))
    entries = [e for e in alice.fetch_ledger("USD", since)
               if e["info"]["details"].get("order_id") == sell["id"]]
    by_type = {e["type"]: e for e in entries}
    assert set(by_type) == {"trade", "fee"}
    assert by_type["trade"]["amount"] == float(price * size)
    assert by_type["trade"]["direction"] == "in"
    assert by_type["fee"]["amount"] == float(price * size * FEE_MAKER)
    assert by_type["fee"]["direction"] == "out"
    assert all(e["currency"] == "USD" for e in entries)


def test_market_orders_by_funds_and_by_size(alice: ccxt.coinbaseexchange,
                                            bob: ccxt.coinbaseexchange) -> None:
    """Market buy with funds, market sell with size: both take liquidity at the resting order's
    price and pay the taker fee. ETH/BTC is traded only here and in the stop-order test, and
    each of them leaves that book empty."""
    a0, b0 = balances(alice), balances(bob)
    ask = alice.create_order("ETH/BTC", "limit", "sell", 10, 0.05)
    bid = bob.create_order("ETH/BTC", "limit", "buy", 1, 0.04)
    try:
        # funds 0.1006 BTC = 0.1 spendable + 0.6 % fee reserved: 2 ETH at 0.05.
        buy = bob.create_order("ETH/BTC", "market", "buy", None, None, {"cost": 0.1006})
        assert Decimal(buy["info"]["specified_funds"]) == Decimal("0.1006")
        assert Decimal(buy["info"]["funds"]) == Decimal("0.1")  # 0.1006 / 1.006
        bought = bob.fetch_order(buy["id"])
        assert bought["status"] == "closed"
        assert bought["filled"] == 2
        assert bought["cost"] == 0.1
        assert bought["fee"]["cost"] == 0.0006
        assert bought["fee"]["currency"] == "BTC"

        sell = alice.create_order("ETH/BTC", "market", "sell", 0.5)  # size, fills at 0.04
        sold = alice.fetch_order(sell["id"])
        assert (sold["status"], sold["filled"], sold["cost"]) == ("closed", 0.5, 0.02)
        assert sold["fee"]["cost"] == float(Decimal("0.02") * FEE_TAKER)
        (fill,) = alice.fetch_order_trades(sell["id"], "ETH/BTC")
        assert (fill["side"], fill["takerOrMaker"], fill["price"]) == ("sell", "taker", 0.04)
    finally:
        alice.cancel_order(ask["id"], "ETH/BTC")
        bob.cancel_order(bid["id"], "ETH/BTC")
    a1, b1 = balances(alice), balances(bob)
    # alice: sold 2 ETH as maker at 0.05 (+0.1 - 0.0004) and 0.5 ETH as taker at 0.04.
    assert a1["BTC"][2] - a0["BTC"][2] == Decimal("0.1") - Decimal("0.0004") + Decimal(
        "0.02") - Decimal("0.02") * FEE_TAKER
    assert a1["ETH"] == (a0["ETH"][0] - Decimal("2.5"), a0["ETH"][1], a0["ETH"][2] - Decimal("2.5"))
    # bob: bought 2 ETH for 0.1006 BTC, and 0.5 ETH as maker at 0.04 (0.02 + 0.4 % fee).
    assert b1["BTC"][2] - b0["BTC"][2] == -Decimal("0.1006") - Decimal("0.02") * (1 + FEE_MAKER)
    assert b1["ETH"] == (b0["ETH"][0] + Decimal("2.5"), b0["ETH"][1], b0["ETH"][2] + Decimal("2.5"))
    assert (a1["BTC"][1], b1["BTC"][1]) == (a0["BTC"][1], b0["BTC"][1])


def test_stop_order_is_listed_open_until_triggered_then_rests(
        alice: ccxt.coinbaseexchange, bob: ccxt.coinbaseexchange) -> None:
    """A stop-entry buy on ETH/BTC waits as ``active`` (ccxt: open, with its triggerPrice), is
    listed by fetch_open_orders, becomes a resting limit order once a trade reaches its stop
    price, and is purged when canceled without fills."""
    stop = alice.create_order("ETH/BTC", "limit", "buy", 0.2, 0.061, {"stopPrice": 0.06})
    assert stop["info"]["status"] == "active"
    waiting = alice.fetch_order(stop["id"])
    assert (waiting["status"], waiting["triggerPrice"], waiting["info"]["stop"]) == (
        "open", 0.06, "entry")
    assert stop["id"] in [o["id"] for o in alice.fetch_open_orders("ETH/BTC")]
    assert not alice.fetch_order_book("ETH/BTC")["bids"]  # not on the book yet

    try:
        bob.create_order("ETH/BTC", "limit", "sell", 0.1, 0.06)
        alice.create_order("ETH/BTC", "limit", "buy", 0.1, 0.06)  # trades at the stop price
        triggered = alice.fetch_order(stop["id"])
        assert (triggered["status"], triggered["info"]["status"]) == ("open", "open")
        assert alice.fetch_order_book("ETH/BTC")["bids"] == [[0.061, 0.2, 1]]
        assert alice.cancel_order(stop["id"], "ETH/BTC")["info"] == json.dumps(stop["id"])
        with pytest.raises(ccxt.OrderNotFound):
            alice.fetch_order(stop["id"])
    finally:  # nothing of this test may stay on the ETH/BTC book
        for exchange in (alice, bob):
            exchange.cancel_all_orders("ETH/BTC")
        for order in alice.fetch_open_orders("ETH/BTC"):
            alice.cancel_order(order["id"], "ETH/BTC")


def test_fetch_tickers_uses_spark_lines(alice: ccxt.coinbaseexchange,
                                        bob: ccxt.coinbaseexchange) -> None:
    price = cross_price()
    alice.create_order(SYMBOL, "limit", "sell", 0.05, float(price))
    bob.create_order(SYMBOL, "limit", "buy", 0.05, float(price))
    tickers = alice.fetch_tickers()
    assert SYMBOL in tickers
    assert tickers[SYMBOL]["last"] == float(price)  # element 4 (close) of the newest candle
    assert set(alice.fetch_tickers([SYMBOL])) == {SYMBOL}


def test_order_rejections_map_to_ccxt_errors(alice: ccxt.coinbaseexchange,
                                             bob: ccxt.coinbaseexchange) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="Insufficient funds"):
        alice.create_order(SYMBOL, "limit", "sell", 100000, float(ask_price()))
    with pytest.raises(ccxt.InvalidOrder, match="Invalid order id"):
        alice.fetch_order("not-a-uuid")
    with pytest.raises(ccxt.InvalidOrder, match="Invalid order id"):
        alice.cancel_order("not-a-uuid", SYMBOL)
    bid = bob.create_order(SYMBOL, "limit", "buy", 0.01, float(bid_price()))
    try:
        # A post-only sell at the resting bid would take liquidity: 400 "Post only mode",
        # which ccxt's tables do not list (plain ExchangeError).
        with pytest.raises(ccxt.ExchangeError, match="Post only mode") as caught:
            alice.create_order(SYMBOL, "limit", "sell", 0.01, bid["price"], {"postOnly": True})
        assert type(caught.value) is ccxt.ExchangeError
    finally:
        bob.cancel_order(bid["id"], SYMBOL)
