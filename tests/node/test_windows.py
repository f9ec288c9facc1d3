"""Engine windows on the venue clock: products change mode (or have their matching halted) at
the window's start and go back at its end, each edge journaled at its own time, seen as
Coinbase shows a product."""

from __future__ import annotations

from pathlib import Path

from sandex.core import ProductStatus
from sandex.node.windows import StatusWindow
from sandex.timefmt import parse_iso
from tests.api.rest.harness import InProcessVenue
from tests.support.rest_kit import ALICE, BOB, SCENARIO, place

START = "2024-01-01T00:00:00Z"
SECOND = 1_000_000


def frozen(tmp_path: Path, data_dir: Path | None = None) -> InProcessVenue:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f'{SCENARIO.read_text()}\n[clock]\nmode = "virtual"\nstart = "{START}"\n'
                        'rate = 0\n')
    return InProcessVenue(scenario, data_dir=data_dir)


def status(venue: InProcessVenue, product_id: str) -> dict[str, object]:
    product = venue.client().get(f"/products/{product_id}").json()
    return {k: product[k] for k in ("status", "cancel_only", "trading_disabled")}


def test_a_cancel_only_window_opens_and_closes_at_its_edges(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    venue = frozen(tmp_path, data_dir)
    try:
        node = venue.venue.node
        t0 = parse_iso(START)
        assert t0 is not None
        node.scheduler.add(StatusWindow(node, "maintenance", ProductStatus.CANCEL_ONLY,
                                        t0 + 10 * SECOND, t0 + 40 * SECOND, ("BTC-USD",)))
        alice = venue.client(ALICE)
        resting = place(alice)
        moved = venue.admin("clock.advance", by="15s").json()
        assert moved["fired"]["windows"] == 1
        assert status(venue, "BTC-USD") == {"status": "online", "cancel_only": True,
                                            "trading_disabled": False}
        assert status(venue, "ETH-USD")["cancel_only"] is False
        refused = alice.post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                         "price": "10.00", "size": "0.5"})
        assert (refused.status, refused.json()) == (400, {"message": "Cancel only mode"})
        assert alice.delete(f"/orders/{resting['id']}").status == 200  # cancels go through
        venue.admin("clock.advance", by="30s")
        assert status(venue, "BTC-USD")["cancel_only"] is False
        placed = place(alice)
        assert placed["status"] == "pending"
        hash_before = venue.admin("state", method="GET").json()["state_hash"]
    finally:
        venue.close()
    again = frozen(tmp_path, data_dir)  # the journal holds both edges
    try:
        assert again.admin("state", method="GET").json()["state_hash"] == hash_before
    finally:
        again.close()


def test_every_product_for_an_unnamed_window_and_closing_it_early(tmp_path: Path) -> None:
    venue = frozen(tmp_path)
    try:
        node = venue.venue.node
        t0 = parse_iso(START)
        assert t0 is not None
        venue.admin("product.set-status", id="ETH-USD", status="post_only")
        window = StatusWindow(node, "offline", ProductStatus.DISABLED, t0 + SECOND,
                              t0 + 3600 * SECOND)
        node.scheduler.add(window)
        venue.admin("clock.advance", by="2s")
        assert all(p["trading_disabled"] for p in venue.client().get("/products").json())
        for command in window.close():  # a rule cleared mid-window: the statuses back, now
            node.record(command)
        node.scheduler.remove(window)
        assert status(venue, "BTC-USD")["trading_disabled"] is False
        assert venue.client().get("/products/ETH-USD").json()["post_only"] is True
        assert window.due(node.now()) is None
    finally:
        venue.close()


HALT_RULE = """
[[faults]]
id = "halt"
layer = "engine"
match = { product = "BTC-USD" }
when = { from = "+10s", for = "30s" }
action = { kind = "halt_matching" }
"""


def test_a_halt_window_from_the_scenario_queues_orders_and_the_journal_replays(
        tmp_path: Path) -> None:
    """The scenario door: ``[[faults]]`` halt_matching; the orders of the window wait
    ``pending`` off the book and trade at its end; a restart replays to the same hash."""
    data_dir = tmp_path / "data"
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f'{SCENARIO.read_text()}\n[clock]\nmode = "virtual"\nstart = "{START}"\n'
                        f'rate = 0\n{HALT_RULE}')
    venue = InProcessVenue(scenario, data_dir=data_dir)
    try:
        alice, bob = venue.client(ALICE), venue.client(BOB)
        ask = place(bob, side="sell", price="100.00", size="1")
        assert venue.admin("clock.advance", by="15s").json()["fired"]["windows"] == 1
        product = venue.client().get("/products/BTC-USD").json()
        assert (product["status"], product["status_message"], product["auction_mode"]) == (
            "online", "Matching is halted: orders are accepted pending and matched on resume",
            False)
        taker = place(alice, price="101.00", size="0.4")
        assert taker["status"] == "pending"
        rester = place(alice, price="99.00", size="0.25")
        assert alice.get(f"/orders/{taker['id']}").json()["status"] == "pending"
        book = venue.client().get("/products/BTC-USD/book?level=3").json()
        assert (book["bids"], book["asks"]) == ([], [["100", "1", ask["id"]]])
        assert venue.admin("clock.advance", by="30s").json()["fired"]["windows"] == 1
        fills = alice.get("/fills?product_id=BTC-USD").json()
        assert [(f["order_id"], f["price"], f["size"]) for f in fills] == [
            (taker["id"], "100.00000000", "0.40000000")]
        assert alice.get(f"/orders/{rester['id']}").json()["status"] == "open"
        book = venue.client().get("/products/BTC-USD/book?level=2").json()
        assert (book["bids"], book["asks"]) == ([["99", "0.25", 1]], [["100", "0.6", 1]])
        assert venue.client().get("/products/BTC-USD").json()["status_message"] == ""
        hash_before = venue.admin("state", method="GET").json()["state_hash"]
    finally:
        venue.close()
    again = InProcessVenue(scenario, data_dir=data_dir)  # the journal holds both edges
    try:
        assert again.admin("state", method="GET").json()["state_hash"] == hash_before
    finally:
        again.close()
