"""A test driver for the core: stamps commands like the sequencer, checks invariants each step.

Amounts are written as decimal strings (``"1.5"``) and converted here, so tests read like the
wire. Every command goes through ``Engine.apply`` and is followed by ``check_invariants``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from sandex.core import (
    AddProduct,
    AdvanceClock,
    CancelAll,
    CancelOrder,
    Command,
    CreateProfile,
    Deposit,
    Engine,
    Event,
    PlaceOrder,
    Rejected,
    check_invariants,
)
from sandex.units import AMOUNT_DECIMALS, PRICE_DECIMALS, RATE_DECIMALS, parse_units

T0 = 1_700_000_000_000_000  # microseconds


def px(text: str | None) -> int | None:
    """A price or size string in core units (1e-8)."""
    return None if text is None else parse_units(text, PRICE_DECIMALS)


def amt(text: str | None) -> int | None:
    """A currency amount string in core units (1e-16)."""
    return None if text is None else parse_units(text, AMOUNT_DECIMALS)


def rate(text: str) -> int:
    value = parse_units(text, RATE_DECIMALS)
    assert value is not None
    return value


class Venue:
    """An engine plus a sequencer stand-in: time advances 1 µs per command, ids are counters."""

    def __init__(self, check: bool = True) -> None:
        self.engine = Engine()
        self.time = T0
        self.ids = 0
        self.check = check
        self.log: list[tuple[Command, list[Event]]] = []

    def apply(self, command: Command) -> list[Event]:
        events = self.engine.apply(command)
        self.log.append((command, events))
        if self.check:
            check_invariants(self.engine)
        return events

    def stamp(self) -> int:
        self.time += 1
        return self.time

    def next_id(self, prefix: str = "o") -> str:
        self.ids += 1
        return f"{prefix}-{self.ids:06d}"

    # -- set-up ----------------------------------------------------------------------------
    def product(self, product_id: str = "BTC-USD", base_increment: str = "0.00000001",
                quote_increment: str = "0.01", min_market_funds: str = "1",
                **kw: Any) -> list[Event]:
        base, quote = product_id.split("-")
        return self.apply(msgspec.convert(dict(
            time=self.stamp(), product_id=product_id, base_currency=base, quote_currency=quote,
            base_increment=px(base_increment), quote_increment=px(quote_increment),
            min_market_funds=amt(min_market_funds), **kw), AddProduct))

    def profile(self, profile_id: str, maker: str = "0.004", taker: str = "0.006",
                **balances: str) -> str:
        self.apply(CreateProfile(time=self.stamp(), profile_id=profile_id,
                                 user_id=f"u-{profile_id}", name=profile_id,
                                 maker_fee_rate=rate(maker), taker_fee_rate=rate(taker)))
        for currency, amount in balances.items():
            self.deposit(profile_id, currency.upper(), amount)
        return profile_id

    def deposit(self, profile_id: str, currency: str, amount: str) -> list[Event]:
        units = parse_units(amount, AMOUNT_DECIMALS)
        assert units is not None, amount
        return self.apply(Deposit(time=self.stamp(), profile_id=profile_id, currency=currency,
                                  amount=units, transfer_id=self.next_id("t")))

    # -- trading -----------------------------------------------------------------------------
    def order(self, profile_id: str, side: str, price: str | None = None, size: str | None = None,
              product_id: str = "BTC-USD", funds: str | None = None, stop_price: str | None = None,
              **kw: Any) -> tuple[str, list[Event]]:
        order_id = kw.pop("order_id", None) or self.next_id()
        fields = dict(time=self.stamp(), order_id=order_id, profile_id=profile_id,
                      product_id=product_id, side=side, price=px(price), size=px(size),
                      funds=amt(funds), stop_price=px(stop_price), **kw)
        # msgspec.convert turns strings into the enums, as the journal's decoder does.
        return order_id, self.apply(msgspec.convert(fields, PlaceOrder))

    def buy(self, profile_id: str, price: str | None, size: str | None = None,
            **kw: Any) -> tuple[str, list[Event]]:
        return self.order(profile_id, "buy", price, size, **kw)

    def sell(self, profile_id: str, price: str | None, size: str | None = None,
             **kw: Any) -> tuple[str, list[Event]]:
        return self.order(profile_id, "sell", price, size, **kw)

    def cancel(self, profile_id: str, order_id: str | None = None, **kw: Any) -> list[Event]:
        return self.apply(CancelOrder(time=self.stamp(), profile_id=profile_id,
                                      order_id=order_id, **kw))

    def cancel_all(self, profile_id: str, product_id: str | None = None) -> list[Event]:
        return self.apply(CancelAll(time=self.stamp(), profile_id=profile_id,
                                    product_id=product_id))

    def advance(self, seconds: float) -> list[Event]:
        self.time += int(seconds * 1_000_000)
        return self.apply(AdvanceClock(time=self.time))

    # -- reading -----------------------------------------------------------------------------
    def balance(self, profile_id: str, currency: str) -> tuple[int, int]:
        account = self.engine.profiles[profile_id].account(currency)
        return account.balance, account.hold


def two_traders() -> Venue:
    """BTC-USD with ``alice`` and ``bob`` funded far beyond any test's orders (invariants
    checked after every command)."""
    v = Venue()
    v.product("BTC-USD")
    v.profile("alice", usd="100000000", btc="100000")
    v.profile("bob", usd="100000000", btc="100000")
    return v


def kinds(events: list[Event]) -> list[str]:
    """Event type names, without ledger entries: the shape of what happened."""
    return [type(e).__name__ for e in events if type(e).__name__ != "LedgerEntry"]


def rejected(events: list[Event]) -> str | None:
    """The reject message if the command was refused."""
    if len(events) == 1 and isinstance(events[0], Rejected):
        return events[0].message
    return None
