"""Rate limits (§8): lazy-fill token buckets, 429 with Coinbase's exact texts.

In-process, on a venue whose scenario switches the limits on. Its clock stands still unless a
test moves it, so a burst is exact and a bucket refills only when the clock is advanced.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.rest.harness import InProcessVenue
from tests.support.rest_kit import ALICE, SCENARIO


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVenue]:
    scenario = tmp_path_factory.mktemp("rl") / "scenario.toml"
    scenario.write_text(SCENARIO.read_text().replace("rate_limits = false", "rate_limits = true"))
    running = InProcessVenue(scenario)
    yield running
    running.close()


@pytest.fixture
def full(limited: InProcessVenue) -> InProcessVenue:
    """The limited venue a minute later: every bucket full again, whatever ran before."""
    limited.clock.advance(60.0)
    return limited


def test_public_burst_of_15_then_public_rate_limit_exceeded(full: InProcessVenue) -> None:
    client = full.client()
    replies = [client.get("/products/BTC-USD/book") for _ in range(20)]
    statuses = [r.status for r in replies]
    first_refusal = statuses.index(429)
    assert first_refusal == 15 and statuses == [200] * 15 + [429] * 5
    assert replies[first_refusal].json() == {"message": "Public rate limit exceeded"}
    full.clock.advance(0.15)  # refill at 10/s: one token and a half
    assert [client.get("/time").status for _ in range(2)] == [200, 429]


def test_private_burst_of_30_then_private_rate_limit_exceeded(full: InProcessVenue) -> None:
    client = full.client(ALICE)
    statuses = [client.get("/accounts").status for _ in range(30)]
    assert statuses.count(200) == 30
    replies = [client.get("/accounts") for _ in range(5)]
    limited_replies = [r for r in replies if r.status == 429]
    assert len(limited_replies) == 5 and all(
        r.json() == {"message": "Private rate limit exceeded"} for r in limited_replies)
    full.clock.advance(0.25)  # refill at 15/s: three tokens and a quarter
    assert [client.get("/accounts").status for _ in range(4)] == [200, 200, 200, 429]


def test_fills_have_their_own_bucket(full: InProcessVenue) -> None:
    client = full.client(ALICE)
    statuses = [client.get("/fills?product_id=BTC-USD").status for _ in range(25)]
    assert 200 in statuses and 429 in statuses
    assert statuses.index(429) == 20 and statuses[20:] == [429] * 5
    assert client.get("/accounts").status == 200  # the private bucket is untouched
