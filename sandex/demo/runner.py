"""The demo's timer: each tick observe the engine, let the maker and the taker decide, send.

The tick is a timer of the node's scheduler (``sandex.node.scheduler``): due every
``tick_seconds`` of venue time from its start, so it runs k times faster at rate k, pauses
while the clock is frozen, and an advance fires every tick it passes, each at its own time,
like running would. A tick's commands are stamped at its due time (due, due + 1 µs, ...),
applied in the order decided (a level's cancel before its replacement), one group commit per
tick. On the wall clock a tick late by a whole tick or more (a stalled process) is re-anchored
on now: one tick, not a burst of catch-up ticks.

Its orders are ordinary commands from its own two profiles, journaled like anyone's. A
refused command (an order filled meanwhile, a quote that would now cross) is logged at debug
level and forgotten: the next tick observes again and corrects. A failing tick is logged and
skipped. Nothing it does can stop the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from sandex.core import (
    CancelAll,
    CancelOrder,
    Command,
    Done,
    Engine,
    OrderType,
    PlaceOrder,
    Rejected,
    Side,
    Status,
)
from sandex.demo.config import DemoConfig
from sandex.demo.maker import MarketMaker
from sandex.demo.model import Cancel, Intent, OwnOrder, Place, ProductView
from sandex.demo.taker import Taker
from sandex.node import ClockMode, Node
from sandex.node.scheduler import Firing, Results

if TYPE_CHECKING:
    from sandex.core.book import Level

log = logging.getLogger("sandex.demo")

OPEN = Status.OPEN
Decided = list[tuple[str, Intent]]  # (profile id, intent), in the order to apply them


class DemoTimer:
    """The demo's tick as a scheduler timer (see the module); ``ticks`` caps how many fire
    (``None``: until removed), ``finished`` is set once they have."""

    kind, rank = "demo_ticks", 1  # at the same microsecond, after an expiry

    def __init__(self, node: Node, config: DemoConfig, first_due: int,
                 ticks: int | None = None) -> None:
        self._node, self._config = node, config
        self._tick_us = round(config.tick_seconds * 1_000_000)
        self._due: int | None = first_due
        self._left = ticks
        self.maker = MarketMaker(config)
        self.taker = Taker(config) if config.taker_profile_id in node.engine.profiles else None
        self.fired = self.failures = 0
        self.finished = asyncio.Event()

    def due(self, now: int) -> int | None:
        due = self._due
        if (due is not None and now - due >= self._tick_us
                and self._node.clock.mode is ClockMode.WALL):
            due = self._due = now  # a stalled wall-clock process: one tick now, no burst
        return due

    def fire(self, at: int) -> Firing:
        self.fired += 1
        if self._left is not None:
            self._left -= 1
        if self._left == 0:
            self._due = None
            self.finished.set()
        else:
            self._due = at + self._tick_us
        try:
            decided = self.decide()
        except Exception:  # a bug here must not take the venue down
            self.failures += 1
            log.warning("demo: tick failed (%d so far); going on", self.failures,
                        exc_info=self.failures == 1)
            return Firing(())
        return Firing(self._commands(decided, at), lambda results: _refused(decided, results))

    def rearm(self, now: int) -> None:
        """A restore took the venue back: tick from ``now`` with a maker and a taker as new
        (mid prices and random streams from the seed), so every run after a restore of one
        snapshot trades the same."""
        if self._due is not None:
            self._due = now
        self.maker = MarketMaker(self._config)
        self.taker = (Taker(self._config)
                      if self._config.taker_profile_id in self._node.engine.profiles else None)

    def decide(self) -> Decided:
        """This tick's intents from what the engine shows now, maker's first."""
        config = self._config
        observation = observe(self._node.engine, config)
        decided: Decided = [(config.maker_profile_id, i) for i in self.maker.decide(observation)]
        if self.taker is not None:
            decided += [(config.taker_profile_id, i) for i in self.taker.decide(observation)]
        return decided

    def _commands(self, decided: Decided, at: int) -> Iterator[Command]:
        for profile_id, intent in decided:
            yield to_command(self._node, profile_id, intent, at)


def _refused(decided: Decided, results: Results) -> int:
    """Log the tick's refused intents; a tick counts once."""
    for (_, intent), events in zip(decided, results, strict=True):
        if events and type(events[0]) is Rejected:
            log.debug("demo: %s refused: %s", intent, events[0].message)
    return 1


def start_demo(node: Node, config: DemoConfig, ticks: int | None = None) -> DemoTimer | None:
    """Add the demo's timer to ``node``'s scheduler, first due now (``None``: it cannot run).

    On a restart the maker finds its open orders in the engine and keeps those that still
    fit its ladder. Missing profiles or products are logged once and left out.
    """
    for problem in problems(node.engine, config):
        log.warning("demo: %s", problem)
    if config.maker_profile_id not in node.engine.profiles:
        return None
    timer = DemoTimer(node, config, node.now(), ticks)
    node.scheduler.add(timer)
    log.info("demo liquidity on %s, a tick every %g s (seed %d)",
             ", ".join(p.product_id for p in config.products), config.tick_seconds, config.seed)
    return timer


async def run_demo(node: Node, config: DemoConfig, *, ticks: int | None = None) -> None:
    """Trade on ``node`` every ``config.tick_seconds`` until canceled (or for ``ticks``
    ticks): the demo's timer with the node's scheduler running (``Scheduler.run``); for a
    node no server runs (tests, benchmarks)."""
    timer = start_demo(node, config, ticks)
    if timer is None:
        return
    runner = asyncio.create_task(node.scheduler.run())
    finished = asyncio.create_task(timer.finished.wait())
    try:
        await asyncio.wait((runner, finished), return_when=asyncio.FIRST_COMPLETED)
    finally:
        node.scheduler.remove(timer)
        for task in (runner, finished):
            task.cancel()
        await asyncio.gather(runner, finished, return_exceptions=True)
    if node.failure is None:
        await node.synced()


async def withdraw_quotes(node: Node, config: DemoConfig) -> int:
    """Cancel every open order of the maker (one journaled ``CancelAll``, only if it has any).

    For a venue started without the demo on a data dir where it ran before: otherwise its
    last quotes would rest, untended, until it runs again. Returns how many were canceled.
    """
    profile = node.engine.profiles.get(config.maker_profile_id)
    if profile is None or not any(o.status is OPEN for o in profile.live.values()):
        return 0
    events = await node.execute(CancelAll(time=node.stamp(), profile_id=profile.id))
    return sum(1 for event in events if type(event) is Done)


def to_command(node: Node, profile_id: str, intent: Intent, at: int) -> Command:
    """``intent`` as a command from ``profile_id``, stamped at ``at`` (or just after the
    previous stamp) with a fresh order id."""
    if isinstance(intent, Cancel):
        return CancelOrder(time=node.stamp_at(at), profile_id=profile_id,
                           order_id=intent.order_id, product_id=intent.product_id)
    assert isinstance(intent, Place)
    return PlaceOrder(
        time=node.stamp_at(at), order_id=node.ids.uuid(), profile_id=profile_id,
        product_id=intent.product_id, side=intent.side,
        type=OrderType.LIMIT if intent.price is not None else OrderType.MARKET,
        price=intent.price, size=intent.size, time_in_force=intent.time_in_force,
        post_only=intent.post_only)


def observe(engine: Engine, config: DemoConfig) -> dict[str, ProductView]:
    """What the demo sees of each configured product the venue has (read-only)."""
    maker_id = config.maker_profile_id
    own: dict[str, list[OwnOrder]] = {}
    resting: dict[tuple[str, Side, int], int] = {}  # the maker's open orders at each level
    profile = engine.profiles.get(maker_id)
    if profile is not None:
        for order in profile.live.values():  # arrival order
            if order.status is OPEN:
                own.setdefault(order.product_id, []).append(OwnOrder(
                    order.id, order.side, order.price, order.remaining))  # type: ignore[arg-type]
                key = (order.product_id, order.side, order.price)
                resting[key] = resting.get(key, 0) + 1  # type: ignore[index,arg-type]
    views: dict[str, ProductView] = {}
    for wanted in config.products:
        product = engine.products.get(wanted.product_id)
        if product is None:
            continue
        book = product.book
        views[product.id] = ProductView(
            product.id, product.status, product.quote_increment, product.base_increment,
            product.min_market_funds, book.best_bid(), book.best_ask(),
            _others_best(book.bids, resting, (product.id, Side.BUY), max),
            _others_best(book.asks, resting, (product.id, Side.SELL), min),
            product.last_price, tuple(own.get(product.id, ())))
    return views


def _others_best(levels: dict[int, Level], resting: dict[tuple[str, Side, int], int],
                 side: tuple[str, Side], best: Callable[[Iterable[int]], int]) -> int | None:
    """The best price (``best``: ``max`` of the bids, ``min`` of the asks) of one side with
    an order that is not the maker's: more live orders than the maker has open there."""
    product_id, which = side
    prices = [price for price, level in levels.items()
              if level.count > resting.get((product_id, which, price), 0)]
    return best(prices) if prices else None


def problems(engine: Engine, config: DemoConfig) -> list[str]:
    """What in ``config`` does not fit the venue (missing profiles or products, sizes or
    prices off the product's increments); each is logged, none stops the server."""
    found: list[str] = []
    for role, profile_id, off in (("maker", config.maker_profile_id, "the demo"),
                                  ("taker", config.taker_profile_id, "the taker")):
        if profile_id not in engine.profiles:
            found.append(f"{role} profile {profile_id} does not exist (a data dir created "
                         f"before the demo profiles?); {off} stays off")
    for wanted in config.products:
        product = engine.products.get(wanted.product_id)
        if product is None:
            found.append(f"product {wanted.product_id} does not exist; it is left out")
            continue
        if wanted.size % product.base_increment or wanted.size < product.base_increment:
            found.append(f"{wanted.product_id}: size is not a multiple of the base increment; "
                         "it is floored")
        if wanted.reference_price % product.quote_increment:
            found.append(f"{wanted.product_id}: reference_price is not a multiple of the quote "
                         "increment; it is floored")
        if wanted.size * wanted.reference_price < product.min_market_funds:
            found.append(f"{wanted.product_id}: size x reference_price is below the product's "
                         "min_market_funds; levels that small are left out")
    return found
