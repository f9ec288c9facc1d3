"""Order entry with QuickFIX (``quickfix-ssl``), the engine Coinbase's own samples use, with
Coinbase's sample session settings, against a real ``sandex serve``; REST on the other side."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fix.conftest import Rest
from tests.support.clients_kit import make_ccxt
from tests.support.fix_kit import QuickFixClient, fix, new_id, start_fix_server
from tests.support.rest_kit import ALICE, BOB, RawClient, Server

pytestmark = [pytest.mark.skipif(
    fix is None, reason="quickfix-ssl (the test extras' FIX engine) is not installed"),
    pytest.mark.usefixtures("clean_orders")]


def limit(side: str, price: str, size: str, cl: str | None = None,
          **extra: str) -> list[tuple[int, str]]:
    fields = [(11, cl or new_id()), (55, "BTC-USD"), (54, "1" if side == "buy" else "2"),
              (40, "2"), (44, price), (38, size), (59, "1")]
    return fields + [(int(tag[1:]), value) for tag, value in extra.items()]


def test_logon_with_each_bad_credential_is_a_logout_with_its_text(fix_port: int,
                                                                   tmp_path: Path) -> None:
    for creds, secret, text in [
            ((BOB[0], BOB[1], "nope"), None, "Invalid Passphrase"),
            (BOB, ALICE[1], "invalid signature"),
            (("0" * 32, BOB[1], "x"), None, "Invalid API Key")]:
        client = QuickFixClient(fix_port, creds, tmp_path / text.replace(" ", "_"),
                                secret=secret)
        client.start(wait=False)
        try:
            assert client.logout_text(10) == text
            assert not client.logged_on.is_set()
        finally:
            client.stop()


def test_place_and_fill_against_a_rest_order(bob: QuickFixClient, rest: Rest) -> None:
    maker = rest(ALICE).post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                         "price": "20000.00", "size": "0.5"}).json()
    cl = new_id()
    bob.send("D", limit("buy", "20000.00", "0.5", cl))
    ack = bob.expect("8")
    assert (ack[150], ack[39], ack[11], ack[14], ack[151], ack[44], ack[38]) == (
        "0", "0", cl, "0", "0.5", "20000", "0.5")
    fill = bob.expect("8")
    assert (fill[150], fill[39], fill[11], fill[37]) == ("F", "2", cl, ack[37])
    assert (fill[31], fill[32], fill[14], fill[151], fill[6]) == (
        "20000", "0.5", "0.5", "0", "20000")
    assert (fill[1057], fill[136], fill[138], fill[139], fill[891]) == ("Y", "1", "USD", "4", "0")
    fills = rest(BOB).get(f"/fills?order_id={ack[37]}").json()
    assert [(f["trade_id"], f["fee"], f["liquidity"]) for f in fills] == [
        (int(fill[1003]), f"{float(fill[137]):.16f}", "T")]
    order = rest(BOB).get(f"/orders/client:{cl}").json()
    assert (order["id"], order["status"], order["filled_size"]) == (
        ack[37], "done", "0.50000000")
    assert rest(ALICE).get(f"/orders/{maker['id']}").json()["status"] == "done"


def test_partial_fill_then_cancel(bob: QuickFixClient, rest: Rest) -> None:
    cl = new_id()
    bob.send("D", limit("buy", "20100.00", "1", cl))
    ack = bob.expect("8")
    rest(ALICE).post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                 "price": "20100.00", "size": "0.4"})
    fill = bob.expect("8")
    assert (fill[150], fill[39], fill[32], fill[14], fill[151], fill[1057]) == (
        "F", "1", "0.4", "0.4", "0.6", "N")
    cancel = new_id()
    bob.send("F", [(11, cancel), (41, cl), (55, "BTC-USD")])
    done = bob.expect("8")
    assert (done[150], done[39], done[11], done[41], done[37], done[14], done[151]) == (
        "4", "4", cancel, cl, ack[37], "0.4", "0")
    bob.send("F", [(11, new_id()), (37, ack[37]), (55, "BTC-USD")])
    reject = bob.expect("9")
    assert (reject[39], reject[102], reject[434], reject[58]) == (
        "8", "1", "1", "Order already done")


def test_a_fix_order_canceled_over_rest_reports_on_fix(bob: QuickFixClient, rest: Rest) -> None:
    cl = new_id()
    bob.send("D", limit("buy", "12.00", "0.5", cl))
    ack = bob.expect("8")
    listed = [o["id"] for o in rest(BOB).get("/orders").json()]
    assert ack[37] in listed
    assert rest(BOB).delete(f"/orders/client:{cl}").status == 200
    done = bob.expect("8")
    assert (done[150], done[39], done[11], done[37]) == ("4", "4", cl, ack[37])


def test_rejects_ioc_expiry_and_status(bob: QuickFixClient) -> None:
    bob.send("D", limit("buy", "12.001", "0.5"))
    reject = bob.expect("8")
    assert (reject[150], reject[39], reject[103], reject[58]) == (
        "8", "8", "0", "price is too accurate. Smallest unit is 0.01000000")
    bob.send("D", [(11, new_id()), (55, "NOPE-USD"), (54, "1"), (40, "2"), (44, "1"),
                   (38, "1"), (59, "1")])
    unknown = bob.expect("8")
    assert (unknown[150], unknown[103], unknown[58]) == ("8", "1", "Product not found")
    bob.send("D", limit("buy", "0012.00", "0.5"))
    assert bob.expect("8")[58] == "Extra leading zeros are not accepted in Price(44)"
    bob.send("D", limit("buy", "12.00", "0.5", cl="NOT-A-UUID"))
    assert bob.expect("8")[58] == "ClOrdID(NOT-A-UUID) must be a lowercase UUIDv4"
    ioc = new_id()
    bob.send("D", limit("buy", "12.00", "0.5", ioc, t59="3"))
    assert bob.expect("8")[150] == "0"
    expired = bob.expect("8")
    assert (expired[150], expired[39], expired[58], expired[11]) == (
        "C", "C", "101:Time In Force", ioc)
    resting = new_id()
    bob.send("D", limit("buy", "12.00", "0.5", resting, t18="A"))
    ack = bob.expect("8")
    assert ack[18] == "A"
    bob.send("H", [(11, resting), (55, "BTC-USD")])
    status = bob.expect("8")
    assert (status[150], status[39], status[37], status[11], status[151]) == (
        "I", "0", ack[37], resting, "0.5")
    bob.send("H", [(11, new_id()), (55, "BTC-USD")])
    missing = bob.expect("8")
    assert (missing[150], missing[37], missing[39], missing[58]) == (
        "I", "0", "8", "order not found")


def _utc(moment: datetime) -> str:
    """A UTCTimestamp in milliseconds, as QuickFIX and Coinbase's samples write them."""
    return moment.strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


def test_gtd_rests_until_its_expire_time_then_expires(bob: QuickFixClient, rest: Rest,
                                                     fix_server: tuple[Server, int]) -> None:
    exchange = make_ccxt(fix_server[0], BOB)
    exchange.load_markets()
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)  # 3 to 4 s ahead
    cl = new_id()
    bob.send("D", limit("buy", "12.00", "0.5", cl, t59="6", t126=_utc(at)))
    ack = bob.expect("8")
    assert (ack[150], ack[39], ack[59], ack[126]) == ("0", "0", "6", _utc(at))
    order = rest(BOB).get(f"/orders/client:{cl}").json()
    assert (order["id"], order["time_in_force"], order["expire_time"], order["status"]) == (
        ack[37], "GTT", at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "open")
    seen = exchange.fetch_order(ack[37], "BTC/USD")  # a real client reads it as GTT
    assert (seen["id"], seen["status"], seen["timeInForce"], seen["clientOrderId"],
            seen["price"], seen["amount"], seen["info"]["expire_time"]) == (
        ack[37], "open", "GTT", cl, 12.0, 0.5, order["expire_time"])
    expired = bob.expect("8", timeout=10)
    assert (expired[150], expired[39], expired[58], expired[11], expired[37]) == (
        "C", "C", "101:Time In Force", cl, ack[37])
    assert datetime.now(UTC) >= at  # not before its time
    assert rest(BOB).get(f"/orders/{ack[37]}").status == 404  # an expired order is purged


def test_gtd_refusals(bob: QuickFixClient) -> None:
    soon = _utc(datetime.now(UTC) + timedelta(hours=1))
    for extra, text in [
            ({"t59": "6"}, "Required tag missing: ExpireTime(126)"),
            ({"t126": soon}, "Invalid value for ExpireTime(126)"),  # without 59=6
            ({"t59": "6", "t126": "2026-12-05T10:00:00Z"}, "Invalid value for ExpireTime(126)"),
            ({"t59": "6", "t126": "20260230-10:00:00"}, "Invalid value for ExpireTime(126)"),
            ({"t59": "6", "t126": "20200101-00:00:00.000"}, "expire_time must be in the future"),
            ({"t59": "6", "t126": _utc(datetime.now(UTC) + timedelta(days=91))},
             "expire_time must be at most 90 days ahead")]:
        bob.send("D", limit("buy", "12.00", "0.5", **extra))
        reject = bob.expect("8")
        assert (reject[150], reject[39], reject[58]) == ("8", "8", text), extra


def test_mass_cancel_and_replace(bob: QuickFixClient) -> None:
    ids = [new_id(), new_id()]
    for cl in ids:
        bob.send("D", limit("buy", "13.00", "0.5", cl))
        bob.expect("8")
    bob.send("G", [(11, new_id()), (37, "x"), (41, ids[0]), (38, "1"), (44, "13.5"),
                   (55, "BTC-USD"), (40, "2")])
    replace = bob.expect("9")
    assert (replace[434], replace[102], replace[58]) == ("2", "1", "order not found")
    request = new_id()
    bob.send("q", [(11, request), (530, "6"), (60, "20261203-00:00:00.000")])
    canceled = {bob.expect("8")[11], bob.expect("8")[11]}
    assert canceled == set(ids)
    report = bob.expect("r")
    assert (report[11], report[530], report[531]) == (request, "6", "6")
    bob.send("q", [(11, new_id()), (530, "7"), (60, "20261203-00:00:00.000")])
    refused = bob.expect("r")
    assert (refused[531], refused[58]) == ("0", "Unsupported MassCancelRequestType")


def test_batches(bob: QuickFixClient) -> None:
    batch, first, second, bad = new_id(), new_id(), new_id(), new_id()
    message = fix.Message()
    message.getHeader().setField(fix.BeginString("FIXT.1.1"))
    message.getHeader().setField(fix.MsgType("U6"))
    message.setField(8014, batch)
    message.setField(73, "3")
    gtd = {"t59": "6", "t126": _utc(datetime.now(UTC) + timedelta(hours=1))}
    for cl, price, extra in ((first, "14.00", {}), (second, "14.01", gtd), (bad, "14.001", {})):
        group = fix.Group(73, 11)
        for tag, value in limit("buy", price, "0.5", cl, **extra):
            group.setField(tag, value)
        message.addGroup(group)
    bob.send_raw(message)
    reports = {m[11]: m for m in (bob.expect("8"), bob.expect("8"), bob.expect("8"))}
    assert (reports[first][150], reports[second][150], reports[bad][150]) == ("0", "0", "8")
    assert (reports[first][59], reports[second][59], reports[second][126]) == (
        "1", "6", gtd["t126"])  # a batch's entry may be GTD
    cancel = fix.Message()
    cancel.getHeader().setField(fix.BeginString("FIXT.1.1"))
    cancel.getHeader().setField(fix.MsgType("U4"))
    cancel.setField(8014, new_id())
    cancel.setField(73, "2")
    for cl in (first, new_id()):
        group = fix.Group(73, 11)
        group.setField(11, new_id())
        group.setField(41, cl)
        group.setField(55, "BTC-USD")
        cancel.addGroup(group)
    bob.send_raw(cancel)
    done = bob.expect("8")
    assert (done[150], done[41]) == ("4", first)
    unknown = bob.expect("9")
    assert (unknown[102], unknown[58]) == ("1", "order not found")
    bob.send("U6", [(8014, "bad"), (73, "0")])
    assert bob.expect("U7")[58] == "ClOrdID(bad) must be a lowercase UUIDv4"


def test_cancel_on_disconnect_with_quickfix(fix_port: int, tmp_path: Path, rest: Rest) -> None:
    client = QuickFixClient(fix_port, BOB, tmp_path / "cod", extra_logon=[(8013, "Y")])
    client.start()
    client.send("D", limit("buy", "15.00", "0.5"))
    order_id = client.expect("8")[37]
    assert order_id in [o["id"] for o in rest(BOB).get("/orders").json()]
    client.stop()
    deadline = time.monotonic() + 5
    while order_id in [o["id"] for o in rest(BOB).get("/orders").json()]:
        assert time.monotonic() < deadline, "not canceled on disconnect"
        time.sleep(0.1)


def test_tls_listener_with_quickfix_ssl(tmp_path: Path) -> None:
    server: Server
    server, port = start_fix_server(plaintext=False)
    try:
        client = QuickFixClient(port, BOB, tmp_path / "tls", tls=True)
        client.start()
        client.send("D", limit("buy", "16.00", "0.5"))
        assert client.expect("8")[150] == "0"
        client.stop()
        RawClient(server.port, BOB).delete("/orders")
    finally:
        server.stop()


def test_drop_copy_sees_fills_of_fix_and_rest_orders(fix_server: tuple[Server, int],
                                                     bob: QuickFixClient, tmp_path: Path,
                                                     rest: Rest) -> None:
    server, _ = fix_server
    copy = QuickFixClient(server.drop_copy_port, BOB, tmp_path / "dc",  # type: ignore[attr-defined]
                          extra_logon=[(9406, "Y")], qualifier="DC")
    copy.start()
    try:
        cl = new_id()
        bob.send("D", limit("sell", "20200.00", "0.3", cl))
        ack = bob.expect("8")
        rest_order = rest(BOB).post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                                "price": "20300.00", "size": "0.2"}).json()
        rest(ALICE).post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                     "price": "20300.00", "size": "0.5"})
        fill = bob.expect("8")
        assert (fill[150], fill[39]) == ("F", "2")
        copies = [copy.expect("8") for _ in range(4)]
        assert [(m[37], m[150], m[39]) for m in copies] == [
            (ack[37], "0", "0"), (rest_order["id"], "0", "0"),
            (ack[37], "F", "2"), (rest_order["id"], "F", "2")]
        assert copies[0][17] == ack[17] and copies[2][17] == fill[17]  # ExecIDs shared
        assert (copies[2][11], copies[2][31], copies[3][31]) == (cl, "20200", "20300")
        copy.send("D", limit("buy", "1.00", "1"))
        assert copy.expect("j")[380] == "2"
    finally:
        copy.stop()
