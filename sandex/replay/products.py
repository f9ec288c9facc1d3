"""Venue products made from a recorded ``GET /products`` reply (``create_products_from``).

A recording's products often do not exist on a fresh venue; Coinbase's own reply of the
day says what they were: id, currencies, increments, minimum funds, status. Each product of
the reply the venue lacks is added (journaled ``AddProduct``, currencies made as needed);
one the venue has is left as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sandex.core import AddProduct, ProductStatus
from sandex.units import AMOUNT_DECIMALS, PRICE_DECIMALS, parse_units

_STATUSES = {"online": ProductStatus.ONLINE, "offline": ProductStatus.DISABLED,
             "delisted": ProductStatus.DISABLED}


class ProductsError(ValueError):
    """The file is not a products reply; the text names the file and the product."""


def read_products(path: str | Path) -> list[AddProduct]:
    """The products of a recorded ``GET /products`` reply (a JSON list, or the body of a
    cryptofeed ``COINBASE.0`` line), as ``AddProduct`` commands stamped 0."""
    file = Path(path).expanduser()
    try:
        text = file.read_text()
    except OSError as exc:
        raise ProductsError(f"{file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProductsError(f"{file}: not a GET /products reply (not UTF-8 text)") from None
    start = text.find("[")
    try:
        items = json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError as exc:
        raise ProductsError(f"{file}: not a GET /products reply ({exc.msg})") from None
    if not isinstance(items, list):
        raise ProductsError(f"{file}: not a GET /products reply (a JSON list)")
    return [_product(file, item) for item in items]


def _product(file: Path, item: Any) -> AddProduct:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise ProductsError(f"{file}: a product without an id")
    name = item["id"]

    def units(field: str, decimals: int, default: str | None = None) -> int:
        value = parse_units(item.get(field, default), decimals)
        if value is None:
            raise ProductsError(f"{file}: {name}: {field} {item.get(field)!r} is not a number")
        return value

    base, _, quote = name.partition("-")  # when the reply leaves its currencies out
    return AddProduct(
        time=0, product_id=name, base_currency=str(item.get("base_currency") or base),
        quote_currency=str(item.get("quote_currency") or quote),
        base_increment=units("base_increment", PRICE_DECIMALS),
        quote_increment=units("quote_increment", PRICE_DECIMALS),
        min_market_funds=units("min_market_funds", AMOUNT_DECIMALS, "0"),
        status=_STATUSES.get(str(item.get("status", "online")), ProductStatus.ONLINE))
