"""``verify_found`` (the twentieth REST pass: the checks a valid request passes written out in
one frame) answers as the ``verify`` before it did, refusal for refusal: the reference below is
that ``verify``, calling ``signature_matches`` and ``KeyRegistry.passphrase_ok``."""

from __future__ import annotations

import itertools

import pytest

from sandex.auth import keys
from sandex.auth.keys import ApiKey, KeyRegistry
from sandex.auth.signing import sign, signature_matches
from sandex.auth.verify import (
    _INVALID_API_KEY,
    _INVALID_PASSPHRASE,
    _INVALID_SIGNATURE,
    _MISSING_KEY,
    _MISSING_PASSPHRASE,
    _MISSING_SIGN,
    _MISSING_TIMESTAMP,
    _TIMESTAMP_EXPIRED,
    TIMESTAMP_WINDOW_S,
    AuthFailure,
    _is_non_finite,
    _parse_timestamp,
    _within_window,
    verify,
    verify_found,
)

SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
NOW = 1_700_000_000.25


def _reference(key: str | None, signature: str | None, timestamp: str | None,
               passphrase: str | None, method: str, raw_target: str, body: bytes,
               registry: KeyRegistry, now: float | None) -> ApiKey | AuthFailure:
    """``verify`` as the nineteenth pass left it."""
    from sandex.auth.verify import _INVALID_TIMESTAMP
    if key is None:
        return _MISSING_KEY
    if signature is None:
        return _MISSING_SIGN
    if timestamp is None:
        return _MISSING_TIMESTAMP
    if passphrase is None:
        return _MISSING_PASSPHRASE
    api_key = registry.get(key)
    if api_key is None:
        return _INVALID_API_KEY
    if timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 18:
        seconds = int(timestamp)
        if now is not None and not (
                seconds - TIMESTAMP_WINDOW_S <= now <= seconds + TIMESTAMP_WINDOW_S):
            return _TIMESTAMP_EXPIRED
    else:
        parsed = _parse_timestamp(timestamp)
        if parsed is None:
            return _TIMESTAMP_EXPIRED if _is_non_finite(timestamp) else _INVALID_TIMESTAMP
        if now is not None and not _within_window(parsed[0], parsed[1], now):
            return _TIMESTAMP_EXPIRED
    if not signature_matches(api_key.secret_bytes, timestamp, method, raw_target, body,
                             signature):
        return _INVALID_SIGNATURE
    if not registry.passphrase_ok(api_key, passphrase):
        return _INVALID_PASSPHRASE
    return api_key


@pytest.fixture(scope="module")
def registry() -> KeyRegistry:
    registry = KeyRegistry()
    registry.create("key-new", SECRET, "right phrase", ["trade"], "default", b"salt-1", 0)
    registry.add("key-old", SECRET, keys.hash_passphrase(b"salt-2", "right phrase", "sha256"),
                 b"salt-2", ["trade"], "default", 0, "sha256")
    return registry


TIMESTAMPS = ["1700000000", "1700000030", "1700000031", "1699999970", "1699999969",
              "+1700000000", "1700000000.", "1700000000.25", "1700000030.25", "1700000030.26",
              "-5", "nan", "-Infinity", "abc", "", "1e9", "1_700_000_000",
              "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",
              "1" * 18, "1" * 19, "1" * 70, "\udcff"]
TARGETS = [("POST", "/orders"), ("post", "/orders"), ("GET", "/orders?status=open"),
           ("GET", "/orders/\udcff"), ("DELETE", "/orders/caf\u00e9")]
PHRASES = ["right phrase", "wrong phrase", "", "\ud800", "right phrase "]


def _signatures(timestamp: str, method: str, target: str, body: bytes) -> list[str]:
    try:
        right = sign(SECRET, timestamp, method, target, body)
    except UnicodeEncodeError:
        right = "x"
    return [right, right[:-2] + "==", "\udcff", "\u00e9" + right[1:], ""]


@pytest.mark.parametrize("now", [NOW, None])
def test_verify_found_answers_as_the_verify_before_it(registry: KeyRegistry,
                                                      now: float | None) -> None:
    keys._verified.clear()
    body = b'{"size":"1"}'
    seen: set[str] = set()
    for key in ("key-new", "key-old", "key-none"):
        for timestamp, (method, target), phrase in itertools.product(TIMESTAMPS, TARGETS,
                                                                     PHRASES):
            for signature in _signatures(timestamp, method, target, body):
                args = (method, target, body, registry, now)
                expected = _reference(key, signature, timestamp, phrase, *args)
                for _ in range(2):  # the passphrase memo empty, then filled
                    got = verify_found((key, signature, timestamp, phrase), *args)
                    assert got is expected, (key, signature, timestamp, phrase, method, target)
                    assert verify(key, signature, timestamp, phrase, *args) is expected
                seen.add(expected.error.name if isinstance(expected, AuthFailure) else "ok")
    assert seen >= {"ok", "INVALID_API_KEY", "INVALID_SIGNATURE", "INVALID_PASSPHRASE",
                    "TIMESTAMP_EXPIRED", "INVALID_TIMESTAMP"} - ({"TIMESTAMP_EXPIRED"}
                                                                 if now is None else set())


def test_each_subset_of_the_four_values_missing_is_refused_as_before(
        registry: KeyRegistry) -> None:
    full = ("key-new", sign(SECRET, "1700000000", "POST", "/orders", b""), "1700000000",
            "right phrase")
    for present in itertools.product((True, False), repeat=4):
        found = tuple(v if p else None for v, p in zip(full, present, strict=True))
        expected = _reference(*found, "POST", "/orders", b"", registry, NOW)
        assert verify_found(found, "POST", "/orders", b"", registry, NOW) is expected
