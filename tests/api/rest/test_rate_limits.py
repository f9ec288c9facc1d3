"""Rate limits (§8): lazy-fill token buckets, 429 with Coinbase's exact texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rest_kit import ALICE, SCENARIO, RawClient, Server, start_server


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    scenario = Path(tmp_path_factory.mktemp("rl")) / "scenario.toml"
    scenario.write_text(SCENARIO.read_text().replace("rate_limits = false", "rate_limits = true"))
    running = start_server(scenario=scenario)
    yield running
    running.stop()


def test_public_burst_of_15_then_public_rate_limit_exceeded(limited: Server):
    client = RawClient(limited.port)
    replies = [client.get("/products/BTC-USD/book") for _ in range(20)]
    statuses = [r.status for r in replies]
    first_refusal = statuses.index(429)
    # burst 15 (one token went to the start-up probe; refill is 10/s while we send)
    assert 13 <= first_refusal <= 17 and statuses[:first_refusal] == [200] * first_refusal
    assert replies[first_refusal].json() == {"message": "Public rate limit exceeded"}


def test_private_burst_of_30_then_private_rate_limit_exceeded(limited: Server):
    client = RawClient(limited.port, ALICE)
    statuses = [client.get("/accounts").status for _ in range(30)]
    assert statuses.count(200) >= 30 - 1  # the bucket refills at 15/s while we send
    replies = [client.get("/accounts") for _ in range(5)]
    limited_replies = [r for r in replies if r.status == 429]
    assert limited_replies and all(
        r.json() == {"message": "Private rate limit exceeded"} for r in limited_replies)


def test_fills_have_their_own_bucket(limited: Server):
    client = RawClient(limited.port, ALICE)
    statuses = [client.get("/fills?product_id=BTC-USD").status for _ in range(25)]
    assert 200 in statuses and 429 in statuses
    assert statuses.index(429) >= 20
