"""Funds moving in and out through real clients against a running sandex (venue clock frozen
at 2024-01-01): ccxt's deposits/withdrawals/addresses/ledger, cbpro's and coinbasepro's
transfer calls, with the settlement delays of tests/scenario.toml run on the venue clock."""

from __future__ import annotations

import hashlib
import http.client
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from sandex.timefmt import iso, parse_iso
from tests.support.clients_kit import make_cbpro, make_ccxt, make_coinbasepro
from tests.support.rest_kit import (
    ALICE,
    ALICE_PROFILE,
    BANK,
    BOB,
    BTC_WALLET,
    SCENARIO,
    USD_WALLET,
    RawClient,
    Server,
    start_server,
)

START = "2024-01-01T00:00:00Z"


class Venue:
    def __init__(self, server: Server, data_dir: Path) -> None:
        self.server, self.data_dir = server, data_dir

    def admin(self, command: str, **args: Any) -> Any:
        token = (self.data_dir / "admin.token").read_text().strip()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("POST", f"/admin/{command}", json.dumps(args),
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        reply = conn.getresponse()
        body = json.loads(reply.read())
        assert reply.status == 200, body
        return body


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    tmp = tmp_path_factory.mktemp("funds")
    scenario = tmp / "scenario.toml"
    scenario.write_text(f'{SCENARIO.read_text()}\n[clock]\nmode = "virtual"\n'
                        f'start = "{START}"\nrate = 0\n')
    server = start_server(scenario=scenario, data_dir=tmp / "data")
    try:
        yield Venue(server, tmp / "data")
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def fresh(venue: Venue) -> None:
    venue.admin("reset")


def later(pg_time: str, seconds: int, pg: bool = True) -> str:
    """``pg_time`` (a transfer's time) plus ``seconds``, as a transfer's time or RFC 3339."""
    us = parse_iso(pg_time)
    assert us is not None
    text = iso(us + seconds * 1_000_000)
    return text.replace("T", " ").replace("Z", "+00") if pg else text


def tx(transfer_id: str) -> str:
    return hashlib.sha256(f"sandex-tx:{transfer_id}".encode()).hexdigest()


def free_used(exchange: ccxt.coinbaseexchange, code: str) -> tuple[Decimal, Decimal]:
    balance = exchange.fetch_balance()[code]
    return Decimal(str(balance["free"])), Decimal(str(balance["used"]))


def test_ccxt_crypto_withdrawal_is_held_then_sent_with_fee_hash_and_ledger(venue: Venue,
                                                                          ) -> None:
    alice = make_ccxt(venue.server, ALICE)
    alice.load_markets()
    sent = alice.withdraw("BTC", 0.5, "bc1qexternalwallet0000000000000000000001")
    assert sent["amount"] == 0.5 and sent["info"]["fee"] == "0.00010000"
    assert sent["info"]["subtotal"] == "0.49990000" and sent["info"]["amount"] == "0.50000000"
    assert free_used(alice, "BTC") == (Decimal("99.5"), Decimal("0.5"))  # held: type transfer
    [pending] = alice.fetch_withdrawals("BTC")
    assert (pending["id"], pending["status"], pending["type"]) == (sent["id"], "pending",
                                                                    "withdrawal")
    assert pending["amount"] == pytest.approx(0.4999) and pending["fee"]["cost"] == 0.0001
    assert pending["txid"] == tx(sent["id"])
    assert pending["address"] == "bc1qexternalwallet0000000000000000000001"
    assert pending["info"]["completed_at"] is None and pending["info"]["canceled_at"] is None
    assert pending["info"]["details"]["network"] == "bitcoin"
    created = pending["info"]["created_at"]
    assert created.startswith("2024-01-01 00:00:00.")
    assert sent["info"]["payout_at"] == later(created, 60, pg=False)
    assert alice.fetch_deposits("BTC") == []

    moved = venue.admin("clock.advance", by="59s")
    assert "transfers" not in moved["fired"]
    assert alice.fetch_withdrawals("BTC")[0]["status"] == "pending"
    moved = venue.admin("clock.advance", by="1s")
    assert moved["fired"]["transfers"] == 1
    [done] = alice.fetch_withdrawals("BTC")
    assert done["status"] == "ok"
    assert done["info"]["completed_at"] == done["info"]["processed_at"] == later(created, 60)
    assert free_used(alice, "BTC") == (Decimal("99.5"), Decimal("0"))
    *_, entry = alice.fetch_ledger("BTC")  # oldest first: the scenario's funding, then this
    assert entry["type"] == "transfer" and entry["direction"] == "out"
    assert entry["amount"] == 0.5 and entry["after"] == 99.5
    assert entry["info"]["details"] == {"transfer_id": sent["id"], "transfer_type": "withdraw"}
    both = alice.fetch_deposits_withdrawals("BTC")
    assert [t["id"] for t in both] == [sent["id"]]


def test_ccxt_withdraw_with_tag_and_fee_on_top(venue: Venue) -> None:
    alice = make_ccxt(venue.server, ALICE)
    alice.load_markets()
    sent = alice.withdraw("ETH", 2, "0x00000000000000000000000000000000000000e1",
                          params={"tag": "42", "add_network_fee_to_total": True,
                                  "nonce": 1602091627462})
    assert (sent["info"]["amount"], sent["info"]["fee"], sent["info"]["subtotal"]) == (
        "2.00100000", "0.00100000", "2.00000000")
    again = alice.withdraw("ETH", 2, "0x00000000000000000000000000000000000000e1",
                           params={"tag": "42", "add_network_fee_to_total": True,
                                   "nonce": 1602091627462})
    assert again["id"] == sent["id"]  # the same nonce answers the first withdrawal
    [pending] = alice.fetch_withdrawals("ETH")
    assert pending["tag"] == "42" and pending["txid"] == "0x" + tx(sent["id"])
    assert pending["info"]["user_nonce"] == "1602091627462"
    assert pending["amount"] == pytest.approx(2.0)
    assert free_used(alice, "ETH") == (Decimal("997.999"), Decimal("2.001"))


def test_ccxt_deposit_address_then_a_received_deposit_settles_after_confirmations(
        venue: Venue) -> None:
    alice = make_ccxt(venue.server, ALICE)
    alice.load_markets()
    first = alice.create_deposit_address("BTC")
    assert first["address"].startswith("bc1q") and len(first["address"]) == 42
    assert first["info"]["network"] == "bitcoin" and first["tag"] is None
    assert alice.create_deposit_address("BTC")["address"] == first["address"]  # per account
    eth = alice.create_deposit_address("ETH")
    assert eth["address"].startswith("0x") and len(eth["address"]) == 42
    received = venue.admin("crypto.receive", address=first["address"], amount="0.25")
    assert received["profile_id"] == ALICE_PROFILE and received["currency"] == "BTC"
    [deposit] = alice.fetch_deposits("BTC")
    assert received["settles_at"] == later(deposit["info"]["created_at"], 600, pg=False)
    assert (deposit["id"], deposit["status"], deposit["amount"]) == (received["id"], "pending",
                                                                      0.25)
    assert deposit["addressTo"] == first["address"]
    assert deposit["txid"] == received["crypto_transaction_hash"] == tx(received["id"])
    assert free_used(alice, "BTC") == (Decimal("100"), Decimal("0"))
    venue.admin("clock.advance", by="10m")
    [deposit] = alice.fetch_deposits("BTC")
    assert deposit["status"] == "ok"
    assert free_used(alice, "BTC") == (Decimal("100.25"), Decimal("0"))
    *_, entry = alice.fetch_ledger("BTC")
    assert entry["info"]["details"]["transfer_id"] == received["id"]
    assert (entry["direction"], entry["amount"], entry["after"]) == ("in", 0.25, 100.25)


def test_ccxt_refusals(venue: Venue) -> None:
    alice = make_ccxt(venue.server, ALICE)
    alice.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        alice.withdraw("BTC", 101, "bc1qexternalwallet0000000000000000000001")
    with pytest.raises(ccxt.ExchangeError, match="amount is below the minimum"):
        alice.withdraw("BTC", 0.0001, "bc1qexternalwallet0000000000000000000001")
    assert alice.fetch_withdrawals("BTC") == []


def test_cbpro_payment_method_and_coinbase_wallet_transfers(venue: Venue) -> None:
    client = make_cbpro(venue.server, ALICE)
    [bank, sepa] = client.get_payment_methods()
    assert (bank["id"], bank["type"], bank["currency"], bank["allow_deposit"]) == (
        BANK, "ach_bank_account", "USD", True)
    assert sepa["allow_deposit"] is False
    wallets = {w["currency"]: w for w in client.get_coinbase_accounts()}
    assert wallets["USD"]["id"] == USD_WALLET and wallets["USD"]["balance"] == "50000.00"
    assert wallets["BTC"]["balance"] == "5.00000000" and wallets["BTC"]["type"] == "wallet"

    deposit = client.deposit("1000", "USD", BANK)
    assert deposit["amount"] == "1000.00000000" and deposit["currency"] == "USD"
    assert deposit["payout_at"].startswith("2024-01-01T01:00:00.")
    assert deposit["fee"] == "0.00000000"
    instant = client.coinbase_deposit("2.5", "BTC", BTC_WALLET)
    assert instant == {"id": instant["id"], "amount": "2.50000000", "currency": "BTC"}
    out = client.coinbase_withdraw("500", "USD", USD_WALLET)
    assert out["amount"] == "500.00000000"
    wallets = {w["currency"]: w for w in client.get_coinbase_accounts()}
    assert wallets["BTC"]["balance"] == "2.50000000" and wallets["USD"]["balance"] == "50500.00"
    refused = client.coinbase_deposit("3", "BTC", BTC_WALLET)  # 2.5 left in the wallet
    assert refused == {"message": "Insufficient funds"}
    crypto = client.crypto_withdraw("1", "BTC", "bc1qexternalwallet0000000000000000000001")
    assert crypto["fee"] == "0.00010000" and crypto["subtotal"] == "0.99990000"

    accounts = {a["currency"]: a for a in client.get_accounts()}
    assert Decimal(accounts["USD"]["balance"]) == Decimal("999500")  # the ACH deposit pends
    assert Decimal(accounts["BTC"]["balance"]) == Decimal("102.5")
    assert Decimal(accounts["BTC"]["hold"]) == Decimal("1")
    holds = list(client.get_account_holds(accounts["BTC"]["id"]))
    assert [(h["type"], h["ref"], h["amount"]) for h in holds] == [
        ("transfer", crypto["id"], "1.0000000000000000")]
    venue.admin("clock.advance", by="1h")
    accounts = {a["currency"]: a for a in client.get_accounts()}
    assert Decimal(accounts["USD"]["balance"]) == Decimal("1000500")
    assert Decimal(accounts["BTC"]["balance"]) == Decimal("101.5")
    assert Decimal(accounts["BTC"]["hold"]) == Decimal("0")
    history = list(client.get_account_history(accounts["USD"]["id"]))[:2]  # then the funding
    assert [(h["type"], h["amount"], h["details"]["transfer_type"]) for h in history] == [
        ("transfer", "1000.0000000000000000", "deposit"),
        ("transfer", "-500.0000000000000000", "withdraw")]


def test_coinbasepro_transfers_parse_with_their_timestamps_and_pages(venue: Venue) -> None:
    raw = RawClient(venue.server.port, ALICE)
    ids = [raw.post("/deposits/payment-method", {"amount": str(n), "currency": "USD",
                                                 "payment_method_id": BANK}).json()["id"]
           for n in (1, 2, 3)]
    client = make_coinbasepro(venue.server, ALICE)
    listed = list(client.get_all_transfers(limit=2))  # follows CB-AFTER to the end
    assert [t["id"] for t in listed] == ids[::-1]
    assert listed[0]["created_at"].year == 2024 and isinstance(listed[0]["created_at"], datetime)
    assert listed[0]["completed_at"] is None and listed[0]["amount"] == Decimal("3")
    one = client.get_transfer(ids[0])
    assert one["type"] == "deposit" and one["details"]["coinbase_payment_method_id"] == BANK
    reply = raw.get("/transfers?limit=1")
    assert reply.headers["cb-after"] == reply.json()[0]["created_at"]
    assert reply.json()[0]["created_at"].endswith("+00") and " " in reply.json()[0]["created_at"]
    older = raw.get("/transfers?limit=5&after=" + reply.headers["cb-after"].replace(" ", "%20")
                    .replace("+", "%2B"))
    assert [t["id"] for t in older.json()] == ids[1::-1]
    assert raw.get("/transfers?after=1600000000").json() == {
        "message": "after cursor value is not valid"}
    usd = next(a for a in raw.get("/accounts").json() if a["currency"] == "USD")
    assert [t["id"] for t in raw.get(f"/accounts/{usd['id']}/transfers").json()] == ids[::-1]
    assert raw.get("/transfers?type=withdraw").json() == []
    assert raw.get("/transfers/00000000-0000-4000-8000-000000000000").json() == {
        "message": "NotFound"}


def test_address_book_add_list_delete_with_a_manage_key(venue: Venue) -> None:
    key = venue.admin("key.create", profile=ALICE_PROFILE, permissions="view,manage")
    manager = RawClient(venue.server.port, (key["key"], key["secret"], key["passphrase"]))
    added = manager.post("/address-book", {"addresses": [
        {"currency": "BTC", "to": {"address": "bc1qcold"}, "label": "cold storage"},
        {"currency": "eth", "to": {"address": "0xabc", "destination_tag": "7"}, "label": "hot",
         "network": "ethereum", "is_verified_self_hosted_wallet": True}]})
    assert added.status == 200
    first, second = added.json()["body"]
    assert (first["address"], first["currency"], first["label"], first["destination_tag"]) == (
        "bc1qcold", "BTC", "cold storage", None)
    assert first["address_info"] == {"address": "bc1qcold", "display_address": "bc1qcold"}
    assert first["address_book_added_at"].startswith("2024-01-01T00:00:00.")
    assert (second["currency"], second["destination_tag"], second["network"],
            second["is_verified_self_hosted_wallet"]) == ("ETH", "7", "ethereum", True)
    listed = RawClient(venue.server.port, ALICE).get("/address-book").json()  # view reads it
    assert [a["id"] for a in listed] == [first["id"], second["id"]]
    assert manager.delete(f"/address-book/{first['id']}").json() == {}
    assert [a["id"] for a in manager.get("/address-book").json()] == [second["id"]]
    gone = manager.delete(f"/address-book/{first['id']}")
    assert (gone.status, gone.json()) == (404, {"message": "NotFound"})
    refused = manager.post("/address-book", {"addresses": [
        {"currency": "BTC", "to": {"address": "x"}, "label": "ok"},
        {"currency": "BTC", "to": {"address": "y"}}]})  # the second has no label: none added
    assert (refused.status, refused.json()) == (400, {"message": "label is required"})
    assert len(manager.get("/address-book").json()) == 1
    assert RawClient(venue.server.port, ALICE).delete(
        f"/address-book/{second['id']}").status == 403  # alice's key has no manage


def test_ccxt_address_book_edit_and_a_counterparty_withdrawal_on_the_venue_clock(
        venue: Venue) -> None:
    """Through ccxt's implicit API: an entry added with ``"network": "counterparty"`` is a
    counterparty (GET /address-book/counterparty); PUT edits an entry (label, vasp_id) and
    keeps its address and added time; POST /withdrawals/counterparty holds the amount and
    sends it after the crypto withdrawal delay (1m here)."""
    key = venue.admin("key.create", profile=ALICE_PROFILE, permissions="view,manage,transfer")
    manager = make_ccxt(venue.server, (key["key"], key["secret"], key["passphrase"]))
    added = manager.privatePostAddressBook({"addresses": [
        {"currency": "BTC", "to": {"address": "CP-7Q2X"}, "label": "otc desk",
         "network": "counterparty"},
        {"currency": "BTC", "to": {"address": "bc1qplain"}, "label": "plain"}]})
    desk, plain = added["body"]
    [listed] = manager.privateGetAddressBookCounterparty()
    assert listed == {"id": desk["id"], "address": "CP-7Q2X", "label": "otc desk",
                      "added_at": desk["address_book_added_at"]}
    venue.admin("clock.advance", by="5s")
    edited = manager.privatePutAddressBookId({"id": plain["id"], "label": "cold",
                                              "vasp_id": "Kraken"})
    assert edited == {**plain, "label": "cold", "vasp_id": "Kraken"}  # added_at kept
    assert manager.privateGetAddressBook()[1] == edited

    sent = manager.privatePostWithdrawalsCounterparty(
        {"amount": 0.25, "counterparty_id": "CP-7Q2X", "currency": "BTC"})
    assert set(sent) == {"id", "counterparty_id", "amount", "currency", "status"}
    assert (sent["counterparty_id"], sent["amount"], sent["currency"], sent["status"]) == (
        "CP-7Q2X", "0.25000000", "BTC", "PENDING")
    assert free_used(manager, "BTC") == (Decimal("99.75"), Decimal("0.25"))
    with pytest.raises(ccxt.ExchangeError, match="Invalid counterparty_id"):
        manager.privatePostWithdrawalsCounterparty(
            {"amount": "0.1", "counterparty_id": "bc1qplain", "currency": "BTC"})
    venue.admin("clock.advance", by="1m")
    [done] = manager.fetch_withdrawals("BTC")
    assert (done["id"], done["status"]) == (sent["id"], "ok")
    assert done["info"]["details"]["counterparty_id"] == "CP-7Q2X"
    assert free_used(manager, "BTC") == (Decimal("99.75"), Decimal("0"))


def test_ccxt_travel_rules_transfer_information_and_settlement_preference(
        venue: Venue) -> None:
    """Travel-rule entries are kept per profile (listed newest first with id cursors, the
    address filter, deleted); a transfer's travel information answers ``{"message"}``; the
    settlement preference is kept per user and echoed."""
    key = venue.admin("key.create", profile=ALICE_PROFILE, permissions="view,manage,transfer")
    alice = make_ccxt(venue.server, (key["key"], key["secret"], key["passphrase"]))
    first = alice.privatePostTravelRules({"address": "bc1qsender", "originator_name": "Ada",
                                          "originator_country": "gb"})
    assert set(first) == {"id", "address", "originator_name", "originator_country"}
    assert (first["address"], first["originator_name"], first["originator_country"]) == (
        "bc1qsender", "Ada", "GB")
    second = alice.privatePostTravelRules({"address": "0xsender", "originator_name": "Bo",
                                           "originator_country": "US"})
    assert alice.privateGetTravelRules() == [second, first]  # newest first
    assert alice.privateGetTravelRules({"address": "0xsender"}) == [second]
    assert alice.privateGetTravelRules({"limit": 1}) == [second]
    assert alice.privateGetTravelRules({"after": second["id"]}) == [first]
    assert alice.privateGetTravelRules({"before": first["id"]}) == [second]
    assert alice.privateDeleteTravelRulesId({"id": first["id"]}) == {}
    assert alice.privateGetTravelRules() == [second]
    assert make_ccxt(venue.server, BOB).privateGetTravelRules() == []  # per profile

    sent = alice.withdraw("BTC", 0.1, "bc1qexternalwallet0000000000000000000001")
    # Coinbase documents a 2xx {"message"} here, which ccxt reads as an error: the body is
    # the documented one, so ccxt raises with it (sandex keeps Coinbase's shape)
    with pytest.raises(ccxt.ExchangeError, match="Travel rule information submitted"):
        alice.privatePostTransfersTransferIdTravelRules({
            "transfer_id": sent["id"], "originator_name": "Ada", "originator_country": "GB",
            "vasp_id": "Kraken", "wallet_type": "EXCHANGE", "is_self_certified": True,
            "business_address": {"city": "London", "country": "GB"}})
    raw = RawClient(venue.server.port, (key["key"], key["secret"], key["passphrase"]))
    again = raw.post(f"/transfers/{sent['id']}/travel-rules", {"originator_name": "Ada L."})
    assert (again.status, again.json()) == (200, {"message": "Travel rule information submitted"})
    missing = raw.post("/transfers/00000000-0000-4000-8000-000000000000/travel-rules",
                       {"originator_name": "Ada"})
    assert (missing.status, missing.json()) == (404, {"message": "NotFound"})
    with pytest.raises(ccxt.ExchangeError, match="Invalid wallet_type"):
        alice.privatePostTransfersTransferIdTravelRules(
            {"transfer_id": sent["id"], "originator_name": "Ada", "wallet_type": "BANK"})

    assert alice.privatePostUsersUserIdSettlementPreferences(
        {"user_id": "self", "settlement_preference": "USDC"}) == {"settlement_preference": "USDC"}
    with pytest.raises(ccxt.ExchangeError, match="Invalid settlement_preference"):
        alice.privatePostUsersUserIdSettlementPreferences(
            {"user_id": "self", "settlement_preference": "EUR"})
    refused = RawClient(venue.server.port, ALICE).post(  # alice's own key: no manage
        "/users/self/settlement-preferences", {"settlement_preference": "USD"})
    assert (refused.status, refused.json()) == (403, {"message": "Forbidden"})
