"""Conversions (USD <-> USDC at 1:1) and wrapped assets (cbETH, stake-wrap and redeem).

Both move funds inside one profile with a journaled ``Convert``; a stake-wrap's ``to_amount``
is worked out here at the configured rate, so the journal carries it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.rest import wire
from sandex.api.rest.account_config import RATE18, WrappedAsset
from sandex.api.rest.pagination import by_created_at, page
from sandex.api.rest.routing import TRADE, VIEW_OR_TRADE, Context, Route
from sandex.api.shapes import CONVERTIBLE
from sandex.core import Conversion, Convert, LedgerKind
from sandex.core.events import Rejected
from sandex.errors import Error
from sandex.timefmt import iso, parse_iso
from sandex.units import AMOUNT_DECIMALS, format_trimmed, format_units, parse_units

FEE_ZERO = "0.0000000000000000"  # fee_amount: Coinbase prints 16 decimals


def body_amount(body: dict[str, Any], name: str = "amount") -> int:
    """A positive amount sent as a JSON number or string (ccxt and copra send numbers)."""
    value = body.get(name)
    if value is None:
        raise ApiError(Error.MISSING_FIELD, name)
    amount = parse_units(value, AMOUNT_DECIMALS)
    if amount is None or amount <= 0:
        raise ApiError(Error.AMOUNT_NOT_POSITIVE)
    return amount


def body_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ApiError(Error.MISSING_FIELD, name)
    if not isinstance(value, str):
        raise ApiError(Error.INVALID_FIELD, name)
    return value


def own_profile(request: Request, value: object) -> None:
    """A ``profile_id`` sent must be the key's own: 403 otherwise."""
    if value is not None and value != request.profile_id:
        raise ApiError(Error.FORBIDDEN)


async def _convert(app: Context, request: Request, from_currency: str, to_currency: str,
                   from_amount: int, to_amount: int, kind: LedgerKind,
                   conversion_id: str | None = None) -> Conversion:
    node = app.node
    conversion_id = conversion_id or node.ids.uuid()
    events = await node.execute(Convert(
        time=node.stamp(), profile_id=request.profile_id, conversion_id=conversion_id,
        from_currency=from_currency, to_currency=to_currency, from_amount=from_amount,
        to_amount=to_amount, kind=kind.value))
    if events and type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return node.engine.conversions[conversion_id]


def conversion_json(c: Conversion) -> dict[str, Any]:
    return {"id": c.id, "amount": format_units(c.from_amount, AMOUNT_DECIMALS, 8),
            "from_account_id": wire.account_id(c.profile_id, c.from_currency),
            "to_account_id": wire.account_id(c.profile_id, c.to_currency),
            "from": c.from_currency, "to": c.to_currency, "fee_amount": FEE_ZERO,
            "created_at": iso(c.created_at)}


async def create_conversion(app: Context, request: Request) -> Response:
    body = request.json_object()
    source = body_text(body, "from").upper()
    target = body_text(body, "to").upper()
    amount = body_amount(body)
    own_profile(request, body.get("profile_id"))
    if CONVERTIBLE.get(source) != target:
        raise ApiError(Error.INVALID_CONVERSION_PAIR)
    conversion = await _convert(app, request, source, target, amount, amount,
                                LedgerKind.CONVERSION)
    return json_response(conversion_json(conversion))


def _mine(app: Context, request: Request, kind: LedgerKind) -> list[Conversion]:
    return [c for c in app.node.engine.conversions.values()
            if c.profile_id == request.profile_id and c.kind is kind]


async def get_conversion(app: Context, request: Request, conversion_id: str) -> Response:
    own_profile(request, request.param("profile_id"))
    return json_response(conversion_json(_one(app, request, conversion_id,
                                              LedgerKind.CONVERSION)))


async def list_conversions(app: Context, request: Request) -> Response:
    own_profile(request, request.param("profile_id"))
    chunk, headers = page(_mine(app, request, LedgerKind.CONVERSION), by_created_at, request,
                          parse=parse_iso, render=iso)
    return json_response([conversion_json(c) for c in chunk], headers=headers)


def _thirty_day(app: Context, request: Request, source: str) -> int:
    since = app.node.now() - 30 * 86_400_000_000
    return sum(c.from_amount for c in _mine(app, request, LedgerKind.CONVERSION)
               if c.from_currency == source and c.created_at >= since)


async def conversion_fees(app: Context, request: Request) -> Response:
    """The union of the two documented shapes: the fee is 0 on sandex."""
    currencies = app.node.engine.currencies
    rows = []
    for source, target in sorted(CONVERTIBLE.items()):
        if source in currencies and target in currencies:
            volume = format_units(_thirty_day(app, request, source), AMOUNT_DECIMALS, 8)
            rows.append({"from_currency": source, "to_currency": target, "fee_rate": "0",
                         "min_fee_rate": "0", "thirty_day_volume": volume,
                         "thirty_day_net_volume": volume, "available_credit": "0",
                         "fee_tiers": [{"from_amount": "0", "to_amount": "0",
                                        "fee_rate": "0"}]})
    return json_response(rows)


# -- wrapped assets -----------------------------------------------------------------------------
def _asset(app: Context, asset_id: str) -> WrappedAsset:
    asset = app.account.wrapped(asset_id)
    if asset is None:
        raise ApiError(Error.NOT_FOUND)
    return asset


def asset_json(asset: WrappedAsset) -> dict[str, str]:
    return {"id": asset.id, "circulating_supply": asset.circulating_supply,
            "total_supply": asset.total_supply,
            "conversion_rate": format_units(asset.conversion_rate, RATE18),
            "apy": asset.apy, "redeem_time_estimate_days": asset.redeem_time_estimate_days}


async def list_wrapped(app: Context, request: Request) -> Response:
    return json_response({"wrapped_assets": [asset_json(a) for a in app.account.wrapped_assets]})


async def get_wrapped(app: Context, request: Request, wrapped_asset_id: str) -> Response:
    return json_response(asset_json(_asset(app, wrapped_asset_id)))


async def conversion_rate(app: Context, request: Request, wrapped_asset_id: str) -> Response:
    rate = _asset(app, wrapped_asset_id).conversion_rate
    return json_response({"amount": format_units(rate, RATE18)})


def stake_wrap_json(c: Conversion, app: Context) -> dict[str, Any]:
    asset = app.account.wrapped(c.to_currency)
    rate = format_units(asset.conversion_rate, RATE18) if asset is not None else None
    return {"id": c.id, "from_amount": format_trimmed(c.from_amount, AMOUNT_DECIMALS),
            "to_amount": format_trimmed(c.to_amount, AMOUNT_DECIMALS),
            "from_account_id": wire.account_id(c.profile_id, c.from_currency),
            "to_account_id": wire.account_id(c.profile_id, c.to_currency),
            "from_currency": c.from_currency, "to_currency": c.to_currency,
            "status": "completed", "conversion_rate": rate, "created_at": iso(c.created_at),
            "completed_at": iso(c.created_at), "canceled_at": None}


async def create_stake_wrap(app: Context, request: Request) -> Response:
    """ETH -> CBETH at once, ``to_amount = from_amount / conversion_rate`` (truncated)."""
    body = request.json_object()
    source = body_text(body, "from_currency").upper()
    target = body_text(body, "to_currency").upper()
    amount = body_amount(body)
    asset = app.account.wrapped(target)
    if asset is None or asset.underlying != source:
        raise ApiError(Error.INVALID_CONVERSION_PAIR)
    to_amount = amount * 10**RATE18 // asset.conversion_rate
    wrap = await _convert(app, request, source, target, amount, to_amount,
                          LedgerKind.STAKE_WRAP)
    return json_response(stake_wrap_json(wrap, app))


def _listed(app: Context, request: Request, kind: LedgerKind, from_param: str, to_param: str,
            shown: Callable[[Conversion, Context], dict[str, Any]]) -> Response:
    """The profile's stake-wraps or redeems, filtered by currencies and status, paginated.
    Every one completes at once, so a ``status`` other than ``completed`` lists none."""
    found = _mine(app, request, kind)
    source, target = request.param(from_param), request.param(to_param)
    found = [c for c in found if (not source or c.from_currency == source.upper())
             and (not target or c.to_currency == target.upper())]
    status = request.param("status")
    if status and status != "completed":
        found = []
    chunk, headers = page(found, by_created_at, request, parse=parse_iso, render=iso)
    return json_response([shown(c, app) for c in chunk], headers=headers)


def _one(app: Context, request: Request, conversion_id: str, kind: LedgerKind) -> Conversion:
    """The profile's conversion, stake-wrap or redeem ``conversion_id``; 404 otherwise."""
    found = app.node.engine.conversions.get(conversion_id)
    if found is None or found.profile_id != request.profile_id or found.kind is not kind:
        raise ApiError(Error.NOT_FOUND)
    return found


async def list_stake_wraps(app: Context, request: Request) -> Response:
    return _listed(app, request, LedgerKind.STAKE_WRAP, "from", "to", stake_wrap_json)


async def get_stake_wrap(app: Context, request: Request, stake_wrap_id: str) -> Response:
    return json_response(stake_wrap_json(_one(app, request, stake_wrap_id,
                                               LedgerKind.STAKE_WRAP), app))


def redeem_json(c: Conversion, app: Context) -> dict[str, Any]:
    """A redeem: a stake-wrap's shape plus ``idem`` (the redeem's id, GUESS)."""
    shown = stake_wrap_json(c, app)
    asset = app.account.wrapped(c.from_currency)
    shown["conversion_rate"] = (format_units(asset.conversion_rate, RATE18)
                                if asset is not None else None)
    return {**shown, "idem": c.id}


def _idem(body: dict[str, Any]) -> str | None:
    """``idem``: a UUID, GUESS; it becomes the redeem's id, so a retry finds the first."""
    value = body.get("idem")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(Error.INVALID_FIELD, "idem")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(Error.INVALID_FIELD, "idem") from None


async def create_redeem(app: Context, request: Request) -> Response:
    """CBETH -> ETH at once (GUESS: sandex does not wait Coinbase's unstaking time),
    ``to_amount = from_amount * conversion_rate`` (truncated); answers ``{"redeem": ...}``."""
    body = request.json_object()
    source = body_text(body, "from_currency").upper()
    target = body_text(body, "to_currency").upper()
    amount = body_amount(body)
    idem = _idem(body)
    asset = app.account.wrapped(source)
    if asset is None or asset.underlying != target:
        raise ApiError(Error.INVALID_CONVERSION_PAIR)
    if idem is not None and idem in app.node.engine.conversions:
        first = app.node.engine.conversions[idem]
        if first.profile_id != request.profile_id or first.kind is not LedgerKind.REDEEM:
            raise ApiError(Error.INVALID_FIELD, "idem")
        return json_response({"redeem": redeem_json(first, app)})
    to_amount = amount * asset.conversion_rate // 10**RATE18
    redeem = await _convert(app, request, source, target, amount, to_amount,
                            LedgerKind.REDEEM, idem)
    return json_response({"redeem": redeem_json(redeem, app)})


async def list_redeems(app: Context, request: Request) -> Response:
    return _listed(app, request, LedgerKind.REDEEM, "from_currency", "to_currency",
                   redeem_json)


async def get_redeem(app: Context, request: Request, redeem_id: str) -> Response:
    return json_response(redeem_json(_one(app, request, redeem_id, LedgerKind.REDEEM), app))


ROUTES = [
    Route("POST", "/conversions", create_conversion, TRADE),
    Route("GET", "/conversions/fees", conversion_fees, VIEW_OR_TRADE),
    Route("GET", "/conversions", list_conversions, VIEW_OR_TRADE),
    Route("GET", "/conversions/{conversion_id}", get_conversion, VIEW_OR_TRADE),
    Route("GET", "/wrapped-assets", list_wrapped),
    Route("POST", "/wrapped-assets/stake-wrap", create_stake_wrap, TRADE),
    Route("GET", "/wrapped-assets/stake-wrap", list_stake_wraps, VIEW_OR_TRADE),
    Route("GET", "/wrapped-assets/stake-wrap/{stake_wrap_id}", get_stake_wrap, VIEW_OR_TRADE),
    Route("POST", "/wrapped-assets/redeem", create_redeem, TRADE),
    Route("GET", "/wrapped-assets/redeem", list_redeems, VIEW_OR_TRADE),
    Route("GET", "/wrapped-assets/redeem/{redeem_id}", get_redeem, VIEW_OR_TRADE),
    Route("GET", "/wrapped-assets/{wrapped_asset_id}", get_wrapped),
    Route("GET", "/wrapped-assets/{wrapped_asset_id}/conversion-rate", conversion_rate),
]
