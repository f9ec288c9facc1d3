"""Commands the node applies outside the core: API keys and the clock (journaled like every
command).

The passphrase never appears in a command: it is hashed with a fresh salt when the command
is stamped, so the journal holds only the hash (§2.1: Coinbase keeps only a salted hash).
"""

from __future__ import annotations

import msgspec

from sandex.core import Command
from sandex.node.clock import ClockMode


class CreateApiKey(Command, frozen=True, gc=False, tag="create_api_key", kw_only=True):
    key: str
    secret: str  # base64
    passphrase_hash: bytes
    salt: bytes
    permissions: tuple[str, ...]
    profile_id: str
    kdf: str = "sha256"  # how passphrase_hash was made; records without it are salted SHA-256


class RevokeApiKey(Command, frozen=True, gc=False, tag="revoke_api_key", kw_only=True):
    key: str


class SetClock(Command, frozen=True, gc=False, tag="set_clock", kw_only=True):
    """Switch the venue clock to ``mode``; a virtual clock reads ``time`` (the command's stamp,
    its anchor) at once and then runs at ``rate`` (0: frozen). Moving it forward is
    ``AdvanceClock``."""

    mode: ClockMode
    rate: float = 1.0


class ClockSet(msgspec.Struct, frozen=True, gc=False, tag=True, tag_field="event"):
    time: int
    mode: ClockMode
    rate: float


class KeyCreated(msgspec.Struct, frozen=True, gc=False, tag=True, tag_field="event"):
    time: int
    key: str
    profile_id: str


class KeyRevoked(msgspec.Struct, frozen=True, gc=False, tag=True, tag_field="event"):
    time: int
    key: str
