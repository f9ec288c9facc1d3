"""The unseeded ids' pool (``sandex.node.ids._refill``): its ids made by strided slices
(the nineteenth REST pass) are the ids the regex's groups made of the same random bytes,
and each is a lower-case RFC 4122 version 4 UUID."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from sandex.node import ids

_GROUPS = re.compile("(.{8})(.{4})(.{4})(.{4})(.{12})", re.DOTALL)  # the old way's


def _old(raw: bytes) -> list[str]:
    data = bytearray(raw)
    data[6::16] = data[6::16].translate(ids._VERSION)
    data[8::16] = data[8::16].translate(ids._VARIANT)
    return list(map("-".join, _GROUPS.findall(data.hex())))


@pytest.mark.parametrize("raw", [bytes(ids._POOL_BYTES), b"\xff" * ids._POOL_BYTES,
                                 bytes(range(256)) * (ids._POOL_BYTES // 256),
                                 os.urandom(ids._POOL_BYTES), os.urandom(ids._POOL_BYTES)],
                         ids=["zeros", "ones", "counting", "random1", "random2"])
def test_the_pool_holds_the_ids_the_regex_made(raw: bytes,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ids, "_pool", [])
    monkeypatch.setattr(ids.os, "urandom", lambda n: raw[:n])
    ids._refill()
    made = ids._pool
    assert made == _old(raw)
    assert len(made) == ids._POOL_BYTES // 16
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert ids.is_uuid(text, lower=True)


def test_unseeded_ids_are_distinct_uuids() -> None:
    made = [ids.Ids().uuid() for _ in range(3 * ids._POOL_BYTES // 16 + 7)]
    assert len(set(made)) == len(made)
    assert all(str(uuid.UUID(text)) == text for text in made)
