"""The demo's loop: observe the engine, let the maker and the taker decide, send commands.

Its orders are ordinary commands from its own two profiles, stamped by the node and journaled
like anyone's. A refused command (an order filled meanwhile, a quote that would now cross)
is logged at debug level and forgotten: the next tick observes again and corrects. Nothing it
does can stop the server; it ends when its task is canceled or the journal fails.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sandex.core import (
    CancelAll,
    CancelOrder,
    Command,
    Done,
    Engine,
    Event,
    OrderType,
    PlaceOrder,
    Rejected,
    Status,
)
from sandex.demo.config import DemoConfig
from sandex.demo.maker import MarketMaker
from sandex.demo.model import Cancel, Intent, OwnOrder, Place, ProductView
from sandex.demo.taker import Taker
from sandex.node import Node
from sandex.node.node import NodeStopped

if TYPE_CHECKING:
    from sandex.core.book import Level

log = logging.getLogger("sandex.demo")

OPEN = Status.OPEN


async def run_demo(node: Node, config: DemoConfig, *, ticks: int | None = None) -> None:
    """Trade on ``node`` every ``config.tick_seconds`` until canceled (or for ``ticks`` ticks).

    On a restart the maker finds its open orders in the engine and keeps those that still
    fit its ladder. Missing profiles or products are logged once and left out.
    """
    for problem in problems(node.engine, config):
        log.warning("demo: %s", problem)
    if config.maker_profile_id not in node.engine.profiles:
        return
    maker = MarketMaker(config)
    taker = Taker(config) if config.taker_profile_id in node.engine.profiles else None
    log.info("demo liquidity on %s, a tick every %g s (seed %d)",
             ", ".join(p.product_id for p in config.products), config.tick_seconds, config.seed)
    done = failures = 0
    while ticks is None or done < ticks:
        if node.failure is not None:
            return
        try:
            await tick(node, config, maker, taker)
        except NodeStopped:
            return  # the node accepts nothing more; the server is stopping
        except Exception:  # a bug here must not take the venue down
            failures += 1
            log.warning("demo: tick failed (%d so far); going on", failures,
                        exc_info=failures == 1)
        done += 1
        if ticks is None or done < ticks:
            await node.sleep(config.tick_seconds)  # venue time: scaled or frozen with it


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


async def tick(node: Node, config: DemoConfig, maker: MarketMaker,
               taker: Taker | None) -> int:
    """One round: observe, decide, execute. Returns how many commands were journaled.

    The commands run as concurrent tasks so one group commit covers them; each is stamped
    and applied in its task's first step, and tasks start in creation order, so they are
    applied in the order decided (a level's cancel before its replacement).
    """
    observation = observe(node.engine, config)
    intents: list[tuple[str, Intent]] = [(config.maker_profile_id, i)
                                         for i in maker.decide(observation)]
    if taker is not None:
        intents += [(config.taker_profile_id, i) for i in taker.decide(observation)]
    if not intents:
        return 0
    results = await asyncio.gather(*(_send(node, profile_id, intent)
                                     for profile_id, intent in intents),
                                   return_exceptions=True)
    journaled = 0
    for (_, intent), result in zip(intents, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        if result and type(result[0]) is Rejected:
            log.debug("demo: %s refused: %s", intent, result[0].message)
        else:
            journaled += 1
    return journaled


async def _send(node: Node, profile_id: str, intent: Intent) -> list[Event]:
    return await node.execute(to_command(node, profile_id, intent))


def to_command(node: Node, profile_id: str, intent: Intent) -> Command:
    """``intent`` as a command from ``profile_id``, stamped now with a fresh order id."""
    if isinstance(intent, Cancel):
        return CancelOrder(time=node.stamp(), profile_id=profile_id, order_id=intent.order_id,
                           product_id=intent.product_id)
    assert isinstance(intent, Place)
    return PlaceOrder(
        time=node.stamp(), order_id=node.ids.uuid(), profile_id=profile_id,
        product_id=intent.product_id, side=intent.side,
        type=OrderType.LIMIT if intent.price is not None else OrderType.MARKET,
        price=intent.price, size=intent.size, time_in_force=intent.time_in_force,
        post_only=intent.post_only)


def observe(engine: Engine, config: DemoConfig) -> dict[str, ProductView]:
    """What the demo sees of each configured product the venue has (read-only)."""
    maker_id = config.maker_profile_id
    own: dict[str, list[OwnOrder]] = {}
    profile = engine.profiles.get(maker_id)
    if profile is not None:
        for order in profile.live.values():  # arrival order
            if order.status is OPEN:
                own.setdefault(order.product_id, []).append(OwnOrder(
                    order.id, order.side, order.price, order.remaining))  # type: ignore[arg-type]
    views: dict[str, ProductView] = {}
    for wanted in config.products:
        product = engine.products.get(wanted.product_id)
        if product is None:
            continue
        book = product.book
        views[product.id] = ProductView(
            product.id, product.status, product.quote_increment, product.base_increment,
            product.min_market_funds, book.best_bid(), book.best_ask(),
            _others_best(book.bids, maker_id, descending=True),
            _others_best(book.asks, maker_id, descending=False),
            product.last_price, tuple(own.get(product.id, ())))
    return views


def _others_best(levels: dict[int, Level], maker_id: str, descending: bool) -> int | None:
    """The best price on one side with an order that is not the maker's."""
    for price in sorted(levels, reverse=descending):
        if any(order.profile_id != maker_id for order in levels[price].live()):
            return price
    return None


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
