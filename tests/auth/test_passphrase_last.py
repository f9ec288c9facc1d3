"""The passphrase that last verified for a key (REST's twenty-fifth pass): ``verify_found``
compares a request's passphrase with it (``hmac.compare_digest``) before any hash. It is
held in ``KeyRegistry._passed``, in memory only: for live keys, one a key, ASCII text;
revoking the key drops it; anything else goes the salted hash's way as before, with the same
answers (``test_verify_found`` holds every answer to the verify before the memo)."""

from __future__ import annotations

import hashlib

import pytest

from sandex.auth import keys, verify
from sandex.auth.keys import KeyRegistry
from sandex.auth.signing import sign
from sandex.auth.verify import _INVALID_API_KEY, _INVALID_PASSPHRASE, verify_found

SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
NOW = 1_700_000_000.0


def _found(key: str, phrase: str) -> tuple[str, str, str, str]:
    return key, sign(SECRET, "1700000000", "GET", "/orders", b""), "1700000000", phrase


def _verify(registry: KeyRegistry, key: str, phrase: str) -> object:
    return verify_found(_found(key, phrase), "GET", "/orders", b"", registry, NOW)


def _no_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any hash of a passphrase from here on fails the test."""
    def refused(*_: object, **__: object) -> object:
        raise AssertionError("a passphrase was hashed")
    monkeypatch.setattr(verify, "_blake2s", refused)
    monkeypatch.setattr(keys, "hash_passphrase", refused)
    monkeypatch.setattr(hashlib, "blake2s", refused)


@pytest.mark.parametrize("kdf", [keys.KDF, keys.KDF_LEGACY])
def test_the_last_verified_passphrase_answers_without_a_hash(
        monkeypatch: pytest.MonkeyPatch, kdf: str) -> None:
    registry = KeyRegistry()
    api_key = registry.add("k1", SECRET, keys.hash_passphrase(b"salt", "right", kdf), b"salt",
                           ["view"], "default", 0, kdf)
    assert registry._passed == {}
    assert _verify(registry, "k1", "wrong") is _INVALID_PASSPHRASE
    assert registry._passed == {}  # a refused passphrase is not remembered
    assert _verify(registry, "k1", "right") is api_key
    assert registry._passed == {"k1": (api_key, "right")}
    _no_hash(monkeypatch)
    for _ in range(3):
        assert _verify(registry, "k1", "right") is api_key
    monkeypatch.undo()
    for phrase in ("righ", "right ", "Right", "wrong", "r\u00efght"):  # the hash's way
        assert _verify(registry, "k1", phrase) is _INVALID_PASSPHRASE
    assert registry._passed == {"k1": (api_key, "right")}  # still the verified one


def test_revoking_the_key_drops_its_passphrase_and_a_new_key_answers_its_own() -> None:
    registry = KeyRegistry()
    old = registry.create("k1", SECRET, "first", ["view"], "default", b"salt-1", 0)
    assert _verify(registry, "k1", "first") is old
    assert "k1" in registry._passed
    assert registry.revoke("k1")
    assert registry._passed == {}
    assert _verify(registry, "k1", "first") is _INVALID_API_KEY
    new = registry.create("k1", SECRET, "second", ["view"], "default", b"salt-2", 1)
    assert _verify(registry, "k1", "first") is _INVALID_PASSPHRASE
    assert _verify(registry, "k1", "second") is new
    assert registry._passed == {"k1": (new, "second")}


def test_a_passphrase_not_ascii_is_never_remembered_and_still_answered() -> None:
    registry = KeyRegistry()
    api_key = registry.create("k1", SECRET, "caf\u00e9 phrase", ["view"], "default", b"s", 0)
    for _ in range(3):
        assert _verify(registry, "k1", "caf\u00e9 phrase") is api_key
        assert _verify(registry, "k1", "cafe phrase") is _INVALID_PASSPHRASE
    assert registry._passed == {}
    other = registry.create("k2", SECRET, "plain", ["view"], "default", b"s", 0)
    assert _verify(registry, "k2", "plain") is other
    # the remembered text against one that is not ASCII: compare_digest's TypeError, the
    # hash's way, refused
    assert _verify(registry, "k2", "pl\u00e4in") is _INVALID_PASSPHRASE
    assert _verify(registry, "k2", "\ud800") is _INVALID_PASSPHRASE


def test_remember_keeps_only_a_live_key() -> None:
    registry = KeyRegistry()
    api_key = registry.create("k1", SECRET, "phrase", ["view"], "default", b"s", 0)
    stranger = KeyRegistry().create("k1", SECRET, "phrase", ["view"], "default", b"s", 0)
    registry.remember(stranger, "phrase")  # equal, but not this registry's object
    assert registry._passed == {}
    registry.remember(api_key, "phrase")
    assert registry._passed == {"k1": (api_key, "phrase")}


def test_a_pickle_of_the_registry_holds_no_remembered_passphrase() -> None:
    """``sandex.node.saved`` pickles the node's parts, the registry among them: the keys go
    in, the remembered passphrases do not; the registry unpickled answers the same."""
    import pickle

    phrase = "memo-only-7f3a9c"
    registry = KeyRegistry()
    api_key = registry.create("k1", SECRET, phrase, ["view"], "default", b"s", 0)
    assert _verify(registry, "k1", phrase) is api_key
    assert registry._passed == {"k1": (api_key, phrase)}
    blob = pickle.dumps(registry, protocol=5)
    assert phrase.encode() not in blob
    restored = pickle.loads(blob)
    assert restored._passed == {}
    assert restored.list() == registry.list()
    again = restored.get("k1")
    assert again is not None and again == api_key
    assert _verify(restored, "k1", phrase) is again
    assert restored._passed == {"k1": (again, phrase)}
    assert _verify(restored, "k1", "other") is _INVALID_PASSPHRASE
