"""Transfers with the outside world in the core (``sandex.core.funds``): holds, settlement on
the venue clock, refusals that change nothing, invariants, determinism and the image."""

from __future__ import annotations

import msgspec

from sandex.core import (
    AddCurrency,
    AddProduct,
    AdvanceClock,
    Command,
    CreateProfile,
    Deposit,
    Engine,
    LedgerEntry,
    PlaceOrder,
    Rejected,
    Side,
    StartTransfer,
    TransferCompleted,
    TransferStarted,
    check_invariants,
    state_hash,
)
from sandex.core import image as core_image
from sandex.errors import Error

T0 = 1_700_000_000_000_000
MINUTE = 60_000_000
COIN = 10**16
P = "p-1"


def setup() -> list[Command]:
    return [
        AddCurrency(time=T0 + 1, currency="USD", name="USD", min_size=0),
        AddCurrency(time=T0 + 2, currency="BTC", name="BTC", min_size=0),
        AddProduct(time=T0 + 3, product_id="BTC-USD", base_currency="BTC",
                   quote_currency="USD", base_increment=1, quote_increment=10**6,
                   min_market_funds=0),
        CreateProfile(time=T0 + 4, profile_id=P, user_id="u", name="default",
                      maker_fee_rate=0, taker_fee_rate=0),
        Deposit(time=T0 + 5, profile_id=P, currency="BTC", amount=10 * COIN, transfer_id="d0"),
    ]


def engine_with(*commands: Command) -> tuple[Engine, list[list[object]]]:
    engine = Engine()
    out = []
    for command in [*setup(), *commands]:
        out.append(list(engine.apply(command)))
        check_invariants(engine)
    return engine, out


def withdraw(t: int, tid: str, amount: int, settle_at: int, fee: int = 0) -> StartTransfer:
    return StartTransfer(time=t, transfer_id=tid, profile_id=P, currency="BTC", kind="withdraw",
                         amount=amount, fee=fee, settle_at=settle_at,
                         details=(("fee", "0.0001"),), user_nonce="7")


def test_a_withdrawal_holds_its_amount_until_the_clock_reaches_it() -> None:
    engine, events = engine_with(withdraw(T0 + 10, "w1", 3 * COIN, T0 + 10 + MINUTE, COIN // 100))
    account = engine.profiles[P].accounts["BTC"]
    assert (account.balance, account.hold) == (10 * COIN, 3 * COIN)
    assert events[-1] == [TransferStarted(T0 + 10, "w1", P, "BTC", "withdraw", 3 * COIN,
                                          COIN // 100, T0 + 10 + MINUTE, (("fee", "0.0001"),),
                                          "7")]
    assert engine.next_settlement() == T0 + 10 + MINUTE
    # the held amount is not available to an order
    refused = engine.apply(PlaceOrder(time=T0 + 11, order_id="o1", profile_id=P,
                                      product_id="BTC-USD", side=Side.SELL, price=10**8,
                                      size=8 * 10**8))
    assert type(refused[0]) is Rejected and refused[0].error is Error.INSUFFICIENT_FUNDS
    assert engine.apply(AdvanceClock(time=T0 + 10 + MINUTE - 1))[1:] == []
    settled = engine.apply(AdvanceClock(time=T0 + 10 + MINUTE))
    assert settled[1:] == [
        TransferCompleted(T0 + 10 + MINUTE, "w1", P, "BTC", "withdraw", 3 * COIN),
        LedgerEntry(T0 + 10 + MINUTE, 2, P, "BTC", settled[2].kind, -3 * COIN, 7 * COIN,  # type: ignore[attr-defined]
                    None, None, None, "w1")]
    assert (account.balance, account.hold) == (7 * COIN, 0)
    assert engine.supply["BTC"] == 7 * COIN and engine.next_settlement() is None
    check_invariants(engine)


def test_a_deposit_due_now_settles_at_once_and_a_later_one_waits() -> None:
    now = StartTransfer(time=T0 + 10, transfer_id="d1", profile_id=P, currency="USD",
                        kind="deposit", amount=5 * COIN)
    later = StartTransfer(time=T0 + 11, transfer_id="d2", profile_id=P, currency="USD",
                          kind="deposit", amount=2 * COIN, settle_at=T0 + MINUTE)
    engine, events = engine_with(now, later)
    assert [type(e).__name__ for e in events[-2]] == ["TransferStarted", "TransferCompleted",
                                                      "LedgerEntry"]
    assert engine.profiles[P].accounts["USD"].balance == 5 * COIN
    assert [type(e).__name__ for e in events[-1]] == ["TransferStarted"]
    engine.apply(AdvanceClock(time=T0 + 2 * MINUTE))
    assert engine.profiles[P].accounts["USD"].balance == 7 * COIN
    check_invariants(engine)


def test_settlements_due_together_go_by_due_time_then_start_order() -> None:
    engine, _ = engine_with(withdraw(T0 + 10, "a", COIN, T0 + 3 * MINUTE),
                            withdraw(T0 + 11, "b", COIN, T0 + 2 * MINUTE),
                            withdraw(T0 + 12, "c", COIN, T0 + 2 * MINUTE))
    events = engine.apply(AdvanceClock(time=T0 + 5 * MINUTE))
    assert [e.transfer_id for e in events if type(e) is TransferCompleted] == ["b", "c", "a"]


def test_refusals_change_nothing() -> None:
    engine, _ = engine_with()
    before = state_hash(engine)
    cases = [
        (withdraw(T0 + 10, "w", 11 * COIN, 0), Error.INSUFFICIENT_FUNDS),
        (StartTransfer(time=T0 + 10, transfer_id="x", profile_id="nobody", currency="BTC",
                       kind="deposit", amount=1), Error.PROFILE_NOT_FOUND),
        (StartTransfer(time=T0 + 10, transfer_id="x", profile_id=P, currency="DOGE",
                       kind="deposit", amount=1), Error.CURRENCY_NOT_FOUND),
        (StartTransfer(time=T0 + 10, transfer_id="x", profile_id=P, currency="BTC",
                       kind="deposit", amount=0), Error.INVALID_AMOUNT),
        (StartTransfer(time=T0 + 10, transfer_id="x", profile_id=P, currency="BTC",
                       kind="gift", amount=1), Error.INVALID_AMOUNT),
        (withdraw(T0 + 10, "w", COIN, 0, fee=COIN), Error.INVALID_AMOUNT),
    ]
    for command, error in cases:
        [refused] = engine.apply(command)
        assert type(refused) is Rejected and refused.error is error, command
        assert state_hash(engine) == before
    engine.apply(withdraw(T0 + 11, "w", COIN, T0 + MINUTE))
    [again] = engine.apply(withdraw(T0 + 12, "w", COIN, T0 + MINUTE))
    assert type(again) is Rejected  # a pending id is never reused


def test_same_commands_same_events_and_an_image_answers_alike() -> None:
    commands = [withdraw(T0 + 10, "w1", 2 * COIN, T0 + MINUTE),
                StartTransfer(time=T0 + 11, transfer_id="d1", profile_id=P, currency="BTC",
                              kind="deposit", amount=COIN, settle_at=T0 + 2 * MINUTE)]
    first, events_a = engine_with(*commands)
    _second, events_b = engine_with(*commands)
    assert msgspec.json.encode(events_a) == msgspec.json.encode(events_b)
    assert state_hash(first) != state_hash(engine_with()[0])  # pending transfers are hashed
    image = core_image.export(first)
    restored = core_image.restore(msgspec.json.decode(msgspec.json.encode(image),
                                                      type=core_image.EngineImage))
    assert state_hash(restored) == state_hash(first)
    check_invariants(restored)
    tail = AdvanceClock(time=T0 + 3 * MINUTE)
    assert msgspec.json.encode(restored.apply(tail)) == msgspec.json.encode(first.apply(tail))
    assert restored.profiles[P].accounts["BTC"].balance == 9 * COIN
