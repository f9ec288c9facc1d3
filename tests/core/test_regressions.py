"""Minimal reproductions of the bugs the property tests found, kept as regression tests.

All fixed while those tests were written (a251a5a, 89078eb). A new bug gets the same
treatment, marked ``xfail(strict=True)`` until it is fixed.
"""

from __future__ import annotations

from sandex.core import (
    AddCurrency,
    AddProduct,
    CreateProfile,
    Deposit,
    Done,
    DoneReason,
    Engine,
    Matched,
    PlaceOrder,
    Rejected,
    StopType,
    TimeInForce,
    Withdraw,
    check_invariants,
    state_hash,
)
from tests.core.harness import (
    BUY,
    COIN,
    MARKET,
    SELL,
    T0,
)


# -- minimal reproductions of the bugs these tests found (see the tests at the end) ----------------
def _base_engine() -> Engine:
    """BTC-USD (0.01 BTC, 1 USD increments), profiles a and b, a sells 1 BTC at 100."""
    engine = Engine()
    engine.apply(AddProduct(time=T0, product_id="BTC-USD", base_currency="BTC",
                            quote_currency="USD", base_increment=10**6,
                            quote_increment=10**8, min_market_funds=0))
    for profile in ("a", "b"):
        engine.apply(CreateProfile(time=T0, profile_id=profile, user_id=profile, name=profile,
                                   maker_fee_rate=0, taker_fee_rate=0))
        for currency in ("USD", "BTC"):
            engine.apply(Deposit(time=T0, profile_id=profile, currency=currency,
                                 amount=1000 * COIN, transfer_id=f"{profile}-{currency}"))
    engine.apply(PlaceOrder(time=T0, order_id="ask", profile_id="a", product_id="BTC-USD",
                            side=SELL, price=100 * 10**8, size=10**8))
    return engine


def repro_market_fok() -> None:
    """A market order with ``time_in_force=FOK`` against a non-empty book."""
    engine = _base_engine()
    engine.apply(PlaceOrder(time=T0, order_id="m", profile_id="b", product_id="BTC-USD",
                            side=BUY, type=MARKET, size=10**7, time_in_force=TimeInForce.FOK))
    check_invariants(engine)


def repro_market_post_only() -> None:
    """A market order with ``post_only=True`` against a non-empty book."""
    engine = _base_engine()
    engine.apply(PlaceOrder(time=T0, order_id="m", profile_id="b", product_id="BTC-USD",
                            side=BUY, type=MARKET, size=10**7, post_only=True))
    check_invariants(engine)


def repro_funds_zero_fill() -> None:
    """A funds market buy whose funds cannot buy one base increment at the best ask."""
    engine = _base_engine()
    engine.apply(AddProduct(time=T0, product_id="ETH-USD", base_currency="ETH",
                            quote_currency="USD", base_increment=10**8,  # 1 ETH
                            quote_increment=10**8, min_market_funds=0))
    engine.apply(Deposit(time=T0, profile_id="a", currency="ETH", amount=10 * COIN,
                         transfer_id="a-eth"))
    engine.apply(PlaceOrder(time=T0, order_id="ask-eth", profile_id="a", product_id="ETH-USD",
                            side=SELL, price=100 * 10**8, size=10**8))
    events = engine.apply(PlaceOrder(time=T0, order_id="m", profile_id="b",
                                     product_id="ETH-USD", side=BUY, type=MARKET,
                                     funds=50 * COIN))  # 50 USD; one ETH costs 100
    done = [e for e in events if isinstance(e, Done)]
    assert done and done[-1].reason is DoneReason.CANCELED, events  # no fill: not "filled"
    assert "m" not in engine.orders  # canceled with no fills: purged (§4.3)
    check_invariants(engine)


def repro_reject_moves_state() -> None:
    """A post-only order that would cross is refused, yet the state hash moves."""
    engine = _base_engine()
    before = state_hash(engine)
    events = engine.apply(PlaceOrder(time=T0, order_id="p", profile_id="b",
                                     product_id="BTC-USD", side=BUY, price=100 * 10**8,
                                     size=10**6, post_only=True))
    assert isinstance(events[0], Rejected) and events[0].reason == "POST_ONLY_MODE"
    assert state_hash(engine) == before


def repro_reject_creates_account() -> None:
    """A refused withdrawal of a currency the profile never held leaves an account behind."""
    engine = _base_engine()
    engine.apply(AddCurrency(time=T0, currency="ETH", name="Ether", min_size=0))
    before = state_hash(engine)
    events = engine.apply(Withdraw(time=T0, profile_id="a", currency="ETH", amount=COIN,
                                   transfer_id="w"))
    assert isinstance(events[0], Rejected) and events[0].reason == "INSUFFICIENT_FUNDS"
    assert "ETH" not in engine.profiles["a"].accounts
    assert state_hash(engine) == before


def repro_post_only_stop_takes() -> None:
    """A post-only stop-limit order must never take liquidity (now refused at entry)."""
    engine = _base_engine()
    engine.apply(PlaceOrder(time=T0, order_id="s", profile_id="b", product_id="BTC-USD",
                            side=SELL, price=99 * 10**8, size=10**6, post_only=True,
                            stop=StopType.LOSS, stop_price=100 * 10**8))  # no bid: accepted
    engine.apply(PlaceOrder(time=T0, order_id="bid", profile_id="a", product_id="BTC-USD",
                            side=BUY, price=99 * 10**8, size=10**6))
    events = engine.apply(PlaceOrder(time=T0, order_id="t", profile_id="b",
                                     product_id="BTC-USD", side=BUY, price=100 * 10**8,
                                     size=10**6))  # trades at 100: the loss stop triggers
    takers = [e.taker_order_id for e in events if isinstance(e, Matched)]
    assert "s" not in takers, "post-only order traded as taker"


def repro_order_reject_creates_accounts() -> None:
    """An order refused for insufficient funds leaves empty accounts behind."""
    engine = _base_engine()
    engine.apply(CreateProfile(time=T0, profile_id="c", user_id="c", name="c",
                               maker_fee_rate=0, taker_fee_rate=0))  # no deposits: no accounts
    before = state_hash(engine)
    events = engine.apply(PlaceOrder(time=T0, order_id="x", profile_id="c",
                                     product_id="BTC-USD", side=BUY, price=99 * 10**8,
                                     size=10**6))
    assert isinstance(events[0], Rejected) and events[0].reason == "INSUFFICIENT_FUNDS"
    assert engine.profiles["c"].accounts == {}, engine.profiles["c"].accounts
    assert state_hash(engine) == before



# -- bugs found by these tests ---------------------------------------------------------------------
# All fixed while these tests were written (a251a5a, 89078eb); kept as regression tests.
def test_regression_market_order_with_fok_does_not_raise() -> None:
    """Was: ``Engine._fok_fillable`` compared level prices with the market order's ``None``."""
    repro_market_fok()


def test_regression_market_order_with_post_only_does_not_raise() -> None:
    """Was: ``Engine._place``'s post-only check compared the best price with ``None``."""
    repro_market_post_only()


def test_regression_funds_market_order_without_fill_is_canceled() -> None:
    """Was: done 'filled' with no fill, kept on record: ``check_invariants`` failed."""
    repro_funds_zero_fill()


def test_regression_post_only_reject_changes_nothing() -> None:
    """Was: ``_new_order`` consumed an order number before the post-only reject."""
    repro_reject_moves_state()


def test_regression_refused_withdrawal_creates_no_account() -> None:
    """Was: ``admin._movement_target`` created the account before the funds check."""
    repro_reject_creates_account()


def test_regression_triggered_post_only_stop_does_not_take() -> None:
    """Was: a post-only stop-limit order, once triggered, traded as taker."""
    repro_post_only_stop_takes()


def test_regression_refused_order_creates_no_account() -> None:
    """Was: ``Engine._new_order`` created the quote and base accounts before the funds check."""
    repro_order_reject_creates_accounts()
