"""Exact fixed-point units, and the one place where decimals become integers and back.

Every quantity in sandex is a Python ``int`` in a fixed unit:

* prices and sizes: ``10**-8`` (``PRICE_SCALE``; Coinbase prints them with 8 decimals, §12.1);
* currency amounts (balances, holds, funds, fees, notional): ``10**-16`` (``AMOUNT_SCALE``;
  16 decimals on the wire). ``price * size`` is therefore an amount with no rescaling;
* fee rates: ``10**-6`` (``RATE_SCALE``; 0.40 % is ``4000``).

Parsing never rounds: a value with more digits than its unit can hold is reported as
inexact (``None``) so the caller can answer "too accurate". No ``float`` anywhere.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

PRICE_DECIMALS = 8
AMOUNT_DECIMALS = 16
RATE_DECIMALS = 6
# ``int ** int`` is typed ``Any`` (a negative exponent gives a float): these say ``int``
PRICE_SCALE: int = 10**PRICE_DECIMALS
AMOUNT_SCALE: int = 10**AMOUNT_DECIMALS
RATE_SCALE: int = 10**RATE_DECIMALS
SIZE_TO_AMOUNT = AMOUNT_SCALE // PRICE_SCALE  # a base size in amount units

_MAX_DIGITS = 40  # refuse absurd inputs before Decimal does work on them


def parse_units(value: object, decimals: int) -> int | None:
    """``value`` (str, int or Decimal) as an int in units of ``10**-decimals``.

    Returns ``None`` when the text is not a finite decimal number or has more fractional
    digits than ``decimals`` (after dropping trailing zeros). Negative values are returned
    negative: range checks belong to the caller.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        scale: int = 10**decimals
        return value * scale
    if isinstance(value, str):
        if not value or len(value) > _MAX_DIGITS:
            return None
        whole, _, fraction = value.partition(".")
        if whole.isdigit() and whole.isascii() and (
                not fraction or (fraction.isdigit() and fraction.isascii())):
            fraction = fraction.rstrip("0")
            if len(fraction) > decimals:
                return None
            return int(whole + fraction.ljust(decimals, "0"))
        try:
            value = Decimal(value)
        except InvalidOperation:
            return None
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) + max(exponent, 0) > _MAX_DIGITS:
        return None
    number = int("".join(map(str, digits)) or "0")
    shift = decimals + exponent
    if shift < -_MAX_DIGITS:  # more fractional digits than any unit: exact only if zero
        return 0 if number == 0 else None
    if shift >= 0:
        scale = 10**shift
        number *= scale
    else:
        factor: int = 10**-shift
        if number % factor:
            return None
        number //= factor
    return -number if sign else number


def is_inexact(value: object, decimals: int) -> bool:
    """True when ``value`` is a valid number that merely has too many fractional digits."""
    return parse_units(value, decimals) is None and parse_units(value, 40) is not None


def format_units(value: int, decimals: int, places: int | None = None) -> str:
    """``value`` (units of ``10**-decimals``) as a decimal string with ``places`` digits.

    ``places`` defaults to ``decimals``; fewer places truncate toward zero.
    """
    if places is None:
        places = decimals
    sign = "-" if value < 0 else ""
    value = abs(value)
    if places < decimals:
        value //= 10 ** (decimals - places)
    elif places > decimals:
        value *= 10 ** (places - decimals)
    if places == 0:
        return f"{sign}{value}"
    whole, frac = divmod(value, 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def format_trimmed(value: int, decimals: int) -> str:
    """``value`` as the shortest exact decimal string (``"1"``, ``"0.01"``, ``"-2.5"``)."""
    text = format_units(value, decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def price_text(value: int) -> str:
    """A price or size with Coinbase's 8 decimals (``"0.01000000"``)."""
    return format_units(value, PRICE_DECIMALS)


def amount_text(value: int) -> str:
    """A currency amount with Coinbase's 16 decimals."""
    return format_units(value, AMOUNT_DECIMALS)
