"""A ``CreateApiKey`` journaled before ``kdf`` existed still decodes and authenticates."""

from __future__ import annotations

import hashlib

import msgspec

from sandex.auth.signing import sign
from sandex.auth.verify import AuthFailure, authenticate
from sandex.core import CreateProfile
from sandex.node import CreateApiKey, KeyCreated, Node

SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
SALT = b"0123456789abcdef"
PROFILE = "5a1f0000-0000-4000-8000-000000000001"


def test_a_record_without_kdf_is_a_salted_sha256_key_that_still_authenticates() -> None:
    node = Node()
    node.record(CreateProfile(time=node.stamp(), profile_id=PROFILE, user_id="u1",
                              name="default", maker_fee_rate=0, taker_fee_rate=0))
    new = CreateApiKey(time=node.stamp(), key="old-key", secret=SECRET,
                       passphrase_hash=hashlib.sha256(SALT + b"old-phrase").digest(),
                       salt=SALT, permissions=("view",), profile_id=PROFILE)
    record = msgspec.json.encode(new)
    assert b"kdf" not in record  # the default is omitted: as a journal written before the field
    old = msgspec.json.decode(record, type=CreateApiKey)
    assert old.kdf == "sha256"
    assert isinstance(node.record(old)[0], KeyCreated)
    now = 1_700_000_000
    timestamp = str(now)
    headers = {"cb-access-key": "old-key", "cb-access-timestamp": timestamp,
               "cb-access-passphrase": "old-phrase",
               "cb-access-sign": sign(SECRET, timestamp, "GET", "/accounts", b"")}
    assert authenticate(headers, "GET", "/accounts", b"", node.keys, now) == (
        node.keys.get("old-key"))
    wrong = authenticate({**headers, "cb-access-passphrase": "new-phrase"}, "GET", "/accounts",
                         b"", node.keys, now)
    assert isinstance(wrong, AuthFailure)
    assert wrong.message == "Invalid Passphrase"
