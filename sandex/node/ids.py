"""Generated ids: random UUIDv4 by default, or a seeded stream for reproducible runs.

Ids are stamped into commands before they are journaled, so replay never generates any.
"""

from __future__ import annotations

import os
import random
import re

_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # what uuid.UUID(version=4) clears ...
_V4_SET = (0x8000 << 48) | (4 << 76)  # ... and sets: variant RFC 4122, version 4


_POOL_BYTES = 4096  # random bytes drawn at once: 256 unseeded ids a system call
_pool: list[str] = []  # unseeded ids made ahead, shared by every ``Ids``
_VERSION = bytes((b & 0x0F) | 0x40 for b in range(256))  # byte 6: version 4 in its high nibble
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))  # byte 8: variant RFC 4122 (10xx)
# The pool's text: 37 bytes an id (8-4-4-4-12 hex digits, a space), its dashes and spaces
# in place; each of the 32 digits of every id moved in by one strided slice (C loops)
_POOL_IDS = _POOL_BYTES // 16
_DASHES = (8, 13, 18, 23)
_BLANK = bytes(0x2D if j in _DASHES else 0x20 if j == 36 else 0x30 for j in range(37)) * _POOL_IDS
_MOVES = tuple((slice(to, None, 37), slice(digit, None, 32)) for digit, to in
               enumerate(j for j in range(36) if j not in _DASHES))


def _refill() -> None:
    """256 UUIDv4s from one ``os.urandom``: 122 random bits each, version and variant set
    as ``uuid.uuid4()`` sets them, every step over all 256 at once (C loops; the Python
    loop is over the 32 digit places, not the ids)."""
    raw = bytearray(os.urandom(_POOL_BYTES))
    raw[6::16] = raw[6::16].translate(_VERSION)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    digits = raw.hex().encode()
    text = bytearray(_BLANK)
    for to, digit in _MOVES:  # 32 slices of 256 bytes: ~1,700 instructions an id in all,
        text[to] = digits[digit]  # against ~4,400 for a regex's groups joined (19th pass)
    _pool.extend(text.decode().split())


os.register_at_fork(after_in_child=_pool.clear)  # a forked child never reuses the parent's

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_uuid(text: str, *, lower: bool = False) -> bool:
    """Whether ``text`` is a UUID in the 8-4-4-4-12 hex form (only lower-case if ``lower``),
    as the node makes them and clients send them back in any case."""
    return _UUID.fullmatch(text if lower else text.lower()) is not None


def _v4(n: int) -> str:
    h = f"{(n & _V4_CLEAR) | _V4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Ids:
    """UUIDv4 strings; ``seed`` makes the sequence reproducible.

    ``stream`` (the journal position a restarted node resumes at) gives a seeded node a
    fresh, still reproducible sequence after a restart, so it never re-issues an id.
    """

    def __init__(self, seed: int | None = None, stream: int | str = 0) -> None:
        self.seed = seed
        if seed is None:
            self._random = None
        else:
            self._random = random.Random(seed if not stream else f"{seed}/{stream}")

    def fork(self, stream: str) -> Ids:
        """The ids of a seeded node from a named point on (after a snapshot restore: the same
        ids after every restore of one snapshot); still random if unseeded."""
        return Ids(self.seed, stream)

    def uuid(self) -> str:
        if self._random is None:
            if not _pool:
                _refill()
            return _pool.pop()
        return _v4(self._random.getrandbits(128))

    def salt(self) -> bytes:
        if self._random is None:
            return os.urandom(16)
        return self._random.getrandbits(128).to_bytes(16, "big")

    def user_id(self) -> str:
        """A 24-hex user id, Coinbase's Mongo-style form (§1.3)."""
        return self.uuid().replace("-", "")[:24]
