"""The compiled core and the pure-Python core are twins: fed the same seeded random streams,
they give the same events and the same state hash after every command (replayed liquidity
included: ``sandex.core.replay`` is compiled too; and amounts beyond the compiled core's C
integers).

This process runs the compiled modules (the test is skipped, saying why, when the extension
is not built); a subprocess runs the same ``.py`` files uncompiled (``SANDEX_PURE_PYTHON``).
Each side reduces every command to one digest of its events and the state hash after it, so
the first command where they part is named.
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

import msgspec
import pytest

import sandex.core.engine
from sandex import native
from sandex.core import (
    AddProduct,
    Command,
    CreateProfile,
    Deposit,
    Engine,
    OrderType,
    PlaceOrder,
    ReplayAction,
    ReplayAdd,
    ReplayBatch,
    ReplayBook,
    ReplayCancel,
    ReplayLevel,
    ReplayMarket,
    ReplayReduce,
    ReplayTake,
    Side,
    StartReplay,
    TimeInForce,
    state_hash,
)
from sandex.core.limits import funds_max, unit_max
from tests.core.streams import concretize, random_stream, setup_commands
from tests.support.twin_kit import pure_python_side

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (1, 2, 3)
PROPERTY_COMMANDS = 300  # per seed: every kind of command the property tests make
MIX_COMMANDS = 1500  # the benchmark's mix: limits near a moving mid, cancels, marketable


def streams() -> list[tuple[str, list[Command]]]:
    """Named command streams, each from a fresh engine."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from streams import generate  # bench/streams.py: the 1M-command mix, smaller
    finally:
        sys.path.remove(str(ROOT / "bench"))
    named = [(f"property seed {seed}",
              setup_commands() + concretize(random_stream(random.Random(seed), PROPERTY_COMMANDS)))
             for seed in SEEDS]
    for seed in SEEDS:
        mix = generate(MIX_COMMANDS, seed, n_products=2, n_profiles=4)
        named.append((f"bench mix seed {seed}", mix.setup + mix.commands))
    for seed in SEEDS:
        named.append((f"replay seed {seed}", replay_stream(random.Random(seed), 400)))
    for seed in SEEDS:
        named.append((f"wide bounds seed {seed}", wide_stream(random.Random(seed), 400)))
    for seed in SEEDS:
        named.append((f"venue bound seed {seed}", bound_stream(random.Random(seed), 300)))
    return named


def bound_stream(rng: random.Random, orders: int) -> list[Command]:
    """Orders at and just beyond the venue's bound (``limits``: prices and sizes at most
    10**18, funds at most 10**36), so both cores refuse the same ones and fill the rest to
    the same totals (10**36 of quote and more, in the compiled core's 128-bit fields)."""
    product = "MAX-USD"
    commands: list[Command] = [
        AddProduct(time=0, product_id=product, base_currency="MAX", quote_currency="USD",
                   base_increment=1, quote_increment=1, min_market_funds=1)]
    for i in range(3):
        commands.append(CreateProfile(time=0, profile_id=f"m{i}", user_id=f"u-m{i}",
                                      name=f"m{i}", maker_fee_rate=999_999 if i == 1 else 0,
                                      taker_fee_rate=999_999 - 1000 * i))
        for currency in ("USD", "MAX"):
            commands.append(Deposit(time=0, profile_id=f"m{i}", currency=currency,
                                    amount=3 * 10**36, transfer_id=f"d-{i}-{currency}"))
    for number in range(orders):
        side = rng.choice((Side.BUY, Side.SELL))
        roll = rng.random()
        near = (unit_max - rng.randint(0, 2), unit_max + rng.randint(1, 2), rng.randint(1, 1000))
        price, size, funds = rng.choice(near), rng.choice(near), None
        kind = OrderType.LIMIT
        if roll < 0.15:
            kind, price = OrderType.MARKET, None
            if rng.random() < 0.5:
                size, funds = None, funds_max + rng.choice((-1, 0, 1)) * 10**8
        commands.append(PlaceOrder(
            time=0, order_id=f"m-{number}", profile_id=f"m{rng.randrange(3)}",
            product_id=product, side=side, type=kind, price=price, size=size, funds=funds,
            time_in_force=TimeInForce.IOC if roll > 0.8 else TimeInForce.GTC))
    return [msgspec.structs.replace(command, time=i + 1) for i, command in enumerate(commands)]


def wide_stream(rng: random.Random, orders: int) -> list[Command]:
    """Trades on both sides of the bounds of the compiled core's C amounts
    (``matching._fits_wide``): prices around 2**53, balances around 2**120 (some crossing it
    as they trade, one of 2**122: within the venue's supply bound, 10**37) and the largest
    fee rate, so both settlements run and must agree with Python's ints."""
    product, unit = "BIG-USD", 1 << 53
    commands: list[Command] = [
        AddProduct(time=0, product_id=product, base_currency="BIG", quote_currency="USD",
                   base_increment=1, quote_increment=1, min_market_funds=1)]
    balances = (2**120 - 2**100, 2**122, 10**30, 2**120 + 5)  # within the supply bound
    for i, balance in enumerate(balances):
        commands.append(CreateProfile(time=0, profile_id=f"w{i}", user_id=f"u-w{i}",
                                      name=f"w{i}", maker_fee_rate=999_999 if i % 2 else 0,
                                      taker_fee_rate=999_999 - 1000 * i))
        for currency in ("USD", "BIG"):
            commands.append(Deposit(time=0, profile_id=f"w{i}", currency=currency,
                                    amount=balance, transfer_id=f"d-{i}-{currency}"))
    for number in range(orders):
        side = rng.choice((Side.BUY, Side.SELL))
        size = rng.choice((rng.randint(1, 1000), unit - rng.randint(0, 3)))
        roll = rng.random()
        kind = OrderType.MARKET if roll < 0.1 else OrderType.LIMIT
        commands.append(PlaceOrder(
            time=0, order_id=f"w-{number}", profile_id=f"w{rng.randrange(len(balances))}",
            product_id=product, side=side, type=kind,
            price=None if kind is OrderType.MARKET else unit + rng.randint(-8, 8),
            size=size, time_in_force=TimeInForce.IOC if roll > 0.8 else TimeInForce.GTC))
    return [msgspec.structs.replace(command, time=i + 1) for i, command in enumerate(commands)]


def replay_stream(rng: random.Random, batches: int) -> list[Command]:
    """A replay on BTC-USD: batches of every action kind around a price of 100 (recorded
    orders resting, canceled, shrunk and taken; level-2 sizes and whole books), and a user's
    orders among them."""
    unit, product = 10**8, "BTC-USD"
    commands: list[Command] = [
        AddProduct(time=0, product_id=product, base_currency="BTC", quote_currency="USD",
                   base_increment=unit // 1000, quote_increment=unit // 100,
                   min_market_funds=10 * 10**16),
        CreateProfile(time=0, profile_id="bot", user_id="u-bot", name="bot", maker_fee_rate=0,
                      taker_fee_rate=0),
        Deposit(time=0, profile_id="bot", currency="USD", amount=10**9 * 10**16,
                transfer_id="d-usd"),
        Deposit(time=0, profile_id="bot", currency="BTC", amount=10**6 * 10**16,
                transfer_id="d-btc"),
        StartReplay(time=0, source="rec.jsonl", sha256="ab" * 32, format="coinbase-full",
                    products=(product,), seed="twin")]
    ids: list[str] = []
    number = 0

    def price() -> int:
        return rng.randint(9_900, 10_100) * unit // 100

    def size() -> int:
        return rng.randint(1, 3_000) * unit // 1000

    for _ in range(batches):
        actions: list[ReplayAction] = []
        for _ in range(rng.randint(1, 12)):
            side = rng.choice((Side.BUY, Side.SELL))
            roll = rng.random()
            if roll < 0.35 or not ids:
                number += 1
                ids.append(f"r-{number}")
                actions.append(ReplayAdd(product_id=product, order_id=ids[-1], side=side,
                                         price=price(), size=size()))
            elif roll < 0.5:
                actions.append(ReplayCancel(product_id=product, order_id=rng.choice(ids),
                                            filled=rng.random() < 0.3))
            elif roll < 0.6:
                actions.append(ReplayReduce(product_id=product, order_id=rng.choice(ids),
                                            size=size() // 2 + 1))
            elif roll < 0.7:
                number += 1
                actions.append(ReplayMarket(product_id=product, order_id=f"m-{number}",
                                            side=side, size=size()))
            elif roll < 0.8:
                actions.append(ReplayTake(product_id=product, side=side, price=price(),
                                          size=size()))
            elif roll < 0.97:
                actions.append(ReplayLevel(product_id=product, side=side, price=price(),
                                           size=rng.choice((0, size()))))
            else:
                actions.append(ReplayBook(
                    product_id=product,
                    bids=tuple((p, size()) for p in range(9_990 * unit // 100,
                                                          9_950 * unit // 100, -unit)),
                    asks=tuple((p, size()) for p in range(10_010 * unit // 100,
                                                          10_050 * unit // 100, unit))))
        commands.append(ReplayBatch(time=0, actions=tuple(actions), events=len(actions),
                                    line=len(actions), source_time=1))
        if rng.random() < 0.3:
            number += 1
            commands.append(PlaceOrder(time=0, order_id=f"bot-{number}", profile_id="bot",
                                       product_id=product, side=rng.choice((Side.BUY,
                                                                            Side.SELL)),
                                       price=price(), size=size()))
    return [msgspec.structs.replace(command, time=i + 1) for i, command in enumerate(commands)]


def trace(commands: list[Command]) -> list[str]:
    """One digest per command: its events (as JSON) and the state hash after it."""
    engine, encode = Engine(), msgspec.json.encode
    return [hashlib.sha256(encode(engine.apply(cmd)) + state_hash(engine).encode()).hexdigest()
            for cmd in commands]


def traces() -> dict[str, list[str]]:
    return {name: trace(commands) for name, commands in streams()}


PURE_SIDE = """
import json, sys
import sandex.core.engine
assert sandex.core.engine.__file__.endswith(".py"), sandex.core.engine.__file__
from tests.core.test_compiled_twin import traces
print(json.dumps(traces()))
"""


def test_compiled_and_pure_python_cores_give_the_same_events_and_states() -> None:
    if not native.compiled():
        pytest.skip(f"the compiled core is not built ({native.WHY_PURE})")
    assert not str(sandex.core.engine.__file__).endswith(".py")  # this side is compiled
    pure: dict[str, list[str]] = pure_python_side(PURE_SIDE, timeout=600)
    compiled = traces()
    assert list(compiled) == list(pure)
    for name, steps in compiled.items():
        assert len(steps) > 300
        parted = next((i for i, (a, b) in enumerate(zip(steps, pure[name], strict=True))
                       if a != b), None)
        assert parted is None, f"{name}: the cores part at command {parted}"
