"""The account surface's core commands: Convert, RenameProfile, DeactivateProfile and
CreateReport. Deterministic (same commands, same events and state), conserving (supply and
balances agree), refusing bad input with nothing changed, and kept by snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from sandex.core import (
    AddCurrency,
    Command,
    Convert,
    CreateProfile,
    CreateReport,
    DeactivateProfile,
    Deposit,
    Engine,
    LedgerEntry,
    PlaceOrder,
    Rejected,
    RenameProfile,
    Side,
    check_invariants,
    state_hash,
)
from sandex.core import image as core_image
from sandex.core.commands import AddProduct
from sandex.node.node import Node

USD, USDC = 10**16, 10**16  # one unit of each, in amount units
T0 = 1_700_000_000_000_000


def setup() -> list[Command]:
    t = iter(range(T0, T0 + 1000))
    return [
        AddCurrency(time=next(t), currency="USD", name="US Dollar", min_size=10**14),
        AddCurrency(time=next(t), currency="USDC", name="USD Coin", min_size=10**10),
        AddProduct(time=next(t), product_id="BTC-USD", base_currency="BTC",
                   quote_currency="USD", base_increment=1, quote_increment=10**6,
                   min_market_funds=10**16),
        CreateProfile(time=next(t), profile_id="p-default", user_id="u1", name="default",
                      maker_fee_rate=4000, taker_fee_rate=6000),
        CreateProfile(time=next(t), profile_id="p-bots", user_id="u1", name="bots",
                      maker_fee_rate=4000, taker_fee_rate=6000),
        CreateProfile(time=next(t), profile_id="p-other", user_id="u2", name="other",
                      maker_fee_rate=4000, taker_fee_rate=6000),
        Deposit(time=next(t), profile_id="p-default", currency="USD", amount=1000 * USD,
                transfer_id="d1"),
        Deposit(time=next(t), profile_id="p-bots", currency="USD", amount=50 * USD,
                transfer_id="d2"),
    ]


def story() -> list[Command]:
    t = iter(range(T0 + 100, T0 + 1000))
    return [
        Convert(time=next(t), profile_id="p-default", conversion_id="c1", from_currency="USD",
                to_currency="USDC", from_amount=300 * USD, to_amount=300 * USDC),
        Convert(time=next(t), profile_id="p-bots", conversion_id="c2", from_currency="USD",
                to_currency="USDC", from_amount=20 * USD, to_amount=20 * USDC),
        RenameProfile(time=next(t), profile_id="p-bots", name="market-making"),
        DeactivateProfile(time=next(t), profile_id="p-bots", to_profile_id="p-default",
                          transfer_id="x1"),
        CreateReport(time=next(t) + 5, report_id="r1", token="secret", profile_id="p-default",
                     type="account", format="csv", ready_at=T0 + 10**6, start=T0,
                     end=T0 + 104, account_id="ALL", email="me@example.com"),
    ]


def run(commands: list[Command]) -> tuple[Engine, list[list[Any]]]:
    engine = Engine()
    events = [engine.apply(c) for c in commands]
    return engine, events


def test_the_same_commands_give_the_same_events_and_state() -> None:
    first, events = run([*setup(), *story()])
    second, again = run([*setup(), *story()])
    assert events == again and state_hash(first) == state_hash(second)
    assert not any(type(e[0]) is Rejected for e in events if e)
    check_invariants(first)


def test_conversion_and_deactivation_move_every_unit() -> None:
    engine, events = run([*setup(), *story()])
    default = engine.profiles["p-default"]
    assert (default.accounts["USD"].balance, default.accounts["USDC"].balance) == (
        730 * USD, 320 * USDC)
    bots = engine.profiles["p-bots"]
    assert (bots.active, bots.name) == (False, "market-making")
    assert all(a.balance == 0 for a in bots.accounts.values())
    assert engine.supply == {"USD": 730 * USD, "USDC": 320 * USDC, "BTC": 0}
    conversion = [e for e in events[len(setup())] if isinstance(e, LedgerEntry)]
    assert [(e.profile_id, e.currency, e.kind.value, e.amount, e.transfer_id)
            for e in conversion] == [("p-default", "USD", "conversion", -300 * USD, "c1"),
                                     ("p-default", "USDC", "conversion", 300 * USDC, "c1")]
    moved = [(e.profile_id, e.currency, e.amount) for e in events[len(setup()) + 3]
             if isinstance(e, LedgerEntry)]
    assert moved == [("p-bots", "USD", -30 * USD), ("p-default", "USD", 30 * USD),
                     ("p-bots", "USDC", -20 * USDC), ("p-default", "USDC", 20 * USDC)]
    assert engine.reports["r1"].end == T0 + 104 and engine.conversions["c2"].to_amount == 20 * USDC


@pytest.mark.parametrize(("command", "reason"), [
    (Convert(time=T0 + 900, profile_id="p-default", conversion_id="c9", from_currency="USD",
             to_currency="USDC", from_amount=10**6 * USD, to_amount=10**6 * USDC),
     "INSUFFICIENT_FUNDS"),
    (Convert(time=T0 + 900, profile_id="p-default", conversion_id="c9", from_currency="USD",
             to_currency="EUR", from_amount=USD, to_amount=USD), "INVALID_CONVERSION_PAIR"),
    (Convert(time=T0 + 900, profile_id="p-default", conversion_id="c9", from_currency="USD",
             to_currency="USDC", from_amount=USD, to_amount=0), "AMOUNT_NOT_POSITIVE"),
    (Convert(time=T0 + 900, profile_id="p-default", conversion_id="c1", from_currency="USD",
             to_currency="USDC", from_amount=USD, to_amount=USD), "INVALID_FIELD"),
    (Convert(time=T0 + 900, profile_id="p-default", conversion_id="c9", from_currency="USD",
             to_currency="USDC", from_amount=USD, to_amount=USD, kind="match"),
     "INVALID_CONVERSION_PAIR"),
    (RenameProfile(time=T0 + 900, profile_id="p-default", name="x"), "INVALID_PROFILE_NAME"),
    (RenameProfile(time=T0 + 900, profile_id="p-nope", name="x"), "PROFILE_NOT_FOUND"),
    (RenameProfile(time=T0 + 900, profile_id="p-bots", name="x"), "PROFILE_INACTIVE"),
    (DeactivateProfile(time=T0 + 900, profile_id="p-default", to_profile_id="p-other",
                       transfer_id="x2"), "DEFAULT_PROFILE_DELETE"),
    (CreateReport(time=T0 + 900, report_id="r2", token="t", profile_id="p-default",
                  type="balance", format="csv", ready_at=T0 + 901, start=T0, end=T0),
     "INVALID_REPORT_TYPE"),
    (CreateReport(time=T0 + 900, report_id="r2", token="t", profile_id="p-default",
                  type="fills", format="csv", ready_at=T0 + 901, start=T0, end=T0 + 901),
     "INVALID_FIELD"),
])
def test_a_refused_command_changes_nothing(command: Command, reason: str) -> None:
    engine, _ = run([*setup(), *story()])
    before = state_hash(engine)
    (event,) = engine.apply(command)
    assert isinstance(event, Rejected) and event.reason == reason
    assert state_hash(engine) == before


def test_deactivation_waits_for_open_orders() -> None:
    engine, _ = run(setup())
    engine.apply(PlaceOrder(time=T0 + 50, order_id="o1", profile_id="p-bots",
                            product_id="BTC-USD", side=Side.BUY, price=10**8, size=10**8))
    before = state_hash(engine)
    (event,) = engine.apply(DeactivateProfile(time=T0 + 51, profile_id="p-bots",
                                              to_profile_id="p-default", transfer_id="x"))
    assert isinstance(event, Rejected) and event.reason == "PROFILE_OPEN_ORDERS"
    assert state_hash(engine) == before


def test_the_image_and_a_node_snapshot_keep_the_new_state() -> None:
    engine, _ = run([*setup(), *story()])
    restored = core_image.restore(core_image.export(engine))
    assert state_hash(restored) == state_hash(engine)
    assert restored.conversions == engine.conversions and restored.reports == engine.reports
    assert restored.profiles["p-bots"].active is False
    node = Node()
    for command in [*setup(), *story()]:
        node.apply(command)
    copy = Node()
    copy.load_state(node.dump_state(), node.position)
    assert state_hash(copy.engine) == state_hash(node.engine)
    assert copy.engine.reports["r1"].token == "secret"
    assert copy.engine.profiles["p-bots"].name == "market-making"
    assert copy.ledger.entries == node.ledger.entries
