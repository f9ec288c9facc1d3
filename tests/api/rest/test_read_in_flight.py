"""A read made while commands are in flight shows the state as it was read, and is answered
once all of that is durable: a command applied while the read waits for the disk is not in
it (it may never become durable)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.api.rest.harness import InProcessVenue, SignedParts
from tests.support.rest_kit import ALICE, BOB


def test_a_read_waits_for_what_it_shows_and_shows_nothing_applied_after_it(
        tmp_path: Path) -> None:
    venue = InProcessVenue(data_dir=tmp_path / "data")
    try:
        alice, bob = SignedParts(venue, ALICE), SignedParts(venue, BOB)
        sell = venue.call(*alice.post("/orders", {  # type: ignore[misc]
            "product_id": "BTC-USD", "side": "sell", "price": "20000.00", "size": "0.01"}))
        assert sell.status == 200, sell.body
        order_id = sell.json()["id"]
        node = venue.venue.node

        async def race() -> dict[str, Any]:
            resting = asyncio.create_task(venue._call(*bob.post("/orders", {  # type: ignore[misc]
                "product_id": "BTC-USD", "side": "buy", "price": "19000.00", "size": "0.01"})))
            await asyncio.sleep(0)
            assert node.in_flight  # the resting buy is applied, not yet durable
            read = asyncio.create_task(venue._call(*alice.get(  # type: ignore[misc]
                f"/orders/{order_id}")))
            await asyncio.sleep(0)
            crossing = asyncio.create_task(venue._call(*bob.post("/orders", {  # type: ignore[misc]
                "product_id": "BTC-USD", "side": "buy", "price": "20000.00", "size": "0.01"})))
            await asyncio.sleep(0)
            assert node.engine.orders[order_id].filled_size > 0  # in memory, not durable
            assert not read.done()
            reply = await read
            assert (await resting).status == 200 and (await crossing).status == 200
            return reply.json()

        shown = venue.loop.run_until_complete(race())
        assert shown["filled_size"] == "0.00000000" and shown["status"] == "open", shown
        after = venue.call(*alice.get(f"/orders/{order_id}"))  # type: ignore[misc]
        assert after.json()["filled_size"] == "0.01000000"  # the crossing buy, durable now
    finally:
        venue.close()
