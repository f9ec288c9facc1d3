"""§2.1 API keys: the registry is deterministic, validates its input, never keeps a passphrase."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from sandex.auth import keys
from sandex.auth.keys import (
    KDF,
    KDF_LEGACY,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    ApiKey,
    KeyRegistry,
    Permission,
    hash_passphrase,
)

SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
SALT = b"0123456789abcdef"
GOOD: dict[str, Any] = {
    "key": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "secret_b64": SECRET,
    "passphrase": "s3cret-phrase",
    "permissions": {Permission.VIEW, Permission.TRADE},
    "profile_id": "default",
    "salt": SALT,
    "created_at": 1_700_000_000_000_000,
}


def make(registry: KeyRegistry | None = None, **changes: Any) -> ApiKey:
    if registry is None:
        registry = KeyRegistry()
    return registry.create(**{**GOOD, **changes})


def test_create_fields() -> None:
    api_key = make()
    assert api_key.key == GOOD["key"]
    assert api_key.secret == SECRET
    assert api_key.secret_bytes == bytes(range(64))
    assert api_key.salt == SALT
    assert api_key.kdf == KDF == "scrypt"
    assert api_key.passphrase_hash == hashlib.scrypt(b"s3cret-phrase", salt=SALT, n=SCRYPT_N,
                                                     r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    assert api_key.permissions == frozenset({Permission.VIEW, Permission.TRADE})
    assert isinstance(api_key.permissions, frozenset)
    assert api_key.profile_id == "default"
    assert api_key.created_at == 1_700_000_000_000_000


def test_passphrase_never_stored_in_clear() -> None:
    api_key = make()
    for f in dataclasses.fields(api_key):
        value = getattr(api_key, f.name)
        assert value != GOOD["passphrase"]
        if isinstance(value, bytes):
            assert b"s3cret-phrase" not in value
    assert "s3cret-phrase" not in repr(api_key)


def test_repr_hides_secrets() -> None:
    text = repr(make())
    assert SECRET not in text
    assert "secret_bytes" not in text
    assert GOOD["key"] in text


def test_api_key_is_frozen() -> None:
    api_key = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        api_key.profile_id = "other"  # type: ignore[misc]


def test_replay_is_deterministic() -> None:
    assert make() == make()
    assert hash_passphrase(SALT, "x") == hash_passphrase(SALT, "x")
    assert hash_passphrase(SALT, "x") != hash_passphrase(b"other salt", "x")


def test_permissions_accept_values() -> None:
    api_key = make(permissions=["view", "transfer"])
    assert api_key.permissions == {Permission.VIEW, Permission.TRANSFER}


def test_secret_of_any_length() -> None:
    assert make(secret_b64="AA==").secret_bytes == b"\x00"


def test_passphrase_ok() -> None:
    registry = KeyRegistry()
    api_key = make(registry)
    assert registry.passphrase_ok(api_key, "s3cret-phrase")
    assert not registry.passphrase_ok(api_key, "s3cret-phrasE")
    assert not registry.passphrase_ok(api_key, "")
    assert not registry.passphrase_ok(api_key, "\ud800")


def test_a_key_hashed_with_salted_sha256_still_verifies() -> None:
    """Keys journaled before the KDF existed keep their ``sha256(salt + passphrase)``."""
    registry = KeyRegistry()
    legacy = hashlib.sha256(SALT + b"s3cret-phrase").digest()
    api_key = registry.add(GOOD["key"], SECRET, legacy, SALT, ["view"], "default", 0)
    assert api_key.kdf == KDF_LEGACY
    assert hash_passphrase(SALT, "s3cret-phrase", KDF_LEGACY) == legacy
    assert registry.passphrase_ok(api_key, "s3cret-phrase")
    assert not registry.passphrase_ok(api_key, "s3cret-phrasE")


def test_an_unknown_kdf_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown passphrase KDF 'md5'"):
        KeyRegistry().add(GOOD["key"], SECRET, bytes(32), SALT, ["view"], "default", 0, "md5")


def test_the_kdf_runs_once_per_key_and_presented_passphrase(
        monkeypatch: pytest.MonkeyPatch) -> None:
    api_key = make(passphrase="once-per-process")
    runs: list[str] = []

    def counted(salt: bytes, passphrase: str, kdf: str = KDF) -> bytes:
        runs.append(passphrase)
        return hash_passphrase(salt, passphrase, kdf)

    monkeypatch.setattr(keys, "hash_passphrase", counted)
    for _ in range(3):
        assert KeyRegistry.passphrase_ok(api_key, "once-per-process")
        assert not KeyRegistry.passphrase_ok(api_key, "wrong")
    assert runs == ["once-per-process", "wrong"]


def test_the_memo_answers_only_for_the_stored_hash_it_was_checked_against() -> None:
    """The memo is by the BLAKE2s of the salted passphrase (the twentieth REST pass) and
    keeps the stored hash each answer was checked against: two keys of the same salt, one
    of "alpha" and one of "beta", each answer their own passphrase and refuse the other's,
    in either order, again and again (each check replacing the other's entry), and through
    ``verify`` (which reads the memo itself) the same."""
    from sandex.auth.signing import sign
    from sandex.auth.verify import AuthFailure, verify

    registry = KeyRegistry()
    alpha = registry.create(**{**GOOD, "key": "key-alpha", "passphrase": "alpha"})
    beta = registry.create(**{**GOOD, "key": "key-beta", "passphrase": "beta"})
    assert alpha.salt == beta.salt and alpha.passphrase_hash != beta.passphrase_hash
    keys._verified.clear()
    for _ in range(3):
        for api_key, own, other in ((alpha, "alpha", "beta"), (beta, "beta", "alpha")):
            assert KeyRegistry.passphrase_ok(api_key, own)
            assert not KeyRegistry.passphrase_ok(api_key, other)
            assert KeyRegistry.passphrase_ok(api_key, own)
            for phrase, ok in ((own, True), (other, False), (other, False), (own, True)):
                signature = sign(SECRET, "1700000000", "GET", "/orders", b"")
                found = verify(api_key.key, signature, "1700000000", phrase, "GET",
                               "/orders", b"", registry, 1_700_000_000.0)
                if ok:
                    assert found is api_key
                else:
                    assert isinstance(found, AuthFailure)
                    assert (found.status, found.message) == (401, "Invalid Passphrase")


def test_get_and_revoke() -> None:
    registry = KeyRegistry()
    api_key = make(registry)
    assert registry.get(api_key.key) is api_key
    assert api_key.key in registry
    assert registry.get("nope") is None
    assert registry.revoke(api_key.key) is True
    assert registry.revoke(api_key.key) is False
    assert registry.get(api_key.key) is None
    assert len(registry) == 0


def test_list_in_creation_order_and_by_profile() -> None:
    registry = KeyRegistry()
    a = make(registry, key="a", profile_id="p1")
    b = make(registry, key="b", profile_id="p2")
    c = make(registry, key="c", profile_id="p1")
    assert registry.list() == (a, b, c)
    assert registry.list("p1") == (a, c)
    assert registry.list("p3") == ()
    registry.revoke("a")
    assert registry.list("p1") == (c,)


def test_duplicate_key_rejected() -> None:
    registry = KeyRegistry()
    make(registry)
    with pytest.raises(ValueError, match="already exists"):
        make(registry)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"key": ""}, "API key"),
        ({"key": "has space"}, "API key"),
        ({"key": "tab\tkey"}, "API key"),
        ({"key": "ключ"}, "API key"),
        ({"key": None}, "API key"),
        ({"secret_b64": ""}, "at least 1 byte"),
        ({"secret_b64": "not base64!"}, "base64"),
        ({"secret_b64": "AAA"}, "base64"),  # bad padding
        ({"secret_b64": "AA==AA"}, "base64"),
        ({"secret_b64": "AAAé"}, "base64"),
        ({"secret_b64": b"AAAA"}, "base64"),
        ({"passphrase": ""}, "passphrase"),
        ({"passphrase": " padded "}, "passphrase"),
        ({"passphrase": "line\nbreak"}, "passphrase"),
        ({"passphrase": "\ud800"}, "passphrase"),
        ({"permissions": []}, "at least one permission"),
        ({"permissions": ["view", "admin"]}, "permissions"),
        ({"permissions": "view"}, "permissions"),
        ({"permissions": [None]}, "permissions"),
        ({"profile_id": ""}, "profile_id"),
        ({"salt": b""}, "salt"),
        ({"salt": "text salt"}, "salt"),
        ({"created_at": -1}, "created_at"),
        ({"created_at": 1.5}, "created_at"),
        ({"created_at": True}, "created_at"),
    ],
)
def test_invalid_input_raises_value_error(changes: dict[str, Any], match: str) -> None:
    registry = KeyRegistry()
    with pytest.raises(ValueError, match=match):
        make(registry, **changes)
    assert len(registry) == 0
