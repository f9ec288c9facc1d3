"""``GET /metrics``: the venue's figures in Prometheus' text format (sandex's own).

Counted on the hot paths in plain numbers, read by a ``prometheus_client`` collector only
when scraped, so serving a request costs a dict lookup, two increments and a ``bisect``
(``RequestMeter``, written out in ``sandex.api.http.respond``) and nothing else:

* ``RequestMeter``: HTTP requests by method, route pattern (``/orders/{order_id}``; a path
  no route matches is ``unmatched``) and status; their latency; refusals with 429 by the
  error that refused them;
* the node's group commits (``Node.batches``, ``Node.commit_seconds``: write + fsync);
* what ``FeedFigures`` reports (the feed gateway: connections, subscriptions per channel,
  slow consumers cut, refused connections and messages);
* open orders per product, summed over the profiles at scrape time.

Answered only to loopback clients with ``Authorization: Bearer <admin token>``, as the admin
endpoint (``docs/cli.md``, "Metrics"): 403 elsewhere, 401 without the token.
"""

from __future__ import annotations

import hmac
import ipaddress
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, exposition, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from sandex.api.http import ApiError, Request, TextResponse
from sandex.errors import Error
from sandex.node import Node

PATH = "/metrics"
UNMATCHED = "unmatched"
LATENCY_BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Upper bounds (seconds) of the request latency histogram."""
CONTENT_TYPE = getattr(exposition, "CONTENT_TYPE_PLAIN_0_0_4", exposition.CONTENT_TYPE_LATEST)
"""The classic text format (0.0.4), which every Prometheus version reads."""


class RouteFigures:
    """One (method, route)'s answers by status and its latency histogram (counts per
    ``LATENCY_BOUNDS`` bucket, the last one ``+Inf``, and their sum)."""

    __slots__ = ("counts", "statuses", "total")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.counts = [0] * (len(LATENCY_BOUNDS) + 1)
        self.total = 0.0


class RequestMeter(dict[tuple[str, "str | None"], RouteFigures]):
    """Requests counted as they are answered, by (method, route pattern). The hot path is
    ``observe``'s code written out in ``sandex.api.http.respond`` (a call costs about as much
    as the counting); ``observe`` is the same code for everyone else."""

    __slots__ = ("refusals",)
    bounds = LATENCY_BOUNDS

    def __init__(self) -> None:
        super().__init__()
        self.refusals: dict[str, int] = {}  # error-table name of a 429 -> count

    def figures(self, method: str, route: str | None) -> RouteFigures:
        """The route's figures, made on its first request."""
        figures = self.get((method, route))
        if figures is None:
            figures = self[method, route] = RouteFigures()
        return figures

    def refused(self, error: str | None) -> None:
        """One answer 429, by the error that refused it."""
        name = error or "TOO_MANY_REQUESTS"
        self.refusals[name] = self.refusals.get(name, 0) + 1

    def observe(self, method: str, route: str | None, status: int, seconds: float,
                error: str | None) -> None:
        figures = self.get((method, route)) or self.figures(method, route)
        statuses = figures.statuses
        statuses[status] = statuses.get(status, 0) + 1
        figures.counts[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        figures.total += seconds
        if status == 429:
            self.refused(error)


class FeedFigures(Protocol):
    """What the feed gateway reports (``sandex.api.feed.Feed`` has these)."""

    cuts: int
    refused_connections: int
    refused_messages: int

    def connection_count(self) -> int: ...

    def subscription_counts(self) -> Mapping[str, int]: ...


class _Collector:
    """Reads the counters into metric families at scrape time."""

    def __init__(self, node: Node, meter: RequestMeter, feed: FeedFigures | None) -> None:
        self.node, self.meter, self.feed = node, meter, feed

    def describe(self) -> list[Metric]:
        return []  # families are built at scrape time only

    def collect(self) -> Iterator[Metric]:
        meter, node = self.meter, self.node
        routes = sorted((((method, route or UNMATCHED), figures)
                         for (method, route), figures in list(meter.items())),
                        key=lambda item: item[0])
        requests = CounterMetricFamily("sandex_http_requests", "HTTP requests answered",
                                       labels=("method", "route", "status"))
        for (method, route), figures in routes:
            for status, count in sorted(figures.statuses.items()):
                requests.add_metric((method, route, str(status)), count)
        yield requests
        latency = HistogramMetricFamily(
            "sandex_http_request_duration_seconds",
            "Time from a request's arrival to its answer", labels=("method", "route"))
        for (method, route), figures in routes:
            latency.add_metric((method, route), _buckets(LATENCY_BOUNDS, figures.counts),
                               figures.total)
        yield latency
        refusals = CounterMetricFamily("sandex_rate_limit_refusals",
                                       "Requests and feed connections or messages refused "
                                       "by a rate limit", labels=("limit",))
        for name, count in sorted(meter.refusals.items()):
            refusals.add_metric((name,), count)
        if self.feed is not None:
            refusals.add_metric(("FEED_CONNECTIONS",), self.feed.refused_connections)
            refusals.add_metric(("FEED_MESSAGES",), self.feed.refused_messages)
        yield refusals
        yield CounterMetricFamily("sandex_journal_commits", "Group commits written (one fsync "
                                  "each)", value=node.batches)
        yield CounterMetricFamily("sandex_journal_commands", "Commands durable in the journal",
                                  value=node.durable_position)
        commits = HistogramMetricFamily("sandex_journal_commit_seconds",
                                        "Time to write and fsync one group commit")
        tally = node.commit_seconds
        commits.add_metric((), _buckets(tally.bounds, tally.counts), tally.total)
        yield commits
        opened = GaugeMetricFamily("sandex_open_orders", "Orders open (resting, or stops "
                                   "waiting) per product", labels=("product_id",))
        for product_id, count in sorted(open_orders(node).items()):
            opened.add_metric((product_id,), count)
        yield opened
        if self.feed is not None:
            feed = self.feed
            yield GaugeMetricFamily("sandex_feed_connections", "Open feed connections",
                                    value=feed.connection_count())
            subscribers = GaugeMetricFamily("sandex_feed_subscriptions",
                                            "Feed subscriptions (connection, product) per "
                                            "channel", labels=("channel",))
            for channel, count in sorted(feed.subscription_counts().items()):
                subscribers.add_metric((channel,), count)
            yield subscribers
            yield CounterMetricFamily("sandex_feed_slow_consumer_cuts",
                                      "Feed connections aborted for not keeping up",
                                      value=feed.cuts)


def _buckets(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    """Cumulative Prometheus buckets of per-bucket ``counts`` (the last one ``+Inf``)."""
    out: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip((*map(str, bounds), "+Inf"), counts, strict=True):
        running += count
        out.append((bound, running))
    return out


def open_orders(node: Node) -> dict[str, int]:
    """Open orders per product, over every profile."""
    counts: dict[str, int] = {}
    for profile in node.engine.profiles.values():
        for product_id, count in profile.open_count.items():
            if count:
                counts[product_id] = counts.get(product_id, 0) + count
    return counts


class MetricsGateway:
    """``GET /metrics``, for loopback clients holding the admin token."""

    def __init__(self, node: Node, token: str, meter: RequestMeter,
                 feed: FeedFigures | None = None) -> None:
        self._token = token.encode()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(node, meter, feed))

    async def __call__(self, request: Request) -> TextResponse:
        request.route = PATH
        if not _loopback(request.client):
            raise ApiError(Error.METRICS_LOOPBACK_ONLY)
        given = request.headers.get("authorization", "")
        if not given.startswith("Bearer ") or not hmac.compare_digest(
                given[7:].strip().encode(), self._token):
            raise ApiError(Error.ADMIN_BAD_TOKEN)
        if request.method != "GET":
            raise ApiError(Error.NOT_FOUND)
        return TextResponse(generate_latest(self.registry), CONTENT_TYPE.encode())



def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
