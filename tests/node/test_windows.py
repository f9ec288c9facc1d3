"""Status windows on the venue clock: products change mode at the window's start and go back
at its end, each edge journaled at its own time, seen as Coinbase shows a product's mode."""

from __future__ import annotations

from pathlib import Path

from sandex.core import ProductStatus
from sandex.node.windows import StatusWindow
from sandex.timefmt import parse_iso
from tests.api.rest.harness import InProcessVenue
from tests.support.rest_kit import ALICE, SCENARIO, place

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
