"""The views' kept references (compiled: ``sandex/views/kept.pxd``): a profile's dict or
list found where its id led last, without a probe, only while the dict that led there is
unchanged; a view's copy (its pickle: a snapshot in memory) keeps none of them, so what is
fed to the copy goes to the copy's dicts and lists, never to the original's."""

from __future__ import annotations

import pickle
from types import SimpleNamespace
from typing import Any

from sandex.core import Matched, Side
from sandex.views import FillsView, LedgerView, OrdersView
from tests.support.venue_kit import Venue

PROFILES = [f"profile-{i:02d}" for i in range(40)]  # more than the table's 32 slots


def _orders_view() -> tuple[OrdersView, dict[str, Any]]:
    on_record: dict[str, Any] = {}
    engine = SimpleNamespace(orders=SimpleNamespace(by_id=on_record))
    return OrdersView(engine), on_record  # type: ignore[arg-type]


def test_orders_view_follows_its_dicts() -> None:
    view, on_record = _orders_view()
    expected: dict[str, dict[str, Any]] = {}
    for n in range(400):
        profile, order_id = PROFILES[n * 7 % len(PROFILES)], f"order-{n}"
        hash(profile)
        on_record[order_id] = order = f"record-{n}"
        view.on_received(order_id, profile)
        expected.setdefault(profile, {})[order_id] = order
        if n == 150:  # a profile's dict replaced from outside: the next goes to the new one
            view.by_profile[PROFILES[0]], expected[PROFILES[0]] = {}, {}
        if n == 250:  # the whole dict rebound
            view.by_profile = {p: dict(o) for p, o in view.by_profile.items()}
        if n % 3 == 0:  # canceled and purged
            del on_record[order_id]
            view.on_cancel(order_id, profile)
            del expected[profile][order_id]
    assert view.by_profile == expected
    copy = pickle.loads(pickle.dumps(view))
    assert copy.by_profile == expected and copy.by_profile is not view.by_profile
    for n in range(400, 500):
        profile, order_id = PROFILES[n % len(PROFILES)], f"order-{n}"
        copy._on_record[order_id] = order = f"record-{n}"  # the copy's engine's
        copy.on_received(order_id, profile)
        expected.setdefault(profile, {})[order_id] = order
    assert copy.by_profile == expected
    assert not any(int(order_id[6:]) >= 400 for orders in view.by_profile.values()
                   for order_id in orders)


def _trade(fills: FillsView, n: int, maker: str, taker: str, product: str) -> None:
    fills.on_trade(n, product, f"m-{n % 50}", f"t-{n}", maker, taker, Side.BUY, 100 + n, 1, 0,
                   0, n)


def test_fills_view_copy_keeps_its_own_lists() -> None:
    view = FillsView()
    for n in range(300):
        _trade(view, n, PROFILES[n % 37], PROFILES[(n * 5 + 1) % 37],
               ("BTC-USD", "ETH-USD")[n % 2])
    copy = pickle.loads(pickle.dumps(view))
    before = {key: list(fills) for key, fills in view.by_product.items()}
    assert {key: list(fills) for key, fills in copy.by_product.items()} == before
    for n in range(300, 400):
        _trade(copy, n, PROFILES[n % 37], PROFILES[(n * 5 + 1) % 37],
               ("BTC-USD", "ETH-USD")[n % 2])
    assert {key: list(fills) for key, fills in view.by_product.items()} == before
    for key, fills in copy.by_product.items():  # one list each, shared by both indexes
        assert copy._lists[key[0]][key[1]] is fills
        assert [f.trade_id for f in fills] == sorted(f.trade_id for f in fills)
    assert sum(len(fills) for fills in copy.by_product.values()) == 800


def test_ledger_view_copy_keeps_its_own_tails() -> None:
    v = Venue()
    v.product("BTC-USD")
    matches: list[Matched] = []
    for name in ("alice", "bob"):
        v.profile(name, maker="0.004", taker="0.006")
        v.deposit(name, "USD", "100000")
        v.deposit(name, "BTC", "10")
    for step in range(10):
        maker, taker = ("alice", "bob") if step % 2 else ("bob", "alice")
        v.sell(maker, "100", "0.5")
        matches += [e for e in v.buy(taker, "100", "0.5")[1] if type(e) is Matched]
    product = v.engine.products["BTC-USD"]
    view, whole = LedgerView(), LedgerView()
    for m in matches[:5]:
        view.on_match(m, product)
    copy = pickle.loads(pickle.dumps(view))
    for m in matches[5:]:
        copy.on_match(m, product)
    for m in matches:
        whole.on_match(m, product)
    assert copy.entries == whole.entries
    early = LedgerView()
    for m in matches[:5]:
        early.on_match(m, product)
    assert view.entries == early.entries


def test_market_view_follows_its_products() -> None:
    from sandex.views.market import MarketView, ProductMarket

    view = MarketView()
    product = "BTC-USD"
    for n in range(10):
        view.on_trade(product, n, 60_000_000 * n, 100 + n, 1, Side.BUY)
    first = view.products[product]
    view.products[product] = replaced = ProductMarket()  # replaced: the next trade goes there
    view.on_trade(product, 10, 600_000_000, 110, 1, Side.BUY)
    assert [t.trade_id for t in first.trades] == list(range(10))
    assert [t.trade_id for t in replaced.trades] == [10]
    copy = pickle.loads(pickle.dumps(view))
    copy.on_trade(product, 11, 660_000_000, 111, 1, Side.BUY)
    assert [t.trade_id for t in copy.products[product].trades] == [10, 11]
    assert [t.trade_id for t in replaced.trades] == [10]
