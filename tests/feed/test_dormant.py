"""The feed's mirror sleeps while no connection is open (its listener then does almost
nothing a command) and is rebuilt from the node by the next connection, even one that comes
while commands are applied and not yet durable: a feed woken so sends, byte for byte, what a
feed kept awake all along sends to a connection that subscribes in the same step (the
snapshot, ``last_match``, the ticker, every order message and sequence number after them),
and its mirror ends equal to the core's book."""

from __future__ import annotations

import asyncio
import json

from sandex.api.feed import Feed, FeedLimits
from sandex.api.feed.session import Session
from sandex.api.feed.state import MirrorBook
from sandex.auth.keys import KDF, hash_passphrase
from sandex.core import (
    CancelOrder,
    CreateProfile,
    Deposit,
    OrderType,
    PlaceOrder,
    Side,
)
from sandex.node import Batched, CreateApiKey, Node, RestoreSnapshot, SaveSnapshot
from tests.feed.test_backpressure import SCOPE, FakeClient
from tests.support.feed_kit import auth_fields
from tests.support.node_kit import GatedJournal, settle, venue
from tests.support.rest_kit import ALICE

CHANNELS = ["level2", "full", "matches", "ticker", "level3", "level2_batch"]


def _node() -> Node:
    """``venue``'s, with a seller ``b`` holding BTC and ALICE's key on profile ``a``."""
    node = venue(GatedJournal())
    node.apply(CreateProfile(time=node.stamp(), profile_id="b", user_id="b", name="b",
                             maker_fee_rate=0, taker_fee_rate=0))
    node.apply(Deposit(time=node.stamp(), profile_id="b", currency="BTC", amount=10**20,
                       transfer_id="t2"))
    salt = node.ids.salt()
    key, secret, passphrase = ALICE
    node.apply(CreateApiKey(time=node.stamp(), key=key, secret=secret,
                            passphrase_hash=hash_passphrase(salt, passphrase), salt=salt,
                            permissions=("view", "trade"), profile_id="a", kdf=KDF))
    return node


def _order(node: Node, profile: str, side: Side, price: int, size: int = 1) -> PlaceOrder:
    return PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(), profile_id=profile,
                      product_id="BTC-USD", side=side, type=OrderType.LIMIT,
                      price=price * 10**8, size=size * 10**8)


class Traffic:
    """Orders that rest, trade and are canceled, round after round."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.resting: list[str] = []
        self.round = 0

    def commands(self) -> list[object]:
        node, self.round = self.node, self.round + 1
        price = 100 + self.round % 7
        out: list[object] = [_order(node, "a", Side.BUY, price, 2),
                             _order(node, "b", Side.SELL, price + 3),
                             _order(node, "b", Side.SELL, price, 1)]  # trades with the bid
        self.resting += [out[0].order_id, out[1].order_id]  # type: ignore[attr-defined]
        if len(self.resting) > 6:
            order_id = self.resting.pop(0)
            out.append(CancelOrder(time=node.stamp(), profile_id="a" if len(self.resting) % 2
                                   else "b", order_id=order_id))
        return out

    async def run(self, rounds: int) -> None:
        for _ in range(rounds):
            for command in self.commands():
                await self.node.execute(command)  # type: ignore[arg-type]

    def start(self, rounds: int) -> list[asyncio.Task[object]]:
        """``rounds`` rounds applied at once (while the gate is shut: in flight)."""
        return [asyncio.create_task(self.node.execute(command))  # type: ignore[arg-type]
                for _ in range(rounds) for command in self.commands()]


def _subscribe(feed: Feed, session: Session) -> None:
    feed.hub.handle(session, json.dumps({"type": "subscribe", "product_ids": ["BTC-USD"],
                                         "channels": CHANNELS, **auth_fields(ALICE)}))


def _frames(session: Session) -> list[object]:
    return [json.loads(frame) for frame in session.queue]


def test_a_feed_woken_mid_stream_sends_what_a_feed_kept_awake_sends() -> None:
    node = _node()
    journal = node.journal
    assert isinstance(journal, GatedJournal)
    kept, woken = Feed(node), Feed(node)
    node.listeners.append(Batched(kept.on_batch))
    node.listeners.append(Batched(woken.on_batch))
    kept.attach(Session("127.0.0.1", 10**6))  # a connection open all along: never dormant
    traffic = Traffic(node)
    pairs: list[tuple[Session, Session]] = []

    def restore(name: str) -> RestoreSnapshot:
        return RestoreSnapshot(time=node.stamp(), name=name,
                               state_hash=node.saved[name].state_hash)

    async def join(in_flight_rounds: int, restore_first: str | None = None) -> None:
        """Commands applied and not durable (a restore first, if named), then a connection
        to each feed; subscribed in one step once the woken mirror is ready, while traffic
        goes on."""
        journal.gate.clear()
        pending = [asyncio.create_task(node.execute(restore(restore_first)))] \
            if restore_first else []
        pending += traffic.start(in_flight_rounds)
        await settle()
        assert node.in_flight == bool(pending)
        assert not woken.live
        first, second = Session("127.0.0.1", 10**6), Session("127.0.0.1", 10**6)
        woken.attach(second)
        assert woken.live
        ready = asyncio.create_task(woken.ready())
        await settle()
        assert ready.done() == (not pending)  # waits for what it holds to be durable
        journal.gate.set()
        await ready
        kept.attach(first)
        _subscribe(kept, first)
        _subscribe(woken, second)
        pairs.append((first, second))
        await asyncio.gather(*pending)
        await traffic.run(5)
        journal.gate.clear()
        more = traffic.start(3)  # and traffic in flight when it flushes
        await settle()
        kept.hub.flush_level2_batch()
        woken.hub.flush_level2_batch()
        kept.hub.flush_ticker_batch()
        woken.hub.flush_ticker_batch()
        journal.gate.set()
        await asyncio.gather(*more)
        await node.synced()
        kept.hub.flush_level2_batch()  # nothing left pending in the kept hub for the next
        woken.hub.flush_level2_batch()
        kept.detach(first)
        woken.detach(second)
        assert not woken.live and kept.live

    async def scenario() -> None:
        journal.gate.set()
        await traffic.run(10)  # trades while the second feed sleeps: its last_match
        await join(in_flight_rounds=4)  # woken while four rounds are in flight
        await traffic.run(6)  # asleep again
        await asyncio.gather(*traffic.start(4))  # asleep, commits made while more is in flight
        await node.execute(SaveSnapshot(time=node.stamp(), name="s"))
        await join(in_flight_rounds=2)
        await traffic.run(3)
        await join(in_flight_rounds=0)  # woken with nothing in flight
        await traffic.run(2)
        await node.execute(restore("s"))  # asleep: the restored venue's last_match unknown
        await join(in_flight_rounds=0)
        await traffic.run(2)
        await join(in_flight_rounds=2, restore_first="s")  # a restore among what is in flight
        await traffic.run(2)
        await node.execute(restore("s"))
        await asyncio.gather(*traffic.start(1))  # a trade after the restore, asleep
        await join(in_flight_rounds=1)

    asyncio.run(scenario())
    # a restore forgets the last trade; one in flight when the hub is rebuilt, and the trades
    # after it, are still seen (the kept feed's ``restart`` skips them as the woken one does)
    assert [any('"last_match"' in frame for frame in first.queue) for first, _ in pairs] == [
        True, True, True, False, True, True]
    for first, second in pairs:
        assert list(first.queue) == list(second.queue)  # byte for byte
        frames = [f for f in _frames(first) if isinstance(f, dict)]  # not level3's arrays
        assert len(frames) > 50
        kinds = {f["type"] for f in frames}  # type: ignore[index]
        assert {"snapshot", "ticker", "l2update", "match", "open", "done", "received"} <= kinds
        sequences = [f["sequence"] for f in frames
                     if "sequence" in f and f["type"] not in ("last_match", "ticker",
                                                              "snapshot")]
        unique = sorted(set(sequences))
        assert unique == list(range(unique[0], unique[-1] + 1))  # no gap after the snapshot
    book = node.engine.products["BTC-USD"].book
    truth = MirrorBook.of(book)
    woken.attach(Session("127.0.0.1", 10))  # nothing in flight: exact at once
    for feed in (kept, woken):
        mirror = feed.hub.state.products["BTC-USD"].book
        assert (mirror.orders, mirror.bids, mirror.asks) == (truth.orders, truth.bids,
                                                             truth.asks)


def test_no_connection_leaves_the_mirror_untouched_and_keeps_last_match() -> None:
    node = _node()
    journal = node.journal
    assert isinstance(journal, GatedJournal)
    feed = Feed(node)
    node.listeners.append(Batched(feed.on_batch))
    before = feed.hub
    traffic = Traffic(node)

    async def scenario() -> None:
        journal.gate.set()
        await traffic.run(5)

    asyncio.run(scenario())
    assert not feed.live and feed.hub is before
    assert not before.state.products["BTC-USD"].book.orders  # never fed: it slept
    assert feed._last_matches["BTC-USD"].trade_id == node.market.last_trade("BTC-USD").trade_id  # type: ignore[union-attr]
    session = Session("127.0.0.1", 10**6)
    feed.attach(session)
    assert feed.hub is not before
    product = feed.hub.state.products["BTC-USD"]
    assert product.last_match is not None
    assert product.last_match.trade_id == node.market.last_trade("BTC-USD").trade_id  # type: ignore[union-attr]
    assert product.sequence == node.engine.products["BTC-USD"].sequence


def test_a_connection_waking_the_feed_is_served_once_what_it_shows_is_durable() -> None:
    """Through the ASGI endpoint: the first connection, made while orders are in flight,
    has its subscribe read only once they are durable; its snapshot is the book then. A
    connection waiting so when the node stops is let go, and the feed sleeps again."""
    node = _node()
    journal = node.journal
    assert isinstance(journal, GatedJournal)
    feed = Feed(node, FeedLimits(rate_limits=False))
    node.listeners.append(Batched(feed.on_batch))
    traffic = Traffic(node)

    async def scenario() -> None:
        journal.gate.set()
        await traffic.run(3)
        journal.gate.clear()
        pending = traffic.start(2)
        await settle()
        client = FakeClient()
        client.inbox.put_nowait({"type": "websocket.connect"})
        client.say({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["level2"],
                    **auth_fields(ALICE)})
        served = asyncio.create_task(feed(SCOPE, client.receive, client.send))
        await settle()
        assert feed.live and client.sent == [{"type": "websocket.accept"}]  # waiting
        journal.gate.set()
        await asyncio.gather(*pending)
        for _ in range(20):
            await asyncio.sleep(0.01)
            if len(client.frames()) >= 2:
                break
        book = node.engine.products["BTC-USD"].book
        snapshot = client.frames()[1]
        assert snapshot["type"] == "snapshot"
        assert {_units(p) for p, _ in snapshot["bids"]} == {
            p for p, level in book.bids.items() if level.count}
        client.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(served, 2)
        assert not feed.live and not feed.sessions

        journal.gate.clear()
        pending = traffic.start(1)
        await settle()
        second = FakeClient()
        second.inbox.put_nowait({"type": "websocket.connect"})
        served = asyncio.create_task(feed(SCOPE, second.receive, second.send))
        await settle()
        assert feed.live
        journal.fail_with = OSError("disk gone")
        journal.gate.set()
        await asyncio.wait_for(served, 2)  # the node stopped: the connection is let go
        assert not feed.live and not feed.sessions
        await asyncio.gather(*pending, return_exceptions=True)

    asyncio.run(scenario())


def _units(text: str) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * 10**8 + int(fraction.ljust(8, "0")[:8])
