"""API keys and their registry (spec §2.1).

A key is ``(key, secret, passphrase)`` scoped to exactly one profile, with a set of permissions.
Like Coinbase, sandex keeps only a salted hash of the passphrase, never the passphrase: new keys
under scrypt (a slow KDF, so a copied journal does not give passphrases away cheaply), keys
journaled before that under salted SHA-256. A key records which (``kdf``). Checking a
passphrase runs the KDF once per key and presented passphrase per process; the answer is
then remembered, so the request path stays fast.

The registry is deterministic state: no clock, no randomness, no I/O. The caller supplies the
salt and the creation time, so replaying the same ``create`` calls rebuilds the same registry
bit for bit. Invalid input raises ``ValueError`` with a clear text; the caller turns it into a
reject.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["KDF", "KDF_LEGACY", "ApiKey", "KeyRegistry", "Permission", "hash_passphrase"]

KDF = "scrypt"
"""The KDF of every new key, as journaled in ``CreateApiKey.kdf``."""
KDF_LEGACY = "sha256"
"""``sha256(salt + passphrase)``: keys journaled before ``kdf`` existed (the field's default)."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**13, 8, 1
"""scrypt cost: 8 MiB and about 28 ms of CPU per hash on the 2-core development machine
(2**14 took about 70 ms there, above the 20-60 ms aimed at). Never change them for existing
keys: they are part of the stored hash."""

VERIFIED_MAX = 4096
"""(key, presented passphrase) answers remembered per process; beyond it the memo starts over.
Bounds memory against a client cycling wrong passphrases (each such try costs a KDF run)."""


class Permission(StrEnum):
    """What a key may do (§2.1)."""

    VIEW = "view"
    TRADE = "trade"
    TRANSFER = "transfer"
    MANAGE = "manage"


def hash_passphrase(salt: bytes, passphrase: str, kdf: str = KDF) -> bytes:
    """The 32-byte hash of ``passphrase`` (UTF-8) under ``kdf`` with ``salt``: the only form
    in which a passphrase is kept. ``ValueError`` for an unknown ``kdf``."""
    data = passphrase.encode("utf-8")
    if kdf == KDF:
        return hashlib.scrypt(data, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    if kdf == KDF_LEGACY:
        return hashlib.sha256(salt + data).digest()
    raise ValueError(f"unknown passphrase KDF {kdf!r}")


_verified: dict[bytes, tuple[bytes, bool]] = {}
"""Memo of ``KeyRegistry.passphrase_ok`` for slow-KDF keys (a pure function's answers): by
the BLAKE2s of the salted passphrase, the key's stored hash it was checked against and the
answer (an answer holds only for that stored hash; a pair as the dict's key, made, hashed and
compared on every signed request, cost ~600 instructions more)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """One registered key (§2.1). Secrets are left out of ``repr`` so they never reach a log."""

    key: str
    secret: str = field(repr=False)  # base64, as handed to the user
    secret_bytes: bytes = field(repr=False)  # decoded once: the HMAC key (§2.3)
    passphrase_hash: bytes = field(repr=False)  # hash_passphrase(salt, passphrase, kdf)
    salt: bytes = field(repr=False)
    permissions: frozenset[Permission]
    profile_id: str
    created_at: int  # microseconds since the Unix epoch, stamped by the caller
    kdf: str = KDF_LEGACY


def _check_key(key: object) -> str:
    # The key travels in an HTTP header, whose parsers strip surrounding whitespace: a key with
    # whitespace or control characters could never be presented, so refuse it up front.
    if not isinstance(key, str) or not key:
        raise ValueError("API key must be a non-empty string")
    if not all("!" <= c <= "~" for c in key):
        raise ValueError("API key must be printable ASCII without whitespace")
    return key


def _check_passphrase(passphrase: object) -> str:
    # Sent in a header too: surrounding whitespace is stripped in transit, controls cannot pass.
    if not isinstance(passphrase, str) or not passphrase:
        raise ValueError("passphrase must be a non-empty string")
    if not passphrase.isprintable() or passphrase.strip() != passphrase:
        raise ValueError("passphrase must be printable, without leading or trailing whitespace")
    return passphrase


def _decode_secret(secret_b64: object) -> bytes:
    if not isinstance(secret_b64, str):
        raise ValueError("API secret must be a base64 string")
    try:
        secret = binascii.a2b_base64(secret_b64, strict_mode=True)
    except ValueError as exc:  # binascii.Error and non-ASCII text are both ValueError
        raise ValueError(f"API secret is not valid base64: {exc}") from None
    if not secret:
        raise ValueError("API secret must decode to at least 1 byte")
    return secret


def _check_permissions(permissions: Iterable[Permission | str]) -> frozenset[Permission]:
    if isinstance(permissions, str):  # a bare "view" would otherwise iterate as letters
        raise ValueError("permissions must be a collection, not a single string")
    try:
        perms = frozenset(Permission(p) for p in permissions)
    except (TypeError, ValueError):
        allowed = ", ".join(p.value for p in Permission)
        raise ValueError(f"permissions must each be one of: {allowed}") from None
    if not perms:
        raise ValueError("an API key needs at least one permission")
    return perms


class KeyRegistry:
    """Every live API key, by key string. Iteration order is creation order."""

    __slots__ = ("_keys", "_passed")

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._passed: dict[str, tuple[ApiKey, str]] = {}
        """The passphrase that last verified for a key, by key string, with that key
        (``remember``): in this process's memory only, never journaled, imaged, pickled or
        logged (the registry's state is ``_keys``), one entry a live key at most. ``verify_found``
        reads the key from it (one probe for both) and compares a request's passphrase
        with it (``hmac.compare_digest``) before any hash. Revoking the key drops it (so
        an entry's key is always ``_keys``' own: ``add`` refuses a key string in use).
        It holds the passphrase in clear: the process already holds every key's HMAC
        secret in clear (``ApiKey.secret``), the more sensitive credential."""

    def __getstate__(self) -> dict[str, ApiKey]:
        """A pickle (``sandex.node.saved``'s named snapshots) holds the keys alone: never
        ``_passed``'s passphrases; a registry unpickled starts with none remembered."""
        return self._keys

    def __setstate__(self, keys: dict[str, ApiKey]) -> None:
        self._keys = keys
        self._passed = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def create(
        self,
        key: str,
        secret_b64: str,
        passphrase: str,
        permissions: Iterable[Permission | str],
        profile_id: str,
        salt: bytes,
        created_at: int,
    ) -> ApiKey:
        """Register a key; raise ``ValueError`` on invalid input or an existing key."""
        _check_passphrase(passphrase)
        if not isinstance(salt, bytes) or not salt:
            raise ValueError("salt must be non-empty bytes")
        return self.add(key, secret_b64, hash_passphrase(salt, passphrase), salt, permissions,
                        profile_id, created_at, KDF)

    def add(
        self,
        key: str,
        secret_b64: str,
        passphrase_hash: bytes,
        salt: bytes,
        permissions: Iterable[Permission | str],
        profile_id: str,
        created_at: int,
        kdf: str = KDF_LEGACY,
    ) -> ApiKey:
        """Register a key whose passphrase is already hashed under ``kdf`` (as the journal
        replays it)."""
        _check_key(key)
        if key in self._keys:
            raise ValueError(f"API key {key!r} already exists")
        secret = _decode_secret(secret_b64)
        if not isinstance(salt, bytes) or not salt:
            raise ValueError("salt must be non-empty bytes")
        if not isinstance(passphrase_hash, bytes) or len(passphrase_hash) != 32:
            raise ValueError("passphrase_hash must be 32 bytes")
        perms = _check_permissions(permissions)
        if not isinstance(profile_id, str) or not profile_id:
            raise ValueError("profile_id must be a non-empty string")
        if type(created_at) is not int or created_at < 0:
            raise ValueError("created_at must be a non-negative integer (microseconds)")
        if kdf not in (KDF, KDF_LEGACY):
            raise ValueError(f"unknown passphrase KDF {kdf!r}")
        api_key = ApiKey(
            key=key,
            secret=secret_b64,
            secret_bytes=secret,
            passphrase_hash=passphrase_hash,
            salt=salt,
            permissions=perms,
            profile_id=profile_id,
            created_at=created_at,
            kdf=kdf,
        )
        self._keys[key] = api_key
        return api_key

    def revoke(self, key: str) -> bool:
        """Remove a key; ``True`` if it existed. Requests signed with it then fail (§2.5)."""
        self._passed.pop(key, None)  # its remembered passphrase goes with it
        return self._keys.pop(key, None) is not None

    def remember(self, api_key: ApiKey, passphrase: str) -> None:
        """Keep ``passphrase``, which ``passphrase_ok`` has just accepted for ``api_key``,
        as the key's last verified one (``_passed``), if the key is live and the text ASCII
        (what ``hmac.compare_digest`` compares as text; any other stays on the hash's way)."""
        if passphrase.isascii() and self._keys.get(api_key.key) is api_key:
            self._passed[api_key.key] = (api_key, passphrase)

    def get(self, key: str) -> ApiKey | None:
        """The live key with this key string, or ``None``."""
        return self._keys.get(key)

    @staticmethod
    def passphrase_ok(api_key: ApiKey, passphrase: str) -> bool:
        """Whether ``passphrase`` is the key's (constant-time compare; never raises).

        A slow KDF runs once per (key, presented passphrase) per process: the answer is
        memoised under the key's stored hash and a BLAKE2s of the salted passphrase (never
        the text), outside the registry so it never reaches a snapshot. BLAKE2s, not SHA-256:
        the memo's digest runs on every signed request, and the interpreter's own BLAKE2s
        costs about half of an OpenSSL SHA-256 object's set-up and digest.
        """
        try:
            data = passphrase.encode()  # UTF-8
        except UnicodeEncodeError:
            return False
        if api_key.kdf == KDF_LEGACY:
            return hmac.compare_digest(hashlib.sha256(api_key.salt + data).digest(),
                                       api_key.passphrase_hash)
        memo = hashlib.blake2s(api_key.salt + data).digest()
        known = _verified.get(memo)
        if known is not None and known[0] == api_key.passphrase_hash:
            return known[1]
        if len(_verified) >= VERIFIED_MAX:
            _verified.clear()
        candidate = hash_passphrase(api_key.salt, passphrase, api_key.kdf)
        ok = hmac.compare_digest(candidate, api_key.passphrase_hash)
        _verified[memo] = (api_key.passphrase_hash, ok)
        return ok

    # Last, so that ``list`` in the annotations above still means the builtin.
    def list(self, profile_id: str | None = None) -> tuple[ApiKey, ...]:
        """Live keys in creation order, all of them or only those of ``profile_id``."""
        if profile_id is None:
            return tuple(self._keys.values())
        return tuple(k for k in self._keys.values() if k.profile_id == profile_id)
