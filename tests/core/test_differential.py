"""Differential test: the engine's book against a naive reference book (``reference_book``).

Random streams of limit orders (GTC, IOC, FOK, post-only) and cancels go into both. No two
orders that can meet share a profile (a new order takes a profile owning no resting order)
and funds are ample, so self-trade prevention and holds never change what the book does;
what is left is pure price-time matching. After every command the engine's level-3 book, its
fills ``(maker, taker, price, size)``, its ``done`` events and its cancel answers must equal
the reference's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from sandex.core import (
    AddProduct,
    CancelOrder,
    CreateProfile,
    Deposit,
    Done,
    Engine,
    Matched,
    Opened,
    PlaceOrder,
    Rejected,
    Side,
    TimeInForce,
    check_invariants,
)
from tests.core.reference_book import NaiveBook

T0 = 1_700_000_000_000_000
PRODUCT = "BTC-USD"
BASE_INC = 10**6  # 0.01 BTC
QUOTE_INC = 10**8  # 1 USD
MID = 100 * QUOTE_INC
COIN = 10**16  # one unit of a currency in amount units


@dataclass(frozen=True)
class Limit:
    side: str
    tick: int  # price = MID + tick * QUOTE_INC
    lots: int  # size = lots * BASE_INC
    tif: str = "GTC"
    post_only: bool = False


@dataclass(frozen=True)
class Cancel:
    back: int  # cancel the back-th most recently placed order (wraps around)


Op = Limit | Cancel


class Differential:
    """Drives the engine and the naive book side by side and compares them each step."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.naive = NaiveBook()
        self.time = T0
        self.placed: list[str] = []
        self.owner: dict[str, str] = {}  # resting order id -> its profile
        self.profile_of: dict[str, str] = {}  # every order id -> its profile
        self.free: list[str] = []  # profiles with no resting order
        self.profiles = 0
        self.step = 0
        self.apply(AddProduct(time=self.time, product_id=PRODUCT, base_currency="BTC",
                              quote_currency="USD", base_increment=BASE_INC,
                              quote_increment=QUOTE_INC, min_market_funds=0))

    def apply(self, command, check: bool = True):  # type: ignore[no-untyped-def]
        events = self.engine.apply(command)
        if check:
            check_invariants(self.engine)
        return events

    def profile(self) -> str:
        """A profile that owns no resting order, so STP can never fire."""
        if self.free:
            return self.free.pop()
        self.profiles += 1
        profile = f"p{self.profiles}"
        self.apply(CreateProfile(time=self.now(), profile_id=profile, user_id=profile,
                                 name=profile, maker_fee_rate=1000, taker_fee_rate=2500),
                   check=False)
        for currency in ("USD", "BTC"):
            self.apply(Deposit(time=self.now(), profile_id=profile, currency=currency,
                               amount=10**6 * COIN, transfer_id=f"t-{profile}-{currency}"),
                       check=False)
        return profile

    def now(self) -> int:
        self.time += 1
        return self.time

    def run(self, ops: list[Op]) -> None:
        for op in ops:
            self.step += 1
            if isinstance(op, Limit):
                self.limit(op)
            else:
                self.cancel(op)
            engine_l3 = self.engine.products[PRODUCT].book.level3()
            naive_l3 = self.naive.level3()
            assert engine_l3 == naive_l3, f"step {self.step} {op}: level 3 differs"
            resting = {order_id for side in naive_l3 for _, _, order_id in side}
            self.free = sorted({p for o, p in self.owner.items() if o not in resting}
                               | set(self.free))
            self.owner = {o: p for o, p in self.owner.items() if o in resting}

    def limit(self, op: Limit) -> None:
        order_id = f"o{len(self.placed)}"
        profile = self.owner[order_id] = self.profile()
        self.profile_of[order_id] = profile
        price, size = MID + op.tick * QUOTE_INC, op.lots * BASE_INC
        self.placed.append(order_id)
        events = self.apply(PlaceOrder(
            time=self.now(), order_id=order_id, profile_id=profile, product_id=PRODUCT,
            side=Side(op.side), price=price, size=size, time_in_force=TimeInForce(op.tif),
            post_only=op.post_only))
        expected = self.naive.place(order_id, op.side, price, size, op.tif, op.post_only)
        where = f"step {self.step} {op}"
        if expected.rejected:
            assert len(events) == 1 and isinstance(events[0], Rejected), where
            assert events[0].reason == "POST_ONLY_MODE", where
            return
        assert not any(isinstance(e, Rejected) for e in events), f"{where}: {events}"
        fills = [(e.maker_order_id, e.taker_order_id, e.price, e.size)
                 for e in events if isinstance(e, Matched)]
        assert fills == expected.fills, f"{where}: fills differ"
        done = [(e.order_id, e.reason.value) for e in events if isinstance(e, Done)]
        assert done == expected.done, f"{where}: done events differ"
        opened = [e.order_id for e in events if isinstance(e, Opened)]
        assert opened == ([order_id] if expected.rested else []), f"{where}: open differs"

    def cancel(self, op: Cancel) -> None:
        if not self.placed:
            return
        order_id = self.placed[-1 - op.back % len(self.placed)]
        events = self.apply(CancelOrder(time=self.now(), profile_id=self.profile_of[order_id],
                                        order_id=order_id, product_id=PRODUCT))
        expected = self.naive.cancel(order_id)
        where = f"step {self.step} cancel {order_id}"
        if expected == "canceled":
            assert len(events) == 1 and isinstance(events[0], Done), f"{where}: {events}"
            assert events[0].order_id == order_id and events[0].reason.value == "canceled"
        else:
            assert len(events) == 1 and isinstance(events[0], Rejected), f"{where}: {events}"
            reason = "ORDER_ALREADY_DONE" if expected == "already_done" else "ORDER_NOT_FOUND"
            assert events[0].reason == reason, where


# -- hypothesis ----------------------------------------------------------------------------------
limits = st.builds(
    Limit,
    side=st.sampled_from(["buy", "sell"]),
    tick=st.integers(-4, 4),
    lots=st.sampled_from([1, 2, 3, 5, 10]),
    tif=st.sampled_from(["GTC", "GTC", "GTC", "IOC", "FOK"]),
    post_only=st.sampled_from([False, False, False, False, True]),
).map(lambda o: Limit(o.side, o.tick, o.lots, o.tif, o.post_only and o.tif == "GTC"))
cancels = st.builds(Cancel, back=st.integers(0, 12))
ops = st.lists(st.one_of(limits, limits, limits, cancels), max_size=80)


@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ops)
def test_engine_book_matches_naive_book(ops: list[Op]) -> None:
    note(repr(ops))
    Differential().run(ops)


# -- seeded long runs ------------------------------------------------------------------------------
def random_ops(rng: random.Random, n: int, ticks: range, cancel_share: float,
               buy_share: float = 0.5) -> list[Op]:
    out: list[Op] = []
    for _ in range(n):
        if rng.random() < cancel_share:
            out.append(Cancel(rng.randrange(rng.choice([4, 16, 64]))))
            continue
        tif = rng.choice(["GTC"] * 6 + ["IOC", "FOK"])
        out.append(Limit("buy" if rng.random() < buy_share else "sell", rng.choice(ticks),
                         rng.choice([1, 1, 2, 3, 5, 8, 13]), tif,
                         tif == "GTC" and rng.random() < 0.1))
    return out


@pytest.mark.parametrize(("seed", "n", "ticks", "cancel_share", "buy_share"), [
    (1, 4000, range(-5, 6), 0.25, 0.5),  # a busy, often crossing book
    (2, 3000, range(-1, 2), 0.45, 0.5),  # three prices: deep queues, many cancels
    (3, 3000, range(-2, 3), 0.6, 0.8),  # mostly resting bids, canceled in bulk: queue compaction
])
def test_engine_book_matches_naive_book_seeded(seed: int, n: int, ticks: range,
                                               cancel_share: float, buy_share: float) -> None:
    rng = random.Random(seed)
    stream = random_ops(rng, n, ticks, cancel_share, buy_share)
    diff = Differential()
    try:
        diff.run(stream)
    except AssertionError as exc:
        raise AssertionError(f"seed {seed}: {exc}") from exc


def test_queue_compaction_keeps_priority() -> None:
    """Hundreds of orders on one level, most canceled out of order, then swept: the FIFO
    rebuild (``level_dead_slots_max``) must keep the survivors' time priority."""
    rng = random.Random(7)
    n = 400
    stream: list[Op] = [Limit("sell", 1, rng.choice([1, 2, 3])) for _ in range(n)]
    doomed = [i for i in range(n) if i % 5]  # keep every fifth order
    rng.shuffle(doomed)
    stream += [Cancel(n - 1 - i) for i in doomed]  # Cancel(back) counts from the newest
    stream += [Limit("sell", 1, 1) for _ in range(20)]
    stream += [Limit("buy", 1, 3, "IOC") for _ in range(30)]
    stream += [Limit("buy", 2, 500, "IOC")]
    diff = Differential()
    diff.run(stream)
    assert diff.engine.products[PRODUCT].book.level3() == ([], [])
