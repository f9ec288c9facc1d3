"""cbpro 1.1.4 (danpaquin) against a running sandex.

cbpro never raises on an HTTP error: it hands the ``{"message": ...}`` dict to the caller, so
errors are asserted as whole dicts (some cbpro users compare them that way). Its paged calls are
generators that follow ``cb-after`` until the header is absent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import cbpro
import pytest

from tests.support.clients_kit import (
    CURRENCIES,
    FEE_MAKER,
    FEE_TAKER,
    PRODUCT_IDS,
    UNKNOWN_KEY,
    WRONG_SECRET,
    ask_price,
    bid_price,
    cross_price,
    make_cbpro,
    make_cbpro_public,
    new_oid,
    wrong,
)
from tests.support.rest_kit import ALICE, ALICE_PROFILE, BOB, VIEWER, Server

PRODUCT = "BTC-USD"


@pytest.fixture(scope="module")
def alice(server: Server) -> cbpro.AuthenticatedClient:
    return make_cbpro(server, ALICE)


@pytest.fixture(scope="module")
def bob(server: Server) -> cbpro.AuthenticatedClient:
    return make_cbpro(server, BOB)


def accounts(client: cbpro.AuthenticatedClient) -> dict[str, dict[str, Decimal]]:
    """``{currency: {balance, hold, available, id}}`` from ``GET /accounts/`` (trailing slash)."""
    out = {}
    for account in client.get_accounts():
        out[account["currency"]] = {k: Decimal(account[k]) for k in ("balance", "hold",
                                                                     "available")}
        out[account["currency"]]["id"] = account["id"]
    return out


def limit(client: cbpro.AuthenticatedClient, side: str, price: Decimal, size: str,
          product_id: str = PRODUCT, **kw: str) -> dict:
    order = client.place_limit_order(product_id, side, str(price), size, **kw)
    assert "message" not in order, order
    return order


def test_products_currencies_and_time(server: Server, alice: cbpro.AuthenticatedClient) -> None:
    public = make_cbpro_public(server)
    products = {p["id"]: p for p in public.get_products()}
    assert set(products) == PRODUCT_IDS
    btc = products["BTC-USD"]
    assert (btc["base_currency"], btc["quote_currency"], btc["status"]) == ("BTC", "USD", "online")
    assert Decimal(btc["quote_increment"]) == Decimal("0.01")
    assert Decimal(btc["base_increment"]) == Decimal("0.00000001")
    assert Decimal(btc["min_market_funds"]) == 1
    assert Decimal(products["ETH-BTC"]["quote_increment"]) == Decimal("0.00001")
    currencies = {c["id"]: c for c in public.get_currencies()}
    assert set(currencies) == CURRENCIES
    assert Decimal(currencies["USD"]["min_size"]) == Decimal("0.01")
    assert currencies["USD"]["details"]["type"] == "fiat"
    assert currencies["BTC"]["details"]["type"] == "crypto"
    now = datetime.now(UTC).timestamp()
    server_time = public.get_time()
    assert abs(server_time["epoch"] - now) < 5
    assert server_time["iso"].endswith("Z")
    # The authenticated client signs public calls too; the server must still answer them.
    assert alice.get_time()["epoch"] >= server_time["epoch"]
    assert [p["id"] for p in alice.get_products()] == [p["id"] for p in public.get_products()]


def test_limit_order_lifecycle(alice: cbpro.AuthenticatedClient) -> None:
    price, client_oid = bid_price(), new_oid()
    before = accounts(alice)
    placed = limit(alice, "buy", price, "0.02", client_oid=client_oid)
    oid = placed["id"]
    assert placed["status"] == "pending"
    assert (placed["product_id"], placed["side"], placed["type"]) == (PRODUCT, "buy", "limit")
    assert Decimal(placed["price"]) == price
    assert Decimal(placed["size"]) == Decimal("0.02")

    order = alice.get_order(oid)
    assert order["status"] == "open"
    assert order["client_oid"] == client_oid
    assert order["profile_id"] == ALICE_PROFILE
    assert (Decimal(order["price"]), Decimal(order["size"])) == (price, Decimal("0.02"))
    assert Decimal(order["filled_size"]) == 0
    assert order["settled"] is False
    assert alice.get_order("client:" + client_oid)["id"] == oid

    hold = price * Decimal("0.02") * (1 + FEE_TAKER)
    during = accounts(alice)
    usd = during["USD"]
    assert usd["hold"] == before["USD"]["hold"] + hold
    assert usd["available"] == before["USD"]["available"] - hold
    assert usd["balance"] == before["USD"]["balance"]
    holds = list(alice.get_account_holds(usd["id"]))
    mine = [h for h in holds if h["ref"] == oid]
    assert len(mine) == 1
    assert Decimal(mine[0]["amount"]) == hold
    assert mine[0]["type"] == "order"
    one = alice.get_account(usd["id"])
    assert (one["currency"], Decimal(one["hold"])) == ("USD", usd["hold"])

    listed = list(alice.get_orders(product_id=PRODUCT))
    assert oid in [o["id"] for o in listed]
    assert {o["status"] for o in listed} <= {"open", "pending", "active"}

    assert alice.cancel_order(oid) == oid
    assert accounts(alice) == before
    assert alice.cancel_order(oid) == {"message": "order not found"}
    assert alice.get_order(oid) == {"message": "NotFound"}
    assert alice.get_order("client:" + client_oid) == {"message": "NotFound"}
    assert oid not in [o["id"] for o in alice.get_orders(product_id=PRODUCT)]
    assert alice.cancel_order("not-an-id") == {"message": "Invalid order id"}


def test_cancel_by_client_oid(alice: cbpro.AuthenticatedClient) -> None:
    client_oid = new_oid()
    placed = limit(alice, "sell", ask_price(), "0.01", client_oid=client_oid)
    assert alice.cancel_order("client:" + client_oid) == client_oid
    assert alice.get_order(placed["id"]) == {"message": "NotFound"}
    assert alice.cancel_order("client:" + client_oid) == {"message": "order not found"}


def test_cross_fills_fees_holds_and_ledger(alice: cbpro.AuthenticatedClient,
                                           bob: cbpro.AuthenticatedClient) -> None:
    price, size = cross_price(), Decimal("0.5")
    notional = price * size
    a0, b0 = accounts(alice), accounts(bob)
    sell = limit(alice, "sell", price, str(size))
    a_rest = accounts(alice)
    assert a_rest["BTC"]["hold"] == a0["BTC"]["hold"] + size
    assert a_rest["BTC"]["available"] == a0["BTC"]["available"] - size
    assert a_rest["BTC"]["balance"] == a0["BTC"]["balance"]

    buy = limit(bob, "buy", price + 1, str(size))
    (maker,) = list(alice.get_fills(order_id=sell["id"]))
    (taker,) = list(bob.get_fills(order_id=buy["id"]))
    assert maker["trade_id"] == taker["trade_id"]
    assert isinstance(maker["trade_id"], int)
    assert (maker["liquidity"], maker["side"], maker["product_id"]) == ("M", "sell", PRODUCT)
    assert (taker["liquidity"], taker["side"]) == ("T", "buy")
    for fill in (maker, taker):
        assert Decimal(fill["price"]) == price
        assert Decimal(fill["size"]) == size
        assert Decimal(fill["usd_volume"]) == notional
    assert Decimal(maker["fee"]) == notional * FEE_MAKER
    assert Decimal(taker["fee"]) == notional * FEE_TAKER
    assert maker["profile_id"] == ALICE_PROFILE
    assert taker["trade_id"] in [f["trade_id"] for f in bob.get_fills(product_id=PRODUCT)]

    for client, oid, fee in ((alice, sell["id"], FEE_MAKER), (bob, buy["id"], FEE_TAKER)):
        order = client.get_order(oid)
        assert (order["status"], order["done_reason"], order["settled"]) == ("done", "filled",
                                                                             True)
        assert Decimal(order["filled_size"]) == size
        assert Decimal(order["executed_value"]) == notional
        assert Decimal(order["fill_fees"]) == notional * fee

    a1, b1 = accounts(alice), accounts(bob)
    got = notional * (1 - FEE_MAKER)
    paid = notional * (1 + FEE_TAKER)
    for name in ("balance", "available"):
        assert a1["USD"][name] == a0["USD"][name] + got
        assert a1["BTC"][name] == a0["BTC"][name] - size
        assert b1["USD"][name] == b0["USD"][name] - paid
        assert b1["BTC"][name] == b0["BTC"][name] + size
    for currency in ("USD", "BTC"):
        assert a1[currency]["hold"] == a0[currency]["hold"]
        assert b1[currency]["hold"] == b0[currency]["hold"]

    ledger = [e for e in alice.get_account_history(a1["USD"]["id"])
              if e["details"].get("order_id") == sell["id"]]
    kinds = {e["type"]: e for e in ledger}
    assert set(kinds) == {"match", "fee"}
    assert Decimal(kinds["match"]["amount"]) == notional
    assert Decimal(kinds["fee"]["amount"]) == -notional * FEE_MAKER
    assert kinds["match"]["details"]["product_id"] == PRODUCT
    assert int(kinds["match"]["details"]["trade_id"]) == maker["trade_id"]
    newest = max(ledger, key=lambda e: int(e["id"]))
    assert Decimal(newest["balance"]) == a1["USD"]["balance"]


def test_partial_fill_then_cancel(alice: cbpro.AuthenticatedClient,
                                  bob: cbpro.AuthenticatedClient) -> None:
    price = cross_price()
    sell = limit(alice, "sell", price, "2")
    limit(bob, "buy", price, "0.75")
    assert Decimal(alice.get_order(sell["id"])["filled_size"]) == Decimal("0.75")
    assert alice.cancel_order(sell["id"]) == sell["id"]
    order = alice.get_order(sell["id"])
    assert (order["status"], order["done_reason"]) == ("done", "canceled")
    assert Decimal(order["filled_size"]) == Decimal("0.75")
    assert Decimal(order["size"]) == 2
    assert alice.cancel_order(sell["id"]) == {"message": "Order already done"}
    done_ids = [o["id"] for o in alice.get_orders(product_id=PRODUCT, status="done")]
    assert sell["id"] in done_ids
    assert sell["id"] not in [o["id"] for o in alice.get_orders(product_id=PRODUCT)]
    assert sell["id"] in [o["id"] for o in alice.get_orders(status=["done", "open"])]


def test_cancel_all_by_product(alice: cbpro.AuthenticatedClient) -> None:
    ids = {limit(alice, "buy", bid_price(), "0.01")["id"] for _ in range(4)}
    other = limit(alice, "buy", bid_price(), "0.01", product_id="ETH-USD")
    try:
        canceled = alice.cancel_all(product_id=PRODUCT)
        assert isinstance(canceled, list)
        assert sorted(canceled) == sorted(ids)
        assert alice.cancel_all(product_id=PRODUCT) == []
        assert [o["id"] for o in alice.get_orders(product_id="ETH-USD")] == [other["id"]]
    finally:
        alice.cancel_order(other["id"])


def test_orders_pagination_past_100(bob: cbpro.AuthenticatedClient) -> None:
    """121 resting orders: the generator follows cb-after and yields each once, newest first."""
    product = "ETH-USD"
    placed = [limit(bob, "buy", bid_price(), "0.01", product_id=product)["id"]
              for _ in range(121)]
    try:
        listed = list(bob.get_orders(product_id=product))
        assert [o["id"] for o in listed] == placed[::-1]
        stamps = [o["created_at"] for o in listed]
        assert stamps == sorted(stamps, reverse=True)
        assert len(set(stamps)) == len(stamps)

        small_pages = list(bob.get_orders(product_id=product, limit=25))
        assert [o["id"] for o in small_pages] == placed[::-1]
        by_status = list(bob.get_orders(product_id=product, status=["open", "pending"]))
        assert [o["id"] for o in by_status] == placed[::-1]
    finally:
        canceled = bob.cancel_all(product_id=product)
    assert sorted(canceled) == sorted(placed)


def test_fills_pagination_past_100(server: Server, alice: cbpro.AuthenticatedClient,
                                  bob: cbpro.AuthenticatedClient) -> None:
    price = cross_price()
    sell = limit(alice, "sell", price, "1.05")
    buys = [limit(bob, "buy", price, "0.01")["id"] for _ in range(105)]
    maker_fills = list(alice.get_fills(order_id=sell["id"]))
    assert len(maker_fills) == 105
    trade_ids = [f["trade_id"] for f in maker_fills]
    assert trade_ids == sorted(set(trade_ids), reverse=True)
    assert sum(Decimal(f["size"]) for f in maker_fills) == Decimal("1.05")
    assert sum(Decimal(f["fee"]) for f in maker_fills) == price * Decimal("1.05") * FEE_MAKER
    taker_fills = [f for f in bob.get_fills(product_id=PRODUCT) if f["trade_id"] in trade_ids]
    assert sorted(f["order_id"] for f in taker_fills) == sorted(buys)
    order = alice.get_order(sell["id"])
    assert (order["status"], order["done_reason"]) == ("done", "filled")

    # The public trades and the ledger page the same way, past 100 items.
    public_ids = [t["trade_id"] for t in make_cbpro_public(server).get_product_trades(PRODUCT)]
    assert public_ids == sorted(set(public_ids), reverse=True)
    assert set(trade_ids) <= set(public_ids)
    usd_id = accounts(alice)["USD"]["id"]
    ledger = list(alice.get_account_history(usd_id))
    entry_ids = [int(e["id"]) for e in ledger]
    assert entry_ids == sorted(set(entry_ids), reverse=True)
    mine = [e for e in ledger if e["details"].get("order_id") == sell["id"]]
    assert sorted(e["type"] for e in mine) == ["fee"] * 105 + ["match"] * 105
    assert sum(Decimal(e["amount"]) for e in mine) == price * Decimal("1.05") * (1 - FEE_MAKER)


def test_market_data(server: Server, alice: cbpro.AuthenticatedClient,
                     bob: cbpro.AuthenticatedClient) -> None:
    public = make_cbpro_public(server)
    price = cross_price()
    limit(alice, "sell", price, "0.2")
    taker = limit(bob, "buy", price, "0.2")
    bid, ask = bid_price(), ask_price()
    rest = [limit(alice, "buy", bid, "0.3"), limit(alice, "buy", bid, "0.2"),
            limit(bob, "sell", ask, "0.1")]
    try:
        level1 = public.get_product_order_book(PRODUCT)
        level2 = public.get_product_order_book(PRODUCT, level=2)
        level3 = public.get_product_order_book(PRODUCT, level=3)
        assert isinstance(level3["sequence"], int)
        assert level3["sequence"] >= level2["sequence"] >= level1["sequence"]
        assert len(level1["bids"]) == len(level1["asks"]) == 1

        def as_dec(entries: list) -> list:
            return [[Decimal(p), Decimal(s), n] for p, s, n in entries]

        assert [bid, Decimal("0.5"), 2] in as_dec(level2["bids"])
        assert [ask, Decimal("0.1"), 1] in as_dec(level2["asks"])
        l3_bids = [[Decimal(p), Decimal(s), i] for p, s, i in level3["bids"] if Decimal(p) == bid]
        assert l3_bids == [[bid, Decimal("0.3"), rest[0]["id"]],
                           [bid, Decimal("0.2"), rest[1]["id"]]]  # time priority
        best_bid = max(Decimal(p) for p, _, _ in level2["bids"])
        best_ask = min(Decimal(p) for p, _, _ in level2["asks"])
        assert [Decimal(x) for x in level1["bids"][0][:1] + level1["asks"][0][:1]] == [
            best_bid, best_ask]

        ticker = public.get_product_ticker(PRODUCT)
        assert Decimal(ticker["price"]) == price
        assert Decimal(ticker["size"]) == Decimal("0.2")
        assert (Decimal(ticker["bid"]), Decimal(ticker["ask"])) == (best_bid, best_ask)
        fill = bob.get_fills(order_id=taker["id"]).__next__()
        assert ticker["trade_id"] == fill["trade_id"]

        trades = list(public.get_product_trades(PRODUCT))
        assert trades[0]["trade_id"] == fill["trade_id"]  # newest first
        assert trades[0]["side"] == "sell"  # the maker's side
        assert Decimal(trades[0]["price"]) == price
        ids = [t["trade_id"] for t in trades]
        assert ids == sorted(set(ids), reverse=True)

        end = datetime.now(UTC) + timedelta(minutes=1)
        start = end - timedelta(hours=1)
        candles = public.get_product_historic_rates(PRODUCT, start.isoformat(), end.isoformat(),
                                                    granularity=60)
        assert candles, candles
        times = [c[0] for c in candles]
        assert times == sorted(times, reverse=True)
        assert all(isinstance(t, int) and t % 60 == 0 for t in times)
        newest = candles[0]
        assert Decimal(str(newest[4])) == price  # close
        assert newest[1] <= newest[4] <= newest[2]

        stats = public.get_product_24hr_stats(PRODUCT)
        assert Decimal(stats["last"]) == price
        assert Decimal(stats["low"]) <= price <= Decimal(stats["high"])
        assert Decimal(stats["volume"]) > 0
    finally:
        alice.cancel_order(rest[0]["id"])
        alice.cancel_order(rest[1]["id"])
        bob.cancel_order(rest[2]["id"])


def test_authentication_failures_are_handed_back_as_dicts(server: Server) -> None:
    bad_secret = make_cbpro(server, wrong(ALICE, secret=WRONG_SECRET))
    assert bad_secret.get_accounts() == {"message": "invalid signature"}
    bad_pass = make_cbpro(server, wrong(ALICE, passphrase="nope"))
    assert bad_pass.get_accounts() == {"message": "Invalid Passphrase"}
    unknown = make_cbpro(server, wrong(ALICE, key=UNKNOWN_KEY))
    assert unknown.get_accounts() == {"message": "Invalid API Key"}
    # A paged call yields the keys of the error dict, and the error carries no cb-after
    # (otherwise the generator would loop forever).
    assert list(unknown.get_orders()) == ["message"]

    viewer = make_cbpro(server, VIEWER)
    assert {a["currency"] for a in viewer.get_accounts()} == CURRENCIES
    assert viewer.place_limit_order(PRODUCT, "buy", str(bid_price()), "0.01") == {
        "message": "Forbidden"}
    assert viewer.cancel_all(product_id=PRODUCT) == {"message": "Forbidden"}


def test_order_entry_rejections(alice: cbpro.AuthenticatedClient) -> None:
    assert alice.place_limit_order(PRODUCT, "buy", "100", "100000") == {
        "message": "Insufficient funds"}
    assert alice.place_limit_order("DOGE-USD", "buy", "1", "1") == {"message": "Product not found"}
    rejected = alice.place_limit_order(PRODUCT, "buy", "100.001", "1")
    assert rejected == {"message": "price is too accurate. Smallest unit is 0.01000000"}
