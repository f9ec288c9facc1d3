"""The core's replay rules (``sandex.core.replay``), command by command on a bare engine:
recorded orders matched by the engine, cancels that never resurrect, level-2 synthetic
queues with their debt, and a journal replay that lands on the same state hash."""

from __future__ import annotations

import msgspec

from sandex.core import (
    REPLAY_PROFILE_ID,
    AddProduct,
    Command,
    CreateProfile,
    Deposit,
    EndReplay,
    Engine,
    Event,
    Matched,
    PlaceOrder,
    Rejected,
    ReplayAdd,
    ReplayBatch,
    ReplayBook,
    ReplayCancel,
    ReplayLevel,
    ReplayMarket,
    ReplayReduce,
    ReplayTake,
    Side,
    StartReplay,
    check_invariants,
    state_hash,
)
from sandex.core.image import export, restore
from sandex.node.codec import decode, encode

T0 = 1_700_000_000_000_000
UNIT = 10**8  # one base unit or one quote unit of price, in 1e-8
BUY, SELL = Side.BUY, Side.SELL
P = "BTC-USD"


class Venue:
    """An engine with BTC-USD and a user "bot", every command kept (for the replay check)."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.commands: list[Command] = []
        self.t = T0
        self.run(AddProduct(time=0, product_id=P, base_currency="BTC", quote_currency="USD",
                            base_increment=UNIT // 1000, quote_increment=UNIT // 100,
                            min_market_funds=10 * 10**16))
        self.run(CreateProfile(time=0, profile_id="bot", user_id="u-bot", name="bot",
                               maker_fee_rate=0, taker_fee_rate=0))
        for currency in ("BTC", "USD"):
            self.run(Deposit(time=0, profile_id="bot", currency=currency,
                             amount=10**6 * 10**16, transfer_id=f"d-{currency}"))
        self.run(StartReplay(time=0, source="rec.jsonl", sha256="ab" * 32,
                             format="coinbase-full", products=(P,), seed="s"))

    def run(self, command: Command) -> list[Event]:
        self.t += 1
        command = msgspec.structs.replace(command, time=self.t)
        events = self.engine.apply(command)
        if not (events and type(events[0]) is Rejected):
            self.commands.append(command)
        check_invariants(self.engine)
        return events

    def batch(self, *actions: object) -> list[Event]:
        return self.run(ReplayBatch(time=0, actions=tuple(actions), events=len(actions),
                                    line=len(actions), source_time=T0))

    def bot(self, order_id: str, side: Side, price: int, size: int) -> list[Event]:
        return self.run(PlaceOrder(time=0, order_id=order_id, profile_id="bot", product_id=P,
                                   side=side, price=price * UNIT, size=size * UNIT // 10))

    def level(self, side: Side) -> list[tuple[int, int, str]]:
        """(price, size, owner) of each resting order on one side, best first, queue order."""
        book = self.engine.products[P].book
        return [(o.price // UNIT, o.remaining * 10 // UNIT,
                 "bot" if o.profile_id == "bot" else "replay")
                for level in book.sorted_levels(side) for o in level.live()]


def add(order_id: str, side: Side, price: int, tenths: int) -> ReplayAdd:
    return ReplayAdd(product_id=P, order_id=order_id, side=side, price=price * UNIT,
                     size=tenths * UNIT // 10)


def trades(events: list[Event]) -> list[tuple[str, str, int, int]]:
    return [(e.maker_order_id, e.taker_order_id, e.price // UNIT, e.size * 10 // UNIT)
            for e in events if type(e) is Matched]


def test_recorded_orders_trade_with_each_other_under_their_recorded_ids() -> None:
    venue = Venue()
    venue.batch(add("m1", SELL, 100, 5), add("m2", SELL, 101, 5))
    events = venue.batch(add("t1", BUY, 101, 7))
    assert trades(events) == [("m1", "t1", 100, 5), ("m2", "t1", 101, 2)]
    events = venue.batch(ReplayMarket(product_id=P, order_id="t2", side=BUY, size=UNIT // 10))
    assert trades(events) == [("m2", "t2", 101, 1)]
    state = venue.engine.replay
    assert state is not None and state.reproduced_trades == 3 and state.user_fills == 0
    assert venue.level(SELL) == [(101, 2, "replay")]
    # done orders of the replay are forgotten (memory stays flat), a user never sees them
    assert "m1" not in venue.engine.orders and "t1" not in venue.engine.orders
    replay_profile = venue.engine.profiles[REPLAY_PROFILE_ID]
    assert replay_profile.maker_rate == replay_profile.taker_rate == 0


def test_a_recorded_taker_hits_the_bots_better_price_and_the_maker_it_missed_is_canceled(
) -> None:
    venue = Venue()
    venue.batch(add("m1", SELL, 101, 5))
    venue.bot("b1", SELL, 100, 3)  # better than the recorded maker
    events = venue.batch(add("t1", BUY, 101, 5))
    assert trades(events) == [("b1", "t1", 100, 3), ("m1", "t1", 101, 2)]
    assert venue.engine.replay is not None and venue.engine.replay.user_fills == 1
    # history's "done filled" of m1 arrives: what is left of it goes, at the recorded time
    venue.batch(ReplayCancel(product_id=P, order_id="m1"))
    assert venue.level(SELL) == []


def test_cancels_never_resurrect_consumed_liquidity_and_reduce_keeps_the_queue() -> None:
    venue = Venue()
    venue.batch(add("m1", SELL, 100, 5), add("m2", SELL, 100, 5))
    venue.bot("b1", SELL, 100, 2)  # queued behind m1 and m2
    venue.bot("t-bot", BUY, 100, 5)  # the bot takes all of m1
    venue.batch(ReplayCancel(product_id=P, order_id="m1"))  # history cancels m1: gone already
    assert venue.engine.replay is not None and venue.engine.replay.cancels_noop == 1
    venue.batch(ReplayReduce(product_id=P, order_id="m2", size=UNIT // 10 * 3))
    assert venue.level(SELL) == [(100, 2, "replay"), (100, 2, "bot")]  # m2 kept its place
    venue.batch(ReplayCancel(product_id=P, order_id="m2"))  # a cancel ahead advances the bot
    assert venue.level(SELL) == [(100, 2, "bot")]


def test_level2_levels_are_queues_of_synthetic_orders_with_debt() -> None:
    venue = Venue()
    venue.batch(ReplayBook(product_id=P, bids=((99 * UNIT, UNIT),), asks=((100 * UNIT, UNIT),)))
    venue.bot("b1", SELL, 100, 5)  # joins behind the replay's 1.0 at 100
    venue.batch(ReplayLevel(product_id=P, side=SELL, price=100 * UNIT, size=2 * UNIT))
    assert venue.level(SELL) == [(100, 10, "replay"), (100, 5, "bot"), (100, 10, "replay")]
    # the recorded level shrinks by 1.5: from the back, never the bot's
    venue.batch(ReplayLevel(product_id=P, side=SELL, price=100 * UNIT, size=UNIT // 2))
    assert venue.level(SELL) == [(100, 5, "replay"), (100, 5, "bot")]
    # the bot buys 0.5 at 100: it takes the replay's 0.5 (first in the queue) ...
    venue.bot("t-bot", BUY, 100, 5)
    # ... and a recorded update that knows nothing of it does not refill it (debt 0.5)
    venue.batch(ReplayLevel(product_id=P, side=SELL, price=100 * UNIT, size=UNIT))
    assert venue.level(SELL) == [(100, 5, "bot"), (100, 5, "replay")]
    state = venue.engine.replay
    assert state is not None and state.consumed == {P: UNIT // 2}
    assert state.debt == {(P, SELL, 100 * UNIT): UNIT // 2}
    # a recorded trade of 0.7 bought at 100 hits the bot first (it is ahead now)
    events = venue.batch(ReplayTake(product_id=P, side=BUY, price=100 * UNIT,
                                    size=UNIT // 10 * 7))
    assert [(m, p, s) for m, _t, p, s in trades(events)] == [("b1", 100, 5)] + [
        (venue_id, 100, 2) for venue_id in [trades(events)[1][0]]]
    assert state.debt == {(P, SELL, 100 * UNIT): 0}
    # the level recorded empty clears the debt; a new size comes back whole
    venue.batch(ReplayLevel(product_id=P, side=SELL, price=100 * UNIT, size=0))
    venue.batch(ReplayLevel(product_id=P, side=SELL, price=100 * UNIT, size=UNIT))
    assert venue.level(SELL) == [(100, 10, "replay")] and (P, SELL, 100 * UNIT) not in state.debt


def test_a_new_book_resets_replay_levels_and_leaves_user_orders() -> None:
    venue = Venue()
    venue.batch(ReplayBook(product_id=P, bids=((99 * UNIT, UNIT), (98 * UNIT, UNIT)),
                           asks=((101 * UNIT, UNIT),)))
    venue.bot("b1", BUY, 98, 5)
    venue.batch(ReplayBook(product_id=P, bids=((97 * UNIT, UNIT),),
                           asks=((100 * UNIT, 2 * UNIT),)))
    assert venue.level(BUY) == [(98, 5, "bot"), (97, 10, "replay")]
    assert venue.level(SELL) == [(100, 20, "replay")]


def test_end_with_clear_cancels_replay_orders_and_a_second_start_needs_an_end() -> None:
    venue = Venue()
    venue.batch(add("m1", SELL, 100, 5))
    again = venue.run(StartReplay(time=0, source="x", sha256="0" * 64, format="tardis",
                                  products=(P,), seed="s"))
    assert type(again[0]) is Rejected and again[0].message == "A replay is loaded: unload it first"
    venue.run(EndReplay(time=0, clear=True))
    assert venue.level(SELL) == []
    late = venue.batch(add("m2", SELL, 100, 5))
    assert type(late[0]) is Rejected and late[0].message == "No replay is loaded"


def test_journal_replay_and_snapshot_image_give_the_same_state() -> None:
    venue = Venue()
    venue.batch(ReplayBook(product_id=P, bids=((99 * UNIT, UNIT),), asks=((100 * UNIT, UNIT),)))
    venue.bot("b1", SELL, 100, 5)
    venue.bot("t-bot", BUY, 100, 5)
    venue.batch(ReplayLevel(product_id=P, side=SELL, price=100 * UNIT, size=3 * UNIT),
                add("m1", BUY, 99, 4), ReplayTake(product_id=P, side=SELL, price=99 * UNIT,
                                                  size=UNIT // 10))
    fresh = Engine()
    for command in venue.commands:  # through the journal's codec, as recovery reads it
        fresh.apply(decode(encode(command)))  # type: ignore[arg-type]
    assert state_hash(fresh) == state_hash(venue.engine)
    assert state_hash(restore(export(venue.engine))) == state_hash(venue.engine)
