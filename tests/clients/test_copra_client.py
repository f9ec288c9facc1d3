"""copra 1.2.9 (asyncio, aiohttp) against a running sandex.

copra adds ``no-cache=<time>`` to every GET, keeps ``:`` unencoded in queries, always sends
``time_in_force``/``post_only``/``stp`` on limit orders, returns ``(body, cb-before, cb-after)``
for paged calls, and raises ``APIRequestError("<message> [<status>]")`` on any error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from copra.rest import APIRequestError, Client

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
    new_oid,
    run_copra,
    wrong,
)
from tests.support.rest_kit import ALICE, BOB, VIEWER, Server

PRODUCT = "BTC-USD"


async def balances(client: Client) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for account in await client.accounts():
        out[account["currency"]] = {k: Decimal(account[k]) for k in ("balance", "hold",
                                                                     "available")}
        out[account["currency"]]["id"] = account["id"]
    return out


async def error_of(awaitable: Any) -> str:
    with pytest.raises(APIRequestError) as caught:
        await awaitable
    return str(caught.value)


def test_public_products_currencies_time(server: Server) -> None:
    async def body(client: Client) -> None:
        products = {p["id"]: p for p in await client.products()}
        assert set(products) == PRODUCT_IDS
        assert Decimal(products["ETH-USD"]["quote_increment"]) == Decimal("0.01")
        assert Decimal(products["ETH-BTC"]["min_market_funds"]) == Decimal("0.0001")
        currencies = {c["id"] for c in await client.currencies()}
        assert currencies == CURRENCIES
        server_time = await client.server_time()
        assert abs(server_time["epoch"] - datetime.now(UTC).timestamp()) < 5
        assert server_time["iso"].endswith("Z")

    run_copra(server, None, body)


def test_limit_order_lifecycle(server: Server) -> None:
    async def body(client: Client) -> None:
        price, client_oid = bid_price(), new_oid()
        before = await balances(client)
        placed = await client.limit_order("buy", PRODUCT, str(price), "0.05",
                                          client_oid=client_oid)
        oid = placed["id"]
        assert placed["status"] == "pending"
        assert (placed["time_in_force"], placed["post_only"], placed["stp"]) == ("GTC", False,
                                                                                 "dc")
        order = await client.get_order(oid)
        assert order["status"] == "open"
        assert (Decimal(order["price"]), Decimal(order["size"])) == (price, Decimal("0.05"))
        assert (await client.get_order("client:" + client_oid))["id"] == oid

        page, cb_before, cb_after = await client.orders(product_id=PRODUCT)
        assert oid in [o["id"] for o in page]
        assert cb_before is not None and cb_after is not None
        page, _, _ = await client.orders(["open", "pending"], product_id=PRODUCT)
        assert oid in [o["id"] for o in page]

        usd = (await balances(client))["USD"]
        hold = price * Decimal("0.05") * (1 + FEE_TAKER)
        assert (usd["hold"], usd["available"], usd["balance"]) == (
            before["USD"]["hold"] + hold, before["USD"]["available"] - hold,
            before["USD"]["balance"])
        held, _, _ = await client.holds(usd["id"])
        assert [Decimal(h["amount"]) for h in held if h["ref"] == oid] == [hold]

        assert await client.cancel(oid) == oid
        assert (await balances(client))["USD"] == before["USD"]
        assert await error_of(client.cancel(oid)) == "order not found [404]"
        assert await error_of(client.get_order(oid)) == "NotFound [404]"
        assert await error_of(client.get_order("xyz")) == "Invalid order id [400]"

    run_copra(server, ALICE, body)


def test_cancel_by_client_oid(server: Server) -> None:
    async def body(client: Client) -> None:
        client_oid = new_oid()
        await client.limit_order("sell", PRODUCT, str(ask_price()), "0.01", client_oid=client_oid)
        assert await client.cancel("client:" + client_oid) == client_oid
        assert await error_of(client.get_order("client:" + client_oid)) == "NotFound [404]"

    run_copra(server, ALICE, body)


def test_cross_between_two_profiles(server: Server) -> None:
    price, size = cross_price(), Decimal("0.2")
    notional = price * size

    async def as_alice(alice: Client) -> tuple[dict, dict, dict]:
        before = await balances(alice)
        sell = await alice.limit_order("sell", PRODUCT, str(price), str(size))
        return before, sell, await balances(alice)

    async def as_bob(bob: Client) -> tuple[dict, dict, dict, list]:
        before = await balances(bob)
        buy = await bob.limit_order("buy", PRODUCT, str(price + 10), str(size))
        fills, _, _ = await bob.fills(order_id=buy["id"])
        return before, await bob.get_order(buy["id"]), await balances(bob), fills

    a0, sell, a_resting = run_copra(server, ALICE, as_alice)
    assert a_resting["BTC"]["hold"] == a0["BTC"]["hold"] + size
    b0, bought, b1, (taker,) = run_copra(server, BOB, as_bob)

    async def after(alice: Client) -> tuple[dict, list, dict]:
        fills, _, _ = await alice.fills(order_id=sell["id"])
        return await alice.get_order(sell["id"]), fills, await balances(alice)

    sold, (maker,), a1 = run_copra(server, ALICE, after)
    assert maker["trade_id"] == taker["trade_id"]
    assert (maker["liquidity"], maker["side"], taker["liquidity"], taker["side"]) == (
        "M", "sell", "T", "buy")
    assert Decimal(maker["price"]) == Decimal(taker["price"]) == price
    assert Decimal(maker["fee"]) == notional * FEE_MAKER
    assert Decimal(taker["fee"]) == notional * FEE_TAKER
    for order in (sold, bought):
        assert (order["status"], order["done_reason"]) == ("done", "filled")
        assert Decimal(order["filled_size"]) == size
        assert Decimal(order["executed_value"]) == notional
    assert Decimal(bought["price"]) == price + 10
    for name in ("balance", "available"):
        assert a1["USD"][name] - a0["USD"][name] == notional * (1 - FEE_MAKER)
        assert a1["BTC"][name] - a0["BTC"][name] == -size
        assert b1["USD"][name] - b0["USD"][name] == -notional * (1 + FEE_TAKER)
        assert b1["BTC"][name] - b0["BTC"][name] == size
    assert (a1["BTC"]["hold"], b1["USD"]["hold"]) == (a0["BTC"]["hold"], b0["USD"]["hold"])


def test_partial_fill_cancel_and_cancel_all(server: Server) -> None:
    price = cross_price()

    async def first(alice: Client) -> tuple[dict, list[str]]:
        sell = await alice.limit_order("sell", PRODUCT, str(price), "1")
        resting = [(await alice.limit_order("buy", "ETH-USD", str(bid_price()), "0.1"))["id"]
                   for _ in range(3)]
        return sell, resting

    sell, resting = run_copra(server, ALICE, first)

    async def take(bob: Client) -> None:
        await bob.limit_order("buy", PRODUCT, str(price), "0.3")

    run_copra(server, BOB, take)

    async def second(alice: Client) -> None:
        assert await alice.cancel(sell["id"]) == sell["id"]
        order = await alice.get_order(sell["id"])
        assert (order["status"], order["done_reason"]) == ("done", "canceled")
        assert Decimal(order["filled_size"]) == Decimal("0.3")
        assert await error_of(alice.cancel(sell["id"])) == "Order already done [400]"
        done, _, _ = await alice.orders("done", product_id=PRODUCT)
        assert sell["id"] in [o["id"] for o in done]

        canceled = await alice.cancel_all(product_id="ETH-USD")
        assert sorted(canceled) == sorted(resting)
        assert await alice.cancel_all(product_id="ETH-USD") == []

    run_copra(server, ALICE, second)


def test_orders_cursor_paging(server: Server) -> None:
    async def body(bob: Client) -> None:
        placed = [(await bob.limit_order("sell", "ETH-BTC", str(Decimal("90") + n), "0.1"))["id"]
                  for n in range(7)]
        newest_first = placed[::-1]
        try:
            pages: list[list[str]] = []
            page, _, after = await bob.orders(product_id="ETH-BTC", limit=3)
            while page:
                pages.append([o["id"] for o in page])
                page, _, after = await bob.orders(product_id="ETH-BTC", limit=3, after=after)
            assert after is None  # the empty last page carries no cursor
            assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]

            first, _, after = await bob.orders(product_id="ETH-BTC", limit=3)
            second, cb_before, _ = await bob.orders(product_id="ETH-BTC", limit=3, after=after)
            assert cb_before == second[0]["created_at"]
            newer, _, _ = await bob.orders(product_id="ETH-BTC", limit=10, before=cb_before)
            assert [o["id"] for o in newer] == [o["id"] for o in first]
        finally:
            await bob.cancel_all(product_id="ETH-BTC")

    run_copra(server, BOB, body)


def test_authentication_and_permission_errors(server: Server) -> None:
    async def accounts(client: Client) -> str:
        return await error_of(client.accounts())

    assert run_copra(server, wrong(ALICE, secret=WRONG_SECRET), accounts) == (
        "invalid signature [401]")
    assert run_copra(server, wrong(ALICE, passphrase="no"), accounts) == (
        "Invalid Passphrase [401]")
    assert run_copra(server, wrong(ALICE, key=UNKNOWN_KEY), accounts) == "Invalid API Key [401]"

    async def viewer(client: Client) -> None:
        assert {a["currency"] for a in await client.accounts()} == CURRENCIES
        assert await error_of(client.limit_order("buy", PRODUCT, str(bid_price()), "0.01")) == (
            "Forbidden [403]")

    run_copra(server, VIEWER, viewer)


def test_market_data(server: Server) -> None:
    price = cross_price()
    bid = bid_price()

    async def trade(alice: Client) -> str:
        await alice.limit_order("sell", PRODUCT, str(price), "0.05")
        return (await alice.limit_order("buy", PRODUCT, str(bid), "0.07"))["id"]

    resting = run_copra(server, ALICE, trade)

    async def take(bob: Client) -> None:
        await bob.limit_order("buy", PRODUCT, str(price), "0.05")

    run_copra(server, BOB, take)

    async def public(client: Client) -> None:
        book = await client.order_book(PRODUCT, level=3)
        assert [bid, Decimal("0.07"), resting] in [[Decimal(p), Decimal(s), i]
                                                    for p, s, i in book["bids"]]
        assert isinstance(book["sequence"], int)
        top = await client.order_book(PRODUCT, level=1)
        assert len(top["bids"]) <= 1 and len(top["asks"]) <= 1
        ticker = await client.ticker(PRODUCT)
        assert Decimal(ticker["price"]) == price
        trades, cb_before, cb_after = await client.trades(PRODUCT, limit=2)
        assert trades[0]["trade_id"] == ticker["trade_id"]
        assert (int(cb_before), int(cb_after)) == (trades[0]["trade_id"], trades[-1]["trade_id"])
        older, _, _ = await client.trades(PRODUCT, limit=2, after=cb_after)
        assert all(t["trade_id"] < trades[-1]["trade_id"] for t in older)
        end = datetime.now(UTC) + timedelta(minutes=5)
        start = end - timedelta(hours=2)
        candles = await client.historic_rates(PRODUCT, 300, start.isoformat(), end.isoformat())
        assert candles[0][0] % 300 == 0
        assert Decimal(str(candles[0][4])) == price
        stats = await client.get_24hour_stats(PRODUCT)
        assert Decimal(stats["last"]) == price

    run_copra(server, None, public)

    async def fees_and_cleanup(alice: Client) -> None:
        fees = await alice.fees()
        assert (Decimal(fees["maker_fee_rate"]), Decimal(fees["taker_fee_rate"])) == (
            FEE_MAKER, FEE_TAKER)
        assert await alice.cancel(resting) == resting

    run_copra(server, ALICE, fees_and_cleanup)
