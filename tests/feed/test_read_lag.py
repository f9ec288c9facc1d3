"""Read progress on a real server: subscribers that stop reading are cut by time (an unanswered
ping, ``read_lag_max_s``) long before the byte bounds would find them, their kernel receive
buffers being the system's own (hundreds of KB on loopback), while a reading client gets every
message. The byte bounds and kernel buffers are the defaults here; the lag is 1 s and the
check every 0.2 s so the test is short (defaults: 5 s and 1 s, docs/feed.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.feed.test_slow_consumers import closed_by_server, silent_subscriber
from tests.support.feed_kit import feed, place, scenario_with
from tests.support.rest_kit import ALICE, BOB, RawClient, Server, start_server

SILENT = 20
PAIRS = 20  # ~36 KB for each subscriber: far below what its buffers and the bounds hold


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = scenario_with(tmp_path_factory.mktemp("lag"),
                         "read_lag_max_s = 1.0\nread_check_interval_s = 0.2")
    running = start_server(scenario=path)
    yield running
    running.stop()


def test_subscribers_that_stop_reading_are_cut_by_time(server: Server) -> None:
    alice, bob = RawClient(server.port, ALICE), RawClient(server.port, BOB)
    silent = [silent_subscriber(server.port, receive_buffer=None) for _ in range(SILENT)]
    try:
        with feed(server, max_queue=None) as reader:
            assert reader.subscribe(["full"], ["BTC-USD"], creds=ALICE)["type"] == \
                "subscriptions"
            for i in range(PAIRS):  # 6 full messages a pair
                place(alice, product_id="BTC-USD", side="sell", price=f"{300 + i % 5}",
                      size="0.01")
                place(bob, product_id="BTC-USD", side="buy", price=f"{300 + i % 5}",
                      size="0.01")
            time.sleep(2.5)  # the lag bound and two checks, with room for a loaded machine
            sequences = []
            while len(sequences) < 6 * PAIRS:
                message = reader.recv()
                if message["type"] in ("received", "open", "done", "match"):
                    sequences.append(message["sequence"])
            assert sequences == list(range(sequences[0], sequences[0] + 6 * PAIRS))
            # the reader, which answered every ping, is still served
            place(alice, product_id="BTC-USD", side="sell", price="999", size="0.01")
            assert reader.recv()["type"] == "received"
        ended = [closed_by_server(sock) for sock in silent]
    finally:
        for sock in silent:
            sock.close()
    assert [done for done, _ in ended] == [True] * SILENT
    # each was sent its ~36 KB whole (its buffers took it), then aborted: no close frame
    assert [b"\\x88" in tail[-2:] for _, tail in ended] == [False] * SILENT


def test_a_subscriber_that_reads_slowly_but_keeps_up_is_not_cut(server: Server) -> None:
    """A reader that takes each message late but answers its pings within the bound stays."""
    alice = RawClient(server.port, ALICE)
    with feed(server, max_queue=None) as reader:
        assert reader.subscribe(["full"], ["BTC-USD"], creds=ALICE)["type"] == "subscriptions"
        for i in range(5):
            place(alice, product_id="BTC-USD", side="sell", price=f"{500 + i}", size="0.01")
            time.sleep(0.5)  # pings come and go meanwhile, answered by the reader's thread
        kinds = [reader.recv()["type"] for _ in range(10)]
        assert kinds == ["received", "open"] * 5
