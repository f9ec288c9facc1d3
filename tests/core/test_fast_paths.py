"""The engine's inline fast paths give exactly what its general paths give.

``is_plain_limit``, the guard of the inline place, never admits an order that
``check_order`` would refuse, whatever the command and the product's rules; ``_place``
writes it inline, as the same expression.

``_place`` places a plain GTC limit order in one frame instead of going through
``_place_checked``; ``_cancel_order`` cancels an open order through ``_cancel_resting``
instead of ``lifecycle.cancel``. Here the same order flow runs both ways on twin engines,
and the events and the whole state must be identical after every command.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from sandex.core import (
    CancelAfter,
    CancelOrder,
    Engine,
    Order,
    OrderType,
    PlaceOrder,
    Product,
    ProductStatus,
    Side,
    Status,
    StopType,
    Stp,
    TimeInForce,
    check_invariants,
    state_hash,
    validation,
)
from sandex.core import engine as engine_module
from sandex.core.lifecycle import cancel
from sandex.core.model import ORDER_FIELDS
from sandex.core.validation import check_order, is_plain_limit, is_plain_market
from sandex.units import PRICE_SCALE, SIZE_TO_AMOUNT
from tests.support.venue_kit import Venue

PROFILES = ("alice", "bob", "carol")

orders = st.lists(
    st.tuples(st.sampled_from(PROFILES), st.sampled_from([Side.BUY, Side.SELL]),
              st.integers(95, 105), st.integers(1, 5), st.booleans(), st.booleans(),
              st.sampled_from([TimeInForce.GTC, TimeInForce.IOC])),
    min_size=1, max_size=40)


def venue() -> Venue:
    v = Venue()
    v.product("BTC-USD", min_market_funds="1")
    for name in PROFILES:
        v.profile(name, usd="100000", btc="100")
    return v


def place_command(v: Venue,
                  spec: tuple[str, Side, int, int, bool, bool, TimeInForce]) -> PlaceOrder:
    profile, side, price, lots, with_oid, post_only, time_in_force = spec
    order_id = v.next_id()
    return PlaceOrder(time=v.stamp(), order_id=order_id, profile_id=profile,
                      product_id="BTC-USD", side=side, price=price * 10**8,
                      size=lots * 10**7, post_only=post_only, time_in_force=time_in_force,
                      client_oid=f"c-{order_id}" if with_oid else None)


def state(engine: Engine) -> tuple[Any, ...]:
    """Everything the engine holds, as plain values (accounts by owner and currency)."""
    def plain(order: Order) -> tuple[Any, ...]:
        return tuple((a.profile_id, a.currency) if name in ("hold_account", "recv_account")
                     else a for name, a in ((n, getattr(order, n))
                                            for n in ORDER_FIELDS))

    return (state_hash(engine), engine._order_number, engine._entry_id,
            sorted(plain(o) for o in engine.orders.values()),
            sorted((p.id, oid, o.id) for p in engine.profiles.values()
                   for oid, o in p.by_client_oid.items()),
            sorted((p.id, k, n) for p in engine.profiles.values() for k, n in p.open_count.items()),
            [(p.id, list(p.live)) for p in engine.profiles.values()])


def general(engine: Engine, run: Any) -> list[Any]:
    """Run an engine method the way ``apply`` runs a handler; return its events."""
    events = engine._events = []
    run()
    return events


@settings(max_examples=60, deadline=None)
@given(orders)
def test_placing_a_plain_limit_order_inline_matches_the_general_path(specs: list) -> None:
    v = venue()
    twin = pickle.loads(pickle.dumps(v.engine))
    for spec in specs:
        cmd = place_command(v, spec)
        fast = v.apply(cmd)
        product, profile = twin.products[cmd.product_id], twin.profiles[cmd.profile_id]
        slow = general(twin, lambda: twin._place_checked(cmd, product, profile))  # noqa: B023
        check_invariants(twin)
        assert fast == slow
        assert state(v.engine) == state(twin)


markets = st.tuples(
    st.sampled_from((*PROFILES, "dave")), st.sampled_from([Side.BUY, Side.SELL]),
    st.one_of(st.none(), st.integers(1, 60)),  # lots of 0.1
    st.one_of(st.none(), st.integers(-1, 3_000_000)),  # funds in cents: some too small
    st.one_of(st.none(), st.integers(95, 105)), st.sampled_from(Stp), st.booleans(),
    st.sampled_from([TimeInForce.GTC, TimeInForce.IOC]))


def market_command(v: Venue, spec: tuple[Any, ...]) -> PlaceOrder:
    profile, side, lots, cents, price, stp, with_oid, time_in_force = spec
    order_id = v.next_id()
    return PlaceOrder(time=v.stamp(), order_id=order_id, profile_id=profile,
                      product_id="BTC-USD", side=side, type=OrderType.MARKET,
                      price=None if price is None else price * 10**8,
                      size=None if lots is None else lots * 10**7,
                      funds=None if cents is None else cents * 10**6 * SIZE_TO_AMOUNT, stp=stp,
                      time_in_force=time_in_force, post_only=with_oid,
                      client_oid=f"c-{order_id}" if with_oid else None)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(orders.map(lambda specs: ("limit", specs)),
                          markets.map(lambda spec: ("market", spec))), min_size=1, max_size=12))
def test_placing_a_market_order_inline_matches_the_general_path(steps: list) -> None:
    v = venue()
    v.profile("dave", usd="50")  # no BTC account: a sell holds nothing, a buy attaches one
    twin = pickle.loads(pickle.dumps(v.engine))
    for kind, spec in steps:
        if kind == "limit":  # a book to take from (the same fast path on both)
            for limit_spec in spec:
                cmd = place_command(v, limit_spec)
                assert v.apply(cmd) == twin.apply(cmd)
            continue
        cmd = market_command(v, spec)
        fast = v.apply(cmd)
        product, profile = twin.products[cmd.product_id], twin.profiles[cmd.profile_id]
        slow = general(twin, lambda: twin._place_checked(cmd, product, profile))  # noqa: B023
        event(f"market order: {type(fast[0]).__name__}, trades: {len(fast) > 3}")
        check_invariants(twin)
        assert fast == slow
        assert state(v.engine) == state(twin)


def test_an_order_id_on_record_is_refused_before_any_other_rule() -> None:
    """A place reusing the id of a live or an archived order is refused for that first, on
    every path (the fast path tests it only when it inserts, and at its other rejects), and
    changes nothing; a purged order's id is free again."""
    v = venue()
    v.profile("erin", usd="100")  # no BTC account: an accepted buy would attach one
    resting = place_command(v, ("alice", Side.SELL, 104, 1, False, False, TimeInForce.GTC))
    filled = place_command(v, ("bob", Side.SELL, 103, 1, False, False, TimeInForce.GTC))
    purged = place_command(v, ("bob", Side.SELL, 105, 1, False, False, TimeInForce.GTC))
    for cmd in (resting, filled, purged):
        v.apply(cmd)
    v.apply(place_command(v, ("carol", Side.BUY, 103, 1, False, False, TimeInForce.GTC)))
    v.apply(CancelOrder(time=v.stamp(), profile_id="bob", order_id=purged.order_id))
    assert v.engine.orders[filled.order_id].status is Status.DONE
    assert purged.order_id not in v.engine.orders
    fields = {"product_id": "BTC-USD", "side": Side.BUY, "price": 100 * 10**8, "size": 10**7}
    cases = [  # each would be accepted, or refused for another rule, under a new id
        {"profile_id": "erin"},
        {"profile_id": "erin", "time_in_force": TimeInForce.IOC, "price": 110 * 10**8},
        {"profile_id": "erin", "size": 10**12},  # INSUFFICIENT_FUNDS
        {"profile_id": "alice", "price": 110 * 10**8, "post_only": True},  # POST_ONLY_MODE
        {"profile_id": "erin", "type": OrderType.MARKET, "price": None},
        {"profile_id": "erin", "type": OrderType.MARKET, "price": None, "size": None,
         "funds": 10 * SIZE_TO_AMOUNT * 10**8},
        {"profile_id": "erin", "stop": StopType.ENTRY, "stop_price": 101 * 10**8},
        {"profile_id": "erin", "price": 1},  # PRICE_TOO_SMALL
    ]
    for order_id in (resting.order_id, filled.order_id):
        for case in cases:
            before = state(v.engine)
            cmd = PlaceOrder(time=v.stamp(), order_id=order_id, **(fields | case))
            events = v.apply(cmd)
            assert [e.reason for e in events] == ["DUPLICATE_ORDER_ID"], (case, events)
            assert state(v.engine) == before
            assert "BTC" not in v.engine.profiles["erin"].accounts
    for _ in range(500):  # TOO_MANY_OPEN_ORDERS under a new id
        v.apply(PlaceOrder(time=v.stamp(), order_id=v.next_id(), profile_id="alice", **fields))
    cmd = PlaceOrder(time=v.stamp(), order_id=resting.order_id, profile_id="alice", **fields)
    assert [e.reason for e in v.apply(cmd)] == ["DUPLICATE_ORDER_ID"]
    again = PlaceOrder(time=v.stamp(), order_id=purged.order_id, profile_id="erin", **fields)
    assert type(v.apply(again)[0]).__name__ == "Received"


@settings(max_examples=60, deadline=None)
@given(orders, st.randoms(use_true_random=False))
def test_canceling_an_open_order_inline_matches_the_general_path(specs: list, rnd: Any) -> None:
    v = venue()
    for spec in specs:  # some rest, some trade (partly filled makers stay open)
        v.apply(place_command(v, spec))
    twin = pickle.loads(pickle.dumps(v.engine))
    open_orders = [(p.id, oid) for p in v.engine.profiles.values() for oid in p.live]
    rnd.shuffle(open_orders)
    for profile_id, order_id in open_orders:
        cmd = CancelOrder(time=v.stamp(), profile_id=profile_id, order_id=order_id)
        fast = v.apply(cmd)
        order = twin.orders[order_id]
        product = twin.products[order.product_id]
        slow = general(twin, lambda: cancel(twin, order, product, None, cmd.time))  # noqa: B023
        check_invariants(twin)
        assert fast == slow
        assert state(v.engine) == state(twin)


increments = st.one_of(st.sampled_from([1, 10**6, PRICE_SCALE // 100, PRICE_SCALE]),
                       st.integers(1, PRICE_SCALE * 10**6))  # every increment add_product allows


@st.composite
def wild_products(draw: st.DrawFn) -> Product:
    """Any product ``add_product`` could have made, in any status (online more often)."""
    status = st.one_of(st.just(ProductStatus.ONLINE), st.sampled_from(ProductStatus))
    return Product("BTC-USD", "BTC", "USD", draw(increments), draw(increments),
                   draw(st.one_of(st.just(0), st.integers(0, 10**30))), draw(status))


def wild_ints(unit: int) -> st.SearchStrategy[int | None]:
    """None, any int (zero, negative, huge), or near a multiple of ``unit``."""
    return st.one_of(st.none(), st.integers(), st.integers(-3, 3),
                     st.integers(-5, 10**6).map(lambda n: n * unit),
                     st.integers(1, 10**6).map(lambda n: n * unit + 1))


def multiples(unit: int) -> st.SearchStrategy[int]:
    return st.integers(1, 10**6).map(lambda n: n * unit)


@st.composite
def wild_place_orders(draw: st.DrawFn) -> tuple[Product, PlaceOrder]:
    """A product and an order for it: a plain GTC limit order, one with a single field drawn
    wild (the near misses), or one with every field wild."""
    product = draw(wild_products())
    quote, base = product.quote_increment, product.base_increment
    plain: dict[str, Any] = {
        "type": OrderType.LIMIT, "price": draw(multiples(quote)), "size": draw(multiples(base)),
        "funds": None, "time_in_force": TimeInForce.GTC, "cancel_after": None, "stop": None,
        "stop_price": None}
    wild: dict[str, st.SearchStrategy[Any]] = {
        "type": st.sampled_from(OrderType), "price": wild_ints(quote), "size": wild_ints(base),
        "funds": wild_ints(quote * SIZE_TO_AMOUNT), "time_in_force": st.sampled_from(TimeInForce),
        "cancel_after": st.one_of(st.none(), st.sampled_from(CancelAfter)),
        "stop": st.one_of(st.none(), st.sampled_from(StopType)), "stop_price": wild_ints(quote)}
    if draw(st.booleans()):  # a plain market order, by size, funds or both
        plain |= {"type": OrderType.MARKET, "price": None,
                  "funds": draw(multiples(quote * SIZE_TO_AMOUNT))}
        dropped = draw(st.sampled_from(["size", "funds", None]))
        if dropped is not None:
            plain[dropped] = None
    mode = draw(st.sampled_from(["plain", "one wild", "all wild"]))
    chosen = {"plain": [], "one wild": [draw(st.sampled_from(sorted(wild)))],
              "all wild": list(wild)}[mode]
    fields = plain | {name: draw(wild[name]) for name in chosen}
    cmd = PlaceOrder(
        time=draw(st.integers(0, 2**62)), order_id="o1", profile_id="p1",
        product_id=product.id, side=draw(st.sampled_from(Side)), post_only=draw(st.booleans()),
        stp=draw(st.sampled_from(Stp)), client_oid=draw(st.one_of(st.none(), st.just("c1"))),
        **fields)
    return product, cmd


@settings(max_examples=600, deadline=None)
@given(wild_place_orders())
def test_the_inline_guard_never_skips_a_rule(case: tuple[Product, PlaceOrder]) -> None:
    product, cmd = case
    plain = is_plain_limit(product, cmd)
    event(f"plain limit: {plain}")
    if plain:
        assert check_order(product, cmd) is None
    market = is_plain_market(product, cmd.type, cmd.size, cmd.funds, cmd.stop, cmd.stop_price)
    event(f"plain market: {market}")
    if market:
        assert check_order(product, cmd) is None


class _Unwalrus(ast.NodeTransformer):
    """``(notional := size * price)`` -> ``size * price``: the inline copy keeps the value."""

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.AST:
        return self.visit(node.value)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        """``notional_in(product, price, size) >= 0`` -> ``plain_notional(price, size,
        product.quote_increment, product.base_increment, product.min_market_funds) is not
        None``: the engine's guard reads the notional as a C ``wide``, -1 for ``None``, the
        product's rules as its C values (``test_wide`` checks ``notional_in`` is
        ``notional_of`` of those three, and that one ``plain_notional``)."""
        node = self.generic_visit(node)  # type: ignore[assignment]
        left = node.left
        if (isinstance(left, ast.Call) and isinstance(left.func, ast.Name)
                and left.func.id == "notional_in" and len(node.ops) == 1
                and isinstance(node.ops[0], ast.GtE)
                and ast.dump(node.comparators[0]) == ast.dump(ast.Constant(0))
                and len(left.args) == 3 and not left.keywords):
            product, price, size = left.args
            rules = [ast.Attribute(value=product, attr=name, ctx=ast.Load())
                     for name in ("quote_increment", "base_increment", "min_market_funds")]
            call = ast.Call(func=ast.Name(id="plain_notional", ctx=ast.Load()),
                            args=[price, size, *rules], keywords=[])
            return ast.Compare(left=call, ops=[ast.IsNot()],
                               comparators=[ast.Constant(None)])
        return node


def _function(module: Any, name: str) -> ast.FunctionDef:
    # the module's source file (a compiled module's __file__ is its extension)
    source = Path(module.__file__).parent / f"{module.__name__.rpartition('.')[2]}.py"
    tree = ast.parse(source.read_text())
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def _statements(function: ast.FunctionDef) -> set[str]:
    """Every statement of ``function``, at any depth (the reads of a command's fields sit
    in both branches of ``if cython.compiled``)."""
    return {ast.dump(n) for n in ast.walk(function) if isinstance(n, ast.stmt)}


def _unpack(function: ast.FunctionDef) -> ast.Assign:
    return next(n for n in ast.walk(function) if isinstance(n, ast.Assign)
                and isinstance(n.targets[0], ast.Tuple) and "astuple" in ast.dump(n.value))


def test_the_inline_guard_is_is_plain_limit() -> None:
    guard = _function(validation, "is_plain_limit")
    *assignments, returned = guard.body[1:]  # after the docstring
    assert isinstance(returned, ast.Return) and returned.value is not None
    place = _function(engine_module, "_place")
    inline = next(n.test for n in ast.walk(place) if isinstance(n, ast.If)
                  and isinstance(n.test, ast.UnaryOp) and isinstance(n.test.op, ast.Not)
                  and "_place_checked" in ast.dump(n))
    assert isinstance(inline, ast.UnaryOp)
    assert ast.dump(_Unwalrus().visit(inline.operand)) == ast.dump(returned.value)
    statements = _statements(place)
    for assignment in assignments:  # the names the expression reads mean the same
        assert ast.dump(assignment) in statements, ast.unparse(assignment)


def test_the_inline_guard_unpacks_place_order_fields_in_their_order() -> None:
    """``_place`` and ``is_plain_limit`` read a ``PlaceOrder`` with one ``astuple``: the
    names they unpack it into are its fields, in the struct's order (``t`` is ``time``,
    ``kind`` is ``type``), so a field added or moved fails here, not in a wrong read."""
    guard = _function(validation, "is_plain_limit")
    unpack = next(n for n in guard.body if isinstance(n, ast.Assign)
                  and isinstance(n.targets[0], ast.Tuple) and "astuple" in ast.dump(n.value))
    names = [target.id for target in unpack.targets[0].elts]  # type: ignore[attr-defined]
    renamed = {"t": "time", "kind": "type"}
    assert tuple(renamed.get(name, name) for name in names) == PlaceOrder.__struct_fields__
    place = _function(engine_module, "_place")
    assert ast.dump(unpack) in _statements(place)


def test_new_order_unpacks_place_order_as_place_does() -> None:
    """``_new_order`` (the orders off the fast path) reads the ``PlaceOrder`` with the same
    one ``astuple`` as ``_place``, so its names mean the same fields."""
    unpack = _unpack(_function(engine_module, "_place"))
    new_order = _function(engine_module, "_new_order")
    assert ast.dump(unpack) in {ast.dump(statement) for statement in new_order.body}


def test_cancel_order_unpacks_its_fields_in_their_order() -> None:
    """``_cancel_order`` reads a ``CancelOrder`` with one ``astuple`` too: the names it
    unpacks are the struct's fields in order (``t`` is ``time``)."""
    cancel = _function(engine_module, "_cancel_order")
    unpack = _unpack(cancel)
    names = [target.id for target in unpack.targets[0].elts]  # type: ignore[attr-defined]
    assert tuple("time" if name == "t" else name for name in names) == (
        CancelOrder.__struct_fields__)
    assert CancelOrder.__struct_fields__ == (
        "time", "profile_id", "order_id", "client_oid", "product_id")


@pytest.mark.parametrize(("name", "offsets"), [("_place", "_PLACE"), ("_cancel_order", "_CANCEL")])
def test_the_slot_reads_are_the_astuple_unpack(name: str, offsets: str) -> None:
    """Compiled, ``_place`` and ``_cancel_order`` read the command's slots directly: the
    same names as their ``astuple`` unpack, the ``i``-th from the ``i``-th field's offset
    (``_PLACE``/``_CANCEL`` list the offsets in the fields' order). Those ``_place`` only
    compares with a constant are compared in their slots first (``holds``): the same
    compares as its uncompiled ``plain_fields``, each the field of its name; every field is
    read or compared (``_place_checked`` reads the command again itself)."""
    function = _function(engine_module, name)
    names = [t.id for t in _unpack(function).targets[0].elts]  # type: ignore[attr-defined]
    read: dict[int, str] = {}
    for n in ast.walk(function):
        if (isinstance(n, ast.Assign) and isinstance(n.value, ast.Tuple)
                and "field" in ast.dump(n.value)):
            targets = n.targets[0].elts  # type: ignore[attr-defined]
            assert len(targets) == len(n.value.elts)
            for target, value in zip(targets, n.value.elts, strict=True):
                text = ast.unparse(value)
                assert text.startswith(f"field(cmd, {offsets}[") and text.endswith("])"), text
                i = int(text[len(f"field(cmd, {offsets}["):-2])
                assert target.id == names[i], (target.id, i)
                read[i] = target.id
    held, compared = set(), set()
    for n in ast.walk(function):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "holds":
            text = ast.unparse(n)
            i = int(text[len(f"holds(cmd, {offsets}["):text.index("]")])
            held.add(f"{names[i]} is {ast.unparse(n.args[2])}")
            compared.add(i)
    command = PlaceOrder if name == "_place" else CancelOrder
    assert sorted(set(read) | compared) == list(range(len(command.__struct_fields__)))
    if name == "_cancel_order":
        assert not held
        return
    plain = next(n for n in ast.walk(function) if isinstance(n, ast.Assign)
                 and ast.unparse(n.targets[0]) == "plain_fields"
                 and "holds" not in ast.dump(n.value))
    compares = {ast.unparse(c) for c in ast.walk(plain.value) if isinstance(c, ast.Compare)}
    assert held == compares and len(held) == 6


def test_new_order_builds_what_order_builds() -> None:
    """``records.new_order`` (the hot paths' constructor) gives the same order as ``Order``."""
    from sandex.core.model import Account, OrderType, Status, Stp, TimeInForce
    from sandex.core.records import new_order

    held, received = Account("p", "USD", 10, 3), Account("p", "BTC")
    args = ("o-1", 7, "p", "BTC-USD", Side.BUY, OrderType.LIMIT, 123, 5 * 10**8, 10**6, 10**6,
            None, None, None, TimeInForce.GTC, None, True, Stp.CO, None, None, "c-1",
            4000, 6000, 6000, held, received)
    for extra in ((), (99,), (99, Status.OPEN)):
        built, reference = new_order(*args, *extra), Order(*args, *extra)
        assert type(built) is Order and built == reference
        assert built.hold_account is held and built.recv_account is received
        assert (built.filled_size, built.done_at, built.cancel_reason) == (0, None, None)
