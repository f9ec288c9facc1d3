"""Wire shapes of transfers, Coinbase wallets, payment methods and address-book entries
(docs/compatibility.md, "Funds"): amounts with 8 decimals; a transfer's times in Postgres text form
(``2020-10-07 17:28:17.910515+00``, as observed), every other time RFC 3339."""

from __future__ import annotations

from typing import Any

from sandex.api.rest import wire
from sandex.funds import DepositAddress, PaymentMethod, Wallet
from sandex.timefmt import iso
from sandex.units import PRICE_DECIMALS, SIZE_TO_AMOUNT, format_units
from sandex.views import AddressEntry, TransferRecord


def pg_time(us: int) -> str:
    """``2020-10-07 17:28:17.910515+00``: how Coinbase prints a transfer's times."""
    return iso(us).replace("T", " ").replace("Z", "+00")


def rfc3339(us: int) -> str:
    """``2020-03-31T02:38:44Z`` (whole seconds, as addresses and payment methods show)."""
    return iso(us)[:19] + "Z"


def amount8(units: int) -> str:
    """An amount (1e-16 units) with 8 decimals (``"22.00000000"``)."""
    return format_units(units // SIZE_TO_AMOUNT, PRICE_DECIMALS)


def transfer(r: TransferRecord, user_id: str) -> dict[str, Any]:
    """A transfer object (§2.1): status lives in the timestamps (§2.3)."""
    done = r.completed_at
    return {
        "id": r.id,
        "type": r.kind,
        "created_at": pg_time(r.created_at),
        "completed_at": None if done is None else pg_time(done),
        "canceled_at": None,
        "processed_at": None if done is None else pg_time(done),
        "account_id": wire.account_id(r.profile_id, r.currency),
        "user_id": user_id,
        "profile_id": r.profile_id,
        "user_nonce": r.user_nonce,
        "idem": None,
        "amount": amount8(r.amount),
        "details": dict(r.details),
        "currency": r.currency,
    }


def wallet(w: Wallet, balance: int, fiat: bool) -> dict[str, Any]:
    """A Coinbase wallet (§3.1); ``balance`` in 1e-8 units."""
    return {
        "id": w.id,
        "name": w.name,
        "balance": format_units(balance, PRICE_DECIMALS, 2 if fiat else 8),
        "currency": w.currency,
        "type": "fiat" if fiat else "wallet",
        "primary": True,
        "active": True,
        "available_on_consumer": True,
        "hold_balance": "0.00",
        "hold_currency": "USD",
    }


def address(a: DepositAddress, wallet_id: str, now: int) -> dict[str, Any]:
    """A generated deposit address (§3.2)."""
    at = rfc3339(now)
    info: dict[str, Any] = {"address": a.address}
    out: dict[str, Any] = {"id": a.id, "address": a.address}
    if a.destination_tag is not None:
        info["destination_tag"] = a.destination_tag
        out["destination_tag"] = a.destination_tag
    out.update({
        "address_info": info,
        "name": "New exchange deposit address",
        "created_at": at,
        "updated_at": at,
        "network": a.network,
        "uri_scheme": a.network,
        "resource": "address",
        "resource_path": f"/v2/accounts/{wallet_id}/addresses/{a.id}",
        "warnings": [{"title": f"Only send {a.currency} to this address",
                      "details": f"Sending any other asset to this address will result in "
                                 f"permanent loss ({a.network} network).",
                      "image_url": ""}],
        "deposit_uri": f"{a.network}:{a.address}",
        "callback_url": None,
        "exchange_deposit_address": True,
    })
    return out


def payment_method(m: PaymentMethod) -> dict[str, Any]:
    """A linked payment method (§4.7)."""
    return {
        "id": m.id,
        "type": m.type,
        "name": m.name,
        "currency": m.currency,
        "primary_buy": True,
        "primary_sell": True,
        "instant_buy": False,
        "instant_sell": False,
        "created_at": m.created_at,
        "updated_at": m.created_at,
        "resource": "payment_method",
        "resource_path": f"/v2/payment-methods/{m.id}",
        "limits": {"type": "bank", "name": m.name},
        "allow_buy": True,
        "allow_sell": True,
        "allow_deposit": m.allow_deposit,
        "allow_withdraw": m.allow_withdraw,
        "verified": True,
        "hold_business_days": 0,
        "hold_days": 0,
    }


def address_entry(a: AddressEntry) -> dict[str, Any]:
    """An address-book entry (§4.8), as both GET and POST show it."""
    info: dict[str, Any] = {"address": a.address, "display_address": a.address}
    if a.destination_tag is not None:
        info["destination_tag"] = a.destination_tag
    return {
        "id": a.id,
        "address": a.address,
        "display_address": a.address,
        "address_info": info,
        "currency": a.currency,
        "label": a.label,
        "address_booked": True,
        "address_book_added_at": iso(a.added_at)[:23] + "Z",
        "destination_tag": a.destination_tag,
        "is_verified_self_hosted_wallet": a.is_verified_self_hosted_wallet,
        "vasp_id": a.vasp_id,
        "network": a.network,
    }
