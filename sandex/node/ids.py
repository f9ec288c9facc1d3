"""Generated ids: random UUIDv4 by default, or a seeded stream for reproducible runs.

Ids are stamped into commands before they are journaled, so replay never generates any.
"""

from __future__ import annotations

import os
import random
import uuid


class Ids:
    """UUIDv4 strings; ``seed`` makes the sequence reproducible."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def uuid(self) -> str:
        if self._random is None:
            return str(uuid.UUID(bytes=os.urandom(16), version=4))
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def salt(self) -> bytes:
        if self._random is None:
            return os.urandom(16)
        return self._random.getrandbits(128).to_bytes(16, "big")

    def user_id(self) -> str:
        """A 24-hex user id, Coinbase's Mongo-style form (§1.3)."""
        return self.uuid().replace("-", "")[:24]
