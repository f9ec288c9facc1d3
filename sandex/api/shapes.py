"""Product and currency shapes (spec §6.1, §6.2), shared by REST and the feed's ``status``.

Increments print with 8 decimals, ``min_market_funds`` and ``min_size`` trimmed, as observed.
"""

from __future__ import annotations

from typing import Any

from sandex.core import Currency, Product
from sandex.units import AMOUNT_DECIMALS, format_trimmed, price_text

__all__ = ["FIAT", "HALTED_MESSAGE", "currency", "product", "status_message"]

FIAT = frozenset({"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "SGD"})
"""Currencies shown with ``details.type`` ``fiat``; every other one is ``crypto``."""


HALTED_MESSAGE = "Matching is halted: orders are accepted pending and matched on resume"
"""A product's ``status_message`` while its matching is halted (a ``halt_matching`` fault).
Order entry and cancels stay open, so ``status`` and the mode flags do not change, and the
queued orders are off the book with no auction price, so ``auction_mode`` stays false."""


def status_message(p: Product) -> str | None:
    """The product's ``status_message`` text, ``None`` when there is nothing to say."""
    return None if p.halted is None else HALTED_MESSAGE


def product(p: Product) -> dict[str, Any]:
    """A product as ``GET /products/{id}`` shows it (§6.1)."""
    status = p.status.value
    return {
        "id": p.id,
        "base_currency": p.base_currency,
        "quote_currency": p.quote_currency,
        "quote_increment": price_text(p.quote_increment),
        "base_increment": price_text(p.base_increment),
        "display_name": f"{p.base_currency}/{p.quote_currency}",
        "min_market_funds": format_trimmed(p.min_market_funds, AMOUNT_DECIMALS),
        "margin_enabled": False,
        "post_only": status == "post_only",
        "limit_only": status == "limit_only",
        "cancel_only": status == "cancel_only",
        "trading_disabled": status == "disabled",
        "status": "offline" if status == "disabled" else "online",
        "status_message": "" if p.halted is None else HALTED_MESSAGE,
        "auction_mode": False,
    }


CONVERTIBLE = {"USD": "USDC", "USDC": "USD"}
"""What ``POST /conversions`` converts into what (at 1:1, as Coinbase; its ``convertible_to``)."""


def currency(c: Currency) -> dict[str, Any]:
    """A currency as ``GET /currencies/{id}`` shows it (§6.2)."""
    is_fiat = c.id in FIAT
    precision = format_trimmed(c.min_size, AMOUNT_DECIMALS) if c.min_size else "0.00000001"
    return {
        "id": c.id,
        "name": c.name,
        "min_size": precision,
        "status": "online",
        "max_precision": precision,
        "convertible_to": [CONVERTIBLE[c.id]] if c.id in CONVERTIBLE else [],
        "details": {"type": "fiat" if is_fiat else "crypto", "symbol": "", "sort_order": 0,
                    "push_payment_methods": [], "display_name": c.id,
                    "group_types": ["fiat" if is_fiat else "crypto"]},
        "default_network": "",
        "supported_networks": [],
    }
