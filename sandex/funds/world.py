"""Deterministic stand-ins for the outside world: deposit addresses (one per profile,
currency and network) and transaction hashes (derived from the transfer id)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sandex.funds.config import TAGS

_NAMESPACE = uuid.UUID("7c1e0d9a-4b3f-4e6a-8d2c-5f9b1a3e7d40")
EVM = frozenset({"ethereum", "polygon", "base", "arbitrum", "optimism", "avacchain"})


@dataclass(frozen=True)
class DepositAddress:
    id: str
    profile_id: str
    currency: str
    network: str
    address: str
    destination_tag: str | None


def _digest(*parts: str) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def deposit_address(profile_id: str, currency: str, network: str) -> DepositAddress:
    """The profile's address for ``currency`` on ``network`` (the same every time)."""
    digest = _digest("sandex-address", profile_id, currency, network)
    if network in EVM:
        address = "0x" + digest[:40]
    elif network == "bitcoin":
        address = "bc1q" + digest[:38]
    else:
        address = network[:3] + digest[:40]
    tag = str(int(digest[40:48], 16) % 1_000_000_000) if currency in TAGS else None
    return DepositAddress(str(uuid.uuid5(_NAMESPACE, f"{profile_id}:{currency}:{network}")),
                          profile_id, currency, network, address, tag)


def find_address(address: str, candidates: Iterable[tuple[str, str, str]],
                 ) -> DepositAddress | None:
    """The deposit address ``address`` among ``(profile, currency, network)`` candidates."""
    for profile_id, currency, network in candidates:
        found = deposit_address(profile_id, currency, network)
        if found.address == address:
            return found
    return None


def tx_hash(transfer_id: str, network: str) -> str:
    """The on-chain hash of a transfer (64 hex digits; ``0x``-prefixed on EVM networks)."""
    digest = _digest("sandex-tx", transfer_id)
    return "0x" + digest if network in EVM else digest
