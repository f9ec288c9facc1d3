"""A market data snapshot asked for while commands are in flight shows the book as it was read,
and is sent once all of that is durable: a command applied while it waits for the disk is not
in it (it may never become durable) but follows as increments."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sandex.api.fix.codec import Message
from sandex.api.fix.session import Outbound, Session, State
from tests.api.rest.harness import InProcessVenue, SignedParts
from tests.support.rest_kit import ALICE, BOB


def md_session(gateway: Any) -> tuple[Session, list[bytes]]:
    """A logged-on market data session whose bytes, queued or written at once, land in a list."""
    written: list[bytes] = []
    session = Session(gateway, 0.0)
    session.writer = session.write_now = written.append
    session.state = State.ACTIVE
    session.out = Outbound()
    session._client_comp = "md"
    session._lead = "49=Coinbase\x0156=md\x0134="
    return session, written


def messages(written: list[bytes]) -> list[list[tuple[int, str]]]:
    """Each FIX message in ``written``, as its (tag, value) fields."""
    out: list[list[tuple[int, str]]] = []
    for part in b"".join(written).split(b"8=FIXT.1.1\x01")[1:]:
        fields = [field.split(b"=", 1) for field in part.split(b"\x01") if field]
        out.append([(int(tag), value.decode()) for tag, value in fields])
    return out


def test_a_snapshot_waits_for_what_it_shows_and_what_came_after_follows_as_increments(
        tmp_path: Path) -> None:
    venue = InProcessVenue(data_dir=tmp_path / "data")
    try:
        alice, bob = SignedParts(venue, ALICE), SignedParts(venue, BOB)
        sell = venue.call(*alice.post("/orders", {  # type: ignore[misc]
            "product_id": "BTC-USD", "side": "sell", "price": "20000.00", "size": "0.01"}))
        assert sell.status == 200, sell.body
        ask_id = sell.json()["id"]
        node = venue.venue.node
        market_data = venue.venue.market_data[0]  # the gateway with snapshots
        session, written = md_session(market_data)

        async def race() -> tuple[int, str]:
            resting = asyncio.create_task(venue._call(*bob.post("/orders", {  # type: ignore[misc]
                "product_id": "BTC-USD", "side": "buy", "price": "19000.00", "size": "0.01"})))
            await asyncio.sleep(0)
            assert node.in_flight  # the resting buy is applied, not yet durable
            read_at = node.engine.products["BTC-USD"].sequence
            market_data.on_message(session, Message([
                (35, "V"), (262, "md-1"), (263, "1"), (146, "1"), (55, "BTC-USD")]))
            crossing = asyncio.create_task(venue._call(*bob.post("/orders", {  # type: ignore[misc]
                "product_id": "BTC-USD", "side": "buy", "price": "20000.00", "size": "0.01"})))
            await asyncio.sleep(0)
            assert node.engine.orders[ask_id].filled_size > 0  # in memory, not durable
            assert written == []  # nothing of the snapshot before it is durable
            rest = await resting, await crossing
            assert [reply.status for reply in rest] == [200, 200]
            await node.synced()
            for _ in range(3):
                await asyncio.sleep(0)
            return read_at, rest[1].json()["id"]

        read_at, taker_id = venue.loop.run_until_complete(race())
        sent = messages(written)
        kinds = [dict(m)[35] for m in sent]
        assert kinds[0] == "W" and set(kinds[1:]) == {"X"}, kinds
        snapshot = dict(sent[0])
        assert (snapshot[262], snapshot[55], int(snapshot[83])) == ("md-1", "BTC-USD", read_at)
        book = [(tag, value) for tag, value in sent[0] if tag in (269, 278, 270, 271)]
        assert (278, ask_id) in book  # the ask, resting as read
        asks = [book[i + 1][1] for i, (tag, value) in enumerate(book)
                if (tag, value) == (269, "1")]
        assert ask_id in asks  # resting at the read: the crossing buy came after it
        increments = [dict(m) for m in sent[1:]]
        assert all(int(x[83]) > read_at for x in increments)
        assert [int(x[83]) for x in increments] == list(range(read_at + 1,
                                                                read_at + 1 + len(increments)))
        trade = next(x for x in increments if x[269] == "2")
        assert (trade[278], trade[37], trade[270], trade[271]) == (
            ask_id, taker_id, "20000", "0.01")
        done = next(x for x in increments if x.get(279) == "2" and x.get(278) == ask_id)
        assert done[58] == "FILLED"
    finally:
        venue.close()


def test_a_snapshot_overtaken_by_increments_it_missed_is_read_again(tmp_path: Path) -> None:
    """The snapshot's wait ends late, after a later commit's increments of its product went out
    (the session, not yet covered, skipped them): it is read again, so nothing is lost."""
    venue = InProcessVenue(data_dir=tmp_path / "data")
    try:
        alice, bob = SignedParts(venue, ALICE), SignedParts(venue, BOB)
        node = venue.venue.node
        market_data = venue.venue.market_data[0]
        session, written = md_session(market_data)
        later: list[asyncio.Task[Any]] = []
        synced = node.synced

        async def late_synced() -> None:  # the snapshot's task wakes after the sell is out
            await synced()
            if later:
                await later[0]

        node.synced = late_synced  # type: ignore[method-assign]

        async def race() -> tuple[int, int]:
            resting = asyncio.create_task(venue._call(*bob.post("/orders", {  # type: ignore[misc]
                "product_id": "BTC-USD", "side": "buy", "price": "19000.00", "size": "0.01"})))
            await asyncio.sleep(0)
            assert node.in_flight
            read_at = node.engine.products["BTC-USD"].sequence
            market_data.on_message(session, Message([
                (35, "V"), (262, "md-1"), (263, "1"), (146, "1"), (55, "BTC-USD")]))
            later.append(asyncio.create_task(venue._call(*alice.post(  # type: ignore[misc]
                "/orders", {"product_id": "BTC-USD", "side": "sell", "price": "21000.00",
                            "size": "0.02"}))))
            assert [r.status for r in (await resting, await later[0])] == [200, 200]
            assert market_data._fanned["BTC-USD"] > read_at  # the sell's increments went out
            for _ in range(5):
                await asyncio.sleep(0)
            return read_at, node.engine.products["BTC-USD"].sequence

        read_at, final = venue.loop.run_until_complete(race())
        sent = messages(written)
        assert [dict(m)[35] for m in sent] == ["W"]  # read again: the sell is in it
        assert int(dict(sent[0])[83]) == final > read_at
        prices = [value for tag, value in sent[0] if tag == 270]
        assert "21000" in prices and "19000" in prices
    finally:
        venue.close()
