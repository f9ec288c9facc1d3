"""Authentication of a subscribe (§9.3): the REST check of ``GET /users/self/verify``.

The four fields are checked exactly as the REST headers would be (``sandex.auth.verify``:
same check order, same ±30 s window, string or numeric timestamp), signed over
``timestamp + "GET" + "/users/self/verify"`` with an empty body. A failure is answered
``{"type":"error","message":"Authentication Failed","reason":"{\\"message\\":\\"<REST text>\\"}"}``,
the form ccxt quotes from Coinbase and maps to ``AuthenticationError`` (client-compat §2.6;
the JSON-in-reason for texts other than ``Invalid API Key`` is a GUESS).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from sandex.api.feed.protocol import Credentials, Failure
from sandex.auth.keys import KeyRegistry
from sandex.auth.verify import (
    HEADER_KEY,
    HEADER_PASSPHRASE,
    HEADER_SIGN,
    HEADER_TIMESTAMP,
    AuthFailure,
    authenticate,
)
from sandex.core import Profile
from sandex.errors import Error

VERIFY_PATH = "/users/self/verify"  # §9.3


@dataclass(frozen=True, slots=True)
class Identity:
    """Who an authenticated connection is: the key's profile and that profile's user, and
    the key it signed with (what a fault rule's ``key`` matches)."""

    profile_id: str
    user_id: str
    key: str = ""  # the API key it signed with


def verify(credentials: Credentials, keys: KeyRegistry, profiles: dict[str, Profile],
           now: float | None) -> Identity | Failure:
    """The identity ``credentials`` prove at ``now`` (seconds; ``None``: any time), or the
    ``Failure`` to send."""
    headers = {name: value for name, value in (
        (HEADER_KEY, credentials.key), (HEADER_SIGN, credentials.signature),
        (HEADER_TIMESTAMP, credentials.timestamp), (HEADER_PASSPHRASE, credentials.passphrase),
    ) if value is not None}
    result = authenticate(headers, "GET", VERIFY_PATH, b"", keys, now)
    if isinstance(result, AuthFailure):
        reason = msgspec.json.encode({"message": result.message}).decode()
        return Failure(Error.FEED_AUTHENTICATION_FAILED, reason)
    profile = profiles.get(result.profile_id)
    if profile is None:  # a key whose profile is gone cannot be anyone's (never in practice)
        reason = msgspec.json.encode({"message": Error.INVALID_API_KEY.format()}).decode()
        return Failure(Error.FEED_AUTHENTICATION_FAILED, reason)
    return Identity(profile.id, profile.user_id, result.key)
