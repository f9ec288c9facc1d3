"""Replay against real servers: the seeded demo's ``full`` feed, recorded with ``sandex
record``, replayed into a second venue that starts in the same state: every trade comes back
exactly (price, size, side, maker and taker ids), through the admin door and the feed.

The recording venue runs the embedded demo scenario on a frozen virtual clock; the demo's
first quotes (placed as it starts, before anything is recorded) are canceled once the
recorder listens, so the recording holds the whole life of every order that trades after.
The replay venue is fresh: no demo, an empty book; every order comes from the recording.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from sandex.replay.events import Level, Snapshot, Trade
from sandex.replay.sources import open_source
from sandex.server import default_scenario
from tests.replay.test_record import DEMO_KEY, PRODUCTS, advance, drain, start_recorder, stop
from tests.support.feed_kit import Feed
from tests.support.rest_kit import Server, start_server

DEMO_MAKER = "d3a10000-0000-4000-8000-00000000a001"  # the embedded scenario's demo maker


def scenario(tmp: Path) -> Path:
    path = tmp / "demo.toml"
    path.write_text(default_scenario().read_text() + '\n[clock]\nmode = "virtual"\n'
                    'start = "2024-01-01T00:00:00Z"\nrate = 0\n')
    return path


def admin(server: Server, data_dir: Path, op: str, body: dict[str, Any]) -> tuple[int, Any]:
    token = (data_dir / "admin.token").read_text().strip()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("POST", f"/admin/{op}", json.dumps(body),
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    reply = conn.getresponse()
    return reply.status, json.loads(reply.read())


def matches(messages: list[dict[str, Any]]) -> list[tuple[str, str, str, str, str, str]]:
    return [(m["product_id"], m["maker_order_id"], m["taker_order_id"], m["price"], m["size"],
             m["side"]) for m in messages if m.get("type") == "match"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Any]]]:
    """60 s of the seeded demo's full feed, and the matches a client saw meanwhile."""
    tmp = tmp_path_factory.mktemp("recording")
    data_dir = tmp / "data"
    server = start_server("--seed", "7", scenario=scenario(tmp), data_dir=data_dir)
    try:
        out = tmp / "demo-full.jsonl.gz"
        recorder = start_recorder(server, out, "--channels", "full")
        with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            feed = Feed(ws)
            assert feed.subscribe(["full"], PRODUCTS, DEMO_KEY)["type"] == "subscriptions"
            status, _ = admin(server, data_dir, "inject", {
                "profile": DEMO_MAKER, "command": {"cancel_all": {}}})
            assert status == 200
            assert advance(server, data_dir, "60s")["fired"]["demo_ticks"] == 60
            seen = drain(feed)
        stop(recorder)
    finally:
        server.stop()
    canceled_first = sum(1 for m in seen if m["type"] == "done")
    yield out, matches(seen)
    assert canceled_first


def test_replaying_the_demo_feed_reproduces_every_trade(
        recording: tuple[Path, list[Any]], tmp_path: Path) -> None:
    out, recorded = recording
    assert len(recorded) > 20
    data_dir = tmp_path / "data"
    server = start_server("--no-demo", scenario=scenario(tmp_path), data_dir=data_dir)
    try:
        with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            feed = Feed(ws)
            assert feed.subscribe(["full"], PRODUCTS, DEMO_KEY)["type"] == "subscriptions"
            status, loaded = admin(server, data_dir, "replay.load", {
                "source": str(out), "format": "coinbase-full", "speed": "max"})
            assert status == 200, loaded
            assert loaded["state"] == "paused" and loaded["events"] == 0
            assert len(loaded["sha256"]) == 64
            status, _ = admin(server, data_dir, "replay.start", {})
            assert status == 200
            status, done = admin(server, data_dir, "replay.wait", {"timeout": 60})
            assert status == 200 and done["state"] == "finished", done
            replayed = matches(drain(feed))
        assert replayed == recorded
        assert done["recorded_trades"] == len(recorded)
        assert done["user_fills"] == 0 and done["ended_early"] == 0
        assert done["reproduced_trades"] == len(recorded)
        assert done["cancels_noop"] > 0  # the demo's first quotes: not in this venue
        # the venue's own REST trades carry them too, newest first
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        product = recorded[-1][0]
        conn.request("GET", f"/products/{product}/trades?limit=1")
        last = json.loads(conn.getresponse().read())[0]
        assert (last["price"], last["size"]) == recorded[-1][3:5]
    finally:
        server.stop()


def test_bad_loads_are_refused_with_a_clear_message(recording: tuple[Path, list[Any]],
                                                    tmp_path: Path) -> None:
    out, _ = recording
    data_dir = tmp_path / "data"
    server = start_server("--no-demo", scenario=scenario(tmp_path), data_dir=data_dir)
    try:
        for body, message in (
                ({"source": str(tmp_path / "nope.jsonl"), "format": "coinbase-full"},
                 f"{tmp_path / 'nope.jsonl'}: no such file"),
                ({"source": str(out), "format": "lobster"},
                 "format must be one of coinbase-full, coinbase-level2, tardis (got 'lobster')"),
                ({"source": str(out), "format": "coinbase-full", "products": {"X-Y": "DOGE-USD"}},
                 "product DOGE-USD does not exist on this venue (create it, or give "
                 "create_products_from)"),
                ({"source": str(out), "format": "coinbase-full", "speed": "fast"},
                 "speed must be clock or max (got 'fast')")):
            status, reply = admin(server, data_dir, "replay.load", body)
            assert (status, reply) == (400, {"message": message})
        status, reply = admin(server, data_dir, "replay.start", {})
        assert status == 400
        assert reply["message"] == "no replay is loaded (sandex replay load FILE --format ...)"
        bad = tmp_path / "bad.jsonl"
        lines = [json.dumps({"type": "received", "product_id": "BTC-USD", "sequence": 1,
                             "time": "2024-01-01T00:00:01Z", "order_id": "a", "side": "buy",
                             "order_type": "limit", "price": "100", "size": "1"}),
                 '{"type": "open", "product_id": "BTC-USD", "sequ']
        bad.write_text("\n".join(lines) + "\n")
        status, _ = admin(server, data_dir, "replay.load",
                          {"source": str(bad), "format": "coinbase-full", "speed": "max",
                           "start": True})
        assert status == 200
        status, done = admin(server, data_dir, "replay.wait", {"timeout": 30})
        assert done["state"] == "failed" and done["events"] == 1
        assert done["error"].startswith(f"{bad}:2: ")
    finally:
        server.stop()


def test_a_replay_goes_on_after_a_restart(recording: tuple[Path, list[Any]],
                                          tmp_path: Path) -> None:
    out, recorded = recording
    data_dir = tmp_path / "data"
    path = scenario(tmp_path)
    server = start_server("--no-demo", scenario=path, data_dir=data_dir)
    try:
        status, _ = admin(server, data_dir, "replay.load",
                          {"source": str(out), "format": "coinbase-full", "speed": "max"})
        status, stepped = admin(server, data_dir, "replay.step", {"events": 100})
        assert status == 200 and stepped["events"] == 100 and stepped["state"] == "paused"
    finally:
        server.stop()
    server = start_server("--no-demo", scenario=path, data_dir=data_dir)
    try:
        status, again = admin(server, data_dir, "replay.status", {})
        assert again["state"] == "paused" and again["events"] == 100
        assert again["line"] == stepped["line"]
        admin(server, data_dir, "replay.start", {})
        status, done = admin(server, data_dir, "replay.wait", {"timeout": 60})
        assert done["state"] == "finished"
        assert done["reproduced_trades"] == done["recorded_trades"] == len(recorded)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def level2_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 s of the seeded demo's level2 and matches channels on BTC-USD."""
    tmp = tmp_path_factory.mktemp("level2")
    data_dir = tmp / "data"
    server = start_server("--seed", "7", scenario=scenario(tmp), data_dir=data_dir)
    try:
        out = tmp / "demo-l2.jsonl.zst"
        recorder = start_recorder(server, out, "--channels", "level2,matches",
                                  "--products", "BTC-USD")
        with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            feed = Feed(ws)
            feed.subscribe(["level2", "matches"], ["BTC-USD"], DEMO_KEY)
            advance(server, data_dir, "60s")
            drain(feed)  # what the feed sent the recorder too
        stop(recorder)
    finally:
        server.stop()
    return out


def test_a_level2_replay_shows_the_recorded_book_after_every_event(
        level2_recording: Path, tmp_path: Path) -> None:
    with open_source([level2_recording], "coinbase-level2") as source:
        events = list(source)
    expected: list[tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = []
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for event in events:
        if isinstance(event, Snapshot):
            bids, asks = dict(event.bids), dict(event.asks)
        elif isinstance(event, Level):
            side = bids if event.side == "buy" else asks
            if event.size:
                side[event.price] = event.size
            else:
                side.pop(event.price, None)
        elif isinstance(event, Trade):  # the venue's level shrank as it traded; the l2update
            side = asks if event.side == "buy" else bids  # that says so comes next
            side[event.price] -= event.size
            if not side[event.price]:
                del side[event.price]
        expected.append((dict(bids), dict(asks)))
    assert sum(isinstance(e, Trade) for e in events) > 0 and len(events) > 50
    data_dir = tmp_path / "data"
    server = start_server("--no-demo", "--no-rate-limit", scenario=scenario(tmp_path),
                          data_dir=data_dir)
    try:
        status, _ = admin(server, data_dir, "replay.load", {
            "source": str(level2_recording), "format": "coinbase-level2"})
        assert status == 200
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for index, (want_bids, want_asks) in enumerate(expected):
            status, stepped = admin(server, data_dir, "replay.step", {"events": 1})
            assert status == 200 and stepped["events"] == index + 1
            conn.request("GET", "/products/BTC-USD/book?level=2")
            book = json.loads(conn.getresponse().read())
            got = ({Decimal(p): Decimal(s) for p, s, _n in book["bids"]},
                   {Decimal(p): Decimal(s) for p, s, _n in book["asks"]})
            assert got == (want_bids, want_asks), f"after event {index + 1}: {events[index]}"
        status, final = admin(server, data_dir, "replay.status", {})
        assert final["recorded_trades"] == sum(isinstance(e, Trade) for e in events)
        assert final["reproduced_trades"] == final["recorded_trades"]
        assert final["consumed"] == {}
    finally:
        server.stop()
