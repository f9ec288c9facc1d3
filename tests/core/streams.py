"""Command streams for the property tests: the set-up, abstract streams made concrete (as
the sequencer would stamp them), and the fuzzer's strategies for every command type.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import msgspec
from hypothesis import strategies as st

from sandex.core import (
    AddCurrency,
    AddProduct,
    AdvanceClock,
    CancelAfter,
    CancelAll,
    CancelOrder,
    Command,
    CreateProfile,
    Deposit,
    OrderType,
    PlaceOrder,
    ProductStatus,
    SetFees,
    SetMatching,
    SetProductStatus,
    Side,
    StopType,
    Stp,
    TimeInForce,
    Transfer,
    Withdraw,
)
from tests.core.harness import (
    BUY,
    COIN,
    LIMIT,
    MARKET,
    SECOND,
    SELL,
    SIZE_TO_AMOUNT,
    T0,
    Harness,
    replay,
)


# -- the command streams -------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    base: str
    quote: str
    base_inc: int
    quote_inc: int
    min_funds: int
    mid: int
    funds: tuple[int, ...]  # funds choices, in quote increments


PRODUCTS = {
    # 0.01 BTC and 1 USD increments around 100 USD: nine ticks, books cross all the time
    "BTC-USD": Spec("BTC", "USD", 10**6, 10**8, COIN, 100 * 10**8, (2, 5, 20, 60, 150)),
    # 0.001 ETH and 0.00000007 BTC increments around 0.05 BTC: BTC is quote here and base
    # above; the odd quote increment makes notionals whose fees truncate
    "ETH-BTC": Spec("ETH", "BTC", 10**5, 7, COIN // 10**5, 714_285 * 7,
                    (1_500, 5_000, 20_000, 60_000, 200_000)),
}
PRODUCT_IDS = list(PRODUCTS)
CURRENCIES = ["USD", "BTC", "ETH"]
PROFILES = ["p0", "p1", "p2", "p3", "p4"]  # p4 starts with no accounts at all
PROFILE_RATES = [(0, 0), (1000, 2000), (3999, 6001), (2500, 1337), (1500, 2500)]
DEPOSITS = {"USD": 3000 * COIN, "BTC": 30 * COIN, "ETH": 300 * COIN}
LOTS = (1, 3, 10, 30, 100)  # sizes, in base increments

ODD = ["zero_size", "neg_size", "fine_size", "huge_size", "zero_price", "neg_price",
       "fine_price", "huge_price", "no_price", "size_and_funds", "no_amount", "zero_funds",
       "neg_funds", "fine_funds", "unknown_product", "unknown_profile", "stop_no_price",
       "stop_price_no_stop", "gtt_no_ca", "ca_no_gtt", "post_only_ioc", "market_with_price",
       "huge_funds", "stop_huge_price", "tiny_funds", "market_fok", "market_post_only",
       "expire_gtc", "expire_and_ca", "expire_past", "expire_far"]

KINDS = (["place"] * 20 + ["cancel"] * 4 + ["advance", "status", "fees", "deposit",
                                             "withdraw", "transfer", "cancel_all", "halt"])
FIELDS: dict[str, list[Any]] = {
    "product": [0, 1],
    "profile": [0, 1, 2, 3, 0, 1, 2, 3, 4],
    "side": [BUY, SELL],
    "type": [LIMIT, LIMIT, LIMIT, MARKET],
    "tick": [0, 1, -1, 2, -2, 3, -3, 4, -4],
    "lots": list(range(len(LOTS))),
    "funds": [0, 1, 2, 3, 4],
    "amount_mode": ["size", "size", "size", "funds", "both"],
    "tif": [TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTT],
    "cancel_after": ["min", "hour", "day", "at"],  # at: an absolute expire_time (FIX's GTD)
    "post_only": [False] * 5 + [True],
    "stp": [Stp.DC, Stp.CO, Stp.CN, Stp.CB],
    "stop": [None] * 6 + [StopType.LOSS, StopType.ENTRY],
    "stop_tick": [0, 1, -1, 2, -2, 3, -3],
    "client_oid": [None, None, "c0", "c1", "c2"],
    "odd": [None] * 5 * len(ODD) + ODD,
    "back": list(range(12)),
    "owner": [True, True, True, False],
    "by_oid": [False, False, True],
    "scope": [None, None, "right", "wrong", "unknown"],
    "cancel_all_product": [None, 0, 1, "NOPE-USD"],
    "seconds": [1, 30, 61, 600, 3601, 86401, 0, 0, -1],  # 0: onto the next expiry
    "rates": [(0, 0), (1000, 2000), (5000, 5000), (2999, 7), (0, 10000), (10000, 0), (-1, 5),
              (1_000_000, 0), (999_999, 999_999)],
    "currency": ["USD", "BTC", "ETH", "XYZ"],
    "amount": [COIN, 500 * COIN, 7, 0, -COIN, 10**40],
    "status": [ProductStatus.ONLINE] * 6 + [ProductStatus.POST_ONLY, ProductStatus.LIMIT_ONLY,
                                            ProductStatus.CANCEL_ONLY, ProductStatus.DISABLED],
    "status_product": [0, 1, "NOPE-USD"],
    "halted": [True, False, False],  # a halt's queue waits a few commands for its resume
    "to_profile": [0, 1, 2, 3, 4, "ghost"],
}

Abstract = tuple[str, dict[str, Any]]


def setup_commands() -> list[Command]:
    out: list[Command] = []
    for product_id, spec in PRODUCTS.items():
        out.append(AddProduct(time=T0, product_id=product_id, base_currency=spec.base,
                              quote_currency=spec.quote, base_increment=spec.base_inc,
                              quote_increment=spec.quote_inc, min_market_funds=spec.min_funds))
    for profile, (maker, taker) in zip(PROFILES, PROFILE_RATES, strict=True):
        out.append(CreateProfile(time=T0, profile_id=profile, user_id=f"u-{profile}",
                                 name=profile, maker_fee_rate=maker, taker_fee_rate=taker))
        for currency in CURRENCIES if profile != "p4" else ():
            out.append(Deposit(time=T0, profile_id=profile, currency=currency,
                               amount=DEPOSITS[currency], transfer_id=f"d-{profile}-{currency}"))
    return out


@dataclass
class Placed:
    id: str
    profile_id: str
    product_id: str
    client_oid: str | None
    expire: int | None  # GTT expiry time


@dataclass
class Concretizer:
    """Turns abstract commands into stamped commands, like the sequencer would."""

    now: int = T0
    clock: int = 0
    placed: list[Placed] = field(default_factory=list)

    def __call__(self, kind: str, f: dict[str, Any]) -> Command:
        self.now += 1
        return getattr(self, kind)(f)

    def place(self, f: dict[str, Any]) -> Command:
        product_id = PRODUCT_IDS[f["product"]]
        spec = PRODUCTS[product_id]
        profile = PROFILES[f["profile"]]
        otype: OrderType = f["type"]
        price: int | None = spec.mid + f["tick"] * spec.quote_inc
        size: int | None = LOTS[f["lots"]] * spec.base_inc
        funds: int | None = spec.funds[f["funds"]] * spec.quote_inc * SIZE_TO_AMOUNT
        mode = f["amount_mode"]
        if mode == "size" or (mode == "both" and otype is LIMIT):
            funds = None
        elif mode == "funds":
            size = None
        tif: TimeInForce = f["tif"] if otype is LIMIT else TimeInForce.GTC
        cancel_after = f["cancel_after"] if tif is TimeInForce.GTT else None
        expire_time = None
        if cancel_after == "at":
            cancel_after, expire_time = None, self.now + 90 * SECOND
        post_only = f["post_only"] and otype is LIMIT and tif in (TimeInForce.GTC,
                                                                   TimeInForce.GTT)
        stop = f["stop"]
        stop_price = None if stop is None else spec.mid + f["stop_tick"] * spec.quote_inc
        if otype is MARKET:
            price = None
        odd = f["odd"]
        if odd is not None:
            odd_values = {
                "zero_size": {"size": 0, "funds": None},
                "neg_size": {"size": -spec.base_inc, "funds": None},
                "fine_size": {"size": spec.base_inc + 1, "funds": None},
                "huge_size": {"size": 10**30 * spec.base_inc, "funds": None},
                "zero_price": {"price": 0},
                "neg_price": {"price": -spec.quote_inc},
                "fine_price": {"price": (price or spec.mid) + 1},
                "huge_price": {"price": 10**30 * spec.quote_inc},
                "no_price": {"price": None},
                "size_and_funds": {"size": spec.base_inc * 10,
                                   "funds": 10 * spec.quote_inc * SIZE_TO_AMOUNT},
                "no_amount": {"size": None, "funds": None},
                "zero_funds": {"size": None, "funds": 0},
                "neg_funds": {"size": None, "funds": -spec.quote_inc * SIZE_TO_AMOUNT},
                "fine_funds": {"size": None, "funds": spec.quote_inc * SIZE_TO_AMOUNT + 1},
                "huge_funds": {"size": None, "funds": 10**30 * spec.quote_inc * SIZE_TO_AMOUNT},
                "tiny_funds": {"size": None, "funds": spec.quote_inc * SIZE_TO_AMOUNT},
                "unknown_product": {"product_id": "NOPE-USD"},
                "unknown_profile": {"profile_id": "ghost"},
                "stop_no_price": {"stop": StopType.LOSS, "stop_price": None},
                "stop_price_no_stop": {"stop": None, "stop_price": spec.mid},
                "stop_huge_price": {"stop": StopType.LOSS, "stop_price": 10**30 * spec.quote_inc},
                "gtt_no_ca": {"time_in_force": TimeInForce.GTT, "cancel_after": None},
                "ca_no_gtt": {"time_in_force": TimeInForce.GTC, "cancel_after": "min"},
                "post_only_ioc": {"time_in_force": TimeInForce.IOC, "post_only": True},
                "market_with_price": {"type": MARKET, "price": spec.mid, "post_only": False,
                                      "time_in_force": TimeInForce.GTC, "cancel_after": None},
                "market_fok": {"type": MARKET, "time_in_force": TimeInForce.FOK},
                "market_post_only": {"type": MARKET, "post_only": True},
                "expire_gtc": {"time_in_force": TimeInForce.GTC, "cancel_after": None,
                               "expire_time": self.now + SECOND},
                "expire_and_ca": {"time_in_force": TimeInForce.GTT, "cancel_after": "min",
                                  "expire_time": self.now + SECOND},
                "expire_past": {"time_in_force": TimeInForce.GTT, "cancel_after": None,
                                "expire_time": self.now},
                "expire_far": {"time_in_force": TimeInForce.GTT, "cancel_after": None,
                               "expire_time": self.now + 90 * 86_400 * SECOND + 1},
            }[odd]
        else:
            odd_values = {}
        fields: dict[str, Any] = {
            "time": self.now, "order_id": f"o{len(self.placed)}", "profile_id": profile,
            "product_id": product_id, "side": f["side"], "type": otype, "price": price,
            "size": size, "funds": funds, "time_in_force": tif, "cancel_after": cancel_after,
            "post_only": post_only, "stp": f["stp"], "stop": stop, "stop_price": stop_price,
            "client_oid": f["client_oid"], "expire_time": expire_time,
        }
        fields.update(odd_values)
        if fields["type"] is MARKET and odd not in ("market_fok", "market_post_only"):
            # only those two odd values put post_only / FOK on a market order (known bugs)
            fields["post_only"] = False
            if fields["time_in_force"] is TimeInForce.FOK:
                fields["time_in_force"] = TimeInForce.GTC
        ca = fields["cancel_after"]
        expire = fields["expire_time"] if ca is None \
            else self.now + CancelAfter(ca).seconds * SECOND
        self.placed.append(Placed(fields["order_id"], fields["profile_id"],
                                  fields["product_id"], fields["client_oid"], expire))
        return msgspec.convert(fields, PlaceOrder)

    def cancel(self, f: dict[str, Any]) -> Command:
        if not self.placed:
            return CancelOrder(time=self.now, profile_id=PROFILES[f["profile"]],
                               order_id="unknown")
        target = self.placed[-1 - f["back"] % len(self.placed)]
        profile = target.profile_id if f["owner"] else PROFILES[f["profile"]]
        scope = {None: None, "right": target.product_id, "unknown": "NOPE-USD",
                 "wrong": next(p for p in PRODUCT_IDS if p != target.product_id)}[f["scope"]]
        if f["by_oid"] and target.client_oid is not None:
            return CancelOrder(time=self.now, profile_id=profile, client_oid=target.client_oid,
                               product_id=scope)
        return CancelOrder(time=self.now, profile_id=profile, order_id=target.id,
                           product_id=scope)

    def cancel_all(self, f: dict[str, Any]) -> Command:
        product = f["cancel_all_product"]
        product_id = PRODUCT_IDS[product] if isinstance(product, int) else product
        return CancelAll(time=self.now, profile_id=PROFILES[f["profile"]], product_id=product_id)

    def advance(self, f: dict[str, Any]) -> Command:
        seconds = f["seconds"]
        if seconds < 0:  # backwards: refused
            return AdvanceClock(time=self.clock - 1)
        if seconds == 0:  # exactly onto the next GTT expiry, if any
            upcoming = [p.expire for p in self.placed if p.expire and p.expire > self.now]
            self.now = min(upcoming, default=self.now)
        self.now += seconds * SECOND
        self.clock = self.now
        return AdvanceClock(time=self.now)

    def status(self, f: dict[str, Any]) -> Command:
        product = f["status_product"]
        product_id = PRODUCT_IDS[product] if isinstance(product, int) else product
        return SetProductStatus(time=self.now, product_id=product_id, status=f["status"])

    def halt(self, f: dict[str, Any]) -> Command:
        product = f["status_product"]
        product_id = PRODUCT_IDS[product] if isinstance(product, int) else product
        return SetMatching(time=self.now, product_id=product_id, halted=f["halted"])

    def fees(self, f: dict[str, Any]) -> Command:
        maker, taker = f["rates"]
        return SetFees(time=self.now, profile_id=PROFILES[f["profile"]], maker_fee_rate=maker,
                       taker_fee_rate=taker)

    def _profile(self, value: int | str) -> str:
        return PROFILES[value] if isinstance(value, int) else value

    def deposit(self, f: dict[str, Any]) -> Command:
        return Deposit(time=self.now, profile_id=self._profile(f["to_profile"]),
                       currency=f["currency"], amount=f["amount"], transfer_id=f"t{self.now}")

    def withdraw(self, f: dict[str, Any]) -> Command:
        return Withdraw(time=self.now, profile_id=self._profile(f["to_profile"]),
                        currency=f["currency"], amount=f["amount"], transfer_id=f"t{self.now}")

    def transfer(self, f: dict[str, Any]) -> Command:
        return Transfer(time=self.now, from_profile_id=PROFILES[f["profile"]],
                        to_profile_id=self._profile(f["to_profile"]), currency=f["currency"],
                        amount=f["amount"], transfer_id=f"t{self.now}")


def concretize(stream: list[Abstract]) -> list[Command]:
    make = Concretizer()
    return [make(kind, f) for kind, f in stream]


def random_stream(rng: random.Random, n: int) -> list[Abstract]:
    return [(rng.choice(KINDS), {k: rng.choice(v) for k, v in FIELDS.items()})
            for _ in range(n)]


abstract_commands = st.tuples(
    st.sampled_from(KINDS),
    st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELDS.items()}),
)


def run_stream(commands: list[Command], check_replay: bool = True) -> Harness:
    """Apply the set-up and ``commands`` through a harness, then replay them."""
    harness = Harness()
    for cmd in setup_commands():
        harness.step(cmd)
    for cmd in commands:
        harness.step(cmd)
    if check_replay:
        replay(harness.commands, harness.events, harness.engine)
    return harness



# -- fuzz: every command type, arbitrary field values -------------------------------------------
ints = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([10**5, 10**6, 10**7, 10**8, 50 * 10**5, 100 * 10**8, COIN, 10**13,
                     2**63 - 1, 2**63, -(2**63), 10**40, -(10**40)]),
    st.integers(-(2**70), 2**70),
)
texts = st.one_of(st.sampled_from(["", "BTC-USD", "ETH-BTC", "USD", "BTC", "ETH", "p0", "p1",
                                   "o0", "o1", "c0", "NOPE-USD", "-", "BTC-", "venue-fees"]),
                  st.text(max_size=8))


def mostly(plausible: list[Any], wild: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three parts values the engine may accept, one part anything: a command that is
    refused at its first field tests little past that field."""
    sane = st.sampled_from(plausible)
    return st.integers(0, 3).flatmap(lambda k: sane if k else wild)


def grid(spec: Spec) -> list[int]:
    return [spec.mid + k * spec.quote_inc for k in range(-4, 5)]


PRICES = grid(PRODUCTS["BTC-USD"]) + grid(PRODUCTS["ETH-BTC"])
SIZES = [lots * spec.base_inc for spec in PRODUCTS.values() for lots in LOTS]
FUNDS = [n * spec.quote_inc * SIZE_TO_AMOUNT for spec in PRODUCTS.values() for n in spec.funds]
ORDER_IDS = [f"o{i}" for i in range(12)]  # the orders of ``fuzz_state``
CLIENT_OIDS = [f"c{i}" for i in range(5)]

profile_ids = mostly(PROFILES, texts)
product_ids = mostly(PRODUCT_IDS, texts)
currencies = mostly(CURRENCIES, texts)
amounts = mostly([COIN, 10 * COIN, 10**12], ints)
rates = mostly([0, 1, 1000, 2500, 999_999], ints)
times = st.one_of(st.integers(T0, T0 + 10**12), ints)

fuzz_commands = st.one_of(
    st.builds(PlaceOrder, time=times, order_id=texts, profile_id=profile_ids,
              product_id=product_ids, side=st.sampled_from(Side),
              type=st.sampled_from(OrderType), price=st.one_of(st.none(), mostly(PRICES, ints)),
              size=st.one_of(st.none(), mostly(SIZES, ints)),
              funds=st.one_of(st.none(), st.none(), mostly(FUNDS, ints)),
              time_in_force=st.sampled_from(TimeInForce),
              cancel_after=st.one_of(st.none(), st.sampled_from(CancelAfter)),
              post_only=st.booleans(), stp=st.sampled_from(Stp),
              stop=st.one_of(st.none(), st.none(), st.sampled_from(StopType)),
              stop_price=st.one_of(st.none(), mostly(PRICES, ints)),
              client_oid=st.one_of(st.none(), mostly(CLIENT_OIDS, texts))),
    st.builds(CancelOrder, time=times, profile_id=profile_ids,
              order_id=st.one_of(st.none(), mostly(ORDER_IDS, texts)),
              client_oid=st.one_of(st.none(), st.none(), mostly(CLIENT_OIDS, texts)),
              product_id=st.one_of(st.none(), product_ids)),
    st.builds(CancelAll, time=times, profile_id=profile_ids,
              product_id=st.one_of(st.none(), product_ids)),
    st.builds(AdvanceClock, time=times),
    st.builds(AddCurrency, time=times, currency=texts, name=texts, min_size=ints),
    st.builds(AddProduct, time=times, product_id=texts, base_currency=texts,
              quote_currency=texts, base_increment=ints, quote_increment=ints,
              min_market_funds=ints, status=st.sampled_from(ProductStatus)),
    st.builds(SetProductStatus, time=times, product_id=product_ids,
              status=st.sampled_from(ProductStatus)),
    st.builds(SetMatching, time=times, product_id=product_ids, halted=st.booleans()),
    st.builds(CreateProfile, time=times, profile_id=texts, user_id=texts, name=texts,
              maker_fee_rate=rates, taker_fee_rate=rates),
    st.builds(SetFees, time=times, profile_id=profile_ids, maker_fee_rate=rates,
              taker_fee_rate=rates),
    st.builds(Deposit, time=times, profile_id=profile_ids, currency=currencies,
              amount=amounts, transfer_id=texts),
    st.builds(Withdraw, time=times, profile_id=profile_ids, currency=currencies,
              amount=amounts, transfer_id=texts),
    st.builds(Transfer, time=times, from_profile_id=profile_ids, to_profile_id=profile_ids,
              currency=currencies, amount=amounts, transfer_id=texts),
)



def _order(product_id: str, profile_id: str, side: Side, otype: OrderType, lots: int,
           tick: int, funds: int | None, wild: dict[str, Any], tif: TimeInForce, stp: Stp,
           stop: StopType | None, t: int) -> PlaceOrder:
    spec = PRODUCTS[product_id]
    fields: dict[str, Any] = {
        "price": None if otype is MARKET else spec.mid + tick * spec.quote_inc,
        "size": None if funds is not None else lots * spec.base_inc,
        "funds": funds, "time_in_force": tif, "stp": stp, "stop": stop,
        "cancel_after": CancelAfter.MIN if tif is TimeInForce.GTT else None,
        "stop_price": None if stop is None else spec.mid + tick * spec.quote_inc,
    }
    fields.update(wild)  # one or two fields with anything in them
    return PlaceOrder(time=t, order_id="", profile_id=profile_id, product_id=product_id,
                      side=side, type=otype, **fields)


# Orders that are valid but for a field or two: they get past validation into the matching.
fuzz_orders = st.builds(
    _order, st.sampled_from(PRODUCT_IDS), st.sampled_from(PROFILES), st.sampled_from(Side),
    st.sampled_from(OrderType), st.sampled_from(LOTS), st.integers(-4, 4),
    st.one_of(st.none(), st.none(), st.sampled_from(FUNDS)),
    st.dictionaries(st.sampled_from(["price", "size", "funds", "stop_price"]),
                    st.one_of(st.none(), ints), max_size=2),
    st.sampled_from(TimeInForce), st.sampled_from(Stp),
    st.one_of(st.none(), st.none(), st.sampled_from(StopType)), st.integers(T0, T0 + 10**12))

# A product built from fuzzed currencies and increments (AddProduct needs a matching id).
fuzz_products = st.builds(
    lambda base, quote, b, q, m, s: AddProduct(
        time=T0, product_id=f"{base}-{quote}", base_currency=base, quote_currency=quote,
        base_increment=b, quote_increment=q, min_market_funds=m, status=s),
    st.sampled_from(["BTC", "ETH", "XRP", ""]), st.sampled_from(["USD", "BTC", "EUR"]),
    st.one_of(st.just(1), ints), st.one_of(st.just(1), ints), ints,
    st.sampled_from(ProductStatus))


def fuzz_state() -> tuple[Harness, list[Command]]:
    """Some state to fuzz against: books on both products, stops, a GTT order, a fill."""
    make = Concretizer()
    stream: list[Abstract] = []
    base = {k: v[0] for k, v in FIELDS.items()}
    for i, (side, tick) in enumerate([(BUY, -1), (SELL, 1), (BUY, -2), (SELL, 2), (BUY, 1)]):
        for product in (0, 1):
            stream.append(("place", base | {"side": side, "tick": tick, "product": product,
                                            "profile": i % 4, "lots": i % 3,
                                            "client_oid": f"c{i}"}))
    stream.append(("place", base | {"side": SELL, "stop": StopType.LOSS, "stop_tick": -3,
                                    "profile": 2}))
    stream.append(("place", base | {"tif": TimeInForce.GTT, "tick": -3, "profile": 3}))
    return Harness(), setup_commands() + [make(kind, f) for kind, f in stream]


