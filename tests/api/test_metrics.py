"""``GET /metrics`` on a running server with a data dir: who may scrape, and concrete counts
after orders, a cancel, a feed subscription and rate-limited requests."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.feed_kit import feed, place, scenario_with
from tests.support.rest_kit import ALICE, RawClient, Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    tmp = tmp_path_factory.mktemp("metrics")
    scenario = scenario_with(tmp, "", rate_limits=True)
    running = start_server(scenario=scenario, data_dir=tmp / "data")
    yield running, (tmp / "data" / "admin.token").read_text().strip()
    running.stop()


def scrape(port: int, token: str | None) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})
    reply = conn.getresponse()
    return reply.status, reply.getheader("content-type") or "", reply.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_needs_the_admin_token(server: tuple[Server, str]) -> None:
    running, _ = server
    status, kind, body = scrape(running.port, None)
    assert (status, kind, body) == (401, "application/json; charset=utf-8",
                                   '{"message":"Invalid admin token"}')
    assert scrape(running.port, "wrong")[0] == 401


def test_counts_after_orders(server: tuple[Server, str]) -> None:
    running, token = server
    before = samples(scrape(running.port, token)[2])
    alice = RawClient(running.port, ALICE)
    orders = [place(alice, product_id="BTC-USD", side="buy", price=str(100 + i), size="0.01")
              for i in range(3)]
    assert alice.delete(f"/orders/{orders[0]['id']}").status == 200
    assert alice.get("/orders/not-an-id").status in (400, 404)
    with feed(running) as ws:
        assert ws.subscribe(["heartbeat", "ticker"], ["BTC-USD", "ETH-USD"])["type"] == \
            "subscriptions"
        status, kind, text = scrape(running.port, token)
    after = samples(text)
    assert status == 200 and kind.startswith("text/plain; version=0.0.4")

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("sandex_http_requests_total", method="POST", route="/orders",
                 status="200") == 3
    assert delta("sandex_http_requests_total", method="DELETE", route="/orders/{order_id}",
                 status="200") == 1
    assert delta("sandex_http_request_duration_seconds_count", method="POST",
                 route="/orders") == 3
    assert delta("sandex_http_request_duration_seconds_bucket", method="POST",
                 route="/orders", le="+Inf") == 3
    assert delta("sandex_open_orders", product_id="BTC-USD") == 2
    commits = delta("sandex_journal_commits_total")
    assert 1 <= commits <= 4  # 4 commands; a batch may hold more than one
    assert delta("sandex_journal_commands_total") == 4
    assert delta("sandex_journal_commit_seconds_count") == commits
    assert after[("sandex_feed_connections", ())] == 1
    assert after[("sandex_feed_subscriptions", (("channel", "heartbeat"),))] == 2
    assert after[("sandex_feed_subscriptions", (("channel", "ticker"),))] == 2
    assert after[("sandex_feed_slow_consumer_cuts_total", ())] == 0


def test_rate_limit_refusals(server: tuple[Server, str]) -> None:
    running, token = server
    before = samples(scrape(running.port, token)[2])
    client = RawClient(running.port)
    refused = sum(client.get("/products").status == 429 for _ in range(60))
    assert refused > 0
    after = samples(scrape(running.port, token)[2])
    key = ("sandex_rate_limit_refusals_total", (("limit", "PUBLIC_RATE_LIMIT"),))
    assert after[key] - before.get(key, 0.0) == refused
    routed = ("sandex_http_requests_total",
              (("method", "GET"), ("route", "/products"), ("status", "429")))
    assert after[routed] - before.get(routed, 0.0) == refused


def test_the_scrape_itself_is_counted(server: tuple[Server, str]) -> None:
    running, token = server
    scrape(running.port, token)
    text = scrape(running.port, token)[2]
    assert samples(text)[("sandex_http_requests_total", (("method", "GET"),
                                                         ("route", "/metrics"),
                                                         ("status", "200")))] >= 1


def test_loopback_only(tmp_path: Path) -> None:
    """A client that is not on the loopback interface is refused, token or not (the check
    runs on the request's client address; the in-process gateway shows it)."""
    import asyncio

    from sandex.api.http import ApiError, Request
    from sandex.api.metrics import MetricsGateway, RequestMeter
    from sandex.node import Node

    gateway = MetricsGateway(Node(), "t0ken", RequestMeter())
    request = Request("GET", "/metrics", "/metrics", "", {"authorization": "Bearer t0ken"},
                      b"", "192.0.2.7")
    with pytest.raises(ApiError) as caught:
        asyncio.run(gateway(request))
    assert (caught.value.status, caught.value.message) == (
        403, "The metrics endpoint only answers on localhost")
    local = Request("GET", "/metrics", "/metrics", "", {"authorization": "Bearer t0ken"},
                    b"", "127.0.0.1")
    assert asyncio.run(gateway(local)).status == 200
