"""The node's state hash: what a replay of the journal must reproduce, bit for bit."""

from __future__ import annotations

import hashlib

from sandex.auth.keys import KDF_LEGACY, KeyRegistry
from sandex.core.engine import Engine
from sandex.core.invariants import state_hash
from sandex.node.clock import ClockMode


def node_hash(engine: Engine, keys: KeyRegistry, clock_mode: ClockMode) -> str:
    """SHA-256 over the engine's state hash, the API keys and the clock's mode (a virtual
    clock's rate is not: a restart freezes it; named snapshots are not: they are outside the
    venue's state, and a restore carries the hash it restores)."""
    digest = hashlib.sha256(state_hash(engine).encode())
    for key in sorted(keys.list(), key=lambda k: k.key):
        digest.update(repr((key.key, key.secret, key.profile_id, sorted(key.permissions),
                            key.salt.hex(), key.passphrase_hash.hex(),
                            key.created_at)).encode())
        if key.kdf != KDF_LEGACY:  # a field added later: keys journaled before it hash as then
            digest.update(repr(key.kdf).encode())
    if clock_mode is not ClockMode.WALL:  # added later: a wall clock hashes as before
        digest.update(repr(("clock", clock_mode.value)).encode())
    return digest.hexdigest()
