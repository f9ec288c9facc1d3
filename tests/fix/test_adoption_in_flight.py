"""A FIX session that starts to follow orders at a logon made while commands are in flight
(order entry: its profile's orders from before a restart; drop copy: the profile's live
orders) follows each order as the disk has it: a fill applied but not yet durable is counted
once, when its report goes out, and an order received in flight is acknowledged."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from sandex.api.fix.logon import Identity
from sandex.api.fix.session import Session
from sandex.core import ModifyOrder
from tests.api.rest.harness import InProcessVenue, SignedParts
from tests.fix.test_market_data_in_flight import md_session, messages
from tests.support.rest_kit import ALICE, ALICE_PROFILE, BOB


def oe_session(gateway: Any) -> tuple[Session, list[bytes]]:
    """Alice's logged-on order entry (or drop copy) session, its bytes in a list."""
    session, written = md_session(gateway)
    session.identity = Identity(ALICE[0], ALICE_PROFILE, 30, True, False, "", "")
    return session, written


def resting_ask(data_dir: Path) -> str:
    """Alice's sell of 0.02 BTC at 20,000, placed with a ClOrdID-shaped client_oid by a venue
    that then stops."""
    venue = InProcessVenue(data_dir=data_dir)
    try:
        reply = venue.call(*SignedParts(venue, ALICE).post("/orders", {  # type: ignore[misc]
            "product_id": "BTC-USD", "side": "sell", "price": "20000.00", "size": "0.02",
            "client_oid": str(uuid.uuid4())}))
        assert reply.status == 200, reply.body
        return str(reply.json()["id"])
    finally:
        venue.close()


def run_logon_race(data_dir: Path, late: bool) -> tuple[str, list[dict[int, str]]]:
    """Restart on ``data_dir``; log Alice on while Bob's resting buy is in flight, and fill
    half of her ask with Bob's crossing buy before it is durable (``late``: after the first
    wait for the disk ends, else at once). Alice's session's messages."""
    ask_id = resting_ask(data_dir)
    venue = InProcessVenue(data_dir=data_dir)
    try:
        bob = SignedParts(venue, BOB)
        node = venue.venue.node
        gateway = venue.venue.fix
        assert gateway is not None and ask_id in gateway.inherited[ALICE_PROFILE]
        session, written = oe_session(gateway)
        crossing: list[asyncio.Task[Any]] = []

        def cross() -> None:
            crossing.append(asyncio.create_task(venue._call(*bob.post(  # type: ignore[misc]
                "/orders", {"product_id": "BTC-USD", "side": "buy", "price": "20000.00",
                            "size": "0.01"}))))

        synced = node.synced

        async def late_synced() -> None:  # the crossing buy applied after the wake-up
            await synced()
            if not crossing:
                cross()
                await asyncio.sleep(0)

        if late:
            node.synced = late_synced  # type: ignore[method-assign]

        async def race() -> None:
            resting = asyncio.create_task(venue._call(*bob.post(  # type: ignore[misc]
                "/orders", {"product_id": "BTC-USD", "side": "buy", "price": "19000.00",
                            "size": "0.01"})))
            await asyncio.sleep(0)
            assert node.in_flight  # the resting buy is applied, not yet durable
            if not late:
                cross()
                await asyncio.sleep(0)
                assert node.engine.orders[ask_id].filled_size > 0  # in memory only
            gateway.on_logon(session)
            assert (await resting).status == 200
            if not crossing:  # the logon waited for nothing: the crossing buy comes now
                await node.synced()
            assert (await crossing[0]).status == 200
            await node.synced()
            for _ in range(5):
                await asyncio.sleep(0)

        venue.loop.run_until_complete(race())
        assert node.engine.orders[ask_id].filled_size == 1_000_000  # 0.01 in 1e-8 units
        return ask_id, [dict(m) for m in messages(written)]
    finally:
        venue.close()


def test_a_fill_in_flight_at_the_logon_is_reported_once(tmp_path: Path) -> None:
    ask_id, sent = run_logon_race(tmp_path / "data", late=False)
    fills = [m for m in sent if m[35] == "8" and m[150] == "F"]
    assert len(fills) == 1, sent
    fill = fills[0]
    assert (fill[37], fill[39], fill[14], fill[151], fill[32], fill[31]) == (
        ask_id, "1", "0.01", "0.01", "0.01", "20000")


def test_a_fill_applied_while_the_adoption_waits_is_reported_once(tmp_path: Path) -> None:
    """The crossing buy comes after the logon's first wait for the disk (the code before read
    the order then, fill included, and counted the fill again at its report: CumQty 0.02,
    OrdStatus filled, the order dropped with 0.01 still resting)."""
    ask_id, sent = run_logon_race(tmp_path / "data", late=True)
    fills = [m for m in sent if m[35] == "8" and m[150] == "F"]
    assert len(fills) == 1, sent
    assert (fills[0][37], fills[0][39], fills[0][14], fills[0][151]) == (
        ask_id, "1", "0.01", "0.01")


def test_an_order_a_modify_in_flight_changed_is_adopted_once_that_is_durable(
        tmp_path: Path) -> None:
    """A modify's event does not carry the price and size before it: the order waits for the
    commit, then is followed at its new price and size."""
    ask_id = resting_ask(tmp_path / "data")
    venue = InProcessVenue(data_dir=tmp_path / "data")
    try:
        node = venue.venue.node
        gateway = venue.venue.fix
        assert gateway is not None
        session, written = oe_session(gateway)

        async def race() -> None:
            modify = asyncio.create_task(node.execute(ModifyOrder(
                time=node.stamp(), profile_id=ALICE_PROFILE, order_id=ask_id,
                price=20_500 * 10**8, size=3_000_000)))
            await asyncio.sleep(0)
            assert node.in_flight and node.engine.orders[ask_id].price == 20_500 * 10**8
            gateway.on_logon(session)
            assert ask_id not in gateway.tracks  # its durable price is not known yet
            await modify
            for _ in range(3):
                await asyncio.sleep(0)

        venue.loop.run_until_complete(race())
        track = gateway.tracks[ask_id]
        assert (track.price, track.size, track.cum) == (20_500 * 10**8, 3_000_000, 0)
        assert ALICE_PROFILE not in gateway.inherited
        assert written == []  # nothing reported before anything happened to it after
    finally:
        venue.close()


def test_drop_copy_follows_the_live_orders_as_the_disk_has_them(tmp_path: Path) -> None:
    """Logged on while Bob's crossing buy (a fill of Alice's ask) and Alice's new bid are in
    flight: one fill report, CumQty 0.01 of 0.02 (the code before read the fill into the
    order and counted it again: 0.02, filled), and the bid's ack (before: no ack at all)."""
    ask_id = resting_ask(tmp_path / "data")
    venue = InProcessVenue(data_dir=tmp_path / "data")
    try:
        alice, bob = SignedParts(venue, ALICE), SignedParts(venue, BOB)
        node = venue.venue.node
        gateway = venue.venue.drop_copy
        assert gateway is not None
        session, written = oe_session(gateway)

        async def race() -> str:
            crossing = asyncio.create_task(venue._call(*bob.post(  # type: ignore[misc]
                "/orders", {"product_id": "BTC-USD", "side": "buy", "price": "20000.00",
                            "size": "0.01"})))
            bid = asyncio.create_task(venue._call(*alice.post(  # type: ignore[misc]
                "/orders", {"product_id": "BTC-USD", "side": "buy", "price": "19000.00",
                            "size": "0.01"})))
            await asyncio.sleep(0)
            assert node.in_flight and node.engine.orders[ask_id].filled_size > 0
            gateway.on_logon(session)
            replies = await crossing, await bid
            assert [reply.status for reply in replies] == [200, 200]
            await node.synced()
            for _ in range(3):
                await asyncio.sleep(0)
            return str(replies[1].json()["id"])

        bid_id = venue.loop.run_until_complete(race())
        sent = [dict(m) for m in messages(written)]
        fills = [m for m in sent if m[150] == "F"]
        assert [(m[37], m[39], m[14], m[151]) for m in fills] == [
            (ask_id, "1", "0.01", "0.01")], sent
        acks = [m for m in sent if m[150] == "0"]
        assert [(m[37], m[39], m[151]) for m in acks] == [(bid_id, "0", "0.01")], sent
    finally:
        venue.close()
