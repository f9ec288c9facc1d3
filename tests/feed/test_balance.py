"""The ``balance`` channel (authenticated, by account id) and the §9.4 subscription limit, on
real servers with a raw WebSocket client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal

import pytest

from sandex.api.feed.balances import account_id
from sandex.api.rest.wire import account_id as rest_account_id
from tests.support.feed_kit import Feed, feed, place, scenario_with
from tests.support.rest_kit import ALICE, ALICE_PROFILE, BOB, RawClient, Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = scenario_with(tmp_path_factory.mktemp("limits"), "subscriptions_per_product = 3",
                         rate_limits=True)
    running = start_server(scenario=path)
    yield running
    running.stop()


def accounts(client: RawClient) -> dict[str, dict[str, str]]:
    reply = client.get("/accounts")
    assert reply.status == 200
    return {a["currency"]: a for a in reply.json()}


def balance(ws: Feed) -> dict[str, str]:
    return ws.until(lambda m: m["type"] == "balance")


def test_account_ids_are_rest_s() -> None:
    assert account_id(ALICE_PROFILE, "USD") == rest_account_id(ALICE_PROFILE, "USD")


def test_needs_authentication(server: Server) -> None:
    usd = accounts(RawClient(server.port, ALICE))["USD"]["id"]
    with feed(server) as ws:
        assert ws.subscribe([{"name": "balance", "account_ids": [usd]}]) == {
            "type": "error", "message": "Failed to subscribe",
            "reason": "balance channel requires authentication"}


def test_only_own_accounts(server: Server) -> None:
    bobs = accounts(RawClient(server.port, BOB))["USD"]["id"]
    with feed(server) as ws:
        for channels, extra in (([{"name": "balance", "account_ids": [bobs]}], {}),
                                (["balance"], {}),
                                (["balance"], {"account_ids": [bobs]})):
            assert ws.subscribe(channels, creds=ALICE, **extra) == {
                "type": "error", "message": "Failed to subscribe",
                "reason": "invalid account_ids"}


def test_first_message_then_changes(server: Server) -> None:
    alice = RawClient(server.port, ALICE)
    before = accounts(alice)
    usd, btc = before["USD"], before["BTC"]
    with feed(server) as ws:
        reply = ws.subscribe([{"name": "balance", "account_ids": [btc["id"]]}], creds=ALICE,
                             account_ids=[usd["id"].upper()])  # top-level ids come first
        assert reply == {"type": "subscriptions", "channels": [
            {"name": "balance", "product_ids": None, "account_ids": [usd["id"], btc["id"]]}]}
        first = [balance(ws), balance(ws)]
        assert [(m["account_id"], m["currency"]) for m in first] == [
            (usd["id"], "USD"), (btc["id"], "BTC")]
        for message, account in zip(first, (usd, btc), strict=True):
            assert Decimal(message["holds"]) == Decimal(account["hold"])
            assert Decimal(message["available"]) == Decimal(account["available"])
            assert set(message) == {"type", "account_id", "currency", "holds", "available",
                                    "updated", "timestamp"}
        order = place(alice, product_id="BTC-USD", side="buy", price="100", size="0.5")
        changed = balance(ws)
        after = accounts(alice)["USD"]
        assert changed["account_id"] == usd["id"]
        assert Decimal(changed["holds"]) == Decimal(after["hold"]) >= \
            Decimal(usd["hold"]) + 50  # 0.5 BTC at 100 USD (and the fee, if held)
        assert Decimal(changed["available"]) == Decimal(after["available"])
        assert changed["updated"] == order["created_at"]
        assert alice.delete(f"/orders/{order['id']}").status == 200
        back = balance(ws)
        assert (Decimal(back["holds"]), Decimal(back["available"])) == (
            Decimal(usd["hold"]), Decimal(usd["available"]))
        with pytest.raises(TimeoutError):  # BTC never changed: nothing sent for it
            ws.until(lambda m: m["type"] == "balance", timeout=0.5)


def test_unsubscribe(server: Server) -> None:
    usd = accounts(RawClient(server.port, ALICE))["USD"]["id"]
    with feed(server) as ws:
        ws.subscribe(["balance", "heartbeat"], ["BTC-USD"], creds=ALICE, account_ids=[usd])
        balance(ws)
        ws.send({"type": "unsubscribe", "channels": ["balance"]})
        assert ws.until(lambda m: m["type"] == "subscriptions") == {
            "type": "subscriptions", "channels": [{"name": "heartbeat",
                                                   "product_ids": ["BTC-USD"]}]}
        place(RawClient(server.port, ALICE), product_id="BTC-USD", side="buy", price="100",
              size="0.01")
        with pytest.raises(TimeoutError):
            ws.until(lambda m: m["type"] == "balance", timeout=0.5)


def test_subscription_limit_per_product_and_channel(limited: Server) -> None:
    with ExitStack() as stack:
        open_ = [stack.enter_context(feed(limited)) for _ in range(5)]
        for ws in open_[:3]:
            assert ws.subscribe(["ticker"], ["BTC-USD"])["type"] == "subscriptions"
        assert open_[3].subscribe(["ticker"], ["ETH-USD", "BTC-USD"]) == {
            "type": "error", "message": "Failed to subscribe",
            "reason": "subscription limit of 3 exceeded for BTC-USD on channel ticker"}
        # the whole message was refused; another channel or product is not limited
        assert open_[3].subscribe(["ticker"], ["ETH-USD"])["channels"] == [
            {"name": "ticker", "product_ids": ["ETH-USD"]}]
        assert open_[3].subscribe(["matches"], ["BTC-USD"])["type"] == "subscriptions"
        # subscribing again to what a connection has does not count twice
        assert open_[0].subscribe(["ticker"], ["BTC-USD"])["type"] == "subscriptions"
        # authenticated subscribers count per profile, not per IP
        assert open_[4].subscribe(["ticker"], ["BTC-USD"], creds=ALICE)["type"] == \
            "subscriptions"
        open_[0].close()  # a closed connection frees its subscriptions
        deadline = time.monotonic() + 5
        while True:
            answer = open_[3].subscribe(["ticker"], ["BTC-USD"])
            if answer["type"] == "subscriptions" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert answer["type"] == "subscriptions"


def test_auctionfeed_is_accepted_and_silent(server: Server) -> None:
    """sandex has no auction mode (products come online trading; ``auction_mode`` is always
    false): ``auctionfeed`` subscribes as on Coinbase and, as there outside an auction,
    sends nothing."""
    alice = RawClient(server.port, ALICE)
    with feed(server) as ws:
        assert ws.subscribe([{"name": "auctionfeed", "product_ids": ["BTC-USD"]},
                             "heartbeat"], ["ETH-USD"]) == {
            "type": "subscriptions", "channels": [
                {"name": "auctionfeed", "product_ids": ["ETH-USD", "BTC-USD"]},
                {"name": "heartbeat", "product_ids": ["ETH-USD"]}]}
        place(alice, product_id="BTC-USD", side="buy", price="100", size="0.01")
        deadline = time.monotonic() + 1.5  # a second: an auction would have sent one
        kinds = set()
        while time.monotonic() < deadline:
            kinds.add(ws.recv(timeout=2)["type"])
        assert kinds == {"heartbeat"}
    product = alice.get("/products/BTC-USD").json()
    assert (product["auction_mode"], product["status"]) == (False, "online")
    book = alice.get("/products/BTC-USD/book?level=1").json()
    assert (book["auction_mode"], book["auction"]) == (False, None)


def test_rfq_matches_is_accepted_for_every_product_and_silent(server: Server) -> None:
    """sandex has no RFQ: ``rfq_matches`` subscribes as on Coinbase (no product ids, ``[]``,
    ``[""]`` or ``["ALL"]`` mean every product; a named product that one) and, with no RFQ
    fills to report, sends nothing while the book trades."""
    alice = RawClient(server.port, ALICE)
    bob = RawClient(server.port, BOB)
    products = sorted(p["id"] for p in alice.get("/products").json())
    with feed(server) as ws:
        every = ws.subscribe([{"name": "rfq_matches", "product_ids": []}])
        assert every["type"] == "subscriptions" and len(every["channels"]) == 1
        assert every["channels"][0]["name"] == "rfq_matches"
        assert sorted(every["channels"][0]["product_ids"]) == products
        for ids in ([""], ["ALL"]):
            assert ws.subscribe([{"name": "rfq_matches", "product_ids": ids}], [])[
                "channels"] == every["channels"]
        assert ws.subscribe(["rfq_matches", "heartbeat"], ["BTC-USD"])["channels"][1] == {
            "name": "heartbeat", "product_ids": ["BTC-USD"]}
        place(alice, product_id="BTC-USD", side="buy", price="100", size="0.01")
        place(bob, product_id="BTC-USD", side="sell", price="100", size="0.01")
        deadline = time.monotonic() + 1.5
        kinds = set()
        while time.monotonic() < deadline:
            kinds.add(ws.recv(timeout=2)["type"])
        assert kinds == {"heartbeat"}
    with feed(server) as ws:
        assert ws.subscribe([{"name": "rfq_matches", "product_ids": ["BTC-USD"]}], []) == {
            "type": "subscriptions", "channels": [
                {"name": "rfq_matches", "product_ids": ["BTC-USD"]}]}
        refused = ws.subscribe([{"name": "rfq_matches", "product_ids": ["NOPE-USD"]}], [])
        assert (refused["type"], refused["message"]) == ("error", "Failed to subscribe")
