"""What a test pays for a clean venue: reset, restore, and the ``sandex`` fixture's overhead.

    .venv/bin/python bench/reset.py [--resets N] [--orders N] [--tests N]

1. ``POST /admin/reset`` of the default test scenario (``sandex/scenarios/testing.toml``),
   ``N`` times: the client's round trip and the server's own time (its access log line).
2. A venue holding ``--orders`` resting orders (placed over signed REST, half bids, half
   asks, each on its own price level): restoring the snapshot that holds them, and resetting
   from there to the empty baseline.
3. The fixture's overhead: a pytest session of ``--tests`` empty tests that ask for
   ``sandex`` against one of as many that do not, median per test (setup + call +
   teardown), the first test (which starts the server) left out.

Targets (issue 13): reset < 5 ms, 10,000 orders < 50 ms, fixture overhead < 20 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import kit

from sandex.testing import TESTING_SCENARIO, LocalServer, Venue

ORDERS_PER_PROFILE = 500  # sandex.core.limits.open_orders_per_product_max
ACCESS = re.compile(r"POST /admin/(reset|snapshot\.restore) 200 ([\d.]+) ms")


def timed(action: Callable[[], object], times: int) -> list[float]:
    """Client-side milliseconds of each of ``times`` calls."""
    out = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        out.append((time.perf_counter() - started) * 1000)
    return out


def server_ms(server: LocalServer, mark: int, command: str) -> list[float]:
    """The server's own milliseconds for ``command`` in its access log since ``mark``."""
    return [float(ms) for name, ms in ACCESS.findall(server.log_since(mark)) if name == command]


def figures(label: str, client: list[float], server: list[float]) -> None:
    print(f"{label}: median {statistics.median(client):.2f} ms round trip "
          f"(p90 {kit.percentile(sorted(client), 0.9):.2f}), server "
          f"{statistics.median(server):.2f} ms median, {len(client)} runs")


def place_resting(venue: Venue, count: int) -> None:
    """``count`` resting BTC-USD limit orders, half bids from 1000.00 up, half asks from
    90000.00 up, each on its own price level, over kept-alive signed connections: from
    profiles made for it, 500 each (Coinbase's open-order limit per product and profile)."""
    port = int(venue.rest_url.rsplit(":", 1)[1])
    for first in range(0, count, ORDERS_PER_PROFILE):
        profile = venue.admin("profile.create", name=f"bench-{first}")["id"]
        venue.fund("USD", "10000000", profile=profile)
        venue.fund("BTC", "1000", profile=profile)
        made = venue.admin("key.create", profile=profile, permissions="view,trade")
        key = kit.Key(made["key"], made["secret"], made["passphrase"], profile, ("trade",))
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for i in range(first, min(count, first + ORDERS_PER_PROFILE)):
            side, base = ("buy", 100_000) if i % 2 == 0 else ("sell", 9_000_000)
            body = json.dumps({"product_id": "BTC-USD", "side": side, "size": "0.001",
                               "price": f"{(base + i // 2) / 100:.2f}"}).encode()
            conn.request("POST", "/orders", body, {
                "Content-Type": "application/json",
                **kit.signed_headers(key, "POST", "/orders", body)})
            reply = conn.getresponse()
            answer = reply.read()
            if reply.status != 200:
                raise SystemExit(f"order {i}: {reply.status} {answer!r}")
        conn.close()


def bench_resets(work: Path, resets: int, orders: int) -> None:
    # Rate limits off: placing the orders would meet the private bucket otherwise.
    scenario = work / "scenario.toml"
    scenario.write_text(TESTING_SCENARIO.read_text().replace("rate_limits = true",
                                                             "rate_limits = false"))
    server = LocalServer.start(scenario, 1, work / "sandex.log")
    try:
        venue = Venue(server.url, server.admin_token)
        venue.clock.freeze()
        mark = server.log_mark() or 0
        client = timed(venue.reset, resets)
        figures("reset, default test scenario", client, server_ms(server, mark, "reset"))
        started = time.perf_counter()
        place_resting(venue, orders)
        print(f"placed {orders} resting orders in {time.perf_counter() - started:.1f} s; "
              f"book: {len(venue.book('BTC-USD', level=3)['bids'])} bids")
        venue.snapshot("full")
        rounds = max(5, resets // 10)
        restores: list[float] = []
        back: list[float] = []
        mark = server.log_mark() or 0
        for _ in range(rounds):
            restores += timed(lambda: venue.restore("full"), 1)
            back += timed(venue.reset, 1)
        figures(f"restore of {orders} resting orders", restores,
                server_ms(server, mark, "snapshot.restore"))
        figures(f"reset from {orders} resting orders", back, server_ms(server, mark, "reset"))
        venue.close()
    finally:
        server.stop()


OVERHEAD_CONFTEST = """
import json, time

durations = {}

def pytest_runtest_logreport(report):
    durations[report.nodeid] = durations.get(report.nodeid, 0.0) + report.duration

def pytest_sessionfinish(session):
    with open("durations.json", "w") as out:
        json.dump(durations, out)
"""


def bench_fixture(work: Path, tests: int) -> None:
    (work / "conftest.py").write_text(OVERHEAD_CONFTEST)
    medians = {}
    for uses in (True, False):
        argument = "sandex" if uses else ""
        (work / "test_overhead.py").write_text("".join(
            f"def test_{i}({argument}):\n    pass\n\n" for i in range(tests)))
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "test_overhead.py"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        durations = json.loads((work / "durations.json").read_text())
        ordered = [durations[f"test_overhead.py::test_{i}"] * 1000 for i in range(tests)]
        medians[uses] = statistics.median(ordered[1:])
        if uses:
            print(f"first test (starts the server): {ordered[0]:.0f} ms")
    print(f"sandex fixture overhead: median {medians[True] - medians[False]:.2f} ms per test "
          f"({medians[True]:.2f} ms with it, {medians[False]:.2f} ms without, "
          f"{tests - 1} tests each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resets", type=int, default=200)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--tests", type=int, default=300)
    args = parser.parse_args()
    print(kit.machine())
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "venue").mkdir()
        (Path(tmp) / "pytest").mkdir()
        bench_resets(Path(tmp) / "venue", args.resets, args.orders)
        bench_fixture(Path(tmp) / "pytest", args.tests)


if __name__ == "__main__":
    main()
