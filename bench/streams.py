"""Seeded synthetic order flow for ``bench/engine.py``.

``generate(n, seed)`` builds, before anything is timed, the setup commands (products,
profiles, generous deposits) and ``n`` trading commands made of the real ``sandex.core``
structs with real enum members:

* ~60 % limit orders (GTC) a few to ~50 ticks either side of a slowly random-walking mid,
  mostly resting; the walk makes some of them cross what rests on the other side;
* ~35 % cancels of random orders the generator knows to be live (and a few of done ones);
* ~5 % marketable orders: crossing limit IOC, market by size, market by funds.

The generator knows which orders are live because it runs every order through a shadow
``sandex.core.book.Book`` with the simple taker loop ``place`` below, which is also what the
"book alone" figure times. The shadow reproduces the engine's book exactly for this flow:
the default self-trade prevention (``dc``) changes remaining sizes exactly as a trade would,
and the deposits are large enough that no hold ever binds. So cancels hit live orders, no
profile passes the 500-open-orders limit, and the engine refuses only the deliberate cancels
of done orders.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from sandex.core.book import Book
from sandex.core.commands import (
    AddProduct,
    CancelOrder,
    Command,
    CreateProfile,
    Deposit,
    PlaceOrder,
)
from sandex.core.holds import net_funds
from sandex.core.limits import open_orders_per_product_max
from sandex.core.model import Account, Order, OrderType, Side, Status, TimeInForce
from sandex.units import AMOUNT_SCALE, PRICE_SCALE, SIZE_TO_AMOUNT

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
GTC, IOC = TimeInForce.GTC, TimeInForce.IOC
OPEN, DONE = Status.OPEN, Status.DONE
T0 = 1_700_000_000_000_000  # microseconds

# (product, base, quote, start price, quote increment, base increment, lot); prices and sizes
# in 1e-8 units. Limit sizes are 1..100 lots, marketable sizes 1..300 lots.
PRODUCTS = [
    ("BTC-USD", "BTC", "USD", 30_000 * PRICE_SCALE, PRICE_SCALE // 100, 1, 100_000),
    ("ETH-USD", "ETH", "USD", 2_000 * PRICE_SCALE, PRICE_SCALE // 100, 1, 1_000_000),
    ("SOL-USD", "SOL", "USD", 100 * PRICE_SCALE, PRICE_SCALE // 100, 1, 10_000_000),
    ("LTC-USD", "LTC", "USD", 70 * PRICE_SCALE, PRICE_SCALE // 100, 1, 10_000_000),
]

LIMIT_SHARE, CANCEL_SHARE = 0.60, 0.35  # the rest is marketable
DONE_CANCEL_SHARE = 0.03  # of cancels: aimed at an order already done (refused by the engine)
WALK_STEP = 0.05  # per command on a product: chance that its mid moves one tick
FAR_TICKS = 50  # limit orders rest 1..FAR_TICKS ticks from the mid, skewed to the near side
LIVE_CAP = open_orders_per_product_max - 20  # per profile and product, under the engine's limit


@dataclass
class Stream:
    setup: list[Command]
    commands: list[Command]
    # The same flow for the book alone: (op, product index, order index), op 0 = place the
    # order of ``places[order index]``, 1 = cancel it.
    book_ops: list[tuple[int, int, int]]
    places: list[PlaceOrder]
    increments: list[int]  # base increment per product index
    taker_rates: dict[str, int]  # per profile id
    mix: Counter[str] = field(default_factory=Counter)
    shadow_trades: int = 0
    shadow_resting: int = 0


def book_order(cmd: PlaceOrder, number: int, taker_rate: int, account: Account) -> Order:
    """An ``Order`` as the engine would make it from ``cmd``, for the book-alone runs."""
    funds_remaining = None
    if cmd.type is MARKET and cmd.funds is not None:
        funds_remaining = net_funds(cmd.funds, taker_rate) if cmd.side is BUY else cmd.funds
    return Order(
        cmd.order_id, number, cmd.profile_id, cmd.product_id, cmd.side, cmd.type, cmd.time,
        cmd.price, cmd.size, cmd.size, cmd.funds, cmd.funds, funds_remaining, cmd.time_in_force,
        None, False, cmd.stp, None, None, None, 0, taker_rate, taker_rate, account, account)


def place(book: Book, order: Order, increment: int) -> int:
    """Match ``order`` against ``book`` (price-time, at the maker's price), then rest a GTC
    limit remainder; returns the number of fills (and adds the size it took to the order's
    ``filled_size``). The simple taker of the book-alone figure.
    """
    buy = order.side is BUY
    levels = book.asks if buy else book.bids
    best = book.best_ask if buy else book.best_bid
    maker_side = SELL if buy else BUY
    limit = order.price if order.type is LIMIT else None
    remaining, funds = order.remaining, order.funds_remaining
    fills = filled = 0
    while remaining != 0:
        price = best()
        if price is None or (limit is not None and (price > limit if buy else price < limit)):
            break
        level = levels[price]
        queue = level.orders
        while level.count:
            maker = queue[0]
            if maker.status is not OPEN:
                queue.popleft()
                continue
            size = maker.remaining
            if remaining is not None and remaining < size:
                size = remaining
            if funds is not None:
                affordable = funds // price
                affordable -= affordable % increment
                if affordable < size:
                    size = affordable
                if size <= 0:
                    remaining = 0  # funds spent down to less than one increment
                    break
                funds -= size * price
            fills += 1
            filled += size
            level.size -= size
            maker.remaining -= size
            if maker.remaining == 0:
                maker.status = DONE
                queue.popleft()
                level.count -= 1
                if level.count == 0:
                    book.drop_level(maker_side, price)
            if remaining is not None:
                remaining -= size
                if remaining == 0:
                    break
    order.remaining, order.funds_remaining = remaining, funds
    order.filled_size += filled
    if remaining and limit is not None and order.time_in_force is GTC:
        order.status = OPEN
        book.add(order)
    else:
        order.status = DONE
    return fills


def cancel(book: Book, order: Order) -> bool:
    """Take a resting order out of the book, as the engine's cancel does."""
    if order.status is not OPEN:
        return False
    order.status = DONE
    book.remove(order, order.remaining)  # type: ignore[arg-type]
    return True


def generate(n: int, seed: int, n_products: int = 1, n_profiles: int = 8) -> Stream:
    """The setup commands and ``n`` trading commands, all stamped (1 µs apart)."""
    rng = random.Random(seed)
    rand, bits = rng.random, rng.getrandbits

    def randrange(k: int) -> int:
        return int(rand() * k)

    def randint(a: int, b: int) -> int:
        return a + int(rand() * (b - a + 1))

    specs = PRODUCTS[:n_products]
    t = T0
    setup: list[Command] = []
    for product_id, base, quote, _, quote_inc, base_inc, _ in specs:
        t += 1
        setup.append(AddProduct(time=t, product_id=product_id, base_currency=base,
                                quote_currency=quote, base_increment=base_inc,
                                quote_increment=quote_inc, min_market_funds=AMOUNT_SCALE))
    profiles = [f"{rng.getrandbits(128):032x}" for _ in range(n_profiles)]
    taker_rates: dict[str, int] = {}
    transfers = 0
    for i, profile_id in enumerate(profiles):
        maker_rate, taker_rate = 4000 - 500 * (i % 4), 6000 - 500 * (i % 4)  # 0.40 %, 0.60 %..
        taker_rates[profile_id] = taker_rate
        t += 1
        setup.append(CreateProfile(time=t, profile_id=profile_id, user_id=f"user-{i}",
                                   name=f"bench-{i}", maker_fee_rate=maker_rate,
                                   taker_fee_rate=taker_rate))
        for currency in sorted({c for spec in specs for c in spec[1:3]}):
            t += 1
            transfers += 1
            amount = 10**10 if currency == "USD" else 10**7  # whole units
            setup.append(Deposit(time=t, profile_id=profile_id, currency=currency,
                                 amount=amount * AMOUNT_SCALE, transfer_id=f"t-{transfers}"))

    account = Account("bench", "X")
    books = [Book() for _ in specs]
    mids = [spec[3] // spec[4] for spec in specs]  # in ticks
    ticks = [spec[4] for spec in specs]
    lots = [spec[6] for spec in specs]
    live: list[list[list[Order]]] = [[[] for _ in profiles] for _ in specs]
    done_recent: list[Order] = []
    commands: list[Command] = []
    book_ops: list[tuple[int, int, int]] = []
    places: list[PlaceOrder] = []
    mix: Counter[str] = Counter()
    fills = 0
    unit = ticks[0] * SIZE_TO_AMOUNT  # funds granularity: one quote increment in amount units

    def pick_live(p: int, who: int) -> Order | None:
        orders = live[p][who]
        while orders:
            j = randrange(len(orders))
            order = orders[j]
            if order.status is OPEN:
                orders[j] = orders[-1]
                orders.pop()
                return order
            orders[j] = orders[-1]
            orders.pop()
            if len(done_recent) < 4096:
                done_recent.append(order)
            else:
                done_recent[randrange(4096)] = order
        return None

    pruned_at = [[-1] * n_profiles for _ in specs]  # ``fills`` when each list was last pruned

    def at_cap(p: int, who: int) -> bool:
        orders = live[p][who]
        if len(orders) < LIVE_CAP:
            return False
        if pruned_at[p][who] != fills:  # fills since the last look: some may be gone
            orders[:] = [o for o in orders if o.status is OPEN]
            pruned_at[p][who] = fills
        return len(orders) >= LIVE_CAP

    for _ in range(n):
        t += 1
        p = randrange(n_products) if n_products > 1 else 0
        if rand() < WALK_STEP:
            mids[p] += 1 if rand() < 0.5 else -1
        tick, lot, book, product_id = ticks[p], lots[p], books[p], specs[p][0]
        who = randrange(n_profiles)
        r = rand()
        kind = ("limit" if r < LIMIT_SHARE
                else "cancel" if r < LIMIT_SHARE + CANCEL_SHARE else "marketable")
        if kind == "limit" and at_cap(p, who):
            kind = "cancel"
            mix["limit at cap -> cancel"] += 1
        if kind == "cancel":
            target = None
            if done_recent and rand() < DONE_CANCEL_SHARE:
                target = done_recent[randrange(len(done_recent))]
                mix["cancel of a done order"] += 1  # (also counted in "cancel")
            else:
                for k in range(n_profiles):
                    target = pick_live(p, (who + k) % n_profiles)
                    if target is not None:
                        break
            if target is None:
                kind = "limit"
                mix["cancel with nothing live -> limit"] += 1
            else:
                commands.append(CancelOrder(time=t, profile_id=target.profile_id,
                                            order_id=target.id))
                book_ops.append((1, p, target.number))
                cancel(book, target)
                mix["cancel"] += 1
                continue
        profile_id = profiles[who]
        side = BUY if rand() < 0.5 else SELL
        order_id = f"{bits(128):032x}"
        if kind == "limit":
            offset = 1 + int(FAR_TICKS * rand() ** 2)
            price = (mids[p] - offset if side is BUY else mids[p] + offset) * tick
            cmd = PlaceOrder(time=t, order_id=order_id, profile_id=profile_id,
                             product_id=product_id, side=side, price=price,
                             size=randint(1, 100) * lot)
        else:
            size = randint(1, 300) * lot
            r = rand()
            if r < 0.5:
                best = book.best_ask() if side is BUY else book.best_bid()
                if best is None:
                    best = mids[p] * tick
                through = randint(0, 5) * tick
                cmd = PlaceOrder(time=t, order_id=order_id, profile_id=profile_id,
                                 product_id=product_id, side=side,
                                 price=best + through if side is BUY else best - through,
                                 size=size, time_in_force=IOC)
                mix["marketable limit IOC"] += 1
            elif r < 0.75:
                cmd = PlaceOrder(time=t, order_id=order_id, profile_id=profile_id,
                                 product_id=product_id, side=side, type=MARKET, size=size)
                mix["marketable market size"] += 1
            else:
                funds = size * mids[p] * tick // unit * unit
                cmd = PlaceOrder(time=t, order_id=order_id, profile_id=profile_id,
                                 product_id=product_id, side=side, type=MARKET, funds=funds)
                mix["marketable market funds"] += 1
        mix[kind] += 1
        number = len(places)
        places.append(cmd)
        commands.append(cmd)
        book_ops.append((0, p, number))
        order = book_order(cmd, number, taker_rates[profile_id], account)
        fills += place(book, order, specs[p][5])
        if order.status is OPEN:
            live[p][who].append(order)
    resting = sum(level.count for b in books for lv in (b.bids, b.asks) for level in lv.values())
    return Stream(setup, commands, book_ops, places, [spec[5] for spec in specs], taker_rates,
                  mix, fills, resting)
