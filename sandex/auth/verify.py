"""Signed-request verification (spec §2.2-§2.5), shared by the REST gateway and the feed.

``authenticate`` runs the §2.5 checks in the suggested order (a GUESS, consistent with every
observation) and stops at the first failure:

1. none of the ``cb-access-*`` headers          -> ``Error.UNAUTHORIZED``
2. some of the four §2.2 headers missing        -> ``Error.HEADER_REQUIRED`` ("KEY", "SIGN", ...)
3. unknown key                                  -> ``Error.INVALID_API_KEY``
4. timestamp ``NaN``/``inf`` (observed 401)      -> ``Error.TIMESTAMP_EXPIRED``
   timestamp otherwise unparsable               -> ``Error.INVALID_TIMESTAMP``
   timestamp more than 30 s from ``now`` (§2.4)  -> ``Error.TIMESTAMP_EXPIRED``
5. signature not over the exact path+query (§2.3) -> ``Error.INVALID_SIGNATURE``
6. wrong passphrase                             -> ``Error.INVALID_PASSPHRASE``

The signature must cover the request target exactly as sent, query string included: a
signature over the bare path of a request that has a query is refused, as Coinbase refuses it
(§2.3). A header that is present but empty counts as present (it then fails its own check).

Public routes do not call ``authenticate``: they ignore any signature. cbpro's client signs every
call, ``/time`` and ``/products`` included, and such a request must succeed (client-compatibility
§1.1); ``is_signed`` lets a public route notice a signed request without verifying it.

No HTTP and no clock: headers are a mapping, ``now`` (seconds since the epoch) is an input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import blake2s as _blake2s
from hmac import compare_digest as _compare_digest

from sandex.auth.keys import KDF_LEGACY, ApiKey, KeyRegistry, _verified
from sandex.auth.signing import _UPPER_METHODS, digest_matches, signature_matches
from sandex.errors import Error

__all__ = [
    "HEADER_KEY",
    "HEADER_PASSPHRASE",
    "HEADER_SIGN",
    "HEADER_TIMESTAMP",
    "TIMESTAMP_CHARS_MAX",
    "TIMESTAMP_WINDOW_S",
    "AuthFailure",
    "authenticate",
    "is_signed",
    "verify",
    "verify_found",
]

HEADER_KEY = "cb-access-key"
HEADER_SIGN = "cb-access-sign"
HEADER_TIMESTAMP = "cb-access-timestamp"
HEADER_PASSPHRASE = "cb-access-passphrase"
_HEADER_PREFIX = "cb-access-"

TIMESTAMP_WINDOW_S = 30
"""§2.4: a timestamp further than this from server time (either way) is expired; 30 s is kept."""

TIMESTAMP_CHARS_MAX = 64
"""Longest timestamp header parsed. Real clients send at most ~20 characters
(``str(time.time())``); the cap keeps parsing cheap and far below Python's int-digits limit.
Longer values are answered ``invalid timestamp`` (GUESS)."""

_NON_FINITE = frozenset({"nan", "inf", "infinity"})


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request was not authenticated: an ``Error`` member and its template arguments."""

    error: Error
    args: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        return self.error.status

    @property
    def message(self) -> str:
        """The exact ``message`` text (for example ``CB-ACCESS-SIGN header is required``)."""
        return self.error.format(*self.args)


# Built once: the failure path allocates nothing.
_UNAUTHORIZED = AuthFailure(Error.UNAUTHORIZED)
_INVALID_API_KEY = AuthFailure(Error.INVALID_API_KEY)
_INVALID_TIMESTAMP = AuthFailure(Error.INVALID_TIMESTAMP)
_TIMESTAMP_EXPIRED = AuthFailure(Error.TIMESTAMP_EXPIRED)
_INVALID_SIGNATURE = AuthFailure(Error.INVALID_SIGNATURE)
_INVALID_PASSPHRASE = AuthFailure(Error.INVALID_PASSPHRASE)
# §2.2 table order: when several are missing the first one is named (GUESS).
_MISSING_KEY = AuthFailure(Error.HEADER_REQUIRED, ("KEY",))
_MISSING_SIGN = AuthFailure(Error.HEADER_REQUIRED, ("SIGN",))
_MISSING_TIMESTAMP = AuthFailure(Error.HEADER_REQUIRED, ("TIMESTAMP",))
_MISSING_PASSPHRASE = AuthFailure(Error.HEADER_REQUIRED, ("PASSPHRASE",))


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether any ``cb-access-*`` header is present (``headers`` keys are lower-case)."""
    if (
        HEADER_KEY in headers
        or HEADER_SIGN in headers
        or HEADER_TIMESTAMP in headers
        or HEADER_PASSPHRASE in headers
    ):
        return True
    return any(name.startswith(_HEADER_PREFIX) for name in headers)


def authenticate(
    headers: Mapping[str, str],
    method: str,
    raw_target: str,
    body: bytes,
    registry: KeyRegistry,
    now: float | None,
) -> ApiKey | AuthFailure:
    """The request's key, or why it is refused (§2.5; check order in the module docstring).

    ``raw_target`` is the request target exactly as received (path plus ``?query``, never
    re-encoded), ``body`` the raw body bytes, ``now`` the server time in seconds (``None``: no
    window, the timestamp need only be well formed). Never raises on client input.
    """
    key = headers.get(HEADER_KEY)
    signature = headers.get(HEADER_SIGN)
    timestamp = headers.get(HEADER_TIMESTAMP)
    passphrase = headers.get(HEADER_PASSPHRASE)
    if key is None and signature is None and timestamp is None and passphrase is None:
        return _MISSING_KEY if is_signed(headers) else _UNAUTHORIZED
    return verify(key, signature, timestamp, passphrase, method, raw_target, body, registry,
                  now)


def verify(
    key: str | None,
    signature: str | None,
    timestamp: str | None,
    passphrase: str | None,
    method: str,
    raw_target: str,
    body: bytes,
    registry: KeyRegistry,
    now: float | None,
) -> ApiKey | AuthFailure:
    """``authenticate`` given the four §2.2 header values (``None``: absent), at least one of
    them present (with none, ``authenticate`` decides from the other header names)."""
    return verify_found((key, signature, timestamp, passphrase), method, raw_target, body,
                        registry, now)


def verify_found(
    found: tuple[str | None, str | None, str | None, str | None],
    method: str,
    raw_target: str,
    body: bytes,
    registry: KeyRegistry,
    now: float | None,
) -> ApiKey | AuthFailure:
    """``verify`` of the four values as one tuple (``Request.access_headers``' answer).

    What a valid request passes is written out here, in one frame: the key's lookup (the
    registry's dict), the window of a whole-seconds timestamp, the HMAC from the memoised
    pads (``signing.signature_matches``' fast path) and the passphrase memo's answer
    (``KeyRegistry.passphrase_ok``'s); anything else (a missing value, a timestamp with a
    sign or a point, text that is not strict UTF-8, a passphrase not yet remembered or a
    legacy key's) goes to the functions that decide it, with the same answers.
    """
    key, signature, timestamp, passphrase = found
    if key is None or signature is None or timestamp is None or passphrase is None:
        return _missing(key, signature, timestamp)

    # the key and the passphrase that last verified for it (``KeyRegistry._passed``, which
    # holds only live keys), else the key alone (``registry.get`` without its frame)
    passed = registry._passed.get(key)
    if passed is None:
        api_key = registry._keys.get(key)
        if api_key is None:
            return _INVALID_API_KEY
    else:
        api_key = passed[0]

    if timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 18:
        # What every client sends: whole seconds. int/float comparisons are exact in Python.
        if now is not None:
            seconds = int(timestamp)
            if not seconds - TIMESTAMP_WINDOW_S <= now <= seconds + TIMESTAMP_WINDOW_S:
                return _TIMESTAMP_EXPIRED
    else:
        refused = _timestamp_refused(timestamp, now)
        if refused is not None:
            return refused

    # ``signature_matches`` for strict UTF-8 text (what clients send): its last step alone
    try:
        message = (timestamp + (method if method in _UPPER_METHODS else method.upper())
                   + raw_target).encode() + body
        given = signature.encode()
    except UnicodeEncodeError:  # surrogates: the raw bytes an adapter kept, or no match
        if not signature_matches(api_key.secret_bytes, timestamp, method, raw_target, body,
                                 signature):
            return _INVALID_SIGNATURE
    else:
        if not digest_matches(api_key.secret_bytes, message, given):
            return _INVALID_SIGNATURE

    # the passphrase that last verified for this key: compared as text in constant time,
    # no hash; a ``TypeError`` for a passphrase not ASCII (the remembered one is): the
    # hash's way below, as any other passphrase
    if passed is not None:
        try:
            if _compare_digest(passed[1], passphrase):
                return api_key
        except TypeError:
            pass
    # ``KeyRegistry.passphrase_ok``'s memo read here; it decides what is not remembered
    if api_key.kdf != KDF_LEGACY:
        try:
            known = _verified.get(_blake2s(api_key.salt + passphrase.encode()).digest())
        except UnicodeEncodeError:
            return _INVALID_PASSPHRASE
        if known is not None and known[0] == api_key.passphrase_hash:
            if not known[1]:
                return _INVALID_PASSPHRASE
            registry.remember(api_key, passphrase)
            return api_key
    if not registry.passphrase_ok(api_key, passphrase):
        return _INVALID_PASSPHRASE
    registry.remember(api_key, passphrase)
    return api_key


def _missing(key: str | None, signature: str | None, timestamp: str | None) -> AuthFailure:
    """The refusal of a request missing some of the four values: the first in §2.2's order."""
    if key is None:
        return _MISSING_KEY
    if signature is None:
        return _MISSING_SIGN
    if timestamp is None:
        return _MISSING_TIMESTAMP
    return _MISSING_PASSPHRASE


def _timestamp_refused(timestamp: str, now: float | None) -> AuthFailure | None:
    """The refusal of a timestamp that is not plain whole seconds, or ``None`` if it is well
    formed and (``now`` given) within the window."""
    parsed = _parse_timestamp(timestamp)
    if parsed is None:
        return _TIMESTAMP_EXPIRED if _is_non_finite(timestamp) else _INVALID_TIMESTAMP
    if now is not None and not _within_window(parsed[0], parsed[1], now):
        return _TIMESTAMP_EXPIRED
    return None


def _parse_timestamp(text: str) -> tuple[int, int] | None:
    """Exact value of a decimal-seconds timestamp as ``(numerator, denominator)``, or ``None``.

    Accepts an optional sign, ASCII digits and at most one ``.`` (``1700000000``,
    ``1700000000.1234567``, ``-5``, ``1700000000.``); no exponent, no spaces, no comma.
    Integer arithmetic only, so the window check cannot be misjudged by float rounding.
    """
    if len(text) > TIMESTAMP_CHARS_MAX or not text.isascii():
        return None
    negative = text[:1] == "-"
    unsigned = text[1:] if negative or text[:1] == "+" else text
    whole, _, fraction = unsigned.partition(".")
    digits = whole + fraction
    # ASCII-only here, so isdigit() means exactly 0-9 (it rejects "", "_", "," and a second ".").
    if not digits.isdigit():
        return None
    numerator = int(digits)
    return (-numerator if negative else numerator), 10 ** len(fraction)


def _is_non_finite(text: str) -> bool:
    """``NaN``/``inf`` in any case, optionally signed: Coinbase answers these "expired" (§2.4)."""
    unsigned = text[1:] if text[:1] in ("-", "+") else text
    return unsigned.lower() in _NON_FINITE


def _within_window(numerator: int, denominator: int, now: float) -> bool:
    """``|numerator/denominator - now| <= TIMESTAMP_WINDOW_S``, exactly (``now`` as a ratio)."""
    now_num, now_den = now.as_integer_ratio()
    diff = numerator * now_den - now_num * denominator
    return abs(diff) <= TIMESTAMP_WINDOW_S * now_den * denominator
