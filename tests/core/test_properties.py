"""Property tests of the core: random command streams, checked after every single command
by ``core.harness.Harness`` (what it checks is listed there).

Three drivers feed the harness: hypothesis streams, a seeded long run and a fuzzer that
builds every command type from arbitrary field values (``core.streams``). The bugs these
tests found each have a minimal reproduction in ``test_regressions.py``; a new bug gets the
same treatment, marked ``xfail(strict=True)`` until it is fixed.
"""

from __future__ import annotations

import os
import random

import msgspec
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from sandex.core import (
    AddProduct,
    CancelReason,
    Command,
    CreateProfile,
    Deposit,
    Done,
    Matched,
    PlaceOrder,
    Status,
)
from sandex.core.lifecycle import LIFECYCLE
from tests.core.harness import (
    BUY,
    COIN,
    MARKET,
    RATE_SCALE,
    SELL,
    T0,
    Harness,
    replay,
)
from tests.core.streams import (
    PRODUCTS,
    Abstract,
    abstract_commands,
    concretize,
    fuzz_commands,
    fuzz_orders,
    fuzz_products,
    fuzz_state,
    random_stream,
    run_stream,
)


# -- the property tests ----------------------------------------------------------------------------
@settings(max_examples=500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(abstract_commands, min_size=1, max_size=60))
def test_random_streams_keep_every_property(stream: list[Abstract]) -> None:
    commands = concretize(stream)
    note("\n".join(repr(c) for c in commands))
    run_stream(commands)


SEEDS = [int(s) for s in os.environ.get("SANDEX_SEEDS", "20240611").split(",")]


@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_long_run(seed: int) -> None:
    """20,000 commands from one seed (``SANDEX_SEEDS=1,2,3`` to try others).

    Four engines of 5,000 commands each: done orders with fills stay on record for good, and
    ``check_invariants`` walks them all after every command, so one engine for all 20,000
    would cost quadratic time without testing anything more.
    """
    rng = random.Random(seed)
    matches = 0
    moves: set[tuple[Status | None, Status]] = set()
    for run in range(4):
        commands = concretize(random_stream(rng, 5_000))
        try:
            harness = run_stream(commands)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, run {run}: {exc}") from exc
        matches += sum(isinstance(e, Matched) for events in harness.events for e in events)
        moves |= harness.moves
    assert moves == set(LIFECYCLE), f"lifecycle moves never seen: {set(LIFECYCLE) - moves}"
    print(f"seed {seed}: 20000 commands, {matches} matches")



@settings(max_examples=600, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(st.lists(st.one_of(fuzz_commands, fuzz_commands, fuzz_orders, fuzz_products),
                min_size=1, max_size=12))
def test_fuzzed_commands_never_raise_and_keep_invariants(commands: list[Command]) -> None:
    harness, prefix = fuzz_state()
    for cmd in prefix:
        harness.step(cmd)
    # order ids come from the sequencer and are unique: make the fuzzed ones so
    commands = [msgspec.structs.replace(c, order_id=f"fz{i}:{c.order_id}")
                if isinstance(c, PlaceOrder) else c for i, c in enumerate(commands)]
    note("\n".join(repr(c) for c in commands))
    for cmd in commands:
        harness.step(cmd)
    replay(harness.commands, harness.events, harness.engine)


# -- focused: a size-only market buy holds the whole balance (§4.8) -------------------------------
@settings(max_examples=300, deadline=None, database=None)
@given(balance=st.one_of(st.integers(1, 400).map(lambda n: n * COIN),
                         st.integers(10**14, 400 * COIN)),
       taker_rate=st.sampled_from([0, 1, 2500, 6001, 250_000, 999_999]),
       asks=st.lists(st.tuples(st.integers(0, 6), st.integers(1, 60)), min_size=1, max_size=6),
       lots=st.integers(1, 400))
def test_size_only_market_buy_spends_at_most_its_balance(
        balance: int, taker_rate: int, asks: list[tuple[int, int]], lots: int) -> None:
    """It buys until its size, the book or its balance (fees included) runs out, and never
    spends more than the balance."""
    spec = PRODUCTS["BTC-USD"]
    harness = Harness()
    commands: list[Command] = [
        AddProduct(time=T0, product_id="BTC-USD", base_currency="BTC", quote_currency="USD",
                   base_increment=spec.base_inc, quote_increment=spec.quote_inc,
                   min_market_funds=spec.min_funds),
        CreateProfile(time=T0, profile_id="seller", user_id="s", name="s", maker_fee_rate=0,
                      taker_fee_rate=0),
        CreateProfile(time=T0, profile_id="buyer", user_id="b", name="b", maker_fee_rate=0,
                      taker_fee_rate=taker_rate),
        Deposit(time=T0, profile_id="seller", currency="BTC", amount=1000 * COIN,
                transfer_id="s"),
        Deposit(time=T0, profile_id="buyer", currency="USD", amount=balance, transfer_id="b"),
    ]
    commands += [PlaceOrder(time=T0, order_id=f"ask{i}", profile_id="seller",
                            product_id="BTC-USD", side=SELL,
                            price=spec.mid + tick * spec.quote_inc, size=n * spec.base_inc)
                 for i, (tick, n) in enumerate(asks)]
    for cmd in commands:
        harness.step(cmd)
    events = harness.step(PlaceOrder(time=T0, order_id="m", profile_id="buyer",
                                     product_id="BTC-USD", side=BUY, type=MARKET,
                                     size=lots * spec.base_inc))
    usd = harness.engine.profiles["buyer"].accounts["USD"]
    assert 0 <= usd.balance <= balance and usd.hold == 0
    done = [e for e in events if isinstance(e, Done) and e.order_id == "m"]
    if done and done[0].cancel_reason is CancelReason.INSUFFICIENT_FUNDS:
        best = harness.engine.products["BTC-USD"].book.best_ask()
        assert best is not None, "ran out of funds with nothing left to buy"
        notional = best * spec.base_inc
        cost = notional + notional * taker_rate // RATE_SCALE
        assert cost > usd.balance, "stopped for funds while one more increment was affordable"

