"""Commands the node applies outside the core: API keys (journaled like every command).

The passphrase never appears in a command: it is hashed with a fresh salt when the command
is stamped, so the journal holds only the hash (§2.1: Coinbase keeps only a salted hash).
"""

from __future__ import annotations

import msgspec

from sandex.core import Command


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


class KeyCreated(msgspec.Struct, frozen=True, gc=False, tag=True, tag_field="event"):
    time: int
    key: str
    profile_id: str


class KeyRevoked(msgspec.Struct, frozen=True, gc=False, tag=True, tag_field="event"):
    time: int
    key: str
