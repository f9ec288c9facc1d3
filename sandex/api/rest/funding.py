"""Money in and out: deposits and withdrawals with Coinbase wallets,
payment methods and crypto addresses, deposit addresses, and address-book changes.

Each is a journaled ``StartTransfer`` the venue settles: Coinbase-wallet transfers at once
(Coinbase: "instant and free"), payment methods and crypto after the scenario's delays on the
venue clock. Every value the transfer shows (fee, due time, transaction hash) is decided
here, deterministically, and carried by the command.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.order_request import flag
from sandex.api.rest import transfer_wire as shapes
from sandex.api.rest import withdraw_limits
from sandex.api.rest.routing import TRANSFER, Context, Route
from sandex.api.rest.transfers import key_profile, wallet_balance
from sandex.auth.keys import Permission
from sandex.core import AddAddress, DeleteAddress, Profile, Rejected, StartTransfer
from sandex.errors import Error
from sandex.funds import deposit_address, funds_of, tx_hash
from sandex.funds.config import FIAT, TAGS
from sandex.timefmt import iso
from sandex.units import PRICE_DECIMALS, SIZE_TO_AMOUNT, parse_units

MANAGE = frozenset({Permission.MANAGE})
_NAMESPACE = uuid.UUID("a1d6c3f2-0e4b-4c8a-b5d7-9e2f4a6c8b01")
AMOUNT_MAX = 10**12 * 10**PRICE_DECIMALS  # GUESS: no single transfer moves more


# -- request fields ------------------------------------------------------------------------------
def _amount(body: dict[str, Any]) -> int:
    """``amount`` in 1e-8 units: a JSON number or a decimal string."""
    value = body.get("amount")
    if value is None:
        raise ApiError(Error.MISSING_FIELD, "amount")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ApiError(Error.AMOUNT_NOT_POSITIVE)
    units = parse_units(value, PRICE_DECIMALS)
    if units is None or not 0 < units <= AMOUNT_MAX:
        raise ApiError(Error.AMOUNT_NOT_POSITIVE)
    return units


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ApiError(Error.MISSING_FIELD, name)
    if not isinstance(value, str) or len(value) > 256:
        raise ApiError(Error.INVALID_FIELD, name)
    return value


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or len(value) > 256:
        raise ApiError(Error.INVALID_FIELD, name)
    return value


def _currency(app: Context, body: dict[str, Any]) -> str:
    currency = _text(body, "currency").upper()
    if currency not in app.node.engine.currencies:
        raise ApiError(Error.INVALID_CURRENCY)
    return currency


def _target(app: Context, request: Request, body: dict[str, Any],
            default_only: bool) -> Profile:
    """The profile a transfer moves funds of: ``profile_id`` (one of the key's user's) or
    the key's own. ``default_only``: the key must belong to the default profile (403)."""
    own = key_profile(app, request)
    if default_only and own.name != "default":
        raise ApiError(Error.FORBIDDEN)
    profile_id = body.get("profile_id")
    if profile_id is None or profile_id == "":
        return own
    if not isinstance(profile_id, str):
        raise ApiError(Error.INVALID_FIELD, "profile_id")
    profile = app.node.engine.profiles.get(profile_id)
    if profile is None or profile.user_id != own.user_id:
        raise ApiError(Error.NOT_FOUND)
    return profile


def _derived(kind: str, transfer_id: str, length: int = 64) -> str:
    return hashlib.sha256(f"sandex-{kind}:{transfer_id}".encode()).hexdigest()[:length]


# -- executing -----------------------------------------------------------------------------------
async def _start(app: Context, profile: Profile, currency: str, kind: str, amount: int,
                 delay: int, details_of: Callable[[str], dict[str, str]], fee: int = 0,
                 nonce: str | None = None) -> tuple[str, int]:
    """Start the transfer (amounts in 1e-8 units) with the details ``details_of`` gives for
    its id; its id and settle time (0: at once)."""
    node = app.node
    if kind == "withdraw":
        withdraw_limits.check(app, profile.user_id, currency, amount * SIZE_TO_AMOUNT)
    transfer_id = node.ids.uuid()
    details = details_of(transfer_id)
    details.setdefault("coinbase_transaction_id", _derived("transaction", transfer_id, 24))
    time = node.stamp()
    settle_at = time + delay if delay else 0
    events = await node.execute(StartTransfer(
        time=time, transfer_id=transfer_id, profile_id=profile.id, currency=currency,
        kind=kind, amount=amount * SIZE_TO_AMOUNT, fee=fee * SIZE_TO_AMOUNT,
        settle_at=settle_at, details=tuple(details.items()), user_nonce=nonce))
    if type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return transfer_id, settle_at


def _answer(transfer_id: str, amount: int, currency: str,
            **extra: str) -> Response:
    return json_response({"id": transfer_id, "amount": shapes.amount8(amount * SIZE_TO_AMOUNT),
                          "currency": currency, **extra})


# -- Coinbase wallets (instant) ------------------------------------------------------------------
async def _wallet_transfer(app: Context, request: Request, kind: str) -> Response:
    body = request.json_object()
    amount = _amount(body)
    wallet_id = _text(body, "coinbase_account_id")
    currency = _currency(app, body)
    profile = _target(app, request, body, default_only=False)
    wallet = funds_of(app.node).wallet(wallet_id, list(app.node.engine.currencies))
    if wallet is None:
        raise ApiError(Error.NOT_FOUND)
    if wallet.currency != currency:
        raise ApiError(Error.INVALID_CURRENCY)
    if kind == "deposit" and wallet_balance(app, request, wallet) < amount:
        raise ApiError(Error.INSUFFICIENT_FUNDS)
    transfer_id, _ = await _start(app, profile, currency, kind, amount, 0, lambda _: {
        "coinbase_account_id": wallet.id, "coinbase_payment_method_id": ""})
    return _answer(transfer_id, amount, currency)


async def deposit_wallet(app: Context, request: Request) -> Response:
    return await _wallet_transfer(app, request, "deposit")


async def withdraw_wallet(app: Context, request: Request) -> Response:
    return await _wallet_transfer(app, request, "withdraw")


# -- payment methods (settle after the scenario's delay) -----------------------------------------
async def _method_transfer(app: Context, request: Request, kind: str) -> Response:
    body = request.json_object()
    amount = _amount(body)
    method_id = _text(body, "payment_method_id")
    currency = _currency(app, body)
    profile = _target(app, request, body, default_only=True)
    config = funds_of(app.node)
    method = config.payment_method(method_id)
    if method is None:
        raise ApiError(Error.INVALID_PAYMENT_METHOD)
    if method.currency != currency:
        raise ApiError(Error.INVALID_CURRENCY)
    if not (method.allow_deposit if kind == "deposit" else method.allow_withdraw):
        raise ApiError(Error.PAYMENT_METHOD_NO_DEPOSIT if kind == "deposit"
                       else Error.PAYMENT_METHOD_NO_WITHDRAW)
    transfer_id, settle_at = await _start(
        app, profile, currency, kind, amount, config.payment_method_delay,
        lambda _: {"coinbase_payment_method_id": method.id,
                   "coinbase_payment_method_type": method.type})
    return _answer(transfer_id, amount, currency, payout_at=iso(settle_at) if settle_at
                   else iso(app.node.now()), fee="0.00000000")


async def deposit_method(app: Context, request: Request) -> Response:
    return await _method_transfer(app, request, "deposit")


async def withdraw_method(app: Context, request: Request) -> Response:
    return await _method_transfer(app, request, "withdraw")


# -- crypto ----------------------------------------------------------------------------------------
def _nonce(body: dict[str, Any]) -> str | None:
    value = body.get("nonce")
    if value is None:
        return None
    if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and value.isascii()
                                       and value.isdigit())) or len(str(value)) > 19:
        raise ApiError(Error.INVALID_FIELD, "nonce")
    return str(value)


async def withdraw_crypto(app: Context, request: Request) -> Response:
    """POST /withdrawals/crypto: the fee comes out of ``amount`` unless
    ``add_network_fee_to_total``; the whole debit is held until the venue sends it."""
    body = request.json_object()
    amount = _amount(body)
    currency = _currency(app, body)
    address = _text(body, "crypto_address")
    profile = _target(app, request, body, default_only=True)
    if currency in FIAT:
        raise ApiError(Error.INVALID_CURRENCY)
    config = funds_of(app.node)
    network = config.network(currency)
    asked = _optional_text(body, "network")
    if asked is not None and asked != network:
        raise ApiError(Error.INVALID_NETWORK)
    tag = _optional_text(body, "destination_tag")
    no_tag = flag(body, "no_destination_tag")
    on_top = flag(body, "add_network_fee_to_total")
    nonce = _nonce(body)
    if currency in TAGS and tag is None and not no_tag:
        raise ApiError(Error.DESTINATION_TAG_REQUIRED)
    if nonce is not None:  # GUESS: a repeated nonce answers the first withdrawal
        for r in app.node.transfers.for_profiles({profile.id}):
            if r.user_nonce == nonce and r.kind == "withdraw":
                first = dict(r.details)
                return _answer(r.id, r.amount // SIZE_TO_AMOUNT, r.currency,
                               fee=first.get("fee", ""), subtotal=first.get("subtotal", ""),
                               payout_at=iso(r.settle_at or r.created_at))
    fee = config.fee(currency)
    total, subtotal = (amount + fee, amount) if on_top else (amount, amount - fee)
    if subtotal <= 0:
        raise ApiError(Error.BELOW_MIN_WITHDRAWAL)
    wallets = config.wallet_list(list(app.node.engine.currencies))
    wallet = next((w for w in wallets if w.currency == currency), None)
    fee_text = shapes.amount8(fee * SIZE_TO_AMOUNT)
    subtotal_text = shapes.amount8(subtotal * SIZE_TO_AMOUNT)

    def details(transfer_id: str) -> dict[str, str]:
        return {
            "fee": fee_text, "subtotal": subtotal_text, "sent_to_address": address,
            "network": network, "destination_tag": tag or "",
            "destination_tag_name": TAGS.get(currency, ""),
            "coinbase_account_id": "" if wallet is None else wallet.id,
            "coinbase_withdrawal_id": str(uuid.uuid5(_NAMESPACE, f"withdrawal:{transfer_id}")),
            "coinbase_transaction_id": _derived("transaction", transfer_id, 24),
            "crypto_transaction_hash": tx_hash(transfer_id, network),
            "tx_service_transaction_id": str(uuid.uuid5(_NAMESPACE, f"tx:{transfer_id}")),
            "coinbase_payment_method_id": ""}

    transfer_id, settle_at = await _start(app, profile, currency, "withdraw", total,
                                          config.crypto_withdrawal_delay, details, fee=fee,
                                          nonce=nonce)
    return _answer(transfer_id, total, currency, fee=fee_text, subtotal=subtotal_text,
                   payout_at=iso(settle_at or app.node.now()))


async def withdraw_counterparty(app: Context, request: Request) -> Response:
    """POST /withdrawals/counterparty: to a counterparty in the profile's address book
    (an entry added with ``"network": "counterparty"``, GUESS), held at once and sent after
    the crypto withdrawal delay; ``status`` ``PENDING`` until the venue clock reaches it."""
    body = request.json_object()
    amount = _amount(body)
    counterparty = _text(body, "counterparty_id")
    currency = _currency(app, body)
    own = key_profile(app, request)
    if body.get("profile_id") not in (None, "", own.id):
        raise ApiError(Error.FORBIDDEN)  # the key's own profile only (Coinbase)
    entry = next((a for a in app.node.transfers.counterparties(own.id)
                  if a.address == counterparty), None)
    if entry is None:
        raise ApiError(Error.INVALID_COUNTERPARTY)
    config = funds_of(app.node)
    transfer_id, settle_at = await _start(
        app, own, currency, "withdraw", amount, config.crypto_withdrawal_delay,
        lambda _: {"counterparty_id": counterparty, "coinbase_payment_method_id": ""})
    return json_response({"id": transfer_id, "counterparty_id": counterparty,
                          "amount": shapes.amount8(amount * SIZE_TO_AMOUNT),
                          "currency": currency, "status": "PENDING" if settle_at else "DONE"})


async def create_address(app: Context, request: Request, account_id: str) -> Response:
    """POST /coinbase-accounts/{id}/addresses: the profile's deposit address for
    the wallet's currency, the same every time; the body (ccxt sends none) is optional."""
    body = request.json_object()
    profile = _target(app, request, body, default_only=True)
    config = funds_of(app.node)
    wallet = config.wallet(account_id, list(app.node.engine.currencies))
    if wallet is None:
        raise ApiError(Error.NOT_FOUND)
    if wallet.currency in FIAT:
        raise ApiError(Error.FIAT_ADDRESS)
    network = config.network(wallet.currency)
    asked = _optional_text(body, "network")
    if asked is not None and asked != network:
        raise ApiError(Error.INVALID_NETWORK)
    found = deposit_address(profile.id, wallet.currency, network)
    return json_response(shapes.address(found, wallet.id, app.node.now()))


# -- address book ----------------------------------------------------------------------------------
async def add_addresses(app: Context, request: Request) -> Response:
    """POST /address-book: ``{"addresses": [...]}``, all checked before any is
    added; answers ``{"body": [entries]}``."""
    body = request.json_object()
    entries = body.get("addresses")
    if entries is None:
        raise ApiError(Error.MISSING_FIELD, "addresses")
    if not isinstance(entries, list) or not entries or len(entries) > 100:
        raise ApiError(Error.INVALID_FIELD, "addresses")
    checked = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ApiError(Error.INVALID_FIELD, "addresses")
        currency = _currency(app, entry)
        to = entry.get("to")
        if to is None:
            raise ApiError(Error.MISSING_FIELD, "to")
        if not isinstance(to, dict):
            raise ApiError(Error.INVALID_FIELD, "to")
        checked.append((currency, _text(to, "address"), _optional_text(to, "destination_tag"),
                        _text(entry, "label"), _optional_text(entry, "network"),
                        _optional_text(entry, "vasp_id"),
                        flag(entry, "is_verified_self_hosted_wallet")))
    node = app.node
    ids = []

    def commands() -> Any:
        for currency, address, tag, label, network, vasp, verified in checked:
            entry_id = node.ids.uuid()
            ids.append(entry_id)
            yield AddAddress(time=node.stamp(), entry_id=entry_id, profile_id=request.profile_id,
                             currency=currency, address=address, label=label,
                             destination_tag=tag, network=network, vasp_id=vasp,
                             is_verified_self_hosted_wallet=verified)

    results = await node.execute_all(commands())
    for events in results:
        if events and type(events[0]) is Rejected:
            raise ApiError.rejected(events[0])
    added = node.transfers.addresses
    return json_response({"body": [shapes.address_entry(added[i]) for i in ids if i in added]})


async def update_address(app: Context, request: Request, entry_id: str) -> Response:
    """PUT /address-book/{id}: a new ``label`` (required) and, when sent, ``vasp_id``,
    ``is_verified_self_hosted_wallet`` and ``network``; the address and currency stay. A
    journaled ``AddAddress`` with the entry's id replaces it (its added time kept)."""
    entry = app.node.transfers.addresses.get(entry_id)
    if entry is None or entry.profile_id != request.profile_id:
        raise ApiError(Error.NOT_FOUND)
    body = request.json_object()
    label = _text(body, "label")
    if body.get("id") not in (None, "", entry_id):
        raise ApiError(Error.INVALID_FIELD, "id")
    vasp = _optional_text(body, "vasp_id") if "vasp_id" in body else entry.vasp_id
    network = _optional_text(body, "network") if "network" in body else entry.network
    if network == "*":
        network = None  # "*": every compatible network, as an entry without one
    verified = (flag(body, "is_verified_self_hosted_wallet")
                if "is_verified_self_hosted_wallet" in body
                else entry.is_verified_self_hosted_wallet)
    node = app.node
    events = await node.execute(AddAddress(
        time=node.stamp(), entry_id=entry_id, profile_id=request.profile_id,
        currency=entry.currency, address=entry.address, label=label,
        destination_tag=entry.destination_tag, network=network, vasp_id=vasp,
        is_verified_self_hosted_wallet=verified))
    if type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return json_response(shapes.address_entry(node.transfers.addresses[entry_id]))


async def delete_address(app: Context, request: Request, entry_id: str) -> Response:
    entry = app.node.transfers.addresses.get(entry_id)
    if entry is None or entry.profile_id != request.profile_id:
        raise ApiError(Error.NOT_FOUND)
    node = app.node
    events = await node.execute(DeleteAddress(time=node.stamp(), entry_id=entry_id,
                                              profile_id=request.profile_id))
    if type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return json_response({})


ROUTES = [
    Route("POST", "/coinbase-accounts/{account_id}/addresses", create_address, TRANSFER),
    Route("POST", "/deposits/coinbase-account", deposit_wallet, TRANSFER),
    Route("POST", "/deposits/payment-method", deposit_method, TRANSFER),
    Route("POST", "/withdrawals/coinbase-account", withdraw_wallet, TRANSFER),
    Route("POST", "/withdrawals/crypto", withdraw_crypto, TRANSFER),
    Route("POST", "/withdrawals/payment-method", withdraw_method, TRANSFER),
    Route("POST", "/withdrawals/counterparty", withdraw_counterparty, TRANSFER),
    Route("POST", "/address-book", add_addresses, MANAGE),
    Route("PUT", "/address-book/{entry_id}", update_address, MANAGE),
    Route("DELETE", "/address-book/{entry_id}", delete_address, MANAGE),
]
