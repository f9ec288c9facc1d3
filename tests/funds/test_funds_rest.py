"""Funds endpoints over REST: malformed requests answer a Coinbase ``{"message"}`` with the
right 4xx and change nothing; permissions; the address book; restart and reset keep the
transfers (the transfers view is in every snapshot)."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.rest_kit import (
    ALICE,
    ALICE_PROFILE,
    BANK,
    BOB,
    BTC_WALLET,
    SCENARIO,
    USD_WALLET,
    VIEWER,
    RawClient,
    Server,
    start_server,
)

ADDRESS = "bc1qexternalwallet0000000000000000000001"
CRYPTO = {"amount": "0.1", "currency": "BTC", "crypto_address": ADDRESS}
WALLET = {"amount": "1", "currency": "USD", "coinbase_account_id": USD_WALLET}
METHOD = {"amount": "1", "currency": "USD", "payment_method_id": BANK}
RULE = {"address": "bc1qfrom", "originator_name": "Ada", "originator_country": "GB"}
COUNTERPARTY = {"amount": "0.1", "currency": "BTC", "counterparty_id": "CP-NOT-IN-BOOK"}

BAD: list[tuple[str, str, Any, int, str | None]] = [
    ("POST", "/withdrawals/crypto", {}, 400, "amount is required"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": None}, 400, "amount is required"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "-1"}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "0"}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "abc"}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "0.000000001"}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": True}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": [1]}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "1e400"}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "NaN"}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/crypto", {k: v for k, v in CRYPTO.items() if k != "currency"}, 400,
     "currency is required"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "currency": "DOGE"}, 400, "Invalid currency"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "currency": 5}, 400, "Invalid currency"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "currency": "USD"}, 400, "Invalid currency"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "crypto_address": ""}, 400,
     "crypto_address is required"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "crypto_address": 7}, 400,
     "Invalid crypto_address"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "network": "ethereum"}, 400, "Invalid network"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "nonce": "12a"}, 400, "Invalid nonce"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "nonce": 1.5}, 400, "Invalid nonce"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "no_destination_tag": "yes"}, 400,
     "Invalid no_destination_tag"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "1000"}, 400, "Insufficient funds"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "amount": "0.0001"}, 400,
     "amount is below the minimum withdrawal amount"),
    ("POST", "/withdrawals/crypto", {**CRYPTO, "profile_id": "nope"}, 404, "NotFound"),
    ("POST", "/withdrawals/crypto", [CRYPTO], 400, "Invalid JSON body"),
    ("POST", "/withdrawals/coinbase-account", {**WALLET, "coinbase_account_id": None}, 400,
     "coinbase_account_id is required"),
    ("POST", "/withdrawals/coinbase-account", {**WALLET, "coinbase_account_id": "x"}, 404,
     "NotFound"),
    ("POST", "/withdrawals/coinbase-account", {**WALLET, "currency": "BTC"}, 400,
     "Invalid currency"),
    ("POST", "/withdrawals/coinbase-account", {**WALLET, "amount": "2000000"}, 400,
     "Insufficient funds"),
    ("POST", "/deposits/coinbase-account", {**WALLET, "amount": "50000.01"}, 400,
     "Insufficient funds"),
    ("POST", "/deposits/coinbase-account", {**WALLET, "amount": -5}, 400,
     "amount must be a positive number"),
    ("POST", "/deposits/payment-method", {**METHOD, "payment_method_id": None}, 400,
     "payment_method_id is required"),
    ("POST", "/deposits/payment-method", {**METHOD, "payment_method_id": "x"}, 400,
     "Invalid payment_method_id"),
    ("POST", "/deposits/payment-method", {**METHOD, "currency": "BTC"}, 400, "Invalid currency"),
    ("POST", "/deposits/payment-method",
     {**METHOD, "payment_method_id": "5e9a0000-0000-4000-8000-000000000002"}, 400,
     "Payment method cannot be used for deposits"),
    ("POST", "/withdrawals/payment-method", {**METHOD, "amount": "2000000"}, 400,
     "Insufficient funds"),
    ("POST", "/coinbase-accounts/nope/addresses", {}, 404, "NotFound"),
    ("POST", f"/coinbase-accounts/{USD_WALLET}/addresses", {}, 400,
     "Cannot generate address for fiat currency"),
    ("POST", f"/coinbase-accounts/{BTC_WALLET}/addresses", {"network": "solana"}, 400,
     "Invalid network"),
    ("GET", "/withdrawals/fee-estimate", None, 400, "currency is required"),
    ("GET", "/withdrawals/fee-estimate?currency=BTC", None, 400, "crypto_address is required"),
    ("GET", f"/withdrawals/fee-estimate?currency=USD&crypto_address={ADDRESS}", None, 400,
     "Invalid currency"),
    ("GET", "/transfers?type=gift", None, 400, "Invalid type"),
    ("GET", "/transfers?limit=0", None, 400, "Invalid parameter range - limit"),
    ("GET", "/transfers?before=yesterday", None, 400, "before cursor value is not valid"),
    ("GET", "/transfers/not-a-transfer", None, 404, "NotFound"),
    ("GET", "/accounts/00000000-0000-4000-8000-000000000000/transfers", None, 404, "NotFound"),
    ("DELETE", "/address-book/00000000-0000-4000-8000-000000000000", None, 403, "Forbidden"),
    ("PUT", "/address-book/00000000-0000-4000-8000-000000000000", {"label": "x"}, 403,
     "Forbidden"),
    ("POST", "/withdrawals/counterparty", {"amount": "1", "currency": "BTC"}, 400,
     "counterparty_id is required"),
    ("POST", "/withdrawals/counterparty", COUNTERPARTY, 400, "Invalid counterparty_id"),
    ("POST", "/withdrawals/counterparty", {**COUNTERPARTY, "counterparty_id": 5}, 400,
     "Invalid counterparty_id"),
    ("POST", "/withdrawals/counterparty", {**COUNTERPARTY, "amount": "-1"}, 400,
     "amount must be a positive number"),
    ("POST", "/withdrawals/counterparty", {**COUNTERPARTY, "currency": "XYZ"}, 400,
     "Invalid currency"),
    ("POST", "/withdrawals/counterparty",
     {**COUNTERPARTY, "profile_id": "b0b00000-0000-4000-8000-000000000002"}, 403, "Forbidden"),
    ("GET", "/address-book/counterparty", None, 200, None),
    ("POST", "/travel-rules", {**RULE, "address": None}, 400, "address is required"),
    ("POST", "/travel-rules", {**RULE, "originator_name": 7}, 400, "Invalid originator_name"),
    ("POST", "/travel-rules", {**RULE, "originator_country": "USA"}, 400,
     "Invalid originator_country"),
    ("POST", "/travel-rules", {**RULE, "originator_country": "1A"}, 400,
     "Invalid originator_country"),
    ("POST", "/travel-rules", [RULE], 400, "Invalid JSON body"),
    ("DELETE", "/travel-rules/00000000-0000-4000-8000-000000000000", None, 404, "NotFound"),
    ("GET", "/travel-rules?after=nope", None, 400, "after cursor value is not valid"),
    ("GET", "/travel-rules?limit=1001", None, 400, "Invalid parameter range - limit"),
    ("POST", "/transfers/nope/travel-rules", {"originator_name": "A"}, 404, "NotFound"),
    ("POST", "/users/self/settlement-preferences", {"settlement_preference": "USD"}, 403,
     "Forbidden"),
    ("POST", "/address-book", {"addresses": []}, 403, "Forbidden"),
]


def state(client: RawClient) -> Any:
    return (client.get("/accounts").json(), client.get("/transfers?limit=1000").json(),
            client.get("/coinbase-accounts").json(), client.get("/travel-rules").json())


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), BAD,
                         ids=[f"{m} {p} {i}" for i, (m, p, *_) in enumerate(BAD)])
def test_bad_input_is_refused_and_changes_nothing(server: Server, method: str, path: str,
                                                  body: Any, status: int,
                                                  message: str | None) -> None:
    alice = RawClient(server.port, ALICE)
    before = state(alice)
    reply = alice.request(method, path, body)
    assert (reply.status, reply.json()) == (status, [] if message is None else {
        "message": message})
    assert state(alice) == before


def test_permissions_and_the_default_profile_rule(server: Server) -> None:
    viewer, bob = RawClient(server.port, VIEWER), RawClient(server.port, BOB)
    assert viewer.get("/transfers").status == 200  # reading takes view
    assert viewer.get("/coinbase-accounts").status == 200
    for path, body in (("/withdrawals/crypto", CRYPTO), ("/deposits/payment-method", METHOD),
                       ("/deposits/coinbase-account", WALLET)):
        assert (viewer.post(path, body).status, bob.post(path, body).status) == (403, 403)


def test_fee_estimate_and_an_address_per_account(server: Server) -> None:
    alice, bob = RawClient(server.port, ALICE), RawClient(server.port, BOB)
    reply = alice.get(f"/withdrawals/fee-estimate?currency=BTC&crypto_address={ADDRESS}")
    assert reply.json() == {"fee": "0.00010000", "fee_before_subsidy": "0.00010000"}
    eth = alice.get(f"/withdrawals/fee-estimate?currency=eth&crypto_address={ADDRESS}")
    assert eth.json()["fee"] == "0.00100000"
    mine = alice.post(f"/coinbase-accounts/{BTC_WALLET}/addresses", None).json()
    assert mine["address"] == alice.post(f"/coinbase-accounts/{BTC_WALLET}/addresses",
                                         {"network": "bitcoin"}).json()["address"]
    assert mine["resource_path"] == f"/v2/accounts/{BTC_WALLET}/addresses/{mine['id']}"
    assert mine["address_info"] == {"address": mine["address"]}
    assert "message" not in mine
    assert bob.post(f"/coinbase-accounts/{BTC_WALLET}/addresses", None).status == 403


def test_tag_currencies_and_deposit_only_methods(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO.read_text() + """
[[currencies]]
id = "XRP"
name = "XRP"

[[payment_methods]]
id = "dep00000-0000-4000-8000-000000000003"
type = "ach_bank_account"
name = "Deposits only"
currency = "USD"
allow_withdraw = false

[[coinbase_accounts]]
id = "XRP"
currency = "XRP"
""")
    server = start_server(scenario=scenario)
    try:
        alice = RawClient(server.port, ALICE)
        untagged = {"amount": "1", "currency": "XRP", "crypto_address": "rExample"}
        reply = alice.post("/withdrawals/crypto", untagged)
        assert (reply.status, reply.json()) == (400, {"message": "destination_tag is required"})
        reply = alice.post("/withdrawals/payment-method", {
            **METHOD, "payment_method_id": "dep00000-0000-4000-8000-000000000003"})
        assert (reply.status, reply.json()) == (
            400, {"message": "Payment method cannot be used for withdrawals"})
        assert alice.get("/transfers").json() == []
        address = alice.post("/coinbase-accounts/XRP/addresses", None).json()  # id = symbol
        assert address["destination_tag"] == address["address_info"]["destination_tag"]
        assert address["destination_tag"].isdigit()
    finally:
        server.stop()


def test_on_the_wall_clock_a_deposit_settles_by_itself(tmp_path: Path) -> None:
    """The scheduler settles a pending transfer when the running venue clock reaches it."""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO.read_text().replace('payment_method_delay = "1h"',
                                                     'payment_method_delay = "1s"'))
    server = start_server(scenario=scenario)
    try:
        alice = RawClient(server.port, ALICE)
        sent = alice.post("/deposits/payment-method", METHOD).json()
        assert alice.get(f"/transfers/{sent['id']}").json()["completed_at"] is None
        deadline = time.monotonic() + 10
        while alice.get(f"/transfers/{sent['id']}").json()["completed_at"] is None:
            assert time.monotonic() < deadline, "the deposit never settled"
            time.sleep(0.05)
        usd = next(a for a in alice.get("/accounts").json() if a["currency"] == "USD")
        assert usd["balance"] == "1000001.0000000000000000"
    finally:
        server.stop()


def test_restart_and_reset_keep_what_they_should(tmp_path: Path) -> None:
    """A transfer pending at shutdown is still pending, and held, after the restart; one
    completed is still completed. (Reset, a snapshot restore, runs before every test of
    test_funds_clients.py, whose exact balances and lists show it.)"""
    data_dir = tmp_path / "data"
    server = start_server(data_dir=data_dir)
    try:
        alice = RawClient(server.port, ALICE)
        sent = alice.post("/withdrawals/crypto", CRYPTO).json()
        deposit = alice.post("/deposits/coinbase-account", {
            "amount": "2", "currency": "BTC", "coinbase_account_id": BTC_WALLET}).json()
        before = state(alice)
    finally:
        server.stop()
    server = start_server(data_dir=data_dir)
    try:
        alice = RawClient(server.port, ALICE)
        assert state(alice) == before
        listed = {t["id"]: t for t in alice.get("/transfers").json()}
        assert listed[sent["id"]]["completed_at"] is None
        assert listed[deposit["id"]]["completed_at"] is not None
        btc = next(a for a in alice.get("/accounts").json() if a["currency"] == "BTC")
        assert btc["hold"] == "0.1000000000000000" and btc["balance"] == "102.0000000000000000"
    finally:
        server.stop()


def _admin(server: Server, data_dir: Path, command: str, **args: Any) -> Any:
    token = (data_dir / "admin.token").read_text().strip()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", f"/admin/{command}", json.dumps(args),
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    reply = conn.getresponse()
    body = json.loads(reply.read())
    assert reply.status == 200, body
    return body


def test_address_book_edits_and_a_counterparty_withdrawal_survive_a_restart(
        tmp_path: Path) -> None:
    """PUT /address-book/{id} is a journaled replacement of the entry, so the restart (from
    the journal and from the snapshot the transfers view is in) shows the edit; a pending
    counterparty withdrawal is still pending and held. Bad edits answer 4xx, change nothing."""
    data_dir = tmp_path / "data"
    server = start_server(data_dir=data_dir)
    try:
        key = _admin(server, data_dir, "key.create", profile=ALICE_PROFILE,
                     permissions="view,manage,transfer")
        manager = RawClient(server.port, (key["key"], key["secret"], key["passphrase"]))
        added = manager.post("/address-book", {"addresses": [
            {"currency": "BTC", "to": {"address": "CP-RESTART"}, "label": "desk",
             "network": "counterparty"},
            {"currency": "ETH", "to": {"address": "0xcold"}, "label": "cold",
             "network": "ethereum"}]}).json()["body"]
        desk, cold = added
        path = f"/address-book/{cold['id']}"
        for body, status, message in (
                ({}, 400, "label is required"), ({"label": 5}, 400, "Invalid label"),
                ({"label": "x", "is_verified_self_hosted_wallet": "yes"}, 400,
                 "Invalid is_verified_self_hosted_wallet"),
                ({"label": "x", "id": desk["id"]}, 400, "Invalid id"),
                ([], 400, "Invalid JSON body")):
            reply = manager.request("PUT", path, body)
            assert (reply.status, reply.json()) == (status, {"message": message}), body
        missing = manager.request("PUT", "/address-book/00000000-0000-4000-8000-000000000000",
                              {"label": "x"})
        assert (missing.status, missing.json()) == (404, {"message": "NotFound"})
        assert manager.get("/address-book").json() == added
        edited = manager.request("PUT", path, {"label": "vault", "network": "*",
                                    "is_verified_self_hosted_wallet": True}).json()
        assert edited == {**cold, "label": "vault", "network": None,
                          "is_verified_self_hosted_wallet": True}
        sent = manager.post("/withdrawals/counterparty", {
            "amount": "0.3", "currency": "BTC", "counterparty_id": "CP-RESTART"}).json()
        assert sent["status"] == "PENDING"
        rule = manager.post("/travel-rules", RULE).json()
        gone = manager.post("/travel-rules", {**RULE, "address": "bc1qgone"}).json()
        assert manager.delete(f"/travel-rules/{gone['id']}").json() == {}
        assert manager.get("/travel-rules").json() == [rule]
        before = (manager.get("/address-book").json(), state(manager))
        _admin(server, data_dir, "snapshot.save", name="edited")
        assert manager.request("PUT", path, {"label": "later"}).status == 200
        assert manager.delete(f"/travel-rules/{rule['id']}").status == 200
        _admin(server, data_dir, "snapshot.restore", name="edited")
        assert (manager.get("/address-book").json(), state(manager)) == before
    finally:
        server.stop()
    server = start_server(data_dir=data_dir)
    try:
        manager = RawClient(server.port, (key["key"], key["secret"], key["passphrase"]))
        assert (manager.get("/address-book").json(), state(manager)) == before
        assert manager.get("/address-book").json()[1] == edited
        btc = next(a for a in manager.get("/accounts").json() if a["currency"] == "BTC")
        assert btc["hold"] == "0.3000000000000000"
        assert manager.get(f"/transfers/{sent['id']}").json()["completed_at"] is None
        assert manager.get("/travel-rules").json() == [rule]
    finally:
        server.stop()


def test_a_withdrawal_over_the_weekly_limit_is_refused(tmp_path: Path) -> None:
    """``[[withdraw_limits]]``: USD 100 a week here; a payment-method withdrawal over it is
    refused (400), one within it passes and leaves the rest."""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f'{SCENARIO.read_text()}\n[[withdraw_limits]]\ncurrency = "USD"\n'
                        'max = "100"\n')
    server = start_server(scenario=scenario)
    try:
        alice = RawClient(server.port, ALICE)
        before = state(alice)
        over = alice.post("/withdrawals/payment-method", {**METHOD, "amount": "100.01"})
        assert (over.status, over.json()) == (400, {"message": "Withdrawal limit exceeded"})
        assert state(alice) == before
        assert alice.post("/withdrawals/payment-method", {**METHOD, "amount": "60"}).status == 200
        limits = alice.get("/users/self/exchange-limits").json()["transfer_limits"]
        assert limits["exchange_withdraw"]["USD"]["remaining"] == "40.00000000"
        again = alice.post("/withdrawals/payment-method", {**METHOD, "amount": "40.01"})
        assert (again.status, again.json()) == (400, {"message": "Withdrawal limit exceeded"})
    finally:
        server.stop()
