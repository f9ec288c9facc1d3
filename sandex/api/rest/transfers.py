"""Reads of funds moving in and out: transfers, Coinbase wallets, payment
methods, the withdrawal fee estimate and the address book."""

from __future__ import annotations

from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.rest import transfer_wire as shapes
from sandex.api.rest.accounts import _find_account
from sandex.api.rest.pagination import page
from sandex.api.rest.routing import Context, Route
from sandex.auth.keys import Permission
from sandex.core import Profile
from sandex.errors import Error
from sandex.funds import Wallet, funds_of
from sandex.funds.config import FIAT
from sandex.timefmt import iso, parse_iso
from sandex.units import SIZE_TO_AMOUNT
from sandex.views import TransferRecord

READ = frozenset({Permission.VIEW, Permission.TRADE, Permission.TRANSFER})
"""GUESS: any of view, trade or transfer reads transfers."""
TYPES = ("deposit", "withdraw", "internal_deposit", "internal_withdraw")


def key_profile(app: Context, request: Request) -> Profile:
    return app.node.engine.profiles[request.profile_id]


def user_profiles(app: Context, request: Request) -> set[str]:
    """The profiles of the key's user: transfers are the user's."""
    user_id = key_profile(app, request).user_id
    return {p.id for p in app.node.engine.profiles.values() if p.user_id == user_id}


def wallet_balance(app: Context, request: Request, wallet: Wallet) -> int:
    """What the user has in the Coinbase wallet (1e-8 units): its scenario balance, less
    deposits from it, plus withdrawals to it."""
    balance = wallet.balance
    for r in app.node.transfers.for_profiles(user_profiles(app, request)):
        details = dict(r.details)
        if details.get("coinbase_account_id") == wallet.id and (
                "crypto_transaction_hash" not in details):
            amount = r.amount // SIZE_TO_AMOUNT
            balance += amount if r.kind == "withdraw" else -amount
    return balance


def _created_at(record: TransferRecord) -> int:
    return record.created_at


def _render(app: Context, records: list[TransferRecord], request: Request,
            default_limit: int) -> Response:
    chunk, headers = page(records, _created_at, request, parse=parse_iso, render=shapes.pg_time,
                          default_limit=default_limit)
    profiles = app.node.engine.profiles
    return json_response([shapes.transfer(r, profiles[r.profile_id].user_id) for r in chunk],
                         headers=headers)


def _type_filter(request: Request, records: list[TransferRecord]) -> list[TransferRecord]:
    kind = request.param("type")
    if kind is None or kind == "":
        return records  # GUESS: no type lists every type
    if kind not in TYPES:
        raise ApiError(Error.INVALID_FIELD, "type")
    return [r for r in records if r.kind == kind]


async def list_transfers(app: Context, request: Request) -> Response:
    """GET /transfers: newest first, 30 a page, by ``created_at``."""
    records = app.node.transfers.for_profiles(user_profiles(app, request))
    profile_id = request.param("profile_id")
    if profile_id:
        records = [r for r in records if r.profile_id == profile_id]
    currency = request.param("currency")
    if currency:
        records = [r for r in records if r.currency == currency.upper()]
    currency_type = request.param("currency_type")
    if currency_type:
        if currency_type not in ("crypto", "fiat"):
            raise ApiError(Error.INVALID_FIELD, "currency_type")
        fiat = currency_type == "fiat"
        records = [r for r in records if (r.currency in FIAT) is fiat]
    return _render(app, _type_filter(request, records), request, 30)


async def get_transfer(app: Context, request: Request, transfer_id: str) -> Response:
    record = app.node.transfers.records.get(transfer_id)
    if record is None or record.profile_id not in user_profiles(app, request):
        raise ApiError(Error.NOT_FOUND)
    user_id = app.node.engine.profiles[record.profile_id].user_id
    return json_response(shapes.transfer(record, user_id))


async def account_transfers(app: Context, request: Request, account_id: str) -> Response:
    """GET /accounts/{id}/transfers: 100 a page."""
    account = _find_account(app, request, account_id)
    records = [r for r in app.node.transfers.for_profiles({account.profile_id})
               if r.currency == account.currency]
    return _render(app, _type_filter(request, records), request, 100)


async def coinbase_accounts(app: Context, request: Request) -> Response:
    config = funds_of(app.node)
    return json_response([shapes.wallet(w, wallet_balance(app, request, w), w.currency in FIAT)
                          for w in config.wallet_list(list(app.node.engine.currencies))])


async def payment_methods(app: Context, request: Request) -> Response:
    return json_response([shapes.payment_method(m) for m in funds_of(app.node).payment_methods])


async def fee_estimate(app: Context, request: Request) -> Response:
    """GET /withdrawals/fee-estimate: the fee a crypto withdrawal will pay."""
    currency = request.param("currency")
    if not currency:
        raise ApiError(Error.MISSING_FIELD, "currency")
    if not request.param("crypto_address"):
        raise ApiError(Error.MISSING_FIELD, "crypto_address")
    currency = currency.upper()
    if currency not in app.node.engine.currencies or currency in FIAT:
        raise ApiError(Error.INVALID_CURRENCY)
    config = funds_of(app.node)
    network = request.param("network")
    if network and network != config.network(currency):
        raise ApiError(Error.INVALID_NETWORK)
    fee = shapes.amount8(config.fee(currency) * SIZE_TO_AMOUNT)
    return json_response({"fee": fee, "fee_before_subsidy": fee})


async def address_book(app: Context, request: Request) -> Response:
    return json_response([shapes.address_entry(a)
                          for a in app.node.transfers.book(request.profile_id)])


async def counterparty_book(app: Context, request: Request) -> Response:
    """GET /address-book/counterparty: ``[{id, address, label, added_at}]``."""
    return json_response([{"id": a.id, "address": a.address, "label": a.label,
                           "added_at": iso(a.added_at)[:23] + "Z"}
                          for a in app.node.transfers.counterparties(request.profile_id)])


ROUTES = [
    Route("GET", "/transfers", list_transfers, READ),
    Route("GET", "/transfers/{transfer_id}", get_transfer, READ),
    Route("GET", "/accounts/{account_id}/transfers", account_transfers, READ),
    Route("GET", "/coinbase-accounts", coinbase_accounts, READ),
    Route("GET", "/payment-methods", payment_methods, READ),
    Route("GET", "/withdrawals/fee-estimate", fee_estimate, READ),
    Route("GET", "/address-book", address_book, READ),
    Route("GET", "/address-book/counterparty", counterparty_book, READ),
]
