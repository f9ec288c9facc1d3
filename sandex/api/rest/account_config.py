"""The account surface's settings from the scenario: fee tiers, wrapped assets, reports and
withdrawal limits (``docs/scenario.md``). Read at every start, like ``[feed]``: settings, not
state. What they decide is journaled where it changes state (a stake-wrap's ``to_amount``, a
report's ``ready_at``, the fee rates an order is charged, ``SetFees``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandex.api.fee_tiers import FeeTier, tier_of
from sandex.units import AMOUNT_DECIMALS, RATE_DECIMALS, parse_units

RATE18 = 18  # a wrapped asset's conversion rate: 18 decimals, as Coinbase prints it


@dataclass(frozen=True)
class WrappedAsset:
    """A wrapped asset (cbETH) and the currency it wraps; ``conversion_rate`` = units of the
    underlying per wrapped unit (18 decimals); the other fields are shown as given."""

    id: str
    underlying: str
    conversion_rate: int
    apy: str = "0"
    circulating_supply: str = "0"
    total_supply: str = "0"
    redeem_time_estimate_days: str = "0"


@dataclass(frozen=True)
class WithdrawLimit:
    currency: str
    max: int  # amount units per period
    period_days: int


@dataclass(frozen=True)
class AccountConfig:
    fee_tiers: tuple[FeeTier, ...] = ()  # ascending volume; empty: each profile's own rates
    wrapped_assets: tuple[WrappedAsset, ...] = ()
    report_seconds: float = 2.0  # created -> ready on the venue clock (pending, creating)
    withdraw_limits: tuple[WithdrawLimit, ...] = field(default_factory=tuple)

    def tier(self, usd_volume: int) -> FeeTier | None:
        """The tier a 30-day USD volume falls in (``None``: no tiers configured)."""
        return tier_of(self.fee_tiers, usd_volume)

    def wrapped(self, asset_id: str) -> WrappedAsset | None:
        return next((w for w in self.wrapped_assets if w.id == asset_id.upper()), None)

    @classmethod
    def from_scenario(cls, data: dict[str, Any]) -> AccountConfig:
        """The settings of a scenario's ``[[fee_tiers]]``, ``[[wrapped_assets]]``,
        ``[reports]`` and ``[[withdraw_limits]]``; ``ValueError`` names a bad field."""
        tiers = tuple(sorted((_tier(t, i) for i, t in enumerate(_tables(data, "fee_tiers"))),
                             key=lambda t: t.usd_volume))
        if tiers and tiers[0].usd_volume != 0:
            raise ValueError("fee_tiers: the first tier must start at usd_volume = \"0\"")
        wrapped = tuple(_wrapped(w, i) for i, w in enumerate(_tables(data, "wrapped_assets")))
        reports = data.get("reports", {})
        if not isinstance(reports, dict) or set(reports) - {"ready_seconds"}:
            raise ValueError("[reports] takes ready_seconds only")
        seconds = reports.get("ready_seconds", 2.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("[reports] ready_seconds must be a number >= 0")
        limits = tuple(_limit(t, i) for i, t in enumerate(_tables(data, "withdraw_limits")))
        return cls(tiers, wrapped, float(seconds), limits)


def _tables(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    tables = data.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ValueError(f"{name} must be an array of tables ([[{name}]])")
    return tables


def _number(table: dict[str, Any], name: str, decimals: int, at: str) -> int:
    value = table.get(name)
    parsed = parse_units(str(value) if isinstance(value, float) else value, decimals)
    if parsed is None or parsed < 0:
        raise ValueError(f"{at}: {name} must be a decimal number >= 0, not {value!r}")
    return parsed


def _tier(table: dict[str, Any], i: int) -> FeeTier:
    at = f"fee_tiers[{i}]"
    if set(table) - {"usd_volume", "maker_fee_rate", "taker_fee_rate"}:
        raise ValueError(f"{at}: takes usd_volume, maker_fee_rate, taker_fee_rate")
    return FeeTier(_number(table, "usd_volume", AMOUNT_DECIMALS, at),
                   _number(table, "maker_fee_rate", RATE_DECIMALS, at),
                   _number(table, "taker_fee_rate", RATE_DECIMALS, at))


def _wrapped(table: dict[str, Any], i: int) -> WrappedAsset:
    at = f"wrapped_assets[{i}]"
    names = {"id", "underlying", "conversion_rate", "apy", "circulating_supply", "total_supply",
             "redeem_time_estimate_days"}
    if set(table) - names or not isinstance(table.get("id"), str) \
            or not isinstance(table.get("underlying"), str):
        raise ValueError(f"{at}: needs id and underlying, takes {', '.join(sorted(names))}")
    rate = _number(table, "conversion_rate", RATE18, at)
    if rate <= 0:
        raise ValueError(f"{at}: conversion_rate must be > 0")
    texts = {name: str(table.get(name, "0")) for name in
             ("apy", "circulating_supply", "total_supply", "redeem_time_estimate_days")}
    return WrappedAsset(table["id"].upper(), table["underlying"].upper(), rate, **texts)


def _limit(table: dict[str, Any], i: int) -> WithdrawLimit:
    at = f"withdraw_limits[{i}]"
    period = table.get("period_in_days", 7)
    if not isinstance(table.get("currency"), str) or set(table) - {
            "currency", "max", "period_in_days"} or not isinstance(period, int) or period <= 0:
        raise ValueError(f"{at}: needs currency and max, takes period_in_days (int > 0)")
    return WithdrawLimit(table["currency"].upper(), _number(table, "max", AMOUNT_DECIMALS, at),
                         period)
