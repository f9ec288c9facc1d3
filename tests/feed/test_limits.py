"""Limits (§9.1, §9.6, §9.7): subscribe deadline, message size, per-IP rates, slow consumers.

Two servers with a ``[feed]`` table in their scenario: ``tight`` (small queue, short deadline,
small messages; rate limits off) and ``limited`` (rate limits on, tiny budgets).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from sandex.api.feed import FeedLimits
from tests.support.feed_kit import Feed, book, feed, not_heartbeat, place, scenario_with, ws_url
from tests.support.rest_kit import ALICE, BOB, RawClient, Server, start_server


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = scenario_with(tmp_path_factory.mktemp("tight"),
                         "queue_max = 16\nsubscribe_deadline_s = 0.5\n"
                         "message_bytes_max = 2048\nclose_grace_s = 3")
    running = start_server(scenario=path)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = scenario_with(tmp_path_factory.mktemp("limited"),
                         "messages_rate = 1\nmessages_burst = 3\n"
                         "connections_rate = 0.1\nconnections_burst = 4", rate_limits=True)
    running = start_server(scenario=path)
    yield running
    running.stop()


def closing_error(ws: Feed) -> dict[str, Any]:
    """The last message before the server closes the connection."""
    last: dict[str, Any] = {}
    with pytest.raises(ConnectionClosed):
        while True:
            last = ws.recv(timeout=5)
    return last


def test_no_subscribe_within_the_deadline(tight: Server) -> None:
    with feed(tight) as ws:
        started = time.monotonic()
        assert closing_error(ws) == {"type": "error",
                                     "message": "subscribe or unsubscribe required",
                                     "reason": "No subscribe message within 0.5 seconds"}
        assert time.monotonic() - started > 0.4  # not before the deadline (late is load)


def test_a_failed_subscribe_does_not_meet_the_deadline(tight: Server) -> None:
    with feed(tight) as ws:
        ws.send({"type": "subscribe", "channels": []})
        assert ws.recv()["reason"] == "No channels provided"
        assert closing_error(ws)["message"] == "subscribe or unsubscribe required"


def test_subscribed_connection_stays(tight: Server) -> None:
    with feed(tight) as ws:
        ws.subscribe(["heartbeat"], ["BTC-USD"])
        time.sleep(0.8)
        assert ws.until(lambda m: m["type"] == "heartbeat")["product_id"] == "BTC-USD"


def test_message_too_big(tight: Server) -> None:
    with feed(tight) as ws:
        ws.send({"type": "subscribe", "product_ids": ["BTC-USD"] * 300, "channels": ["ticker"]})
        assert closing_error(ws) == {"type": "error", "message": "Message too big",
                                     "reason": "The message size is too large"}


def test_too_many_client_messages(limited: Server) -> None:
    with feed(limited) as ws:
        for _ in range(4):
            ws.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["ticker"]})
        replies = [ws.recv()["type"] for _ in range(3)]
        assert replies == ["subscriptions"] * 3
        assert closing_error(ws) == {"type": "error", "message": "ErrSlowRead",
                                     "reason": "The client is sending too many messages"}


def test_too_many_connections(limited: Server) -> None:
    opened = 0
    with ExitStack() as stack, pytest.raises(InvalidStatus) as caught:
        for _ in range(10):
            stack.enter_context(connect(ws_url(limited), open_timeout=5))
            opened += 1
    assert 1 <= opened <= 4
    assert caught.value.response.status_code == 429
    assert caught.value.response.body == b'{"message":"Public rate limit exceeded"}'


def test_backlog_beyond_the_queue_bound_is_dropped(tight: Server) -> None:
    """One command whose messages exceed ``queue_max`` (16) for a ``full`` subscriber: that
    connection gets ``ErrSlowConsume`` and is closed; a ``level2`` subscriber of the same
    product gets its single update and stays. (A consumer that stops reading reaches the same
    path through the socket's backpressure: tests/feed/test_backpressure.py.)"""
    alice, bob = RawClient(tight.port, ALICE), RawClient(tight.port, BOB)
    asks = [place(alice, product_id="ETH-USD", side="sell", price=str(900 + i), size="0.01")
            for i in range(12)]
    with feed(tight) as good, feed(tight) as slow:
        good.subscribe(["level2"], ["ETH-USD"], creds=BOB)
        assert good.until(not_heartbeat)["asks"][0] == ["900", "0.01"]
        slow.subscribe(["full"], ["ETH-USD"], creds=BOB)
        sweep = place(bob, product_id="ETH-USD", side="buy", price="1000", size="0.12")
        assert closing_error(slow) == {"type": "error", "message": "ErrSlowConsume",
                                       "reason": "The client has too many backed up messages"}
        assert good.until(not_heartbeat) == {
            "type": "l2update", "product_id": "ETH-USD", "time": sweep["created_at"],
            "changes": [["sell", str(900 + i), "0"] for i in range(12)]}
        assert good.subscribe(["ticker"], ["ETH-USD"])["type"] == "subscriptions"
    assert book(alice, "ETH-USD", 2)["asks"] == []
    assert all(o["status"] == "done" for o in
               (alice.get(f"/orders/{a['id']}").json() for a in asks))


def test_feed_table_is_checked() -> None:
    limits = FeedLimits.from_table({"queue_max": 5, "close_grace_s": 2}, rate_limits=False)
    assert (limits.queue_max, limits.close_grace_s, limits.rate_limits) == (5, 2.0, False)
    assert limits.subscribe_deadline_s == 5.0 and limits.connections_rate == 8.0
    for table, text in (({"queue_max": 1.5}, "[feed]: queue_max must be an integer"),
                        ({"queue_max": 0}, "[feed]: queue_max must be positive"),
                        ({"heartbeat_interval_s": "1"},
                         "[feed]: heartbeat_interval_s must be a number"),
                        ({"rate_limits": False}, "[feed]: unknown setting 'rate_limits'"),
                        ({"bogus": 1}, "[feed]: unknown setting 'bogus'")):
        with pytest.raises(ValueError) as caught:
            FeedLimits.from_table(table)
        assert str(caught.value) == text
