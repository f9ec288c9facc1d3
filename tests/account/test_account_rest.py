"""The account surface over REST, in process (``tests/api/rest/harness.py``): conversions,
profile writes, reports on the venue clock, fee tiers, volumes, limits, wrapped assets,
oracle and loans. The venue clock is frozen unless a test advances it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.account.kit import (
    BOB,
    BOB_PROFILE,
    SAVER,
    SAVINGS_PROFILE,
    SCENARIO,
    TRADER,
    TRADER_PROFILE,
    TRADER_USER,
    VIEWER,
)
from tests.api.rest.harness import InProcessClient, InProcessVenue


@pytest.fixture
def venue() -> Iterator[InProcessVenue]:
    venue = InProcessVenue(SCENARIO)
    yield venue
    venue.close()


@pytest.fixture
def trader(venue: InProcessVenue) -> InProcessClient:
    return venue.client(TRADER)


def balances(client: InProcessClient) -> dict[str, Decimal]:
    return {a["currency"]: Decimal(a["balance"]) for a in client.get("/accounts").json()}


def ok(reply: Any) -> Any:
    assert reply.status == 200, reply.body
    return reply.json()


def trade(venue: InProcessVenue, price: str, size: str) -> None:
    """Bob rests a sell, the trader buys it: one fill each."""
    bob = venue.client(BOB)
    ok(bob.post("/orders", {"product_id": "BTC-USD", "side": "sell", "price": price,
                            "size": size}))
    ok(venue.client(TRADER).post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                             "price": price, "size": size}))


# -- conversions ------------------------------------------------------------------------------
def test_usd_to_usdc_and_back_moves_funds_one_to_one_with_ledger_entries(
        trader: InProcessClient) -> None:
    before = balances(trader)
    made = ok(trader.post("/conversions", {"from": "USD", "to": "USDC", "amount": 125.5}))
    assert (made["from"], made["to"], made["amount"], made["fee_amount"]) == (
        "USD", "USDC", "125.50000000", "0.0000000000000000")
    accounts = {a["currency"]: a for a in trader.get("/accounts").json()}
    assert made["from_account_id"] == accounts["USD"]["id"]
    assert made["to_account_id"] == accounts["USDC"]["id"]
    after = balances(trader)
    assert after["USD"] == before["USD"] - Decimal("125.5")
    assert after["USDC"] == before["USDC"] + Decimal("125.5")
    back = ok(trader.post("/conversions", {"from": "usdc", "to": "usd", "amount": "0.5"}))
    assert balances(trader)["USDC"] == before["USDC"] + 125
    assert ok(trader.get(f"/conversions/{made['id']}")) == made
    assert [c["id"] for c in ok(trader.get("/conversions"))] == [back["id"], made["id"]]
    ledger = ok(trader.get(f"/accounts/{accounts['USDC']['id']}/ledger"))
    assert [(e["type"], e["amount"]) for e in ledger[:2]] == [
        ("conversion", "-0.5000000000000000"), ("conversion", "125.5000000000000000")]
    fees = {(f["from_currency"], f["to_currency"]): f for f in ok(trader.get("/conversions/fees"))}
    assert fees[("USD", "USDC")]["thirty_day_volume"] == "125.50000000"
    assert fees[("USDC", "USD")]["thirty_day_volume"] == "0.50000000"
    assert fees[("USD", "USDC")]["fee_rate"] == "0"


def test_currencies_say_what_converts_into_what(venue: InProcessVenue) -> None:
    currencies = {c["id"]: c for c in venue.call("GET", "/currencies", b"", {}).json()}
    assert (currencies["USD"]["convertible_to"], currencies["USDC"]["convertible_to"],
            currencies["BTC"]["convertible_to"]) == (["USDC"], ["USD"], [])


def test_conversions_of_another_profile_are_not_found(venue: InProcessVenue,
                                                     trader: InProcessClient) -> None:
    made = ok(trader.post("/conversions", {"from": "USD", "to": "USDC", "amount": "1"}))
    saver = venue.client(SAVER)
    assert saver.get(f"/conversions/{made['id']}").status == 404
    assert ok(saver.get("/conversions")) == []


# -- profiles ---------------------------------------------------------------------------------
def test_create_rename_deactivate_a_profile(venue: InProcessVenue,
                                            trader: InProcessClient) -> None:
    created = ok(trader.post("/profiles", {"name": "bots"}))
    assert (created["name"], created["active"], created["is_default"],
            created["user_id"]) == ("bots", True, False, TRADER_USER)
    renamed = ok(trader.request("PUT", f"/profiles/{created['id']}",
                                {"profile_id": created["id"], "name": "market-making"}))
    assert renamed["name"] == "market-making" and renamed["id"] == created["id"]
    saved = balances(venue.client(SAVER))
    assert ok(trader.request("PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate",
                             {"profile_id": SAVINGS_PROFILE, "to": created["id"]})) == {}
    # the funds moved, as ledger transfers; the profile shows as inactive
    assert {p["id"]: p["active"] for p in ok(trader.get("/profiles"))}[SAVINGS_PROFILE] is False
    assert [p["id"] for p in ok(trader.get("/profiles?active=false"))] == [SAVINGS_PROFILE]
    assert SAVINGS_PROFILE not in {p["id"] for p in ok(trader.get("/profiles?active=true"))}
    # the deactivated profile's key is view-only now: it reads, it does not trade
    saver = venue.client(SAVER)
    assert balances(saver) == {c: Decimal(0) for c in saved}
    assert saver.post("/orders", {"product_id": "BTC-USD", "side": "buy", "price": "1",
                                  "size": "1"}).json() == {"message": "Forbidden"}
    assert saved["USD"] == Decimal(250) and saved["BTC"] == Decimal(1)
    node = venue.venue.node
    moved = node.engine.profiles[created["id"]].accounts
    assert (moved["USD"].balance, moved["BTC"].balance) == (250 * 10**16, 10**16)


def test_deactivate_is_refused_while_orders_are_open(venue: InProcessVenue,
                                                     trader: InProcessClient) -> None:
    saver = venue.client(SAVER)
    order = ok(saver.post("/orders", {"product_id": "BTC-USD", "side": "buy", "price": "10",
                                      "size": "1"}))
    reply = trader.request("PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate",
                           {"to": TRADER_PROFILE})
    assert (reply.status, reply.json()) == (400, {"message": "Profile has open orders"})
    ok(saver.delete(f"/orders/{order['id']}"))
    assert ok(trader.request("PUT", f"/profiles/{SAVINGS_PROFILE}/deactivate",
                             {"to": TRADER_PROFILE})) == {}


def test_profile_writes_need_the_manage_permission(venue: InProcessVenue) -> None:
    for creds in (VIEWER, SAVER):
        client = venue.client(creds)
        assert client.post("/profiles", {"name": "x"}).status == 403
        assert client.request("PUT", f"/profiles/{SAVINGS_PROFILE}", {"name": "y"}).status == 403


def test_another_users_profile_is_not_found(trader: InProcessClient) -> None:
    reply = trader.request("PUT", f"/profiles/{BOB_PROFILE}", {"name": "mine"})
    assert (reply.status, reply.json()) == (404, {"message": "NotFound"})


# -- reports ----------------------------------------------------------------------------------
def _download(venue: InProcessVenue, report: dict[str, Any]) -> Any:
    path = "/" + report["file_url"].split("/", 3)[3]
    return venue.call("GET", path, b"", {})


def test_a_fills_report_moves_to_ready_on_the_venue_clock_and_equals_get_fills(
        venue: InProcessVenue, trader: InProcessClient) -> None:
    trade(venue, "60000.00", "0.1")
    trade(venue, "60001.00", "0.25")
    created = ok(trader.post("/reports", {"type": "fills", "format": "csv",
                                          "fills": {"product_id": "BTC-USD"}}))
    assert set(created) == {"id", "type", "status"} and created["status"] == "pending"
    report = ok(trader.get(f"/reports/{created['id']}"))
    assert (report["status"], report["file_url"], report["completed_at"]) == (
        "pending", None, None)
    venue.clock.advance(0.6)  # past half of [reports] ready_seconds = 1
    assert ok(trader.get(f"/reports/{created['id']}"))["status"] == "creating"
    venue.clock.advance(0.5)
    report = ok(trader.get(f"/reports/{created['id']}"))
    assert report["status"] == "ready" and report["params"]["product_id"] == "BTC-USD"
    assert report["file_url"].startswith(f"http://127.0.0.1/reports/{created['id']}/file/")
    answer = _download(venue, report)
    assert answer.status == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(answer.body.decode())))
    assert rows[0] == ["portfolio", "trade id", "product", "side", "created at", "size",
                       "size unit", "price", "fee", "total", "price/fee/total unit"]
    fills = ok(trader.get("/fills?product_id=BTC-USD"))
    assert [(r[1], r[3], r[4], r[5], r[7], Decimal(r[8])) for r in rows[1:]] == [
        (str(f["trade_id"]), f["side"].upper(), f["created_at"], f["size"], f["price"],
         Decimal(f["fee"])) for f in reversed(fills)]
    assert [r[9] for r in rows[1:]] == ["-6036", "-15090.2515"]  # -(value + fee at 0.6 %)
    # a later fill is not in it: the report ends when it was asked for
    trade(venue, "60002.00", "0.01")
    assert _download(venue, report).body == answer.body


def test_an_account_report_as_pdf_and_csv_matches_the_ledger(
        venue: InProcessVenue, trader: InProcessClient) -> None:
    trade(venue, "60000.00", "0.1")
    usd = next(a for a in trader.get("/accounts").json() if a["currency"] == "USD")
    csv_id = ok(trader.post("/reports", {"type": "account", "format": "csv",
                                         "account": {"account_id": usd["id"]}}))["id"]
    pdf_id = ok(trader.post("/reports", {"type": "account",
                                         "account_id": usd["id"]}))["id"]  # cbpro's flat body
    venue.clock.advance(1.1)
    ledger = ok(trader.get(f"/accounts/{usd['id']}/ledger"))
    rows = list(csv.reader(io.StringIO(_download(
        venue, ok(trader.get(f"/reports/{csv_id}"))).body.decode())))[1:]
    assert [(r[1], Decimal(r[3]), Decimal(r[4])) for r in rows] == [
        (e["type"], Decimal(e["amount"]), Decimal(e["balance"])) for e in reversed(ledger)]
    assert {r[5] for r in rows} == {"USD"}
    pdf = _download(venue, ok(trader.get(f"/reports/{pdf_id}")))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body.startswith(b"%PDF-")
    assert _download(venue, ok(trader.get(f"/reports/{pdf_id}"))).body == pdf.body
    listed = ok(trader.get("/reports"))
    assert [r["id"] for r in listed] == [pdf_id, csv_id]
    assert [r["id"] for r in ok(trader.get("/reports?limit=1"))] == [pdf_id]


def test_a_report_file_needs_its_token_and_its_url_no_signature(
        venue: InProcessVenue, trader: InProcessClient) -> None:
    report_id = ok(trader.post("/reports", {"type": "account", "format": "csv"}))["id"]
    early = f"/reports/{report_id}/file/x.csv"
    assert venue.call("GET", early, b"", {}).json() == {"message": "NotFound"}
    venue.clock.advance(1.1)
    report = ok(trader.get(f"/reports/{report_id}"))
    good = "/" + report["file_url"].split("/", 3)[3]
    assert venue.call("GET", good, b"", {}).status == 200
    assert venue.call("GET", good.replace(".csv", ".pdf"), b"", {}).status == 404
    assert venue.call("GET", good[:-8] + "0000.csv", b"", {}).status == 404
    assert venue.client(BOB).get(f"/reports/{report_id}").status == 404
    venue.clock.advance(7 * 86400)  # expired: gone
    assert venue.call("GET", good, b"", {}).json() == {"message": "NotFound"}


def test_at_most_three_reports_of_a_kind_generate_at_once(venue: InProcessVenue,
                                                          trader: InProcessClient) -> None:
    for _ in range(3):
        ok(trader.post("/reports", {"type": "account", "format": "csv"}))
    refused = trader.post("/reports", {"type": "account", "format": "csv"})
    assert (refused.status, refused.json()) == (400, {"message": "Too many reports being "
                                                                 "generated"})
    ok(trader.post("/reports", {"type": "fills", "product_id": "BTC-USD"}))  # another kind
    venue.clock.advance(1.1)
    ok(trader.post("/reports", {"type": "account", "format": "csv"}))


# -- fees, volumes, limits --------------------------------------------------------------------
def test_fees_follow_the_tier_and_orders_are_charged_it(venue: InProcessVenue,
                                                        trader: InProcessClient) -> None:
    assert ok(trader.get("/fees")) == {"maker_fee_rate": "0.0040", "taker_fee_rate": "0.0060",
                                       "usd_volume": "0.00"}
    trade(venue, "60000.00", "0.2")  # $12,000: the $10K-50K tier
    assert ok(trader.get("/fees")) == {"maker_fee_rate": "0.0025", "taker_fee_rate": "0.0040",
                                       "usd_volume": "12000.00"}
    trade(venue, "50000.00", "0.1")  # charged the new taker rate, 0.40 %
    fill = ok(trader.get("/fills?product_id=BTC-USD"))[0]
    assert (fill["price"], fill["fee"]) == ("50000.00000000", "20.0000000000000000")
    venue.clock.advance(31 * 86400)  # the volume ages out: back to the first tier
    assert ok(trader.get("/fees"))["taker_fee_rate"] == "0.0060"


def test_volume_summary_trailing_volume_and_trading_volumes(venue: InProcessVenue,
                                                            trader: InProcessClient) -> None:
    trade(venue, "60000.00", "0.2")
    summary = {p["id"]: p for p in venue.call("GET", "/products/volume-summary", b"",
                                              {}).json()}
    assert summary["BTC-USD"]["spot_volume_24hour"] == "0.20000000"
    assert summary["BTC-USD"]["spot_volume_30day"] == "0.20000000"
    assert summary["BTC-USD"]["rfq_volume_30day"] == "" and summary["BTC-USD"][
        "market_types"] == ["spot"]
    assert ok(trader.get("/users/self/trailing-volume")) == []  # until midnight UTC passes
    venue.clock.advance(86400)
    (row,) = ok(trader.get("/users/self/trailing-volume"))
    assert (row["product_id"], row["volume"], row["exchange_volume"]) == (
        "BTC-USD", "0.20000000", "0.20000000")
    assert row["recorded_at"].endswith("T00:00:00.000000Z")
    volumes = ok(trader.get(f"/users/{TRADER_USER}/trading-volumes"))
    metrics = volumes["aggregated_data"]["activity_metrics"]
    assert (metrics["taker_volume_notional_usd"], metrics["maker_volume_notional_usd"],
            metrics["taker_volume_relative_percentage"], metrics["taker_rank"]) == (
        "12000.00", "0.00", "100.0000", "1")
    assert trader.get("/users/someone-else/trading-volumes").status == 403


def test_exchange_limits_count_withdrawals_not_profile_transfers(
        venue: InProcessVenue, trader: InProcessClient) -> None:
    ok(trader.post("/profiles/transfer", {"from": TRADER_PROFILE, "to": SAVINGS_PROFILE,
                                          "currency": "USD", "amount": "1000"}))
    withdrawn = venue.admin("withdraw", profile=TRADER_PROFILE, currency="USD", amount="2500")
    assert withdrawn.status == 200
    limits = ok(trader.get("/users/self/exchange-limits"))
    assert limits == {"limit_currency": "USD", "transfer_limits": {"exchange_withdraw": {
        "USD": {"max": "100000.00000000", "remaining": "97500.00000000", "period_in_days": 7},
        "BTC": {"max": "10.00000000", "remaining": "10.00000000", "period_in_days": 7}}}}
    assert trader.get(f"/users/{TRADER_USER}/exchange-limits").status == 200
    assert trader.get("/users/5cf6e115aaf44503db300f1e/exchange-limits").status == 403


# -- wrapped assets, oracle, loans ------------------------------------------------------------
def test_wrapped_assets_and_a_stake_wrap_at_the_configured_rate(
        venue: InProcessVenue, trader: InProcessClient) -> None:
    listed = venue.call("GET", "/wrapped-assets", b"", {}).json()
    assert listed == {"wrapped_assets": [{
        "id": "CBETH", "circulating_supply": "221127.7137774658",
        "total_supply": "926714.1251656958084", "conversion_rate": "1.250000000000000000",
        "apy": "0.0384", "redeem_time_estimate_days": "12.34"}]}
    assert venue.call("GET", "/wrapped-assets/CBETH/conversion-rate", b"", {}).json() == {
        "amount": "1.250000000000000000"}
    assert venue.call("GET", "/wrapped-assets/NOPE", b"", {}).status == 404
    wrap = ok(trader.post("/wrapped-assets/stake-wrap",
                          {"from_currency": "ETH", "to_currency": "CBETH", "amount": "2.5"}))
    assert (wrap["from_amount"], wrap["to_amount"], wrap["status"], wrap["canceled_at"]) == (
        "2.5", "2", "completed", None)
    after = balances(trader)
    assert (after["ETH"], after["CBETH"]) == (Decimal("7.5"), Decimal(2))
    assert ok(trader.get(f"/wrapped-assets/stake-wrap/{wrap['id']}")) == wrap
    assert ok(trader.get("/wrapped-assets/stake-wrap")) == [wrap]
    assert trader.get(f"/conversions/{wrap['id']}").status == 404  # not a conversion


def test_oracle_is_gone_and_loans_are_for_enrolled_users_only(trader: InProcessClient) -> None:
    assert trader.get("/oracle").json() == {"message": "NotFound"}
    for path in ("/loans", "/loans/options", "/loans/lending-overview", "/margin/usdc"):
        reply = trader.get(path)
        assert (reply.status, reply.json()) == (403, {"message": "Forbidden"}), path
    assert trader.post("/loans/open", {}).status == 403


def test_redeem_unwraps_at_the_rate_and_an_idem_retry_answers_the_first(
        venue: InProcessVenue, trader: InProcessClient) -> None:
    """POST /wrapped-assets/redeem: CBETH -> ETH at ``amount * conversion_rate`` (1.25 here),
    completed at once (GUESS), answered wrapped in ``{"redeem": ...}``; lists and reads bare."""
    ok(trader.post("/wrapped-assets/stake-wrap",
                   {"from_currency": "ETH", "to_currency": "CBETH", "amount": "5"}))
    idem = "8c1f0000-0000-4000-8000-00000000abcd"
    made = ok(trader.post("/wrapped-assets/redeem", {
        "from_currency": "cbeth", "to_currency": "ETH", "amount": 1.5, "idem": idem}))
    redeem = made["redeem"]
    accounts = {a["currency"]: a["id"] for a in trader.get("/accounts").json()}
    assert redeem == {
        "id": idem, "from_amount": "1.5", "to_amount": "1.875",
        "from_account_id": accounts["CBETH"], "to_account_id": accounts["ETH"],
        "from_currency": "CBETH", "to_currency": "ETH", "status": "completed",
        "conversion_rate": "1.250000000000000000", "created_at": redeem["created_at"],
        "completed_at": redeem["created_at"], "canceled_at": None, "idem": idem}
    after = balances(trader)
    assert (after["ETH"], after["CBETH"]) == (Decimal("6.875"), Decimal("2.5"))
    again = ok(trader.post("/wrapped-assets/redeem", {
        "from_currency": "CBETH", "to_currency": "ETH", "amount": "1.5", "idem": idem}))
    assert again == made and balances(trader) == after  # the retry moved nothing
    assert ok(trader.get(f"/wrapped-assets/redeem/{idem}")) == redeem
    assert ok(trader.get("/wrapped-assets/redeem?from_currency=CBETH")) == [redeem]
    assert ok(trader.get("/wrapped-assets/redeem?status=pending")) == []
    assert trader.get("/wrapped-assets/stake-wrap/" + idem).status == 404  # not a stake-wrap
    ledger = ok(trader.get(f"/accounts/{accounts['ETH']}/ledger"))
    assert (ledger[0]["type"], ledger[0]["amount"]) == ("redeem", "1.8750000000000000")


@pytest.mark.parametrize(("body", "status", "message"), [
    ({}, 400, "from_currency is required"),
    ({"from_currency": "CBETH", "to_currency": "ETH"}, 400, "amount is required"),
    ({"from_currency": "CBETH", "to_currency": "ETH", "amount": "-1"}, 400,
     "amount must be a positive number"),
    ({"from_currency": "CBETH", "to_currency": "BTC", "amount": "1"}, 400,
     "Invalid conversion pair"),
    ({"from_currency": "ETH", "to_currency": "CBETH", "amount": "1"}, 400,
     "Invalid conversion pair"),
    ({"from_currency": "CBETH", "to_currency": "ETH", "amount": "1", "idem": "x"}, 400,
     "Invalid idem"),
    ({"from_currency": "CBETH", "to_currency": "ETH", "amount": "1", "idem": 5}, 400,
     "Invalid idem"),
    ({"from_currency": "CBETH", "to_currency": "ETH", "amount": "1000"}, 400,
     "Insufficient funds"),
])
def test_bad_redeems_change_nothing(trader: InProcessClient, body: dict[str, Any], status: int,
                                    message: str) -> None:
    ok(trader.post("/wrapped-assets/stake-wrap",
                   {"from_currency": "ETH", "to_currency": "CBETH", "amount": "5"}))
    before = balances(trader)
    reply = trader.post("/wrapped-assets/redeem", body)
    assert (reply.status, reply.json()) == (status, {"message": message})
    assert balances(trader) == before and ok(trader.get("/wrapped-assets/redeem")) == []
    assert trader.get("/wrapped-assets/redeem/nope").status == 404


def test_withdrawals_over_the_remaining_limit_are_refused_on_every_route(
        venue: InProcessVenue, trader: InProcessClient) -> None:
    """``[[withdraw_limits]]`` BTC max 10 a week: a pending withdrawal already counts, and
    each withdrawal route refuses what would pass the rest (400, GUESS text), moving nothing."""
    wallet = next(w["id"] for w in ok(trader.get("/coinbase-accounts"))
                  if w["currency"] == "BTC")
    sent = ok(trader.post("/withdrawals/crypto", {"amount": "6", "currency": "BTC",
                                                  "crypto_address": "bc1qlimit"}))
    limits = ok(trader.get("/users/self/exchange-limits"))["transfer_limits"]
    assert limits["exchange_withdraw"]["BTC"]["remaining"] == "4.00000000"
    ok(trader.post("/address-book", {"addresses": [{
        "currency": "BTC", "to": {"address": "CP-OTC-DESK"}, "label": "otc",
        "network": "counterparty"}]}))
    before = (balances(trader), ok(trader.get("/transfers")))
    for path, body in (
            ("/withdrawals/crypto", {"crypto_address": "bc1qlimit"}),
            ("/withdrawals/coinbase-account", {"coinbase_account_id": wallet}),
            ("/withdrawals/counterparty", {"counterparty_id": "CP-OTC-DESK"})):
        reply = trader.post(path, {"amount": "4.00000001", "currency": "BTC", **body})
        assert (reply.status, reply.json()) == (400, {"message": "Withdrawal limit exceeded"})
    assert (balances(trader), ok(trader.get("/transfers"))) == before
    eth = trader.post("/withdrawals/crypto", {"amount": "4.5", "currency": "ETH",
                                              "crypto_address": "0xnolimit"})
    assert eth.status == 200  # ETH has no limit
    last = ok(trader.post("/withdrawals/coinbase-account", {
        "amount": "4", "currency": "BTC", "coinbase_account_id": wallet}))
    assert last["amount"] == "4.00000000"
    limits = ok(trader.get("/users/self/exchange-limits"))["transfer_limits"]
    assert limits["exchange_withdraw"]["BTC"]["remaining"] == "0.00000000"
    assert sent["id"] in {t["id"] for t in ok(trader.get("/transfers"))}
