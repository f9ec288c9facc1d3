"""Volumes, limits, oracle and loans: what the venue's fills and ledger say.

``GET /products/volume-summary`` (public), ``GET /users/self/trailing-volume``, ``GET
/users/{id}/trading-volumes``, ``GET /users/{id}/exchange-limits``; ``GET /oracle`` (gone
since 2025) and ``/loans*`` / ``/margin/*`` answered as Coinbase answers a user who is not
in its lending program. ``thirty_day_usd_volume`` is also what ``GET /fees`` reads.
"""

from __future__ import annotations

from typing import Any

from sandex.api.fee_tiers import DAY_US, MONTH_US, thirty_day_usd_volume, usd_fills
from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.rest import withdraw_limits
from sandex.api.rest.routing import TRADE, VIEW_OR_TRADE, Context, Route
from sandex.core import Profile
from sandex.errors import Error
from sandex.timefmt import iso
from sandex.units import AMOUNT_DECIMALS, format_units, price_text

__all__ = ["DAY_US", "MONTH_US", "thirty_day_usd_volume"]


def _own_user(app: Context, request: Request, user_id: str) -> Profile:
    """The key's profile, if ``user_id`` is ``self`` or its user's id; else 403."""
    profile = app.node.engine.profiles[request.profile_id]
    if user_id not in ("self", profile.user_id):
        raise ApiError(Error.FORBIDDEN)
    return profile


async def volume_summary(app: Context, request: Request) -> Response:
    """Spot volumes in base units; ``""`` for the kinds of volume sandex has none of."""
    node = app.node
    now = node.now()
    out = []
    for product in node.engine.products.values():
        day, month = node.market.stats(product.id, now)
        out.append({"id": product.id, "base_currency": product.base_currency,
                    "quote_currency": product.quote_currency, "display_name": product.id,
                    "market_types": ["spot"],
                    "spot_volume_24hour": price_text(day.volume if day else 0),
                    "spot_volume_30day": price_text(month),
                    "rfq_volume_24hour": "", "rfq_volume_30day": "",
                    "conversion_volume_24hour": "", "conversion_volume_30day": ""})
    return json_response(out)


async def trailing_volume(app: Context, request: Request) -> Response:
    """Per product the profile traded: its 30-day volume and the exchange's, as of the last
    midnight UTC on the venue clock (Coinbase: "calculated every day at midnight UTC")."""
    node = app.node
    profile = node.engine.profiles[request.profile_id]
    midnight = node.now() // DAY_US * DAY_US
    out = []
    for (profile_id, product_id), fills in node.fills.by_product.items():
        if profile_id != profile.id:
            continue
        mine = sum(f.size for f in fills if midnight - MONTH_US <= f.created_at < midnight)
        if not mine:
            continue
        total = sum(t.size for t in node.market.product(product_id).trades
                    if midnight - MONTH_US <= t.time < midnight)
        out.append({"product_id": product_id, "exchange_volume": price_text(total),
                    "volume": price_text(mine), "recorded_at": iso(midnight)})
    return json_response(out)


def _usd(value: int) -> str:
    return format_units(value, AMOUNT_DECIMALS, 2)


async def trading_volumes(app: Context, request: Request, user_id: str) -> Response:
    """The user's maker and taker USD notional over 30 days, against every user's."""
    profile = _own_user(app, request, user_id)
    node = app.node
    start, end = node.now() - MONTH_US, node.now()
    users: dict[str, list[int]] = {}  # user id -> [maker, taker]
    owners = {p.id: p.user_id for p in node.engine.profiles.values()}
    for f in usd_fills(node, owners, start):
        pair = users.setdefault(owners[f.profile_id], [0, 0])
        pair[0 if f.liquidity == "M" else 1] += f.price * f.size
    maker_all = sum(v[0] for v in users.values())
    taker_all = sum(v[1] for v in users.values())
    maker, taker = users.get(profile.user_id, [0, 0])

    def share(part: int, whole: int) -> str:
        return format_units(part * 100 * 10**4 // whole, 4) if whole else "0.0000"

    def rank(index: int | None) -> str:
        def key(v: list[int]) -> int:
            return v[0] + v[1] if index is None else v[index]
        mine = key([maker, taker])
        return str(1 + sum(1 for v in users.values() if key(v) > mine)) if mine else ""

    metrics = {"start_date": iso(start), "end_date": iso(end),
               "maker_volume_notional_usd": _usd(maker),
               "maker_volume_relative_percentage": share(maker, maker_all),
               "taker_volume_notional_usd": _usd(taker),
               "taker_volume_relative_percentage": share(taker, taker_all),
               "total_exchange_volume_notional_usd": _usd(maker + taker),
               "total_exchange_volume_relative_percentage": share(maker + taker,
                                                                  maker_all + taker_all),
               "maker_rank": rank(0), "taker_rank": rank(1), "total_exchange_volume_rank":
               rank(None)}
    adjusted = {f"adjusted_{k}": v for k, v in metrics.items()
                if k not in ("start_date", "end_date")}
    return json_response({
        "aggregated_data": {"activity_metrics": {**metrics, **adjusted,
                                                 "liquidity_program_tier": "",
                                                 "next_liquidity_program_tier": ""}},
        "individual_data": [{"email": "", "activity_metrics": {**metrics, **adjusted}}]})


async def exchange_limits(app: Context, request: Request, user_id: str) -> Response:
    """``exchange_withdraw`` per configured currency: ``remaining`` = ``max`` less what the
    user's profiles withdrew in the period, pending withdrawals included
    (``withdraw_limits``)."""
    profile = _own_user(app, request, user_id)
    limits: dict[str, Any] = {}
    for limit in app.account.withdraw_limits:
        left = withdraw_limits.remaining(app, profile.user_id, limit)
        limits[limit.currency] = {"max": format_units(limit.max, AMOUNT_DECIMALS, 8),
                                  "remaining": format_units(left, AMOUNT_DECIMALS, 8),
                                  "period_in_days": limit.period_days}
    return json_response({"limit_currency": "USD",
                          "transfer_limits": {"exchange_withdraw": limits}})


async def oracle(app: Context, request: Request) -> Response:
    """Deprecated by Coinbase on 2025-01-01: answered as a removed endpoint (GUESS)."""
    raise ApiError(Error.NOT_FOUND)


def not_enrolled(method: str, path: str) -> Route:
    """A loans or margin route: for users Coinbase underwrote; others get 403 (GUESS). Each
    handler is named after its route (the OpenAPI operation ids are the handlers' names)."""

    async def handler(app: Context, request: Request, **_: str) -> Response:
        raise ApiError(Error.FORBIDDEN)

    name = path.strip("/").replace("/", "_").replace("-", "_").replace("{", "").replace("}", "")
    handler.__name__ = f"{method.lower()}_{name}"
    return Route(method, path, handler, VIEW_OR_TRADE if method == "GET" else TRADE)


_LOAN_READS = ("/loans", "/loans/assets", "/loans/interest", "/loans/interest/{loan_id}",
               "/loans/interest/history/{loan_id}", "/loans/lending-overview",
               "/loans/loan-preview", "/loans/repayment-preview", "/loans/options",
               "/margin/auto-loan", "/margin/usdc")
_LOAN_WRITES = ("/loans/open", "/loans/repay-interest", "/loans/repay-principal",
                "/margin/auto-loan", "/margin/usdc")

ROUTES = [
    Route("GET", "/products/volume-summary", volume_summary),
    Route("GET", "/users/self/trailing-volume", trailing_volume, VIEW_OR_TRADE),
    Route("GET", "/users/{user_id}/trading-volumes", trading_volumes, VIEW_OR_TRADE),
    Route("GET", "/users/{user_id}/exchange-limits", exchange_limits, VIEW_OR_TRADE),
    Route("GET", "/oracle", oracle, VIEW_OR_TRADE),
    *(not_enrolled("GET", path) for path in _LOAN_READS),
    *(not_enrolled("POST", path) for path in _LOAN_WRITES),
]
