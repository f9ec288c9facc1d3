"""A record's checksum: CRC-32 of its body, zlib's polynomial and values.

Computed by zlib-ng (carry-less multiply where the CPU has it) rather than the standard
library's ``zlib``, whose table loop takes ~4.5 instructions a byte: the journal computes it
for every record it writes and a replay checks every record it reads, and on the journal's
~190-byte records zlib-ng's is about 2.4x as fast.
The values are zlib's (a test pins them), so records written with either check with either.
"""

from __future__ import annotations

from zlib_ng.zlib_ng import crc32

__all__ = ["crc32"]
