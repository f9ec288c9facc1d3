"""``sandex record`` against a real server running the seeded demo, read back by the readers.

The venue's clock is virtual and frozen, so nothing trades until the test advances it: the
recorder (the real CLI, in a subprocess) and a raw websockets client subscribe first, then
20 s of venue time run 20 demo ticks, and both must have seen exactly the same messages. The
tests share one server: each runs on from where the venue clock stands.
"""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from sandex.replay.events import Match, Received, Snapshot, Trade
from sandex.replay.sources import open_source
from sandex.server import default_scenario
from tests.support.feed_kit import Feed
from tests.support.feed_kit import feed as feed_of
from tests.support.rest_kit import Server, start_server

DEMO_KEY = ("5f8d0e6c1a2b3c4d5e6f708192a3b4c5",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
            "sandexdemo")  # the embedded demo scenario's key: sandex record's default
PRODUCTS = ["BTC-EUR", "BTC-USD", "ETH-BTC", "ETH-USD"]


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp_path = tmp_path_factory.mktemp("venue")
    scenario = tmp_path / "demo.toml"
    scenario.write_text(default_scenario().read_text()
                        + '\n[clock]\nmode = "virtual"\nstart = "2024-01-01T00:00:00Z"\n'
                          'rate = 0\n')
    data_dir = tmp_path / "data"
    server = start_server(scenario=scenario, data_dir=data_dir)
    yield server, data_dir
    server.stop()


def advance(server: Server, data_dir: Path, by: str) -> dict[str, Any]:
    token = (data_dir / "admin.token").read_text().strip()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", "/admin/clock.advance", json.dumps({"by": by}),
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    reply = conn.getresponse()
    assert reply.status == 200
    return json.loads(reply.read())  # type: ignore[no-any-return]


def rest(server: Server, target: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", target)
    return json.loads(conn.getresponse().read())


def start_recorder(server: Server, out: Path, *args: str) -> subprocess.Popen[str]:
    recorder = subprocess.Popen(
        [sys.executable, "-m", "sandex.cli", "record", "--out", str(out),
         "--url", f"ws://127.0.0.1:{server.port}", *args],
        stderr=subprocess.PIPE, text=True)
    assert recorder.stderr is not None
    line = recorder.stderr.readline()
    assert line.startswith("sandex: recording "), line + recorder.stderr.read()
    return recorder


def drain(feed: Feed, quiet: float = 1.5) -> list[dict[str, Any]]:
    """Every message until none came for ``quiet`` seconds."""
    seen = []
    while True:
        try:
            seen.append(feed.recv(quiet))
        except TimeoutError:
            return seen


def stop(recorder: subprocess.Popen[str]) -> str:
    recorder.send_signal(signal.SIGTERM)
    _, err = recorder.communicate(timeout=20)
    assert recorder.returncode == 0, err
    return err


def test_record_full_gives_back_what_a_client_saw(venue: tuple[Server, Path],
                                                  tmp_path: Path) -> None:
    server, data_dir = venue
    out = tmp_path / "demo-full.jsonl.zst"
    recorder = start_recorder(server, out, "--channels", "full")
    with feed_of(server) as feed:
        assert feed.subscribe(["full"], PRODUCTS, DEMO_KEY)["type"] == "subscriptions"
        resting = {order[2] for product in PRODUCTS for side in ("bids", "asks")
                   for order in rest(server, f"/products/{product}/book?level=3")[side]}
        fired = advance(server, data_dir, "20s")["fired"]
        assert fired["demo_ticks"] == 20
        seen = drain(feed)
    err = stop(recorder)
    assert err.endswith(f"sandex: {out}: {len(seen) + 1} messages\n")
    kinds = Counter(m["type"] for m in seen)
    assert kinds["match"] > 0 and kinds["received"] > 0

    with open_source([out], "coinbase-full") as source:
        events = list(source)
    counted = Counter(type(e).__name__.lower() for e in events)
    assert counted == {"received": kinds["received"], "open": kinds["open"],
                       "done": kinds["done"], "match": kinds["match"],
                       **({"change": kinds["change"]} if kinds["change"] else {})}
    # the file is the feed's text, line for line (its first line the subscriptions reply)
    with zstandard.open(out, "rt") as text:
        recorded = [json.loads(line) for line in text]
    assert recorded[0]["type"] == "subscriptions" and recorded[1:] == seen
    sequences: dict[str, list[int]] = {}
    for m in seen:
        if "sequence" in m:
            sequences.setdefault(m["product_id"], []).append(m["sequence"])
    for numbers in sequences.values():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    received = {e.order_id for e in events if isinstance(e, Received)}
    matches = [e for e in events if isinstance(e, Match)]
    assert all(m.taker_order_id in received for m in matches)
    # a maker was received while recording, or rested before (the level-3 book then)
    assert all(m.maker_order_id in received | resting for m in matches)
    assert any(m.maker_order_id in received for m in matches)
    start = 1_704_067_200_000_000  # the scenario's 2024-01-01T00:00:00Z
    assert start <= events[0].time <= events[-1].time <= start + 20_000_000
    print(f"recorded {len(seen)} messages: {dict(kinds)}")


def test_record_level2_and_matches(venue: tuple[Server, Path], tmp_path: Path) -> None:
    server, data_dir = venue
    out = tmp_path / "demo-l2.jsonl.gz"
    recorder = start_recorder(server, out, "--channels", "level2,matches",
                              "--products", "BTC-USD,ETH-USD")
    with feed_of(server) as feed:
        assert feed.subscribe(["level2", "matches"], ["BTC-USD", "ETH-USD"],
                              DEMO_KEY)["type"] == "subscriptions"
        advance(server, data_dir, "20s")
        seen = drain(feed)
    stop(recorder)
    with open_source([out], "coinbase-level2") as source:
        events = list(source)
    kinds = Counter(m["type"] for m in seen)
    changes = sum(len(m["changes"]) for m in seen if m["type"] == "l2update")
    counted = Counter(type(e).__name__ for e in events)
    assert counted == {"Snapshot": kinds["snapshot"], "Level": changes,
                       "Trade": kinds["match"]}
    assert kinds["snapshot"] == 2 and changes > 0 and kinds["match"] > 0
    trades = [e for e in events if isinstance(e, Trade)]
    flipped = [{"buy": "sell", "sell": "buy"}[m["side"]] for m in seen if m["type"] == "match"]
    assert [t.side for t in trades] == flipped
    snapshot = next(e for e in events if isinstance(e, Snapshot))
    assert snapshot.bids and snapshot.asks and snapshot.bids[0][0] < snapshot.asks[0][0]


def test_record_stops_after_count_and_refuses_a_bad_subscribe(venue: tuple[Server, Path],
                                                              tmp_path: Path) -> None:
    server, data_dir = venue
    out = tmp_path / "five.jsonl"
    recorder = start_recorder(server, out, "--channels", "full", "--count", "5")
    advance(server, data_dir, "5s")
    _, err = recorder.communicate(timeout=20)
    assert recorder.returncode == 0 and err.endswith(f"sandex: {out}: 6 messages\n")
    assert len(out.read_text().splitlines()) == 6
    refused = subprocess.run(
        [sys.executable, "-m", "sandex.cli", "record", "--out", str(tmp_path / "no.jsonl"),
         "--url", f"http://127.0.0.1:{server.port}", "--channels", "full",
         "--key", DEMO_KEY[0], "--secret", DEMO_KEY[1], "--passphrase", "wrong"],
        capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"sandex: ws://127.0.0.1:{server.port}/ refused the "
                                     "subscribe: Authentication Failed: ")
    started = time.monotonic()
    timed = subprocess.run(
        [sys.executable, "-m", "sandex.cli", "record", "--out", str(tmp_path / "t.jsonl"),
         "--url", f"ws://127.0.0.1:{server.port}", "--channels", "heartbeat",
         "--products", "BTC-USD", "--duration", "1"], capture_output=True, text=True,
        timeout=30)
    assert timed.returncode == 0 and 1 <= time.monotonic() - started < 10
