"""A few rounds of the failover test in every ``make test`` (``make cluster-test`` runs 100),
and the answers a client sees across a takeover: a follower's 503, and the exactly-once
answer to a retried order on the new leader."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster_kit import (
    FAILOVER_TARGET_S,
    FollowingClient,
    Rig,
    _failover,
    _follows,
    _wait,
    run_round,
)
from tests.support.feed_kit import feed, place
from tests.support.rest_kit import ALICE, BOB, RawClient


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    started = Rig.start(Path(tmp_path_factory.mktemp("cluster")))
    try:
        yield started
    finally:
        started.stop()


def test_a_follower_serves_the_feed_and_reads_as_the_leader_does(rig: Rig) -> None:
    leader = rig.leader()
    follower = next(node for node in rig.nodes if node is not leader)
    with feed(leader) as on_leader, feed(follower) as on_follower:  # type: ignore[arg-type]
        for connection in (on_leader, on_follower):
            assert connection.subscribe(["full"], ["BTC-USD"], creds=ALICE)["type"] \
                == "subscriptions"
        sell = place(RawClient(leader.port, BOB), product_id="BTC-USD", side="sell",
                     price="20001.00", size="0.02")
        buy = place(RawClient(leader.port, ALICE), product_id="BTC-USD", side="buy",
                    price="20001.00", size="0.02")

        def ours(message: dict[str, object]) -> bool:
            return message.get("order_id") in (sell["id"], buy["id"]) or \
                message.get("taker_order_id") == buy["id"]

        seen = [on_leader.until(ours) for _ in range(4)]  # received, open, ..., match
        assert [m["type"] for m in seen][:2] == ["received", "open"]
        assert "match" in [m["type"] for m in seen]
        assert [on_follower.until(ours) for _ in range(4)] == seen  # same sequence, same text
    for target in ("/products/BTC-USD/book?level=2", f"/orders/{buy['id']}",
                   f"/fills?order_id={buy['id']}", "/accounts"):
        answers = [RawClient(node.port, ALICE).get(target) for node in (leader, follower)]
        assert [a.status for a in answers] == [200, 200], target
        first, second = (a.json() for a in answers)
        if target.startswith("/products"):  # the book says when it was read
            first.pop("time"), second.pop("time")
        assert first == second, target


def test_a_follower_refuses_writes_and_a_retry_after_takeover_is_answered_once(
        rig: Rig) -> None:
    leader = rig.leader()
    standby = next(node for node in rig.nodes if node is not leader)
    order = {"product_id": "BTC-USD", "side": "buy", "price": "100.00", "size": "0.01",
             "client_oid": "c1a55e00-0000-4000-8000-000000000001"}
    placed = RawClient(leader.port, ALICE).post("/orders", order)
    assert placed.status == 200, placed.body
    refused = RawClient(standby.port, ALICE).post("/orders", order)
    assert refused.status == 503
    assert refused.json() == {"message": "sandex cluster: this node is a read-only follower; "
                                         f"send writes to the leader ({leader.name} at "
                                         f"http://127.0.0.1:{leader.port})"}
    _wait(lambda: RawClient(standby.port, ALICE).get(
        f"/orders/{placed.json()['id']}").status == 200, 5, "the follower to apply the order")
    leader.kill()
    took = _failover(standby)
    assert took < FAILOVER_TARGET_S
    again = RawClient(standby.port, ALICE).post("/orders", order)  # same client_oid
    assert again.status == 200
    assert again.json()["id"] == placed.json()["id"]
    assert again.json()["created_at"] == placed.json()["created_at"]
    leader.start()  # the deposed node comes back as a follower, caught up
    _wait(lambda: _follows(leader), 30, "the restarted node to follow")
    assert leader.state()["follower_of"] == f"{standby.name} at http://127.0.0.1:{standby.port}"
    reply = FollowingClient([leader.port, standby.port], ALICE, threading.Event()) \
        .request("DELETE", f"/orders/{placed.json()['id']}")
    assert reply is not None and reply.status == 200


@pytest.mark.parametrize(("scenario", "seed"),
                         [("kill-leader", 11), ("pause-leader", 12), ("kill-nats", 13),
                          ("kill-all-nats", 14)])
def test_nothing_acknowledged_is_lost(rig: Rig, scenario: str, seed: int) -> None:
    result = run_round(rig, scenario, seed)
    assert result.problems == []
    assert result.acknowledged > 20, "the clients hardly got anything acknowledged"
    if scenario in ("kill-leader", "pause-leader"):
        assert result.failover_s is not None and result.failover_s < FAILOVER_TARGET_S
