"""Travel-rule records and settlement preferences: what a profile tells the venue about the
people behind its transfers, kept (journaled ``PutEntry``) and answered as Coinbase does.

* ``/travel-rules``: deposit-side originator entries (address, name, country), listed by id
  cursor, 1,000 a page; ``DELETE`` removes one.
* ``POST /transfers/{id}/travel-rules``: the originator/VASP information of one transfer,
  answered ``{"message": ...}`` (a 2xx body with ``message``, as documented).
* ``POST /users/{id}/settlement-preferences``: ``USD``, ``USDC`` or ``opt-out``.

sandex screens nothing: the records are kept, shown and survive restarts and snapshots.
"""

from __future__ import annotations

from typing import Any

from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.rest.pagination import page
from sandex.api.rest.routing import MANAGE, TRANSFER, Context, Route
from sandex.api.rest.transfers import READ, user_profiles
from sandex.core import PutEntry, Rejected
from sandex.errors import Error
from sandex.views import ProfileEntry

TRAVEL_RULE, TRANSFER_TRAVEL_RULE = "travel_rule", "transfer_travel_rule"
SETTLEMENT = "settlement_preference"
PREFERENCES = ("USD", "USDC", "opt-out")
WALLET_TYPES = ("UNKNOWN_WALLET_TYPE", "EXCHANGE", "SELF_HOSTED")
SUBMITTED = "Travel rule information submitted"  # GUESS: the message text is not documented
_ADDRESS_FIELDS = ("address_1", "address_2", "address_3", "city", "state", "country",
                   "postal_code")


def _string(body: dict[str, Any], name: str, required: bool = False,
            longest: int = 256) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(Error.MISSING_FIELD, name)
        return None
    if not isinstance(value, str) or len(value) > longest:
        raise ApiError(Error.INVALID_FIELD, name)
    return value


def _country(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    """An ISO 3166-1 alpha-2 code (two letters, shown upper case)."""
    value = _string(body, name, required, 2)
    if value is not None and not (len(value) == 2 and value.isascii() and value.isalpha()):
        raise ApiError(Error.INVALID_FIELD, name)
    return None if value is None else value.upper()


async def _put(app: Context, request: Request, kind: str, entry_id: str,
               values: tuple[tuple[str, str], ...] | None) -> None:
    node = app.node
    events = await node.execute(PutEntry(time=node.stamp(), kind=kind, entry_id=entry_id,
                                         profile_id=request.profile_id, values=values))
    if type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])


def travel_rule_json(entry: ProfileEntry) -> dict[str, Any]:
    return {"id": entry.id, **dict(entry.values)}


# -- /travel-rules --------------------------------------------------------------------------------
async def list_travel_rules(app: Context, request: Request) -> Response:
    """Newest first; ``before``/``after`` are entry ids (GUESS: newer/older than that entry,
    as every Coinbase cursor), ``address`` filters."""
    entries = app.node.transfers.entries_of(TRAVEL_RULE, request.profile_id)
    address = request.param("address")
    if address:
        entries = [e for e in entries if dict(e.values).get("address") == address]
    order = {e.id: i for i, e in enumerate(entries)}
    chunk, headers = page(entries, lambda e: order[e.id], request, parse=order.get,
                          render=lambda i: entries[i].id, default_limit=1000)
    return json_response([travel_rule_json(e) for e in chunk], headers=headers)


async def create_travel_rule(app: Context, request: Request) -> Response:
    body = request.json_object()
    address = _string(body, "address", required=True)
    name = _string(body, "originator_name", required=True)
    country = _country(body, "originator_country", required=True)
    assert address is not None and name is not None and country is not None
    entry_id = app.node.ids.uuid()
    await _put(app, request, TRAVEL_RULE, entry_id, (
        ("address", address), ("originator_name", name), ("originator_country", country)))
    return json_response(travel_rule_json(
        app.node.transfers.entries[(TRAVEL_RULE, entry_id)]))


async def delete_travel_rule(app: Context, request: Request, rule_id: str) -> Response:
    entry = app.node.transfers.entries.get((TRAVEL_RULE, rule_id))
    if entry is None or entry.profile_id != request.profile_id:
        raise ApiError(Error.NOT_FOUND)
    await _put(app, request, TRAVEL_RULE, rule_id, None)
    return json_response({})


# -- a transfer's travel-rule information ----------------------------------------------
async def submit_transfer_travel_rule(app: Context, request: Request,
                                      transfer_id: str) -> Response:
    """The information of one of the user's transfers; a second submission replaces it."""
    record = app.node.transfers.records.get(transfer_id)
    if record is None or record.profile_id not in user_profiles(app, request):
        raise ApiError(Error.NOT_FOUND)
    body = request.json_object()
    if body.get("transfer_id") not in (None, "", transfer_id):
        raise ApiError(Error.INVALID_FIELD, "transfer_id")
    values: list[tuple[str, str]] = []
    name = _string(body, "originator_name", required=True)
    assert name is not None
    values.append(("originator_name", name))
    for field, country in (("originator_country", True), ("vasp_id", False),
                           ("vasp_country", True), ("lei_number", False)):
        value = _country(body, field) if country else _string(body, field)
        if value is not None:
            values.append((field, value))
    wallet = body.get("wallet_type")
    if wallet is not None:
        if wallet not in WALLET_TYPES:
            raise ApiError(Error.INVALID_FIELD, "wallet_type")
        values.append(("wallet_type", wallet))
    certified = body.get("is_self_certified")
    if certified is not None:
        if not isinstance(certified, bool):
            raise ApiError(Error.INVALID_FIELD, "is_self_certified")
        values.append(("is_self_certified", "true" if certified else "false"))
    address = body.get("business_address")
    if address is not None:
        if not isinstance(address, dict) or set(address) - set(_ADDRESS_FIELDS):
            raise ApiError(Error.INVALID_FIELD, "business_address")
        for field in _ADDRESS_FIELDS:
            value = _string(address, field)
            if value is not None:
                values.append((f"business_address.{field}", value))
    await _put(app, request, TRANSFER_TRAVEL_RULE, transfer_id, tuple(values))
    return json_response({"message": SUBMITTED})


# -- settlement preferences ----------------------------------------------------------------
async def settlement_preferences(app: Context, request: Request, user_id: str) -> Response:
    """POST /users/{id}/settlement-preferences: kept per user (``self`` or the key's own)."""
    profile = app.node.engine.profiles[request.profile_id]
    if user_id not in ("self", profile.user_id):
        raise ApiError(Error.FORBIDDEN)
    body = request.json_object()
    preference = _string(body, "settlement_preference", required=True)
    if preference not in PREFERENCES:
        raise ApiError(Error.INVALID_FIELD, "settlement_preference")
    await _put(app, request, SETTLEMENT, profile.user_id,
               (("settlement_preference", preference),))
    return json_response({"settlement_preference": preference})


ROUTES = [
    Route("GET", "/travel-rules", list_travel_rules, READ),
    Route("POST", "/travel-rules", create_travel_rule, TRANSFER),
    Route("DELETE", "/travel-rules/{rule_id}", delete_travel_rule, TRANSFER),
    Route("POST", "/transfers/{transfer_id}/travel-rules", submit_transfer_travel_rule,
          TRANSFER),
    Route("POST", "/users/{user_id}/settlement-preferences", settlement_preferences, MANAGE),
]
