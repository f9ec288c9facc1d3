"""Accounts, holds, ledger, fees, profiles and transfers (§5, §6.10-§6.12)."""

from __future__ import annotations

from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.rest import wire
from sandex.api.rest.pagination import by_created_at, page
from sandex.api.rest.routing import ANY, TRANSFER, VIEW_OR_TRADE, Context, Route
from sandex.api.rest.volumes import thirty_day_usd_volume
from sandex.core import Account, LedgerEntry, Order, PendingTransfer, Profile, Transfer
from sandex.core.events import Rejected
from sandex.core.model import WITHDRAW
from sandex.errors import Error
from sandex.timefmt import iso, parse_iso
from sandex.units import AMOUNT_DECIMALS, RATE_DECIMALS, format_units, parse_units
from sandex.views.market import DAY


def _profile(app: Context, request: Request) -> Profile:
    return app.node.engine.profiles[request.profile_id]


def _account(profile: Profile, currency: str) -> Account:
    """The profile's account in ``currency`` (a zero one if it never held any: reads never
    create state)."""
    return profile.accounts.get(currency) or Account(profile.id, currency)


def _find_account(app: Context, request: Request, account_id: str) -> Account:
    profile = _profile(app, request)
    for currency in app.node.engine.currencies:
        if wire.account_id(profile.id, currency) == account_id.lower():
            return _account(profile, currency)
    raise ApiError(Error.NOT_FOUND)


async def list_accounts(app: Context, request: Request) -> Response:
    profile = _profile(app, request)
    return json_response([wire.account(_account(profile, c))
                          for c in app.node.engine.currencies])


async def get_account(app: Context, request: Request, account_id: str) -> Response:
    return json_response(wire.account(_find_account(app, request, account_id)))


async def list_holds(app: Context, request: Request, account_id: str) -> Response:
    account = _find_account(app, request, account_id)
    live = _profile(app, request).live.values()
    holds: list[Order | PendingTransfer] = [
        o for o in live if o.hold and o.hold_account.currency == account.currency]
    withdrawals = [t for t in app.node.engine.pending_transfers.values()
                   if t.kind == WITHDRAW and t.profile_id == account.profile_id
                   and t.currency == account.currency]
    if withdrawals:  # pending withdrawals hold their amount too (hold type ``transfer``)
        holds = sorted([*holds, *withdrawals], key=by_created_at)
    chunk, headers = page(holds, by_created_at, request, parse=parse_iso, render=iso)
    return json_response([wire.hold(h) if isinstance(h, Order) else wire.transfer_hold(h)
                          for h in chunk], headers=headers)


async def list_ledger(app: Context, request: Request, account_id: str) -> Response:
    """§5.4: newest first; without start_date or end_date, only the past day."""
    account = _find_account(app, request, account_id)
    entries = app.node.ledger.for_account(account.profile_id, account.currency)
    start_text, end_text = request.param("start_date"), request.param("end_date")
    start = parse_iso(start_text) if start_text else None
    end = parse_iso(end_text) if end_text else None
    if start_text and start is None:
        raise ApiError(Error.INVALID_FIELD, "start_date")
    if end_text and end is None:
        raise ApiError(Error.INVALID_FIELD, "end_date")
    if start is None and end is None:
        start = app.node.now() - DAY
    entries = [e for e in entries if (start is None or e.time >= start)
               and (end is None or e.time <= end)]
    chunk, headers = page(entries, _entry_id, request)
    return json_response([wire.ledger_entry(e) for e in chunk], headers=headers)


def _entry_id(entry: LedgerEntry) -> int:
    return entry.entry_id


def _rate(units: int) -> str:
    """A fee rate with at least 4 decimals, as Coinbase prints them (``"0.0040"``)."""
    text = format_units(units, RATE_DECIMALS)
    while text.endswith("0") and len(text.split(".")[1]) > 4:
        text = text[:-1]
    return text


async def get_fees(app: Context, request: Request) -> Response:
    """The profile's rates and 30-day USD volume; with ``[[fee_tiers]]`` configured, the
    rates of the tier that volume falls in (what its next order is charged)."""
    profile = _profile(app, request)
    volume = thirty_day_usd_volume(app.node, profile)
    tier = app.account.tier(volume)
    maker, taker = ((profile.maker_rate, profile.taker_rate) if tier is None
                    else (tier.maker_fee_rate, tier.taker_fee_rate))
    return json_response({"maker_fee_rate": _rate(maker), "taker_fee_rate": _rate(taker),
                          "usd_volume": format_units(volume, AMOUNT_DECIMALS, 2)})


def profile_json(profile: Profile) -> dict[str, object]:
    return {"id": profile.id, "user_id": profile.user_id, "name": profile.name,
            "active": profile.active,
            "is_default": profile.name == "default", "has_margin": False,
            "created_at": iso(profile.created_at)}


def _siblings(app: Context, request: Request) -> list[Profile]:
    """The profiles of the key's user (§6.10)."""
    user_id = _profile(app, request).user_id
    return [p for p in app.node.engine.profiles.values() if p.user_id == user_id]


async def list_profiles(app: Context, request: Request) -> Response:
    """``active=true``: the active ones, ``false``: the deactivated ones, none: all."""
    active = request.param("active")
    profiles = _siblings(app, request)
    if active in ("true", "false"):
        profiles = [p for p in profiles if p.active is (active == "true")]
    return json_response([profile_json(p) for p in profiles])


async def get_profile(app: Context, request: Request, profile_id: str) -> Response:
    for profile in _siblings(app, request):
        if profile.id == profile_id:
            return json_response(profile_json(profile))
    raise ApiError(Error.NOT_FOUND)


async def transfer(app: Context, request: Request) -> Response:
    """POST /profiles/transfer: between two profiles of the key's user; answers ``{}``."""
    body = request.json_object()
    for name in ("from", "to", "currency", "amount"):
        if body.get(name) is None:
            raise ApiError(Error.MISSING_FIELD, name)
    for name in ("from", "to"):
        if not isinstance(body[name], str):
            raise ApiError(Error.INVALID_FIELD, name)
    siblings = {p.id for p in _siblings(app, request)}
    if body["from"] not in siblings or body["to"] not in siblings:
        raise ApiError(Error.NOT_FOUND)
    amount = parse_units(body["amount"], AMOUNT_DECIMALS)
    if amount is None or not isinstance(body["currency"], str):
        raise ApiError(Error.INVALID_FIELD, "amount" if amount is None else "currency")
    node = app.node
    events = await node.execute(Transfer(
        time=node.stamp(), from_profile_id=body["from"], to_profile_id=body["to"],
        currency=body["currency"].upper(), amount=amount, transfer_id=node.ids.uuid()))
    if type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return json_response({})


async def verify_self(app: Context, request: Request) -> Response:
    return json_response({"id": _profile(app, request).user_id})


ROUTES = [
    Route("GET", "/accounts", list_accounts, VIEW_OR_TRADE),
    Route("GET", "/accounts/{account_id}", get_account, VIEW_OR_TRADE),
    Route("GET", "/accounts/{account_id}/holds", list_holds, VIEW_OR_TRADE),
    Route("GET", "/accounts/{account_id}/ledger", list_ledger, VIEW_OR_TRADE),
    Route("GET", "/fees", get_fees, VIEW_OR_TRADE),
    Route("GET", "/profiles", list_profiles, VIEW_OR_TRADE),
    Route("GET", "/profiles/{profile_id}", get_profile, VIEW_OR_TRADE),
    Route("POST", "/profiles/transfer", transfer, TRANSFER),
    Route("GET", "/users/self/verify", verify_self, ANY),
]
