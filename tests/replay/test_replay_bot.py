"""A bot (ccxt, over REST; a websockets client on the feed) trading inside replayed liquidity:
its queue position, consumed liquidity that stays consumed, and replayed takers that hit it.

The recording is a small Coinbase level2 file written here, stepped one event at a time
through the admin door, so each check sees the venue between two recorded events.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.replay.test_record import drain
from tests.support.clients_kit import make_ccxt
from tests.support.feed_kit import Feed
from tests.support.rest_kit import Server, start_server

T = "2024-01-01T00:00:{:02d}.000000Z"


def lines() -> list[dict[str, Any]]:
    book = {"type": "snapshot", "product_id": "BTC-USD",
            "bids": [["99.00", "1.0"]], "asks": [["100.00", "1.0"], ["101.00", "2.0"]]}

    def update(second: int, side: str, price: str, size: str) -> dict[str, Any]:
        return {"type": "l2update", "product_id": "BTC-USD", "time": T.format(second),
                "changes": [[side, price, size]]}

    def trade(second: int, maker_side: str, price: str, size: str) -> dict[str, Any]:
        return {"type": "match", "product_id": "BTC-USD", "time": T.format(second),
                "trade_id": second, "side": maker_side, "price": price, "size": size,
                "maker_order_id": "0" * 36, "taker_order_id": "1" * 36, "sequence": second}

    return [
        book,                                   # 1: the book
        update(2, "sell", "100.00", "1.5"),     # 2: 0.5 more at 100: behind the bot
        update(3, "sell", "100.00", "1.2"),     # 3: 0.3 canceled, from the back
        trade(4, "sell", "100.00", "0.4"),      # 4: a taker buys 0.4 at 100: ahead of the bot
        update(4, "sell", "100.00", "0.8"),     # 5: ... as the level says
        trade(5, "sell", "100.00", "1.3"),      # 6: a taker sweeps 100: through the bot
        update(5, "sell", "100.00", "0"),       # 7: ... the level is gone
        trade(6, "sell", "101.00", "0.3"),      # 8: a taker buys 0.3 at 101: the bot's 100.50
        update(6, "sell", "101.00", "1.7"),     # 9: ... the recorded level says 1.7
        update(7, "sell", "101.00", "2.0"),     # 10: refilled to 2.0 (the bot took 0.6)
    ]


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[tuple[Server, Path, Path]]:
    data_dir = tmp_path / "data"
    server = start_server("--no-rate-limit", data_dir=data_dir)
    recording = tmp_path / "l2.jsonl"
    recording.write_text("".join(json.dumps(line) + "\n" for line in lines()))
    yield server, data_dir, recording
    server.stop()


def admin(server: Server, data_dir: Path, op: str, body: dict[str, Any]) -> Any:
    token = (data_dir / "admin.token").read_text().strip()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", f"/admin/{op}", json.dumps(body),
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    reply = conn.getresponse()
    answer = json.loads(reply.read())
    assert reply.status == 200, answer
    return answer


def asks(server: Server) -> list[tuple[str, str, int]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/products/BTC-USD/book?level=2")
    return [(p, s, n) for p, s, n in json.loads(conn.getresponse().read())["asks"]]


def test_a_bot_queues_behind_replayed_liquidity_and_is_hit_by_replayed_takers(
        venue: tuple[Server, Path, Path]) -> None:
    server, data_dir, recording = venue
    bot = make_ccxt(server)
    admin(server, data_dir, "replay.load", {"source": str(recording), "format": "coinbase-level2"})
    admin(server, data_dir, "replay.step", {"events": 1})
    order = bot.create_order("BTC/USD", "limit", "sell", 0.5, 100.0)  # behind the 1.0
    with connect(f"ws://127.0.0.1:{server.port}/") as ws:
        feed = Feed(ws)
        assert feed.subscribe(["matches"], ["BTC-USD"])["type"] == "subscriptions"
        admin(server, data_dir, "replay.step", {"events": 2})  # +0.5 behind it, -0.3 behind it
        assert asks(server)[0] == ("100", "1.7", 3)
        admin(server, data_dir, "replay.step", {"events": 2})  # a taker buys 0.4 ahead of it
        assert bot.fetch_order(order["id"], "BTC/USD")["filled"] == 0
        assert asks(server)[0] == ("100", "1.3", 3)
        admin(server, data_dir, "replay.step", {"events": 2})  # a sweep: 0.6, the bot, 0.2
        swept = bot.fetch_order(order["id"], "BTC/USD")
        assert (swept["status"], swept["filled"]) == ("closed", 0.5)
        assert asks(server)[0] == ("101", "2", 1)
        better = bot.create_order("BTC/USD", "limit", "sell", 0.3, 100.5)
        admin(server, data_dir, "replay.step", {"events": 2})  # a taker buys 0.3 "at 101"
        hit = bot.fetch_order(better["id"], "BTC/USD")
        assert (hit["status"], hit["filled"], hit["price"]) == ("closed", 0.3, 100.5)
        assert asks(server)[0] == ("101", "1.7", 1)  # the recorded level, shrunk anyway
        bought = bot.create_order("BTC/USD", "limit", "buy", 0.6, 101.0)
        assert bot.fetch_order(bought["id"], "BTC/USD")["filled"] == 0.6
        assert asks(server)[0] == ("101", "1.1", 1)
        admin(server, data_dir, "replay.step", {"events": 1})  # recorded: the level is 2.0
        assert asks(server)[0] == ("101", "1.4", 2)  # less the 0.6 the bot took: no refill
        matches = [m for m in drain(feed) if m.get("type") == "match"]
    assert [(m["maker_order_id"], m["taker_order_id"] == order["id"], m["price"], m["size"])
            for m in matches if m["maker_order_id"] in (order["id"], better["id"])] == [
        (order["id"], False, "100.00000000", "0.50000000"),
        (better["id"], False, "100.50000000", "0.30000000")]
    status = admin(server, data_dir, "replay.status", {})
    assert status["user_fills"] == 2 and status["consumed"] == {"BTC-USD": "0.6"}
    assert status["recorded_trades"] == 3
