"""Administrative commands: currencies, products, profiles, fees, deposits and transfers.

Handlers over the core's ``State`` (``Engine`` dispatches to them); each refuses bad input
with a ``Rejected`` event before changing anything.
"""

from __future__ import annotations

from sandex.core.commands import (
    AddCurrency,
    AddProduct,
    CreateProfile,
    Deposit,
    SetFees,
    SetProductStatus,
    SetVenue,
    Transfer,
    Withdraw,
)
from sandex.core.events import (
    CurrencyAdded,
    FeesChanged,
    LedgerEntry,
    ProductUpdated,
    ProfileCreated,
    reject,
)
from sandex.core.funds import beyond_supply
from sandex.core.limits import fee_rate_max
from sandex.core.model import (
    FEE_PROFILE_ID,
    REPLAY_PROFILE_ID,
    Account,
    Currency,
    LedgerKind,
    Profile,
)
from sandex.core.product import Product
from sandex.core.state import State
from sandex.errors import Error
from sandex.units import PRICE_SCALE

TRANSFER = LedgerKind.TRANSFER


def add_currency(state: State, cmd: AddCurrency) -> None:
    if not cmd.currency or cmd.min_size < 0:
        state._events.append(reject(Error.INVALID_FIELD, "currency"))
        return
    if cmd.currency in state.currencies:
        return  # idempotent: a scenario may list a currency its products already brought
    _register_currency(state, Currency(cmd.currency, cmd.name, cmd.min_size))
    state._events.append(CurrencyAdded(cmd.time, cmd.currency))


def _register_currency(state: State, currency: Currency) -> None:
    state.currencies[currency.id] = currency
    state.fee_accounts[currency.id] = Account(FEE_PROFILE_ID, currency.id)
    state.supply[currency.id] = 0


def add_product(state: State, cmd: AddProduct) -> None:
    if cmd.product_id in state.products:
        state._events.append(reject(Error.PRODUCT_EXISTS))
        return
    if (cmd.product_id != f"{cmd.base_currency}-{cmd.quote_currency}"
            or cmd.base_currency == cmd.quote_currency or "-" in cmd.base_currency
            or "-" in cmd.quote_currency or not 0 < cmd.base_increment <= PRICE_SCALE * 10**6
            or not 0 < cmd.quote_increment <= PRICE_SCALE * 10**6 or cmd.min_market_funds < 0):
        state._events.append(reject(Error.INVALID_PRODUCT))
        return
    for currency in (cmd.base_currency, cmd.quote_currency):
        if currency not in state.currencies:
            _register_currency(state, Currency(currency, currency, 0))
            state._events.append(CurrencyAdded(cmd.time, currency))
    state.products[cmd.product_id] = Product(
        cmd.product_id, cmd.base_currency, cmd.quote_currency, cmd.base_increment,
        cmd.quote_increment, cmd.min_market_funds, cmd.status)
    state._events.append(ProductUpdated(cmd.time, cmd.product_id, str(cmd.status)))


def set_venue(state: State, cmd: SetVenue) -> None:
    state.client_oid_dedup = cmd.client_oid_dedup


def set_product_status(state: State, cmd: SetProductStatus) -> None:
    product = state.products.get(cmd.product_id)
    if product is None:
        state._events.append(reject(Error.PRODUCT_NOT_FOUND))
        return
    product.status = cmd.status
    state._events.append(ProductUpdated(cmd.time, cmd.product_id, str(cmd.status)))


def _rates_valid(maker: int, taker: int) -> bool:
    return 0 <= maker <= fee_rate_max and 0 <= taker <= fee_rate_max


def create_profile(state: State, cmd: CreateProfile) -> None:
    if cmd.profile_id in state.profiles or cmd.profile_id in (FEE_PROFILE_ID, REPLAY_PROFILE_ID):
        state._events.append(reject(Error.PROFILE_EXISTS))
        return
    if not _rates_valid(cmd.maker_fee_rate, cmd.taker_fee_rate):
        state._events.append(reject(Error.INVALID_FEE_RATE))
        return
    state.profiles[cmd.profile_id] = Profile(
        cmd.profile_id, cmd.user_id, cmd.name, cmd.maker_fee_rate, cmd.taker_fee_rate, cmd.time)
    state._events.append(ProfileCreated(cmd.time, cmd.profile_id))


def set_fees(state: State, cmd: SetFees) -> None:
    profile = state.profiles.get(cmd.profile_id)
    if profile is None:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    if not _rates_valid(cmd.maker_fee_rate, cmd.taker_fee_rate):
        state._events.append(reject(Error.INVALID_FEE_RATE))
        return
    profile.maker_rate, profile.taker_rate = cmd.maker_fee_rate, cmd.taker_fee_rate
    state._events.append(FeesChanged(cmd.time, cmd.profile_id, cmd.maker_fee_rate,
                                    cmd.taker_fee_rate))


def _movement_target(state: State, profile_id: str, currency: str,
                     amount: int) -> Profile | None:
    """The profile a deposit/withdrawal/transfer touches, or ``None`` after a reject."""
    profile = state.profiles.get(profile_id)
    if profile is None:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return None
    if currency not in state.currencies:
        state._events.append(reject(Error.CURRENCY_NOT_FOUND))
        return None
    if amount <= 0:
        state._events.append(reject(Error.INVALID_AMOUNT))
        return None
    return profile


def _available(profile: Profile, currency: str) -> int:
    """What the profile can move out (no account is created to find out)."""
    account = profile.accounts.get(currency)
    return 0 if account is None else account.balance - account.hold


def deposit(state: State, cmd: Deposit) -> None:
    profile = _movement_target(state, cmd.profile_id, cmd.currency, cmd.amount)
    if profile is None:
        return
    refused = beyond_supply(state, cmd.currency, cmd.amount)
    if refused is not None:
        state._events.append(refused)
        return
    account = profile.account(cmd.currency)
    account.balance += cmd.amount
    state.supply[cmd.currency] += cmd.amount
    _ledger(state, cmd.time, account, cmd.amount, cmd.transfer_id)


def withdraw(state: State, cmd: Withdraw) -> None:
    profile = _movement_target(state, cmd.profile_id, cmd.currency, cmd.amount)
    if profile is None:
        return
    if _available(profile, cmd.currency) < cmd.amount:
        state._events.append(reject(Error.INSUFFICIENT_FUNDS))
        return
    account = profile.account(cmd.currency)
    account.balance -= cmd.amount
    state.supply[cmd.currency] -= cmd.amount
    _ledger(state, cmd.time, account, -cmd.amount, cmd.transfer_id)


def transfer(state: State, cmd: Transfer) -> None:
    if cmd.from_profile_id == cmd.to_profile_id:
        state._events.append(reject(Error.SAME_PROFILE_TRANSFER))
        return
    source_profile = _movement_target(state, cmd.from_profile_id, cmd.currency, cmd.amount)
    if source_profile is None:
        return
    target_profile = _movement_target(state, cmd.to_profile_id, cmd.currency, cmd.amount)
    if target_profile is None:
        return
    if not (source_profile.active and target_profile.active):  # deactivated: no funds in
        state._events.append(reject(Error.PROFILE_INACTIVE))
        return
    if _available(source_profile, cmd.currency) < cmd.amount:
        state._events.append(reject(Error.INSUFFICIENT_FUNDS))
        return
    source = source_profile.account(cmd.currency)
    target = target_profile.account(cmd.currency)
    source.balance -= cmd.amount
    target.balance += cmd.amount
    _ledger(state, cmd.time, source, -cmd.amount, cmd.transfer_id)
    _ledger(state, cmd.time, target, cmd.amount, cmd.transfer_id)


def _ledger(state: State, t: int, account: Account, amount: int, transfer_id: str | None) -> None:
    """Record a transfer's movement of ``account`` (already applied) as a ledger entry."""
    state._entry_id += 1
    state._events.append(LedgerEntry(
        t, state._entry_id, account.profile_id, account.currency, TRANSFER, amount,
        account.balance, None, None, None, transfer_id))
