"""The web page under a busy feed: does it keep up, and do its DOM and memory stay bounded?

    .venv/bin/python bench/ui_feed.py [--seconds 60] [--rate 500] [--sample 10]
    make bench-ui ARGS="--seconds 600"     # the 10-minute run of docs/ui.md

A real ``sandex serve`` (tests/scenario.toml, in memory, no demo) and the page at
``/ui/?product=BTC-USD`` in headless Chromium (tests/support/browser_kit.py). Bob rests a
large bid and ask; four driver threads send Alice's market orders of 0.0001 BTC, buys and
sells in turn, paced so the page's feed (``level2_batch``, ``matches``, ``ticker`` on
BTC-USD) carries ``--rate`` messages/s: each order makes one ``match`` and one ``ticker``,
and the level-2 changes come in 50 ms batches (up to 20 a second on top).

Every ``--sample`` seconds, read over the DevTools protocol after a forced garbage
collection: the messages the page received per second (its feed's own counter), frames
painted per second (a ``requestAnimationFrame`` counter), DOM nodes and the JS heap in use.
The first load's transferred bytes are the navigation's and every resource's
``transferSize`` (HTML, CSS, modules, the chart library, the first REST answers) once the
page is ready. Prints one line per sample and a summary; writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.browser_kit import chromium, why_no_browser  # noqa: E402
from tests.support.rest_kit import ALICE, BOB, RawClient, start_server  # noqa: E402

TAKER_SIZE = "0.0001"
DRIVERS = 4  # threads, one keep-alive connection each (one alone cannot reach 250 orders/s)
COUNTERS = """() => {
  window.benchFrames = 0;
  const tick = () => { window.benchFrames += 1; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""
FIRST_LOAD = """() => performance.getEntriesByType("navigation")
  .concat(performance.getEntriesByType("resource"))
  .reduce((sum, entry) => sum + entry.transferSize, 0)"""


def drive(port: int, per_second: float, stop: threading.Event, counts: list[int],
          index: int) -> None:
    """Market orders for Alice at ``per_second``, buy and sell in turn, paced (no catch-up
    bursts: a late order is sent at once and the schedule goes on from now)."""
    client = RawClient(port, ALICE)
    side = "buy" if index % 2 == 0 else "sell"
    gap = 1.0 / per_second
    due = time.monotonic()
    while not stop.is_set():
        reply = client.post("/orders", {"product_id": "BTC-USD", "side": side,
                                        "type": "market", "size": TAKER_SIZE})
        if reply.status != 200:
            raise RuntimeError(f"order refused: {reply.body!r}")
        counts[index] += 1
        side = "sell" if side == "buy" else "buy"
        due = max(due + gap, time.monotonic() - gap)
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def metrics(cdp: Any) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="driven time (600: 10 min)")
    parser.add_argument("--rate", type=float, default=500.0, help="feed messages/s to aim at")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    reason = why_no_browser()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    server = start_server()
    stop = threading.Event()
    try:
        bob = RawClient(server.port, BOB)
        for side, price in (("buy", "29999"), ("sell", "30001")):
            reply = bob.post("/orders", {"product_id": "BTC-USD", "side": side,
                                         "price": price, "size": "20"})
            assert reply.status == 200, reply.body
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server.url}/ui/?product=BTC-USD")
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_timeout(500)
            first_load = page.evaluate(FIRST_LOAD)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.evaluate(COUNTERS)
            counts = [0] * DRIVERS  # an order makes about 2 messages (a match, a ticker)
            threads = [threading.Thread(target=drive, args=(
                server.port, args.rate / 2 / DRIVERS, stop, counts, i), daemon=True)
                for i in range(DRIVERS)]
            print(f"first load: {first_load / 1024:.1f} KiB transferred", flush=True)
            print(f"{'t (s)':>6} {'msgs/s':>8} {'orders/s':>9} {'frames/s':>9} "
                  f"{'DOM nodes':>10} {'JS heap MB':>11} {'tape rows':>10}")
            for thread in threads:
                thread.start()
            started = time.monotonic()
            last = (started, page.evaluate("window.sandexPage.feed.received"),
                    0, page.evaluate("window.benchFrames"))
            rows: list[tuple[float, float, float, float, float]] = []
            while time.monotonic() - started < args.seconds:
                page.wait_for_timeout(args.sample * 1000)
                now = time.monotonic()
                received = page.evaluate("window.sandexPage.feed.received")
                frames = page.evaluate("window.benchFrames")
                orders = sum(counts)
                span = now - last[0]
                m = metrics(cdp)
                tape = page.evaluate("document.getElementById('tape').children.length")
                row = (now - started, (received - last[1]) / span, (orders - last[2]) / span,
                       (frames - last[3]) / span, m["Nodes"], m["JSHeapUsedSize"] / 2**20)
                rows.append(row[1:])  # type: ignore[arg-type]
                print(f"{row[0]:6.0f} {row[1]:8.0f} {row[2]:9.0f} {row[3]:9.0f} "
                      f"{row[4]:10.0f} {row[5]:11.1f} {tape:10d}", flush=True)
                last = (now, received, orders, frames)
            stop.set()
            for thread in threads:
                thread.join(10)
            if not rows:
                return 1
            rates = [r[0] for r in rows]
            nodes = [r[3] for r in rows]
            heap = [r[4] for r in rows]
            print(f"summary: {args.seconds:.0f} s, feed {min(rates):.0f}-{max(rates):.0f} "
                  f"msgs/s (mean {sum(rates) / len(rates):.0f}), frames/s min "
                  f"{min(r[2] for r in rows):.0f}; DOM nodes {min(nodes):.0f}-{max(nodes):.0f};"
                  f" JS heap {min(heap):.1f}-{max(heap):.1f} MB (first {heap[0]:.1f}, last "
                  f"{heap[-1]:.1f}); first load {first_load / 1024:.1f} KiB; feed connections "
                  f"lost {page.evaluate('window.sandexPage.feed.closes')}; console errors "
                  f"{len(errors)}")
            for error in errors[:5]:
                print(f"  console: {error}")
    finally:
        stop.set()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
