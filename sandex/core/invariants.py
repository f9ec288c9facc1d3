"""Invariants of the whole engine, and a hash of its state.

``check_invariants`` runs after every step of every core test: a broken invariant is a bug
in the engine, never a client's mistake, so it raises ``AssertionError`` naming what broke.
``state_hash`` is a digest of everything that decides future events; two engines with equal
hashes answer every future command alike.
"""

from __future__ import annotations

import hashlib

from sandex.core.book import keeps_level, level_is
from sandex.core.holds import limit_buy_hold
from sandex.core.lifecycle import LIVE
from sandex.core.model import WITHDRAW, Order, OrderType, Side, Status
from sandex.core.records import keeps_product, product_is
from sandex.core.state import State
from sandex.units import SIZE_TO_AMOUNT


def check_invariants(engine: State) -> None:
    """Assert the book is sane, holds match live orders, and every currency is conserved."""
    queued: set[str] = set()  # the pending orders that halts keep off the books
    for product in engine.products.values():
        _check_book(engine, product.id)
        for order in product.halted or ():
            if order.status is Status.PENDING:
                assert order.product_id == product.id and order.stop is None, order.id
                assert order.id not in queued, f"{order.id} queued twice"
                queued.add(order.id)
                orders = engine.profiles[order.profile_id]._orders
                assert 0 <= order._live_at < len(orders) and orders[order._live_at] is order, (
                    f"{order.id} queued but not live")
    held: dict[int, int] = {}
    for profile in engine.profiles.values():
        # the live orders' list (``records.link``): each where it says, ``_dead`` places
        # ``None`` and never the last, no order twice
        assert not profile._orders or profile._orders[-1] is not None, f"{profile.id} tail"
        assert sum(o is None for o in profile._orders) == profile._dead, f"{profile.id} dead"
        for at, listed in enumerate(profile._orders):
            assert listed is None or listed._live_at == at, f"{listed.id} not at its place"
        live = profile.live
        assert len(live) + profile._dead == len(profile._orders), f"{profile.id} twice"
        for order in live.values():
            assert order.status in LIVE or order.id in queued, (
                f"{order.id} in live with status {order.status}")
            assert engine.orders.get(order.id) is order, f"{order.id} live but not on record"
            assert (product_is(order, engine.products[order.product_id])
                    or not keeps_product(order)), f"{order.id} keeps another product"
            _check_order(order)
            key = id(order.hold_account)
            held[key] = held.get(key, 0) + order.hold
        counts: dict[str, int] = {}
        for order in live.values():
            counts[order.product_id] = counts.get(order.product_id, 0) + 1
            # its tally is its profile's for its product (a done order reaches both by it)
            tally = order._tally
            assert tally is not None and tally is profile._tallies.get(order.product_id), (
                f"{order.id} has not its profile's tally for {order.product_id}")
            assert tally.profile is profile, f"{order.id}'s tally is another profile's"
            product = engine.products[order.product_id]
            for kept, currency in ((tally.base, product.base_currency),
                                   (tally.quote, product.quote_currency)):
                assert kept is None or kept is profile.accounts.get(currency), (
                    f"{profile.id}'s tally for {order.product_id} keeps a stray {currency}")
        for product_id, count in profile.open_count.items():
            assert counts.get(product_id, 0) == count, f"open count of {profile.id} {product_id}"
        for transfer in engine.pending_transfers.values():
            if transfer.profile_id == profile.id and transfer.kind == WITHDRAW:
                key = id(profile.accounts[transfer.currency])
                held[key] = held.get(key, 0) + transfer.amount
        for account in profile.accounts.values():
            assert account.hold == held.get(id(account), 0), (
                f"hold of {profile.id} {account.currency}: {account.hold} != "
                f"{held.get(id(account), 0)} held by its live orders and withdrawals")
            assert account.hold >= 0 and account.balance >= account.hold, (
                f"{profile.id} {account.currency} balance {account.balance} hold {account.hold}")
    for currency, supply in engine.supply.items():
        total = engine.fee_accounts[currency].balance + sum(
            p.accounts[currency].balance for p in engine.profiles.values()
            if currency in p.accounts)
        assert total == supply, f"{currency} total {total} != deposits - withdrawals {supply}"
    for order in engine.orders.values():
        if order.status is Status.DONE:
            assert order.hold == 0 and order.filled_size > 0, f"done order {order.id} on record"


def _check_order(order: Order) -> None:
    if order.size is not None:
        assert 0 <= order.filled_size <= order.size, f"{order.id} filled beyond size"
    remaining, price = order.remaining, order.price
    if order.type is OrderType.LIMIT and order.side is Side.BUY:
        assert remaining is not None and price is not None, order.id
        expected = limit_buy_hold(remaining, price, order.hold_rate)
        assert order.hold == expected, f"{order.id} hold {order.hold} != {expected}"
    elif order.side is Side.SELL and order.size is not None:
        assert remaining is not None, order.id
        assert order.hold == remaining * SIZE_TO_AMOUNT, f"{order.id} sell hold"


def _check_book(engine: State, product_id: str) -> None:
    book = engine.products[product_id].book
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is None or ask is None or bid < ask, f"{product_id} crossed: {bid} >= {ask}"
    # compiled, each side's C index names exactly its dict's levels, each at its price
    assert book.index_agrees(), f"{product_id} index disagrees with the levels"
    for levels, side in ((book.bids, Side.BUY), (book.asks, Side.SELL)):
        for price, level in levels.items():
            assert book.find(side is Side.BUY, price) is level, f"{product_id} find {price}"
            live = level.live()
            assert live, f"{product_id} empty level {price}"
            assert level.count == len(live), f"{product_id} level {price} count"
            assert level.size == sum(o.remaining or 0 for o in live), f"{product_id} {price} size"
            for order in live:
                assert order.price == price and order.side is side and order.remaining, order.id
                # the level it keeps is this one (none once unpickled: found by price)
                assert level_is(order, level) or not keeps_level(order), (
                    f"{order.id} keeps another level than {price}")
    if bid is not None:  # the best level kept is the one at the best price (``take``'s)
        assert bid == max(book.bids) and book.bids[bid] is book._best_bid
    if ask is not None:
        assert ask == min(book.asks) and book.asks[ask] is book._best_ask


def state_hash(engine: State) -> str:
    """SHA-256 over a canonical rendering of all state that decides future events."""
    digest = hashlib.sha256()
    for product in sorted(engine.products.values(), key=lambda p: p.id):
        digest.update(repr((product.id, product.status, product.sequence, product.trade_id,
                            product.last_price, product.book.level3(),
                            [o.id for o in product.stops.orders()])).encode())
    for profile in sorted(engine.profiles.values(), key=lambda p: p.id):
        digest.update(repr((profile.id, profile.maker_rate, profile.taker_rate, sorted(
            (a.currency, a.balance, a.hold) for a in profile.accounts.values()))).encode())
    for order in sorted(engine.orders.values(), key=lambda o: o.number):
        digest.update(repr((order.id, order.status, order.remaining, order.funds_remaining,
                            order.hold, order.filled_size, order.executed_value,
                            order.fill_fees)).encode())
    digest.update(repr((sorted((c, a.balance) for c, a in engine.fee_accounts.items()),
                        engine.clock, engine._entry_id, engine._order_number)).encode())
    replay = engine.replay
    if replay is not None:  # added later: a venue that never replayed hashes as before
        for name in sorted(replay.__slots__):
            value = getattr(replay, name)
            digest.update(repr((name, sorted(value.items()) if isinstance(value, dict)
                                else value)).encode())
    if not engine.client_oid_dedup:  # added later: a venue at its default hashes as before
        digest.update(b"client_oid_dedup=False")
    halted = [(p.id, [o.id for o in p.halted if o.status is Status.PENDING])
              for p in sorted(engine.products.values(), key=lambda p: p.id)
              if p.halted is not None]
    if halted:  # added later: a venue with matching running everywhere hashes as before
        digest.update(repr(("halted", halted)).encode())
    inactive = sorted(p.id for p in engine.profiles.values() if not p.active)
    if inactive:  # added later: a venue whose profiles are all active hashes as before
        digest.update(repr(("inactive", inactive)).encode())
    if engine.conversions:  # added later, likewise
        digest.update(repr(("conversions", list(engine.conversions.values()))).encode())
    if engine.reports:  # added later, likewise
        digest.update(repr(("reports", list(engine.reports.values()))).encode())
    if engine.pending_transfers:  # added later: a venue with none pending hashes as before
        digest.update(repr(("transfers", list(engine.pending_transfers.values()))).encode())
    return digest.hexdigest()
