"""The journal's checksum is zlib's CRC-32: records written with ``zlib.crc32`` check."""

from __future__ import annotations

import zlib

from hypothesis import given
from hypothesis import strategies as st

from sandex.journal.checksum import crc32


@given(st.binary(max_size=4096))
def test_the_values_are_zlibs(body: bytes) -> None:
    assert crc32(body) == zlib.crc32(body)


def test_a_body_that_is_not_bytes_is_refused_as_by_zlib() -> None:
    for value in ("text", 5, None):
        try:
            crc32(value)
        except TypeError:
            continue
        raise AssertionError(f"crc32({value!r}) did not raise TypeError")
