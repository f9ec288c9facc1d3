"""FIX market data against a real ``sandex serve``: the security list, a level 3 snapshot equal
to ``GET /book?level=3``, increments numbered like the feed, rejects, the incremental-only port."""

from __future__ import annotations

from decimal import Decimal

from tests.fix.conftest import Rest
from tests.support.fix_kit import RawFix, frame, logon_fields, new_id
from tests.support.rest_kit import ALICE, BOB, VIEWER, Server


def md_logon(port: int, creds: tuple[str, str, str]) -> RawFix:
    client = RawFix(port)
    client.key = creds[0]
    client.send_raw(frame(logon_fields(creds)))
    client.seq = 2
    assert client.expect("A")[1137] == "9"
    return client


def entries(fields: list[tuple[int, str]], first: int) -> list[dict[int, str]]:
    out: list[dict[int, str]] = []
    for tag, value in fields:
        if tag == first:
            out.append({})
        if out and tag not in (10,):
            out[-1][tag] = value
    return out


def test_security_list_snapshot_and_increments(fix_server: tuple[Server, int],
                                               rest: Rest) -> None:
    server = fix_server[0]
    bob = rest(BOB)
    bob.post("/orders", {"product_id": "ETH-USD", "side": "buy", "price": "10.00", "size": "1"})
    bob.post("/orders", {"product_id": "ETH-USD", "side": "sell", "price": "5000.00",
                         "size": "2"})
    client = md_logon(server.md_port, VIEWER)  # type: ignore[attr-defined]
    client.send("x", [(320, "list"), (559, "4")])
    listing = client.expect("y")
    symbols = entries(client.last_fields, 55)
    assert (listing[320], listing[560], listing[893]) == ("list", "0", "Y")
    eth = next(e for e in symbols if e[55] == "ETH-USD")
    assert (eth[15], eth[969], eth[29003], eth[562], eth[1682]) == (
        "USD", "0.01", "0.00000001", "1", "full_trading")
    assert int(listing[146]) == len(symbols) == int(listing[393])
    client.send("V", [(262, "md-1"), (263, "1"), (146, "1"), (55, "ETH-USD")])
    snapshot = client.expect("W")
    book = bob.get("/products/ETH-USD/book?level=3").json()
    assert (snapshot[262], snapshot[55], int(snapshot[83])) == ("md-1", "ETH-USD",
                                                               book["sequence"])
    got = [(e[269], e[278], Decimal(e[270]), Decimal(e[271]))
           for e in entries(client.last_fields, 269)]
    want = [(side, i, Decimal(p), Decimal(s)) for side, rows in (("0", book["bids"]),
                                                                 ("1", book["asks"]))
            for p, s, i in rows]
    assert got == want and len(got) >= 2
    placed = rest(ALICE).post("/orders", {"product_id": "ETH-USD", "side": "buy",
                                          "price": "11.00", "size": "0.5"}).json()
    received, opened = client.expect("X"), client.expect("X")
    assert (received[279], received[269], received[37], received[270], received[271]) == (
        "0", "0", placed["id"], "11", "0.5")
    assert 278 not in received
    assert (opened[279], opened[278], opened[271]) == ("0", placed["id"], "0.5")
    assert int(received[83]) == book["sequence"] + 1 and int(opened[83]) == book["sequence"] + 2
    rest(ALICE).delete(f"/orders/{placed['id']}")
    done = client.expect("X")
    assert (done[279], done[278], done[58], int(done[83])) == (
        "2", placed["id"], "CANCELED", book["sequence"] + 3)
    assert bob.get("/products/ETH-USD/book?level=3").json()["sequence"] == int(done[83])
    client.send("V", [(262, "md-2"), (263, "1"), (146, "1"), (55, "NOPE-USD")])
    reject = client.expect("Y")
    assert (reject[262], reject[281], reject[58]) == (
        "md-2", "0", "NOPE-USD is not a valid product")
    client.send("V", [(262, "md-1"), (263, "1"), (146, "1"), (55, "BTC-USD")])
    assert client.expect("Y")[281] == "1"
    client.send("V", [(262, "md-3"), (263, "2"), (146, "1"), (55, "ETH-USD")])
    client.send("D", [(11, new_id())])
    assert client.expect("j")[380] == "2"
    client.close()
    bob.delete("/orders")


def test_the_incremental_port_sends_no_snapshot(fix_server: tuple[Server, int],
                                                rest: Rest) -> None:
    client = md_logon(fix_server[0].md_incremental_port, VIEWER)  # type: ignore[attr-defined]
    client.send("V", [(262, "inc"), (263, "1"), (146, "1"), (55, "ETH-USD")])
    placed = rest(BOB).post("/orders", {"product_id": "ETH-USD", "side": "sell",
                                        "price": "6000.00", "size": "0.1"}).json()
    first = client.expect("X")  # no W before it
    assert (first[262], first[37]) == ("inc", placed["id"])
    client.close()
    rest(BOB).delete("/orders")
