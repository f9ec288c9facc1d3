"""Shared by the node tests: a journal whose writes wait for the test, and a small venue."""

from __future__ import annotations

import asyncio
import threading

from sandex.core import AddProduct, CreateProfile, Deposit, OrderType, PlaceOrder, Side
from sandex.journal import MemoryJournal
from sandex.node import Ids, ManualClock, Node

T0 = 1_700_000_000_000_000


class GatedJournal(MemoryJournal):
    """A journal whose appends block (on the writer thread) until the test opens the gate."""

    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.batches: list[int] = []
        self.fail_with: BaseException | None = None

    def append(self, records: list[bytes]) -> int:
        assert threading.current_thread() is not threading.main_thread(), "fsync on the loop"
        self.gate.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        self.batches.append(len(records))
        return super().append(records)


def venue(journal: MemoryJournal | None = None, clock: ManualClock | None = None) -> Node:
    """A node with BTC-USD and profile ``a`` holding plenty of USD."""
    node = Node(clock=clock or ManualClock(T0), ids=Ids(seed=5), journal=journal)
    node.apply(AddProduct(time=node.stamp(), product_id="BTC-USD", base_currency="BTC",
                          quote_currency="USD", base_increment=1, quote_increment=10**6,
                          min_market_funds=0))
    node.apply(CreateProfile(time=node.stamp(), profile_id="a", user_id="a", name="a",
                             maker_fee_rate=0, taker_fee_rate=0))
    node.apply(Deposit(time=node.stamp(), profile_id="a", currency="USD", amount=10**24,
                       transfer_id="t"))
    return node


def bid(node: Node, price: int = 100, client_oid: str | None = None) -> PlaceOrder:
    return PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(), profile_id="a",
                      product_id="BTC-USD", side=Side.BUY, type=OrderType.LIMIT,
                      price=price * 10**8, size=10**8, client_oid=client_oid)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)
