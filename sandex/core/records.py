"""The hot records of the core: ``Account`` (one currency of one profile), ``Order`` and
``Profile``.

Compiled as Cython extension types when the extension is built (``order.pxd`` declares
their fields, so the compiled matching and lifecycle code reads and writes them as C struct
members); uncompiled, the same classes are plain ``__slots__`` classes. Either way neither
points back at a container that holds it. Quantities are ints: sizes and prices in 1e-8,
amounts in 1e-16, whose products exceed 64 bits. Compiled, an order's fill totals and hold
and ``funds_remaining`` and an account's balance and hold are C 128-bit fields, an order's
``remaining`` a C 64-bit one (``records.pxd``), exact under the venue's bounds (``limits``);
uncompiled, Python ints. Either way they read as ints. ``remaining`` and ``funds_remaining``
(``None`` for some market orders) are stored as ``_remaining``/``_funds_remaining``, -1 for
``None``, in both builds: the hot paths read those, everything else the properties.
"""

from __future__ import annotations

from typing import Any

import cython

from sandex.core.enums import (
    CancelReason,
    DoneReason,
    OrderType,
    Side,
    Status,
    StopType,
    Stp,
    TimeInForce,
)

PENDING = Status.PENDING

if cython.compiled:  # an Order's block without tp_new's None writes (made.pxd)
    from cython.cimports.sandex.core.made import order_blank


@cython.no_gc
@cython.final
@cython.cclass
class Account:
    """One currency of one profile. ``available = balance - hold`` is never negative.

    Settlement writes its fields on every fill. Compared by identity.
    """

    __slots__ = ("balance", "currency", "hold", "profile_id")
    profile_id: str
    currency: str
    balance: int
    hold: int

    def __init__(self, profile_id: str, currency: str, balance: int = 0, hold: int = 0) -> None:
        self.profile_id = profile_id
        self.currency = currency
        self.balance = balance
        self.hold = hold

    def __repr__(self) -> str:
        return (f"Account(profile_id={self.profile_id!r}, currency={self.currency!r}, "
                f"balance={self.balance!r}, hold={self.hold!r})")


# The fields of an order, in the order ``Order`` takes them (snapshots name them, never
# rely on this order: ``sandex.core.image``).
ORDER_FIELDS = (
    "id", "number", "profile_id", "product_id", "side", "type", "created_at", "price", "size",
    "remaining", "funds", "specified_funds", "funds_remaining", "time_in_force", "expire_time",
    "post_only", "stp", "stop", "stop_price", "client_oid", "maker_rate", "taker_rate",
    "hold_rate", "hold_account", "recv_account", "hold", "status", "filled_size",
    "executed_value", "fill_fees", "done_at", "done_reason", "cancel_reason")
# the two nullable sizes are stored under another name, -1 for ``None`` (their properties)
_STORED = {"remaining": "_remaining", "funds_remaining": "_funds_remaining"}
_ORDER_SLOTS = tuple(_STORED.get(name, name) for name in ORDER_FIELDS)


def _stored(value: int | None) -> int:
    """``remaining``/``funds_remaining`` as stored: -1 for ``None``; never negative."""
    if value is None:
        return -1
    if value < 0:
        raise ValueError(f"a remaining size or funds cannot be negative: {value}")
    return value


@cython.freelist(256)
@cython.no_gc
@cython.final
@cython.cclass
class Order:
    """An order's whole state. Sizes and prices in 1e-8, amounts in 1e-16.

    ``remaining`` is the size still to trade (``None`` for a funds-only market order, which
    tracks ``funds_remaining`` instead). ``hold`` is what this order still reserves on
    ``hold_account``; ``recv_account`` receives what it buys or sells into. Two orders are
    equal when every field is (accounts by identity).
    """

    __slots__ = (*_ORDER_SLOTS, "_level", "_live_at", "_product", "_tally")
    id: str
    number: int  # engine-wide arrival number: the tie-breaker for time priority
    profile_id: str
    product_id: str
    side: Side
    type: OrderType
    created_at: int
    price: int | None
    size: int | None
    _remaining: int  # ``remaining``, -1 for None
    funds: int | None  # spendable funds (after the fee reservation for market buys)
    specified_funds: int | None  # funds as the user sent them
    _funds_remaining: int  # ``funds_remaining``, -1 for None
    time_in_force: TimeInForce
    expire_time: int | None
    post_only: bool
    stp: Stp
    stop: StopType | None
    stop_price: int | None
    client_oid: str | None
    maker_rate: int
    taker_rate: int
    hold_rate: int  # the fee rate reserved by a limit buy's hold
    hold_account: Account
    recv_account: Account
    hold: int
    status: Status
    filled_size: int
    executed_value: int
    fill_fees: int
    done_at: int | None
    done_reason: DoneReason | None
    cancel_reason: CancelReason | None
    # not a field (not imaged): its profile's tally of open orders in its product, set on
    # acceptance (``accept_tally``), so a done order reaches both without a lookup
    _tally: Tally | None
    # not a field (not imaged): where it is in its profile's ``_orders`` while live (``link``)
    _live_at: int
    # not a field (not imaged): compiled, the level it rests at, set when it joins one
    # (``Book.add``, the engine's inline place), a pointer without a reference read only by a
    # cancel of an open order, which rests at it (``book.rests_at``; docs/performance.md);
    # uncompiled always ``None``
    _level: object
    # not a field (not imaged): compiled, its product, a pointer without a reference set by
    # the engine's inline place and read by a cancel (a product is never removed or replaced
    # while its engine lives: docs/performance.md); else, and uncompiled, ``None``
    _product: object

    def __init__(self, id: str, number: int, profile_id: str, product_id: str, side: Side,
                 type: OrderType, created_at: int, price: int | None, size: int | None,
                 remaining: int | None, funds: int | None, specified_funds: int | None,
                 funds_remaining: int | None, time_in_force: TimeInForce,
                 expire_time: int | None, post_only: bool, stp: Stp, stop: StopType | None,
                 stop_price: int | None, client_oid: str | None, maker_rate: int,
                 taker_rate: int, hold_rate: int, hold_account: Account, recv_account: Account,
                 hold: int = 0, status: Status = PENDING, filled_size: int = 0,
                 executed_value: int = 0, fill_fees: int = 0, done_at: int | None = None,
                 done_reason: DoneReason | None = None,
                 cancel_reason: CancelReason | None = None) -> None:
        self.id = id
        self.number = number
        self.profile_id = profile_id
        self.product_id = product_id
        self.side = side
        self.type = type
        self.created_at = created_at
        self.price = price
        self.size = size
        self.remaining = remaining
        self.funds = funds
        self.specified_funds = specified_funds
        self.funds_remaining = funds_remaining
        self.time_in_force = time_in_force
        self.expire_time = expire_time
        self.post_only = post_only
        self.stp = stp
        self.stop = stop
        self.stop_price = stop_price
        self.client_oid = client_oid
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.hold_rate = hold_rate
        self.hold_account = hold_account
        self.recv_account = recv_account
        self.hold = hold
        self.status = status
        self.filled_size = filled_size
        self.executed_value = executed_value
        self.fill_fees = fill_fees
        self.done_at = done_at
        self.done_reason = done_reason
        self.cancel_reason = cancel_reason
        self._tally = None
        self._live_at = -1
        if not cython.compiled:  # compiled, null pointers
            self._level = None
            self._product = None

    @property
    def remaining(self) -> int | None:
        """The size still to trade; ``None`` for a funds-only market order."""
        return None if self._remaining < 0 else self._remaining

    @remaining.setter
    def remaining(self, value: int | None) -> None:
        self._remaining = _stored(value)

    @property
    def funds_remaining(self) -> int | None:
        """The funds still to spend; ``None`` for an order sized in base."""
        return None if self._funds_remaining < 0 else self._funds_remaining

    @funds_remaining.setter
    def funds_remaining(self, value: int | None) -> None:
        self._funds_remaining = _stored(value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in ORDER_FIELDS)
        return f"Order({fields})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in ORDER_FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable: not a dict key, as before

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by its fields and its tally and place (a test's saved state is a pickle of
        the engine), without its level (compiled, a pointer: a cancel of an order that keeps
        none finds its level by price); its state set once it is memoized (cycles)."""
        return (_blank_order, (), (tuple([getattr(self, name) for name in _ORDER_SLOTS]),
                                   self._tally, self._live_at))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        values, tally, live_at = state
        for name, value in zip(_ORDER_SLOTS, values, strict=True):
            setattr(self, name, value)
        self._tally = tally
        self._live_at = live_at
        if not cython.compiled:
            self._level = None
            self._product = None


def _blank_order() -> Order:
    """An order to unpickle into (``Order.__reduce__``)."""
    return Order.__new__(Order)


def blank_order() -> Order:
    """Compiled, a new ``Order`` whose object fields are all NULL (``made.pxd``: the caller
    writes every one through ``OrderSlots`` before anything sees it); uncompiled, never
    called (the engine's compiled place alone uses it): ``Order.__new__``."""
    if cython.compiled:
        return cython.cast(Order, order_blank(Order))
    return Order.__new__(Order)  # pragma: no cover


@cython.locals(order=Order)
def new_order(id: str, number: int, profile_id: str, product_id: str, side: Side,
              type: OrderType, created_at: int, price: int | None, size: int | None,
              remaining: int | None, funds: int | None, specified_funds: int | None,
              funds_remaining: int | None, time_in_force: TimeInForce,
              expire_time: int | None, post_only: bool, stp: Stp, stop: StopType | None,
              stop_price: int | None, client_oid: str | None, maker_rate: int,
              taker_rate: int, hold_rate: int, hold_account: Account, recv_account: Account,
              hold: int = 0, status: Status = PENDING) -> Order:
    """``Order(...)`` of a new order (nothing filled or done yet), for the hot paths: compiled,
    a C call that writes the fields straight into the new object (``Order(...)`` from C
    packs its 27 arguments into a tuple for ``__init__``). A test checks it equals ``Order``."""
    order = Order.__new__(Order)
    order.id = id
    order.number = number
    order.profile_id = profile_id
    order.product_id = product_id
    order.side = side
    order.type = type
    order.created_at = created_at
    order.price = price
    order.size = size
    if remaining is None:  # checked positive by the caller (order entry), else -1
        order._remaining = -1
    else:
        order._remaining = remaining
    order.funds = funds
    order.specified_funds = specified_funds
    if funds_remaining is None:
        order._funds_remaining = -1
    else:
        order._funds_remaining = funds_remaining
    order.time_in_force = time_in_force
    order.expire_time = expire_time
    order.post_only = post_only
    order.stp = stp
    order.stop = stop
    order.stop_price = stop_price
    order.client_oid = client_oid
    order.maker_rate = maker_rate
    order.taker_rate = taker_rate
    order.hold_rate = hold_rate
    order.hold_account = hold_account
    order.recv_account = recv_account
    order.hold = hold
    order.status = status
    if not cython.compiled:  # compiled, a new object's fields start as None (and 0): not
        order.filled_size = 0  # written twice
        order.executed_value = 0
        order.fill_fees = 0
        order.done_at = None
        order.done_reason = None
        order.cancel_reason = None
        order._tally = None
        order._live_at = -1
        order._level = None
        order._product = None
    return order


# A profile's attributes as a snapshot's schema names them (``image.shape``): its open-order
# counts are read as ``open_count`` (a property over ``_tallies``, which is not imaged:
# restoring rebuilds it from the live orders, as it rebuilt ``open_count``)
PROFILE_FIELDS = ("accounts", "active", "by_client_oid", "created_at", "id", "live",
                  "maker_rate", "name", "open_count", "taker_rate", "user_id")


@cython.final
@cython.cclass
class Profile:
    """A profile: its accounts, fee rates and indexes over its live orders."""

    __slots__ = ("_dead", "_orders", "_tallies", "accounts", "active", "by_client_oid",
                 "created_at", "id", "maker_rate", "name", "taker_rate", "user_id")
    id: str
    user_id: str
    name: str
    maker_rate: int
    taker_rate: int
    created_at: int
    active: bool
    accounts: dict[str, Account]
    # its live orders in acceptance order, a done one's place ``None`` until compacted
    # (``link``/``unlink``; read as ``live``); ``_dead``: how many places are ``None``
    _orders: list[Order | None]
    _dead: int
    by_client_oid: dict[str, Order]
    _tallies: dict[str, Tally]

    def __init__(self, id: str, user_id: str, name: str, maker_rate: int, taker_rate: int,
                 created_at: int) -> None:
        self.id = id
        self.user_id = user_id
        self.name = name
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.created_at = created_at
        self.active = True  # false once deactivated (``DeactivateProfile``): keys view-only
        self.accounts = {}
        self._orders = []  # open, active and pending orders, in arrival order (``live``)
        self._dead = 0
        self.by_client_oid = {}  # the latest order on record per client_oid
        # product id -> its tally of open + active orders (``open_count``), made when the
        # profile's first order in that product is accepted
        self._tallies = {}

    def __dealloc__(self) -> None:
        """Compiled: clear the pointers its tallies keep to it (``Tally``), so a tally left
        alive by an order kept elsewhere never reads a freed profile."""
        if cython.compiled:
            tallies = self._tallies
            if tallies is not None:
                for tally in tallies.values():
                    cython.cast(Tally, tally)._owner = cython.NULL

    @property
    def live(self) -> dict[str, Order]:
        """Order id -> the profile's open, active and pending orders, in arrival order (a new
        dict; read-only to adapters: ``link`` and ``unlink`` change what it lists)."""
        return {order.id: order for order in self._orders if order is not None}

    @property
    def open_count(self) -> dict[str, int]:
        """Product id -> the profile's open and active orders there (a new dict; read-only
        to adapters: what limits an order is the tallies')."""
        return {product_id: tally.count for product_id, tally in self._tallies.items()}

    def account(self, currency: str) -> Account:
        account = self.accounts.get(currency)
        if account is None:
            account = self.accounts[currency] = Account(self.id, currency)
        return account


def order_fields(order: Order) -> dict[str, Any]:
    """Every field of ``order`` by name (what ``Order(**fields)`` takes back)."""
    return {name: getattr(order, name) for name in ORDER_FIELDS}


@cython.final
@cython.cclass
class Tally:
    """A profile's open and active orders in one product (the per-product limit counts them),
    and the profile: each of those orders holds its tally (``Order._tally``), so a done one
    reaches both without a lookup by profile or product id. Kept in ``Profile._tallies``.

    ``base``/``quote``: the profile's accounts in the product's two currencies once an order
    placed on the inline path found them (``None`` until then), so the next one reads them
    here instead of by currency; an account is never replaced or removed from its profile.

    Compiled, the tally points at its profile without a reference (``_owner``; read it with
    ``owner``): the profile holds the tally, and its live orders, which the collector does not
    track (``no_gc``), hold it too, so a reference back would make a cycle the collector
    cannot see whole, and an engine dropped with live orders would never be freed. A profile
    freed clears its tallies' pointers (``Profile.__dealloc__``); ``owner`` then raises."""

    __slots__ = ("_owner", "base", "count", "quote")
    count: int
    base: Account | None
    quote: Account | None

    def __init__(self, profile: Profile) -> None:
        if cython.compiled:
            self._owner = cython.cast(cython.p_void, profile)
        else:
            self._owner = profile
        self.count = 0
        self.base = None
        self.quote = None

    @property
    def profile(self) -> Profile:
        """The profile whose tally this is (``owner``)."""
        return owner(self)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its profile (a test's saved state is a pickle of the engine)."""
        return (_tally, (owner(self), self.count, self.base, self.quote))


def owner(tally: Tally) -> Profile:
    """``tally``'s profile; ``ReferenceError`` once that profile is freed (compiled)."""
    if cython.compiled:
        if tally._owner == cython.NULL:
            raise ReferenceError("the tally's profile is gone")
        return cython.cast(Profile, tally._owner)
    else:
        return tally._owner


def _tally(profile: Profile, count: int, base: Account | None, quote: Account | None) -> Tally:
    """A tally back from its pickle (``Tally.__reduce__``)."""
    tally = Tally(profile)
    tally.count, tally.base, tally.quote = count, base, quote
    return tally


@cython.locals(orders=list)
def link(profile: Profile, order: Order) -> None:
    """List a just-accepted (or restored) ``order`` among its profile's live orders, last."""
    orders = profile._orders
    order._live_at = len(orders)
    orders.append(order)


@cython.boundscheck(False)  # ``at`` is checked against the list's length first
@cython.wraparound(False)
@cython.locals(orders=list, at=cython.Py_ssize_t, size=cython.Py_ssize_t,
               dead=cython.Py_ssize_t, other=Order)
def unlink(profile: Profile, order: Order) -> None:
    """Take a just-done ``order`` off its profile's live orders: its place becomes ``None``,
    and the list is compacted (the rest keep their order) once most of it is ``None``."""
    orders = profile._orders
    at, size = order._live_at, len(orders)
    if not (0 <= at < size and orders[at] is order):
        raise KeyError(order.id)  # as ``del live[id]`` of an order not there did
    order._live_at = -1
    if at == size - 1:  # the newest: dropped, with the ``None`` places before it
        orders.pop()
        dead = profile._dead
        while dead and orders[at - 1] is None:
            orders.pop()
            dead -= 1
            at -= 1
        profile._dead = dead
        return
    orders[at] = None
    dead = profile._dead = profile._dead + 1
    if dead > 16 and 2 * dead > size:
        kept: list[Order | None] = [o for o in orders if o is not None]
        for at in range(len(kept)):
            other = kept[at]
            assert other is not None
            other._live_at = at
        profile._orders = kept
        profile._dead = 0


@cython.locals(tally=Tally)
def accept_tally(order: Order, profile: Profile) -> None:
    """Count a just-accepted (or restored) live ``order`` in its profile's tally for its
    product, made on the first, and give the order its tally."""
    tally = profile._tallies.get(order.product_id)
    if tally is None:
        tally = profile._tallies[order.product_id] = Tally(profile)
    tally.count += 1
    order._tally = tally


def keeps_product(order: Order) -> bool:
    """Does ``order`` keep its product (compiled, placed on the engine's inline path)?"""
    if cython.compiled:
        return order._product != cython.NULL
    return False


def product_is(order: Order, product: object) -> bool:
    """Does ``order`` keep ``product`` (compared by address: no reference made)? For the
    invariants."""
    if cython.compiled:
        return order._product == cython.cast(cython.p_void, product)
    return order._product is product
