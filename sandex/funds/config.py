"""The ``[funds]``, ``[[payment_methods]]`` and ``[[coinbase_accounts]]`` tables of a scenario.

``funds_config(data)`` checks them (``ValueError`` naming the field); ``funds_of(node)`` is
the configuration of a running venue (the defaults until the server installs the scenario's).
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandex.timefmt import parse_duration
from sandex.units import PRICE_DECIMALS, parse_units

if TYPE_CHECKING:
    from sandex.node.node import Node

_NAMESPACE = uuid.UUID("2b0f6e4c-2c55-4d0e-9f1a-6a3c1d5e7b90")
DEFAULT_PAYMENT_METHOD_ID = "e49c8d15-547b-464e-ac3d-4b9d20b360ec"
FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "AUD", "CHF", "SGD"})
"""Currencies that are money, not crypto: no address, no network (GUESS: Coinbase's fiat)."""
_MINUTE = 60_000_000
NETWORKS = {"BTC": "bitcoin", "ETH": "ethereum", "USDC": "ethereum", "LTC": "litecoin",
            "SOL": "solana", "XRP": "ripple", "XLM": "stellar", "DOGE": "dogecoin"}
"""Each crypto currency's default network (others: the currency's name in lower case)."""
TAGS = {"XRP": "XRP Tag", "XLM": "XLM Memo", "EOS": "EOS Memo", "ATOM": "ATOM Memo"}
"""Currencies whose addresses take a destination tag, and the tag's name."""
FEES = {"BTC": 10_000, "ETH": 100_000}  # 1e-8 units: 0.0001 BTC, 0.001 ETH
"""The default crypto withdrawal fees (other currencies: none)."""


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    type: str
    name: str
    currency: str
    allow_deposit: bool = True
    allow_withdraw: bool = True
    created_at: str = "2020-01-01T00:00:00Z"


@dataclass(frozen=True)
class Wallet:
    """A Coinbase wallet (``GET /coinbase-accounts``): ``balance`` in 1e-8 units is what each
    user starts with in it."""

    id: str
    currency: str
    name: str
    balance: int


@dataclass(frozen=True)
class FundsConfig:
    payment_methods: tuple[PaymentMethod, ...] = (PaymentMethod(
        DEFAULT_PAYMENT_METHOD_ID, "ach_bank_account", "Sandex Bank ******1234", "USD"),)
    wallets: tuple[Wallet, ...] | None = None  # None: one per venue currency, empty
    payment_method_delay: int = 60 * _MINUTE  # µs until an ACH deposit/withdrawal settles
    crypto_deposit_delay: int = 10 * _MINUTE  # µs of "confirmations" for a received deposit
    crypto_withdrawal_delay: int = _MINUTE  # µs until a crypto withdrawal is sent
    withdrawal_fees: dict[str, int] = field(default_factory=lambda: dict(FEES))
    networks: dict[str, str] = field(default_factory=lambda: dict(NETWORKS))

    def wallet_list(self, currencies: list[str]) -> list[Wallet]:
        if self.wallets is not None:
            return list(self.wallets)
        return [Wallet(wallet_id(c), c, f"{c} Wallet", 0) for c in currencies]

    def wallet(self, wallet_id: str, currencies: list[str]) -> Wallet | None:
        for wallet in self.wallet_list(currencies):
            if wallet.id == wallet_id or wallet.id.lower() == wallet_id.lower():
                return wallet
        return None

    def payment_method(self, method_id: str) -> PaymentMethod | None:
        return next((m for m in self.payment_methods if m.id == method_id), None)

    def network(self, currency: str) -> str:
        return self.networks.get(currency, currency.lower())

    def fee(self, currency: str) -> int:
        """The withdrawal fee of ``currency`` in 1e-8 units."""
        return self.withdrawal_fees.get(currency, 0)


def wallet_id(currency: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"wallet:{currency}"))


def _units(value: object, at: str) -> int:
    if isinstance(value, float):
        value = repr(value)
    units = parse_units(value, PRICE_DECIMALS)
    if units is None or units < 0:
        raise ValueError(f"{at}: {value!r} is not a number with at most 8 decimals")
    return units


def _delay(table: dict[str, Any], name: str, default: int) -> int:
    value = table.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"[funds] {name} must be a duration like \"10m\"")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"[funds] {name}: {exc}") from None


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a table")
    return value


def funds_config(data: dict[str, Any]) -> FundsConfig:
    """The funds configuration of a scenario's parsed TOML (defaults for what it omits)."""
    table = _table(data, "funds")
    known = {"payment_method_delay", "crypto_deposit_delay", "crypto_withdrawal_delay",
             "withdrawal_fees", "networks"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"[funds]: unknown field(s) {', '.join(unknown)}")
    fees = dict(FEES)
    for currency, value in _table(table, "withdrawal_fees").items():
        fees[currency.upper()] = _units(value, f"[funds] withdrawal_fees.{currency}")
    networks = dict(NETWORKS)
    for currency, value in _table(table, "networks").items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"[funds] networks.{currency} must be a network name")
        networks[currency.upper()] = value
    methods = data.get("payment_methods")
    if methods is None:
        methods_out = FundsConfig().payment_methods
    else:
        if not isinstance(methods, list):
            raise ValueError("payment_methods must be an array of tables ([[payment_methods]])")
        methods_out = tuple(_method(m, i) for i, m in enumerate(methods))
    wallets = data.get("coinbase_accounts")
    wallets_out = None
    if wallets is not None:
        if not isinstance(wallets, list):
            raise ValueError("coinbase_accounts must be an array of tables "
                             "([[coinbase_accounts]])")
        wallets_out = tuple(_wallet(w, i) for i, w in enumerate(wallets))
    defaults = FundsConfig()
    return FundsConfig(
        payment_methods=methods_out, wallets=wallets_out,
        payment_method_delay=_delay(table, "payment_method_delay", defaults.payment_method_delay),
        crypto_deposit_delay=_delay(table, "crypto_deposit_delay", defaults.crypto_deposit_delay),
        crypto_withdrawal_delay=_delay(table, "crypto_withdrawal_delay",
                                       defaults.crypto_withdrawal_delay),
        withdrawal_fees=fees, networks=networks)


def _method(entry: object, i: int) -> PaymentMethod:
    at = f"payment_methods[{i}]"
    if not isinstance(entry, dict):
        raise ValueError(f"{at} must be a table")
    unknown = sorted(set(entry) - {"id", "type", "name", "currency", "allow_deposit",
                                   "allow_withdraw"})
    if unknown:
        raise ValueError(f"{at}: unknown field(s) {', '.join(unknown)}")
    currency = entry.get("currency", "USD")
    if not isinstance(currency, str) or not currency:
        raise ValueError(f"{at}: currency must be a currency id")
    method_id = entry.get("id") or str(uuid.uuid5(_NAMESPACE, f"payment_method:{i}"))
    flags = {name: entry.get(name, True) for name in ("allow_deposit", "allow_withdraw")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise ValueError(f"{at}: allow_deposit and allow_withdraw must be true or false")
    return PaymentMethod(str(method_id), str(entry.get("type", "ach_bank_account")),
                         str(entry.get("name", f"Bank account {i + 1}")), currency.upper(),
                         **flags)


def _wallet(entry: object, i: int) -> Wallet:
    at = f"coinbase_accounts[{i}]"
    if not isinstance(entry, dict):
        raise ValueError(f"{at} must be a table")
    unknown = sorted(set(entry) - {"id", "currency", "name", "balance"})
    if unknown:
        raise ValueError(f"{at}: unknown field(s) {', '.join(unknown)}")
    currency = entry.get("currency")
    if not isinstance(currency, str) or not currency:
        raise ValueError(f"{at}: currency must be a currency id")
    currency = currency.upper()
    return Wallet(str(entry.get("id") or wallet_id(currency)), currency,
                  str(entry.get("name", f"{currency} Wallet")),
                  _units(entry.get("balance", "0"), f"{at}.balance"))


_CONFIGS: weakref.WeakKeyDictionary[Node, FundsConfig] = weakref.WeakKeyDictionary()


def funds_of(node: Node) -> FundsConfig:
    """The funds configuration of the venue around ``node`` (the defaults until set)."""
    found = _CONFIGS.get(node)
    if found is None:
        found = _CONFIGS[node] = FundsConfig()
    return found


def install(node: Node, config: FundsConfig) -> None:
    """Use ``config`` for the venue around ``node`` (at start, from its scenario)."""
    _CONFIGS[node] = config
