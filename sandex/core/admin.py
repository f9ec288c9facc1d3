"""Administrative commands: currencies, products, profiles, fees, deposits and transfers.

Functions bound to the ``Engine`` as handlers (see ``HANDLERS``); each refuses bad input with
a ``Rejected`` event before changing anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandex.core.commands import (
    AddCurrency,
    AddProduct,
    CreateProfile,
    Deposit,
    SetFees,
    SetProductStatus,
    Transfer,
    Withdraw,
)
from sandex.core.events import (
    CurrencyAdded,
    FeesChanged,
    ProductUpdated,
    ProfileCreated,
    reject,
)
from sandex.core.limits import fee_rate_max
from sandex.core.model import FEE_PROFILE_ID, Account, Currency, LedgerKind, Profile
from sandex.core.product import Product
from sandex.errors import Error
from sandex.units import PRICE_SCALE

if TYPE_CHECKING:
    from sandex.core.engine import Engine

TRANSFER = LedgerKind.TRANSFER


def add_currency(self: Engine, cmd: AddCurrency) -> None:
    if not cmd.currency or cmd.min_size < 0:
        self._events.append(reject(Error.INVALID_FIELD, "currency"))
        return
    if cmd.currency in self.currencies:
        return  # idempotent: a scenario may list a currency its products already brought
    _register_currency(self, Currency(cmd.currency, cmd.name, cmd.min_size))
    self._events.append(CurrencyAdded(cmd.time, cmd.currency))


def _register_currency(self: Engine, currency: Currency) -> None:
    self.currencies[currency.id] = currency
    self.fee_accounts[currency.id] = Account(FEE_PROFILE_ID, currency.id)
    self.supply[currency.id] = 0


def add_product(self: Engine, cmd: AddProduct) -> None:
    if cmd.product_id in self.products:
        self._events.append(reject(Error.PRODUCT_EXISTS))
        return
    if (cmd.product_id != f"{cmd.base_currency}-{cmd.quote_currency}"
            or cmd.base_currency == cmd.quote_currency or "-" in cmd.base_currency
            or "-" in cmd.quote_currency or not 0 < cmd.base_increment <= PRICE_SCALE * 10**6
            or not 0 < cmd.quote_increment <= PRICE_SCALE * 10**6 or cmd.min_market_funds < 0):
        self._events.append(reject(Error.INVALID_PRODUCT))
        return
    for currency in (cmd.base_currency, cmd.quote_currency):
        if currency not in self.currencies:
            _register_currency(self, Currency(currency, currency, 0))
            self._events.append(CurrencyAdded(cmd.time, currency))
    self.products[cmd.product_id] = Product(
        cmd.product_id, cmd.base_currency, cmd.quote_currency, cmd.base_increment,
        cmd.quote_increment, cmd.min_market_funds, cmd.status)
    self._events.append(ProductUpdated(cmd.time, cmd.product_id, str(cmd.status)))


def set_product_status(self: Engine, cmd: SetProductStatus) -> None:
    product = self.products.get(cmd.product_id)
    if product is None:
        self._events.append(reject(Error.PRODUCT_NOT_FOUND))
        return
    product.status = cmd.status
    self._events.append(ProductUpdated(cmd.time, cmd.product_id, str(cmd.status)))


def _rates_valid(maker: int, taker: int) -> bool:
    return 0 <= maker <= fee_rate_max and 0 <= taker <= fee_rate_max


def create_profile(self: Engine, cmd: CreateProfile) -> None:
    if cmd.profile_id in self.profiles or cmd.profile_id == FEE_PROFILE_ID:
        self._events.append(reject(Error.PROFILE_EXISTS))
        return
    if not _rates_valid(cmd.maker_fee_rate, cmd.taker_fee_rate):
        self._events.append(reject(Error.INVALID_FEE_RATE))
        return
    self.profiles[cmd.profile_id] = Profile(
        cmd.profile_id, cmd.user_id, cmd.name, cmd.maker_fee_rate, cmd.taker_fee_rate, cmd.time)
    self._events.append(ProfileCreated(cmd.time, cmd.profile_id))


def set_fees(self: Engine, cmd: SetFees) -> None:
    profile = self.profiles.get(cmd.profile_id)
    if profile is None:
        self._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    if not _rates_valid(cmd.maker_fee_rate, cmd.taker_fee_rate):
        self._events.append(reject(Error.INVALID_FEE_RATE))
        return
    profile.maker_rate, profile.taker_rate = cmd.maker_fee_rate, cmd.taker_fee_rate
    self._events.append(FeesChanged(cmd.time, cmd.profile_id, cmd.maker_fee_rate,
                                    cmd.taker_fee_rate))


def _movement_target(self: Engine, profile_id: str, currency: str,
                     amount: int) -> Profile | None:
    """The profile a deposit/withdrawal/transfer touches, or ``None`` after a reject."""
    profile = self.profiles.get(profile_id)
    if profile is None:
        self._events.append(reject(Error.PROFILE_NOT_FOUND))
        return None
    if currency not in self.currencies:
        self._events.append(reject(Error.CURRENCY_NOT_FOUND))
        return None
    if amount <= 0:
        self._events.append(reject(Error.INVALID_AMOUNT))
        return None
    return profile


def _available(profile: Profile, currency: str) -> int:
    """What the profile can move out (no account is created to find out)."""
    account = profile.accounts.get(currency)
    return 0 if account is None else account.balance - account.hold


def deposit(self: Engine, cmd: Deposit) -> None:
    profile = _movement_target(self, cmd.profile_id, cmd.currency, cmd.amount)
    if profile is None:
        return
    account = profile.account(cmd.currency)
    account.balance += cmd.amount
    self.supply[cmd.currency] += cmd.amount
    self._ledger(cmd.time, account, TRANSFER, cmd.amount, None, None, None, cmd.transfer_id)


def withdraw(self: Engine, cmd: Withdraw) -> None:
    profile = _movement_target(self, cmd.profile_id, cmd.currency, cmd.amount)
    if profile is None:
        return
    if _available(profile, cmd.currency) < cmd.amount:
        self._events.append(reject(Error.INSUFFICIENT_FUNDS))
        return
    account = profile.account(cmd.currency)
    account.balance -= cmd.amount
    self.supply[cmd.currency] -= cmd.amount
    self._ledger(cmd.time, account, TRANSFER, -cmd.amount, None, None, None, cmd.transfer_id)


def transfer(self: Engine, cmd: Transfer) -> None:
    if cmd.from_profile_id == cmd.to_profile_id:
        self._events.append(reject(Error.SAME_PROFILE_TRANSFER))
        return
    source_profile = _movement_target(self, cmd.from_profile_id, cmd.currency, cmd.amount)
    if source_profile is None:
        return
    target_profile = _movement_target(self, cmd.to_profile_id, cmd.currency, cmd.amount)
    if target_profile is None:
        return
    if _available(source_profile, cmd.currency) < cmd.amount:
        self._events.append(reject(Error.INSUFFICIENT_FUNDS))
        return
    source = source_profile.account(cmd.currency)
    target = target_profile.account(cmd.currency)
    source.balance -= cmd.amount
    target.balance += cmd.amount
    self._ledger(cmd.time, source, TRANSFER, -cmd.amount, None, None, None, cmd.transfer_id)
    self._ledger(cmd.time, target, TRANSFER, cmd.amount, None, None, None, cmd.transfer_id)


HANDLERS = {
    AddCurrency: "add_currency",
    AddProduct: "add_product",
    SetProductStatus: "set_product_status",
    CreateProfile: "create_profile",
    SetFees: "set_fees",
    Deposit: "deposit",
    Withdraw: "withdraw",
    Transfer: "transfer",
}
