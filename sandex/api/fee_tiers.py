"""Volume fee tiers, shared by the order gateways (REST and FIX): the scenario's
``[[fee_tiers]]`` and the 30-day USD volume that picks one (docs/scenario.md).

Coinbase evaluates the tier at order placement; so does sandex, with a journaled ``SetFees``
whenever a profile's tier rates differ from its own, before the order's command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sandex.core import Profile, SetFees
from sandex.node import Node
from sandex.views.fills import Fill

DAY_US = 86_400_000_000
MONTH_US = 30 * DAY_US


@dataclass(frozen=True)
class FeeTier:
    """From ``usd_volume`` (30-day USD volume, amount units) up, these rates (1e-6)."""

    usd_volume: int
    maker_fee_rate: int
    taker_fee_rate: int


def tier_of(tiers: Sequence[FeeTier], usd_volume: int) -> FeeTier | None:
    """The tier a 30-day USD volume falls in (``tiers`` ascending; ``None``: none applies)."""
    found = None
    for tier in tiers:
        if usd_volume >= tier.usd_volume:
            found = tier
    return found


def usd_fills(node: Node, profile_ids: Iterable[str], since: int) -> Iterable[Fill]:
    """The fills of ``profile_ids`` on USD-quoted products since ``since``."""
    wanted = set(profile_ids)
    products = node.engine.products
    for (profile_id, product_id), fills in node.fills.by_product.items():
        if profile_id in wanted and products[product_id].quote_currency == "USD":
            yield from (f for f in fills if f.created_at >= since)


def thirty_day_usd_volume(node: Node, profile: Profile) -> int:
    """The profile's USD notional (amount units) over the 30 days before the venue's now."""
    return sum(f.price * f.size for f in usd_fills(node, [profile.id], node.now() - MONTH_US))


def tier_change(node: Node, tiers: Sequence[FeeTier], profile_id: str) -> SetFees | None:
    """The ``SetFees`` (stamped now) that gives the profile its tier's rates before its next
    order, or ``None`` when they are its rates already or no tier applies. Costs a pass over
    the profile's 30 days of USD fills; call it only with tiers configured."""
    profile = node.engine.profiles.get(profile_id)
    if not tiers or profile is None:
        return None
    tier = tier_of(tiers, thirty_day_usd_volume(node, profile))
    if tier is None or (profile.maker_rate, profile.taker_rate) == (tier.maker_fee_rate,
                                                                    tier.taker_fee_rate):
        return None
    return SetFees(time=node.stamp(), profile_id=profile_id, maker_fee_rate=tier.maker_fee_rate,
                   taker_fee_rate=tier.taker_fee_rate)


async def apply_fee_tier(node: Node, tiers: Sequence[FeeTier], profile_id: str) -> None:
    """``tier_change``, executed (REST: before the order is parsed and stamped)."""
    change = tier_change(node, tiers, profile_id)
    if change is not None:
        await node.execute(change)
