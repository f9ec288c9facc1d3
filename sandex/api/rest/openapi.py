"""The OpenAPI 3.0.3 description of what the REST gateway actually serves (``GET /openapi.json``).

Paths, methods, path parameters and security come from the route table it is given
(``sandex.api.rest.routes.ROUTES``), so a route cannot be served without being described; query
parameters, request bodies and response shapes are written by hand per route in ``_DETAILS``
(spec §4-§7). Errors are always ``{"message": string}`` (§3.1). Private routes need the four
``CB-ACCESS-*`` headers (§2.2); the signature itself cannot be expressed in OpenAPI, so a client
(or fuzzer) must compute it over the exact request it sends (§2.3).

The gateway builds the document once and serves it as cached bytes (``Context.openapi``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sandex import __version__
from sandex.api.http import Request, Response
from sandex.api.rest.routing import Context, Route

__all__ = ["ROUTE", "document", "serve_document"]

_PATH_PARAM = re.compile(r"\{(\w+)\}")

# -- reusable schemas -----------------------------------------------------------------------------

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required),
            "properties": {**required, **(optional or {})}}


_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}
_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
_DECIMAL_IN = {"type": "string", "pattern": r"^[0-9]{1,9}(\.[0-9]{1,8})?$",
               "description": "a decimal number as a string (JSON numbers are accepted too)"}
_SIDE = {"type": "string", "enum": ["buy", "sell"]}
_STP = {"type": "string", "enum": ["dc", "co", "cn", "cb"]}
_STOP = {"type": "string", "enum": ["loss", "entry"]}
_TIME_IN_FORCE = {"type": "string", "enum": ["GTC", "GTT", "IOC", "FOK"]}
_ORDER_STATUS = ["open", "pending", "active", "done", "received", "rejected"]

_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {**_obj({"message": _STR}), "additionalProperties": False,
              "description": "every non-2xx answer (§3.1)"},
    "Time": _obj({"iso": _TIME, "epoch": {"type": "number"}}),
    "Currency": _obj({
        "id": _STR, "name": _STR, "min_size": _DECIMAL, "status": _STR,
        "max_precision": _DECIMAL, "convertible_to": {"type": "array", "items": _STR},
        "details": {"type": "object"}, "default_network": _STR,
        "supported_networks": {"type": "array"}}),
    "Product": _obj({
        "id": _STR, "base_currency": _STR, "quote_currency": _STR, "quote_increment": _DECIMAL,
        "base_increment": _DECIMAL, "display_name": _STR, "min_market_funds": _DECIMAL,
        "margin_enabled": _BOOL, "post_only": _BOOL, "limit_only": _BOOL, "cancel_only": _BOOL,
        "trading_disabled": _BOOL, "status": {"type": "string", "enum": ["online", "offline"]},
        "status_message": _STR, "auction_mode": _BOOL}),
    "Book": _obj({
        "bids": {"type": "array", "items": {"type": "array", "minItems": 3, "maxItems": 3}},
        "asks": {"type": "array", "items": {"type": "array", "minItems": 3, "maxItems": 3}},
        "sequence": _INT, "auction_mode": _BOOL, "auction": {"nullable": True},
        "time": _TIME}),
    "Ticker": _obj({"ask": _DECIMAL, "bid": _DECIMAL, "volume": _DECIMAL, "trade_id": _INT,
                    "price": _DECIMAL, "size": _DECIMAL, "time": _TIME}),
    "Trade": _obj({"time": _TIME, "trade_id": _INT, "price": _DECIMAL, "size": _DECIMAL,
                   "side": _SIDE}),
    "Candle": {"type": "array", "minItems": 6, "maxItems": 6, "items": {"type": "number"},
               "description": "[time, low, high, open, close, volume]"},
    "Stats": _obj({"open": _DECIMAL, "high": _DECIMAL, "low": _DECIMAL, "volume": _DECIMAL,
                   "last": _DECIMAL, "volume_30day": _DECIMAL}),
    "Account": _obj({"id": _UUID, "currency": _STR, "balance": _DECIMAL, "hold": _DECIMAL,
                     "available": _DECIMAL, "profile_id": _UUID, "trading_enabled": _BOOL}),
    "Hold": _obj({"id": _UUID, "account_id": _UUID, "created_at": _TIME, "updated_at": _TIME,
                  "amount": _DECIMAL, "type": _STR, "ref": _UUID}),
    "LedgerEntry": _obj({"id": _STR, "created_at": _TIME, "amount": _DECIMAL,
                         "balance": _DECIMAL, "type": _STR,
                         "details": {"type": "object", "additionalProperties": _STR}}),
    "Fees": _obj({"maker_fee_rate": _DECIMAL, "taker_fee_rate": _DECIMAL,
                  "usd_volume": _DECIMAL}),
    "Profile": _obj({"id": _UUID, "user_id": _STR, "name": _STR, "active": _BOOL,
                     "is_default": _BOOL, "has_margin": _BOOL, "created_at": _TIME}),
    "User": _obj({"id": _STR}),
    "Order": _obj(
        {"id": _UUID, "product_id": _STR, "profile_id": _UUID, "side": _SIDE,
         "type": {"type": "string", "enum": ["limit", "market"]}, "post_only": _BOOL,
         "stp": _STP, "created_at": _TIME, "fill_fees": _DECIMAL, "filled_size": _DECIMAL,
         "executed_value": _DECIMAL, "status": {"type": "string", "enum": _ORDER_STATUS},
         "settled": _BOOL},
        {"price": _DECIMAL, "size": _DECIMAL, "funds": _DECIMAL, "specified_funds": _DECIMAL,
         "time_in_force": _TIME_IN_FORCE, "expire_time": _TIME, "done_at": _TIME,
         "done_reason": _STR, "stop": _STOP, "stop_price": _DECIMAL, "client_oid": _UUID}),
    # POST /orders echoes the numbers as the client sent them (§4.1 OBSERVED): plain strings.
    "NewOrder": _obj(
        {"id": _UUID, "product_id": _STR, "profile_id": _UUID, "side": _SIDE, "stp": _STP,
         "type": {"type": "string", "enum": ["limit", "market"]}, "post_only": _BOOL,
         "created_at": _TIME, "fill_fees": _STR, "filled_size": _STR, "executed_value": _STR,
         "status": {"type": "string", "enum": ["pending", "active"]}, "settled": _BOOL},
        {"price": _STR, "size": _STR, "funds": _STR, "specified_funds": _STR,
         "time_in_force": _TIME_IN_FORCE, "expire_time": _TIME, "stop": _STOP,
         "stop_price": _STR}),
    "Fill": _obj(
        {"created_at": _TIME, "trade_id": _INT, "product_id": _STR, "order_id": _UUID,
         "user_id": _STR, "profile_id": _UUID, "liquidity": {"type": "string",
                                                             "enum": ["M", "T"]},
         "price": _DECIMAL, "size": _DECIMAL, "fee": _DECIMAL, "side": _SIDE,
         "settled": _BOOL},
        {"usd_volume": _DECIMAL}),
    "PlaceOrderRequest": {
        **_obj({"side": _SIDE, "product_id": {**_STR, "example": "BTC-USD"}},
               {"profile_id": _UUID, "type": {"type": "string", "enum": ["limit", "market"],
                                              "default": "limit"},
                "stp": _STP, "stop": _STOP, "stop_price": _DECIMAL_IN, "price": _DECIMAL_IN,
                "size": _DECIMAL_IN, "funds": _DECIMAL_IN, "time_in_force": _TIME_IN_FORCE,
                "cancel_after": {"type": "string", "enum": ["min", "hour", "day"]},
                "post_only": _BOOL, "client_oid": _UUID}),
        "example": {"product_id": "BTC-USD", "side": "buy", "price": "100.00",
                    "size": "0.01"}},
    "TransferRequest": _obj({"from": _UUID, "to": _UUID, "currency": {**_STR, "example": "USD"},
                             "amount": _DECIMAL_IN}),
}

_SECURITY_SCHEMES = {
    f"CbAccess{part.title()}": {"type": "apiKey", "in": "header", "name": f"CB-ACCESS-{part}",
                                "description": text}
    for part, text in (
        ("KEY", "the API key"),
        ("SIGN", "base64(HMAC-SHA256(base64decode(secret), timestamp + METHOD + "
                 "path?query + body)) over the exact request sent (§2.3)"),
        ("TIMESTAMP", "seconds since the Unix epoch, decimals allowed, within 30 s (§2.4)"),
        ("PASSPHRASE", "the key's passphrase"))
}
_PRIVATE: list[dict[str, list[str]]] = [{name: [] for name in _SECURITY_SCHEMES}]

# -- per-route details ----------------------------------------------------------------------------


def _query(name: str, schema: dict[str, Any], description: str = "",
           **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        out["description"] = description
    return {**out, **extra}


_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                "page size (§7)")
_ID_CURSORS = [_query("before", {"type": "integer", "minimum": 0},
                      "page of items newer than this cursor (§7)"),
               _query("after", {"type": "integer", "minimum": 0},
                      "page of items older than this cursor (§7)"), _LIMIT]
_TIME_CURSORS = [_query("before", _TIME, "page of items newer than this time (§7)"),
                 _query("after", _TIME, "page of items older than this time (§7)"), _LIMIT]
_DATE_RANGE = [_query("start_date", _TIME), _query("end_date", _TIME)]
_SCOPE = [_query("profile_id", _UUID), _query("product_id", {**_STR, "example": "BTC-USD"})]
_PAGE_HEADERS = {
    "cb-before": {"description": "cursor of the first item; absent on an empty page",
                  "schema": _STR},
    "cb-after": {"description": "cursor of the last item; absent on an empty page",
                 "schema": _STR},
}
_PATH_EXAMPLES = {"product_id": "BTC-USD", "currency_id": "USD", "wrapped_asset_id": "CBETH",
                  "user_id": "self"}
_PATH_FORMATS = {"account_id": _UUID, "profile_id": _UUID, "report_id": _UUID,
                 "conversion_id": _UUID, "stake_wrap_id": _UUID, "redeem_id": _UUID,
                 "rule_id": _UUID}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


# (method, pattern) -> summary, query parameters, request body schema, 200 schema, paginated
_DETAILS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/time"): {"summary": "Server time (§6.9)", "ok": _ref("Time")},
    ("GET", "/currencies"): {"summary": "All currencies (§6.8)", "ok": _array("Currency")},
    ("GET", "/currencies/{currency_id}"): {"summary": "One currency (§6.8)",
                                           "ok": _ref("Currency")},
    ("GET", "/products"): {"summary": "All products (§6.2)", "ok": _array("Product")},
    ("GET", "/products/{product_id}"): {"summary": "One product (§6.2)",
                                        "ok": _ref("Product")},
    ("GET", "/products/{product_id}/book"): {
        "summary": "Order book at level 1, 2 or 3 (§6.3)", "ok": _ref("Book"),
        "query": [_query("level", {"type": "integer", "enum": [1, 2, 3], "default": 1})]},
    ("GET", "/products/{product_id}/ticker"): {"summary": "Ticker (§6.4)",
                                               "ok": _ref("Ticker")},
    ("GET", "/products/{product_id}/trades"): {
        "summary": "Public trades, newest first (§6.5)", "ok": _array("Trade"),
        "query": _ID_CURSORS, "paginated": True},
    ("GET", "/products/{product_id}/candles"): {
        "summary": "Candles, newest first, at most 300 (§6.6)", "ok": _array("Candle"),
        "query": [_query("granularity", {"type": "integer",
                                         "enum": [60, 300, 900, 3600, 21600, 86400],
                                         "default": 60}),
                  _query("start", _TIME), _query("end", _TIME)]},
    ("GET", "/products/spark-lines"): {
        "summary": "Hourly [time, low, high, open, close] per product over 24 h (ccxt)",
        "ok": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "array", "items": {"type": "number"}}}}},
    ("GET", "/products/{product_id}/stats"): {"summary": "24 h stats (§6.7)",
                                              "ok": _ref("Stats")},
    ("GET", "/accounts"): {"summary": "The key's profile's accounts (§5.1)",
                           "ok": _array("Account")},
    ("GET", "/accounts/{account_id}"): {"summary": "One account (§5.2)", "ok": _ref("Account")},
    ("GET", "/accounts/{account_id}/holds"): {
        "summary": "Holds of an account (§5.3)", "ok": _array("Hold"), "query": _TIME_CURSORS,
        "paginated": True},
    ("GET", "/accounts/{account_id}/ledger"): {
        "summary": "Ledger of an account; the past day without a date range (§5.4)",
        "ok": _array("LedgerEntry"), "query": [*_DATE_RANGE, *_ID_CURSORS],
        "paginated": True},
    ("GET", "/fees"): {"summary": "Fee rates and 30-day USD volume (§6.11)",
                       "ok": _ref("Fees")},
    ("GET", "/profiles"): {"summary": "The key's user's profiles (§6.10)",
                           "ok": _array("Profile"), "query": [_query("active", _BOOL)]},
    ("GET", "/profiles/{profile_id}"): {"summary": "One profile (§6.10)",
                                        "ok": _ref("Profile")},
    ("POST", "/profiles/transfer"): {
        "summary": "Move funds between two profiles of the key's user (§6.10)",
        "body": _ref("TransferRequest"), "ok": {"type": "object", "maxProperties": 0}},
    ("GET", "/users/self/verify"): {"summary": "The key's user id (§6.12)", "ok": _ref("User")},
    ("POST", "/orders"): {"summary": "Place an order (§4.1)", "body": _ref("PlaceOrderRequest"),
                          "ok": _ref("NewOrder")},
    ("GET", "/orders"): {
        "summary": "List orders, newest first; cursors are created_at times (§4.4)",
        "ok": _array("Order"), "paginated": True,
        "query": [*_SCOPE,
                  _query("status", {"type": "array", "items": {
                      "type": "string", "enum": [*_ORDER_STATUS, "all"]}},
                         "repeat the parameter for several statuses", style="form",
                         explode=True),
                  _query("sortedBy", {"type": "string", "enum": [
                      "created_at", "price", "size", "order_id", "side", "type"]}),
                  _query("sorting", {"type": "string", "enum": ["asc", "desc"]}),
                  *_DATE_RANGE, *_TIME_CURSORS]},
    ("DELETE", "/orders"): {"summary": "Cancel all open orders (§4.7)", "query": _SCOPE,
                            "ok": {"type": "array", "items": _UUID}},
    ("GET", "/orders/{order_id}"): {
        "summary": "One order by id or client:<client_oid> (§4.5)", "ok": _ref("Order")},
    ("DELETE", "/orders/{order_id}"): {
        "summary": "Cancel one order by id or client:<client_oid> (§4.6)", "query": _SCOPE,
        "ok": {"type": "string", "description": "the order id or client_oid as given"}},
    ("GET", "/fills"): {
        "summary": "Fills of an order or a product; one of them is required (§6.1)",
        "ok": _array("Fill"), "paginated": True,
        "query": [_query("order_id", _UUID),
                  _query("product_id", {**_STR, "example": "BTC-USD"}),
                  *_DATE_RANGE, *_ID_CURSORS]},
    ("GET", "/openapi.json"): {"summary": "This document", "ok": {"type": "object"}},
}

# -- the account surface (issue 16): conversions, profile writes, reports, volumes -------------
_NULL_TIME = {**_TIME, "nullable": True}
_METRICS = {"type": "object", "additionalProperties": _STR}
_SCHEMAS.update({
    "Conversion": _obj({"id": _UUID, "amount": _DECIMAL, "from_account_id": _UUID,
                        "to_account_id": _UUID, "from": _STR, "to": _STR,
                        "fee_amount": _DECIMAL}, {"created_at": _TIME}),
    "ConversionRequest": {**_obj({"from": {**_STR, "example": "USD"},
                                  "to": {**_STR, "example": "USDC"}, "amount": _DECIMAL_IN},
                                 {"profile_id": _UUID, "nonce": _STR, "idem": _STR}),
                          "example": {"from": "USD", "to": "USDC", "amount": "10"}},
    "ConversionFee": _obj({"from_currency": _STR, "to_currency": _STR,
                           "available_credit": _DECIMAL},
                          {"fee_rate": _DECIMAL, "min_fee_rate": _DECIMAL,
                           "thirty_day_volume": _DECIMAL, "thirty_day_net_volume": _DECIMAL,
                           "fee_tiers": {"type": "array", "items": _obj({
                               "from_amount": _DECIMAL, "to_amount": _DECIMAL,
                               "fee_rate": _DECIMAL})}}),
    "ProfileName": _obj({"name": {**_STR, "example": "trading"}}, {"profile_id": _UUID}),
    "DeactivateRequest": _obj({"to": _UUID}, {"profile_id": _UUID}),
    "ReportRequest": {**_obj({"type": {"type": "string", "enum": ["fills", "account"]}},
                             {"format": {"type": "string", "enum": ["pdf", "csv"]},
                              "email": _STR, "profile_id": _UUID,
                              "fills": {"type": "object"}, "account": {"type": "object"},
                              "start_date": _TIME, "end_date": _TIME,
                              "product_id": _STR, "account_id": _STR}),
                      "example": {"type": "fills", "format": "csv",
                                  "fills": {"product_id": "BTC-USD"}}},
    "ReportCreated": _obj({"id": _UUID, "type": _STR, "status": {"type": "string",
                                                                 "enum": ["pending"]}}),
    "Report": _obj({"id": _UUID, "type": _STR, "status": {
        "type": "string", "enum": ["pending", "creating", "ready", "failed"]},
        "created_at": _TIME, "completed_at": _NULL_TIME, "expires_at": _TIME, "user_id": _STR,
        "file_url": {**_STR, "nullable": True}, "params": {"type": "object"},
        "file_count": {**_STR, "nullable": True}}),
    "VolumeSummary": _obj({name: _STR for name in (
        "id", "base_currency", "quote_currency", "display_name", "spot_volume_24hour",
        "spot_volume_30day", "rfq_volume_24hour", "rfq_volume_30day",
        "conversion_volume_24hour", "conversion_volume_30day")} | {
        "market_types": {"type": "array", "items": _STR}}),
    "TrailingVolume": _obj({"product_id": _STR, "exchange_volume": _DECIMAL,
                            "volume": _DECIMAL, "recorded_at": _TIME}),
    "TradingVolumes": _obj({"aggregated_data": _obj({"activity_metrics": _METRICS}),
                            "individual_data": {"type": "array", "items": _obj({
                                "email": _STR, "activity_metrics": _METRICS})}}),
    "ExchangeLimits": _obj({"limit_currency": _STR, "transfer_limits": _obj({
        "exchange_withdraw": {"type": "object", "additionalProperties": _obj({
            "max": _DECIMAL, "remaining": _DECIMAL, "period_in_days": _INT})}})}),
    "WrappedAsset": _obj({name: _STR for name in (
        "id", "circulating_supply", "total_supply", "conversion_rate", "apy",
        "redeem_time_estimate_days")}),
    "StakeWrapRequest": {**_obj({"from_currency": {**_STR, "example": "ETH"},
                                 "to_currency": {**_STR, "example": "CBETH"},
                                 "amount": _DECIMAL_IN}),
                         "example": {"from_currency": "ETH", "to_currency": "CBETH",
                                     "amount": "1"}},
    "StakeWrap": _obj({"id": _UUID, "from_amount": _DECIMAL, "to_amount": _DECIMAL,
                       "from_account_id": _UUID, "to_account_id": _UUID,
                       "from_currency": _STR, "to_currency": _STR, "status": _STR,
                       "conversion_rate": {**_DECIMAL, "nullable": True},
                       "created_at": _TIME, "completed_at": _NULL_TIME,
                       "canceled_at": _NULL_TIME}),
})
_SCHEMAS["Redeem"] = {**_SCHEMAS["StakeWrap"], "required": sorted(
    [*_SCHEMAS["StakeWrap"]["required"], "idem"]), "properties": {
    **_SCHEMAS["StakeWrap"]["properties"], "idem": _UUID}}
_SCHEMAS["RedeemRequest"] = _obj({"from_currency": {**_STR, "example": "CBETH"},
                                  "to_currency": {**_STR, "example": "ETH"},
                                  "amount": _DECIMAL_IN}, {"idem": _UUID})
_DETAILS.update({
    ("POST", "/conversions"): {"summary": "Convert USD <-> USDC at 1:1",
                               "body": _ref("ConversionRequest"), "ok": _ref("Conversion")},
    ("GET", "/conversions"): {"summary": "The profile's conversions, newest first",
                              "ok": _array("Conversion"), "paginated": True,
                              "query": [_query("profile_id", _UUID), *_TIME_CURSORS]},
    ("GET", "/conversions/{conversion_id}"): {
        "summary": "One conversion", "ok": _ref("Conversion"),
        "query": [_query("profile_id", _UUID)]},
    ("GET", "/conversions/fees"): {"summary": "Conversion fee rates and 30-day volume",
                                   "ok": _array("ConversionFee")},
    ("POST", "/profiles"): {"summary": "Create a profile",
                            "body": _ref("ProfileName"), "ok": _ref("Profile")},
    ("PUT", "/profiles/{profile_id}"): {"summary": "Rename a profile",
                                        "body": _ref("ProfileName"), "ok": _ref("Profile")},
    ("PUT", "/profiles/{profile_id}/deactivate"): {
        "summary": "Move a profile's funds to `to` and deactivate it",
        "body": _ref("DeactivateRequest"), "ok": {"type": "object", "maxProperties": 0}},
    ("POST", "/reports"): {"summary": "Ask for a fills or account report, CSV or PDF",
                           "body": _ref("ReportRequest"), "ok": _ref("ReportCreated")},
    ("GET", "/reports"): {"summary": "The profile's reports, newest first",
                          "ok": _array("Report"),
                          "query": [_query("profile_id", _UUID), _query("after", _TIME),
                                    _LIMIT, _query("type", _STR),
                                    _query("ignore_expired", _BOOL)]},
    ("GET", "/reports/{report_id}"): {"summary": "One report; file_url once ready",
                                      "ok": _ref("Report")},
    ("GET", "/reports/{report_id}/file/{name}"): {
        "summary": "A ready report's file (its file_url: a capability URL, no signature); "
                   "text/csv or application/pdf", "ok": {"type": "string"}},
    ("GET", "/products/volume-summary"): {"summary": "24 h and 30-day volume per product",
                                          "ok": _array("VolumeSummary")},
    ("GET", "/users/self/trailing-volume"): {"summary": "30-day volume per product as of "
                                                        "midnight UTC",
                                             "ok": _array("TrailingVolume")},
    ("GET", "/users/{user_id}/trading-volumes"): {
        "summary": "30-day maker/taker USD volume against the exchange's",
        "ok": _ref("TradingVolumes")},
    ("GET", "/users/{user_id}/exchange-limits"): {
        "summary": "Withdrawal limits and what remains of them",
        "ok": _ref("ExchangeLimits")},
    ("GET", "/oracle"): {"summary": "Deprecated by Coinbase (2025-01-01): always 404",
                         "ok": {"type": "object"}},
    ("GET", "/wrapped-assets"): {"summary": "Wrapped assets",
                                 "ok": _obj({"wrapped_assets": _array("WrappedAsset")})},
    ("GET", "/wrapped-assets/{wrapped_asset_id}"): {"summary": "One wrapped asset",
                                                    "ok": _ref("WrappedAsset")},
    ("GET", "/wrapped-assets/{wrapped_asset_id}/conversion-rate"): {
        "summary": "Units of the underlying per wrapped unit",
        "ok": _obj({"amount": _DECIMAL})},
    ("POST", "/wrapped-assets/stake-wrap"): {"summary": "Wrap ETH into CBETH at the rate",
                                             "body": _ref("StakeWrapRequest"),
                                             "ok": _ref("StakeWrap")},
    ("GET", "/wrapped-assets/stake-wrap"): {
        "summary": "The profile's stake-wraps, newest first",
        "ok": _array("StakeWrap"), "paginated": True,
        "query": [_query("from", _STR), _query("to", _STR), _query("status", _STR),
                  *_TIME_CURSORS]},
    ("GET", "/wrapped-assets/stake-wrap/{stake_wrap_id}"): {
        "summary": "One stake-wrap", "ok": _ref("StakeWrap")},
    ("POST", "/wrapped-assets/redeem"): {
        "summary": "Unwrap CBETH into ETH at the rate (at once; idem: a retry answers the first)",
        "body": _ref("RedeemRequest"), "ok": _obj({"redeem": _ref("Redeem")})},
    ("GET", "/wrapped-assets/redeem"): {
        "summary": "The profile's redeems, newest first",
        "ok": _array("Redeem"), "paginated": True,
        "query": [_query("from_currency", _STR), _query("to_currency", _STR),
                  _query("status", _STR), *_TIME_CURSORS]},
    ("GET", "/wrapped-assets/redeem/{redeem_id}"): {"summary": "One redeem",
                                                    "ok": _ref("Redeem")},
})
_LOAN_SUMMARY = "Loans and margin: 403 for users outside Coinbase's lending program"
for _path in ("/loans", "/loans/assets", "/loans/interest", "/loans/interest/{loan_id}",
              "/loans/interest/history/{loan_id}", "/loans/lending-overview",
              "/loans/loan-preview", "/loans/repayment-preview", "/loans/options",
              "/margin/auto-loan", "/margin/usdc"):
    _DETAILS[("GET", _path)] = {"summary": _LOAN_SUMMARY, "ok": {"type": "object"}}
for _path in ("/loans/open", "/loans/repay-interest", "/loans/repay-principal",
              "/margin/auto-loan", "/margin/usdc"):
    _DETAILS[("POST", _path)] = {"summary": _LOAN_SUMMARY, "ok": {"type": "object"}}

# -- funds moving in and out (docs/compatibility.md, "Funds") ----------------------------------
_PG_TIME = {"type": "string", "description": "Postgres text form: 2020-10-07 17:28:17.910515+00",
            "nullable": True}
_AMOUNT_IN = _DECIMAL_IN  # JSON numbers are accepted too
_SCHEMAS.update({
    "FundsTransfer": _obj({
        "id": _UUID, "type": {"type": "string", "enum": [
            "deposit", "withdraw", "internal_deposit", "internal_withdraw"]},
        "created_at": {**_PG_TIME, "nullable": False}, "completed_at": _PG_TIME,
        "canceled_at": _PG_TIME, "processed_at": _PG_TIME, "account_id": _UUID,
        "user_id": _STR, "profile_id": _UUID, "user_nonce": {**_STR, "nullable": True},
        "idem": {**_STR, "nullable": True}, "amount": _DECIMAL,
        "details": {"type": "object", "additionalProperties": _STR}, "currency": _STR}),
    "TransferResult": _obj({"id": _UUID, "amount": _DECIMAL, "currency": _STR},
                           {"payout_at": _TIME, "fee": _DECIMAL, "subtotal": _DECIMAL}),
    "CoinbaseAccount": _obj({
        "id": _STR, "name": _STR, "balance": _DECIMAL, "currency": _STR,
        "type": {"type": "string", "enum": ["wallet", "fiat"]}, "primary": _BOOL,
        "active": _BOOL, "available_on_consumer": _BOOL, "hold_balance": _DECIMAL,
        "hold_currency": _STR}),
    "DepositAddress": _obj({
        "id": _UUID, "address": _STR, "address_info": {"type": "object"}, "name": _STR,
        "created_at": _TIME, "updated_at": _TIME, "network": _STR, "uri_scheme": _STR,
        "resource": _STR, "resource_path": _STR, "warnings": {"type": "array"}},
        {"destination_tag": _STR, "deposit_uri": _STR, "exchange_deposit_address": _BOOL}),
    "PaymentMethod": _obj({
        "id": _STR, "type": _STR, "name": _STR, "currency": _STR, "primary_buy": _BOOL,
        "primary_sell": _BOOL, "instant_buy": _BOOL, "instant_sell": _BOOL,
        "created_at": _TIME, "updated_at": _TIME, "resource": _STR, "resource_path": _STR},
        {"allow_deposit": _BOOL, "allow_withdraw": _BOOL, "limits": {"type": "object"}}),
    "AddressBookEntry": _obj({
        "id": _UUID, "address": _STR, "currency": _STR, "label": _STR,
        "address_book_added_at": _TIME},
        {"destination_tag": {**_STR, "nullable": True}, "network": {**_STR, "nullable": True},
         "vasp_id": {**_STR, "nullable": True}, "is_verified_self_hosted_wallet": _BOOL}),
})
_TRANSFER_QUERY = [_query("type", {"type": "string", "enum": [
    "deposit", "withdraw", "internal_deposit", "internal_withdraw"]}),
    _query("before", _STR, "page of transfers created after this time"),
    _query("after", _STR, "page of transfers created before this time")]


def _movement(*names: str) -> dict[str, Any]:
    return _obj({"amount": _AMOUNT_IN, "currency": _STR, **{n: _STR for n in names}},
                {"profile_id": _UUID})


_SCHEMAS.update({
    "WalletTransferRequest": _movement("coinbase_account_id"),
    "PaymentMethodTransferRequest": _movement("payment_method_id"),
    "CryptoWithdrawalRequest": _obj(
        {"amount": _AMOUNT_IN, "currency": _STR, "crypto_address": _STR}, {
            "profile_id": _UUID, "destination_tag": _STR, "no_destination_tag": _BOOL,
            "nonce": _INT, "network": _STR, "add_network_fee_to_total": _BOOL}),
    "DepositAddressRequest": {"type": "object", "properties": {
        "network": _STR, "profile_id": _UUID, "account_id": _STR}},
    "AddressBookUpdate": _obj({"label": _STR}, {
        "id": _UUID, "vasp_id": _STR, "is_verified_self_hosted_wallet": _BOOL,
        "network": {**_STR, "description": "'*': every compatible network"}}),
    "CounterpartyWithdrawalRequest": _obj(
        {"amount": _AMOUNT_IN, "currency": _STR, "counterparty_id": _STR}, {"profile_id": _UUID}),
    "SettlementPreferenceRequest": _obj({"settlement_preference": {
        "type": "string", "enum": ["USD", "USDC", "opt-out"]}}),
    "TravelRule": _obj({"id": _UUID, "address": _STR, "originator_name": _STR,
                        "originator_country": _STR}),
    "TravelRuleRequest": _obj({"address": _STR, "originator_name": _STR,
                               "originator_country": {**_STR, "example": "US"}}),
    "TransferTravelRuleRequest": _obj({"originator_name": _STR}, {
        "transfer_id": _UUID, "originator_country": _STR, "vasp_id": _STR,
        "vasp_country": _STR, "lei_number": _STR,
        "wallet_type": {"type": "string",
                        "enum": ["UNKNOWN_WALLET_TYPE", "EXCHANGE", "SELF_HOSTED"]},
        "is_self_certified": _BOOL,
        "business_address": {"type": "object", "properties": {
            k: _STR for k in ("address_1", "address_2", "address_3", "city", "state",
                              "country", "postal_code")}}}),
    "AddressBookRequest": _obj({"addresses": {"type": "array", "items": _obj(
        {"currency": _STR, "to": _obj({"address": _STR}, {"destination_tag": _STR}),
         "label": _STR},
        {"network": _STR, "vasp_id": _STR, "is_verified_self_hosted_wallet": _BOOL})}}),
})


_DETAILS.update({
    ("GET", "/transfers"): {
        "summary": "Deposits and withdrawals of the key's user, newest first, 30 a page",
        "ok": _array("FundsTransfer"), "paginated": True,
        "query": [*_TRANSFER_QUERY, _query("profile_id", _UUID), _query("currency", _STR),
                  _query("currency_type", {"type": "string", "enum": ["crypto", "fiat"]}),
                  _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000,
                                   "default": 30})]},
    ("GET", "/transfers/{transfer_id}"): {"summary": "One transfer",
                                          "ok": _ref("FundsTransfer")},
    ("GET", "/accounts/{account_id}/transfers"): {
        "summary": "Deposits and withdrawals of one account, newest first",
        "ok": _array("FundsTransfer"), "paginated": True, "query": [*_TRANSFER_QUERY, _LIMIT]},
    ("GET", "/coinbase-accounts"): {"summary": "The user's (simulated) Coinbase wallets",
                                    "ok": _array("CoinbaseAccount")},
    ("POST", "/coinbase-accounts/{account_id}/addresses"): {
        "summary": "The profile's deposit address for the wallet's currency (deterministic)",
        "body": _ref("DepositAddressRequest"),
        "ok": _ref("DepositAddress")},
    ("POST", "/deposits/coinbase-account"): {
        "summary": "Deposit from a Coinbase wallet (instant)",
        "body": _ref("WalletTransferRequest"), "ok": _ref("TransferResult")},
    ("POST", "/deposits/payment-method"): {
        "summary": "Deposit from a payment method (settles after the scenario's delay)",
        "body": _ref("PaymentMethodTransferRequest"), "ok": _ref("TransferResult")},
    ("POST", "/withdrawals/coinbase-account"): {
        "summary": "Withdraw to a Coinbase wallet (instant)",
        "body": _ref("WalletTransferRequest"), "ok": _ref("TransferResult")},
    ("POST", "/withdrawals/crypto"): {
        "summary": "Withdraw to a crypto address (held, sent after the scenario's delay)",
        "body": _ref("CryptoWithdrawalRequest"),
        "ok": _ref("TransferResult")},
    ("POST", "/withdrawals/payment-method"): {
        "summary": "Withdraw to a payment method (held, settles after the scenario's delay)",
        "body": _ref("PaymentMethodTransferRequest"), "ok": _ref("TransferResult")},
    ("GET", "/withdrawals/fee-estimate"): {
        "summary": "The fee of a crypto withdrawal",
        "query": [_query("currency", _STR), _query("crypto_address", _STR),
                  _query("network", _STR)],
        "ok": _obj({"fee": _DECIMAL, "fee_before_subsidy": _DECIMAL})},
    ("GET", "/payment-methods"): {"summary": "The user's (simulated) payment methods",
                                  "ok": _array("PaymentMethod")},
    ("GET", "/address-book"): {"summary": "The profile's address book",
                               "ok": _array("AddressBookEntry")},
    ("POST", "/address-book"): {
        "summary": "Add address-book entries",
        "body": _ref("AddressBookRequest"),
        "ok": _obj({"body": _array("AddressBookEntry")})},
    ("DELETE", "/address-book/{entry_id}"): {"summary": "Delete an address-book entry",
                                             "ok": {"type": "object", "maxProperties": 0}},
    ("PUT", "/address-book/{entry_id}"): {
        "summary": "Edit an address-book entry (label, vasp_id, network, verified flag)",
        "body": _ref("AddressBookUpdate"), "ok": _ref("AddressBookEntry")},
    ("GET", "/address-book/counterparty"): {
        "summary": "The profile's counterparty entries (added with network 'counterparty')",
        "ok": {"type": "array", "items": _obj({"id": _UUID, "address": _STR, "label": _STR,
                                               "added_at": _TIME})}},
    ("POST", "/withdrawals/counterparty"): {
        "summary": "Withdraw to an address-book counterparty (held, sent after the delay)",
        "body": _ref("CounterpartyWithdrawalRequest"),
        "ok": _obj({"id": _UUID, "counterparty_id": _STR, "amount": _DECIMAL,
                    "currency": _STR,
                    "status": {"type": "string", "enum": ["UNKNOWN", "PENDING", "DONE"]}})},
    ("GET", "/travel-rules"): {
        "summary": "The profile's deposit travel-rule entries, 1,000 a page, id cursors",
        "ok": _array("TravelRule"), "paginated": True,
        "query": [_query("address", _STR), _query("before", _UUID), _query("after", _UUID),
                  _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000,
                                   "default": 1000})]},
    ("POST", "/travel-rules"): {"summary": "Add a deposit travel-rule entry",
                                "body": _ref("TravelRuleRequest"), "ok": _ref("TravelRule")},
    ("DELETE", "/travel-rules/{rule_id}"): {"summary": "Delete a travel-rule entry",
                                            "ok": {"type": "object", "maxProperties": 0}},
    ("POST", "/transfers/{transfer_id}/travel-rules"): {
        "summary": "Travel-rule information of one transfer (kept; a resubmission replaces it)",
        "body": _ref("TransferTravelRuleRequest"), "ok": _obj({"message": _STR})},
    ("POST", "/users/{user_id}/settlement-preferences"): {
        "summary": "Set the user's settlement preference (kept per user)",
        "body": _ref("SettlementPreferenceRequest"),
        "ok": _obj({"settlement_preference": _STR})},
})

_ERRORS_PUBLIC = {"400": "bad request", "404": "not found", "429": "rate limited (§8.3)"}
_ERRORS_PRIVATE = {"400": "bad request or business reject (§3.3)",
                   "401": "authentication failed (§2.5)",
                   "403": "the key lacks the permission (§2.1)", "404": "not found",
                   "429": "rate limited (§8.3)"}


def _operation(route: Route) -> dict[str, Any]:
    details = _DETAILS.get((route.method, route.pattern), {})
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {**_PATH_FORMATS.get(name, _STR),
                    **({"example": _PATH_EXAMPLES[name]} if name in _PATH_EXAMPLES else {})}}
        for name in _PATH_PARAM.findall(route.pattern)]
    parameters.extend(details.get("query", []))
    ok: dict[str, Any] = {"description": "success",
                          "content": {"application/json": {"schema": details.get("ok", {})}}}
    if details.get("paginated"):
        ok["headers"] = _PAGE_HEADERS
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    errors = _ERRORS_PUBLIC if route.permission is None else _ERRORS_PRIVATE
    operation: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": details.get("summary", ""),
        "parameters": parameters,
        "responses": {"200": ok, **{code: {"description": text, **error}
                                    for code, text in errors.items()}},
        "security": [] if route.permission is None else _PRIVATE,
    }
    if route.permission is not None:
        operation["x-permissions"] = sorted(p.value for p in route.permission)
    if "body" in details:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": details["body"]}}}
    return operation


ADMIN_SECURITY = {"AdminToken": {"type": "http", "scheme": "bearer", "description":
                  "sandex's admin token (the data dir's admin.token); loopback clients only"}}


def document(routes: Sequence[Route],
             admin: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of ``routes``, and of the admin endpoint's ``admin`` paths
    (``sandex.api.admin.openapi_paths``; secured by ``ADMIN_SECURITY``)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.pattern, {})[route.method.lower()] = _operation(route)
    schemes = dict(_SECURITY_SCHEMES)
    if admin:
        paths.update(admin)
        schemes.update(ADMIN_SECURITY)
    return {
        "openapi": "3.0.3",
        "info": {"title": "sandex REST API (Coinbase Exchange stand-in)",
                 "version": __version__,
                 "description": "Errors are always {\"message\": string}. Private operations "
                                "need the four CB-ACCESS-* headers, signed over the exact "
                                "request (spec §2)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": _SCHEMAS, "securitySchemes": schemes},
    }


async def serve_document(app: Context, request: Request) -> Response:
    """``GET /openapi.json``: the gateway's document, encoded once."""
    return Response(app.openapi)


ROUTE = Route("GET", "/openapi.json", serve_document)
