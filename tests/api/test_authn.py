"""§2.5 authentication, one test per branch of the check order, plus §2.1 permissions."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandex.api.rest.routing import TRADE, VIEW_OR_TRADE, authorize
from sandex.auth.keys import ApiKey, KeyRegistry, Permission
from sandex.auth.signing import sign
from sandex.auth.verify import TIMESTAMP_CHARS_MAX, AuthFailure, authenticate, is_signed
from sandex.errors import Error

SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PASSPHRASE = "s3cret-phrase"
NOW = 1_700_000_000.25
TS = "1700000000"


def registry_with(*permissions: Permission, key: str = KEY) -> KeyRegistry:
    registry = KeyRegistry()
    registry.create(key, SECRET, PASSPHRASE, permissions or {Permission.VIEW}, "p1", b"salt", 0)
    return registry


REGISTRY = registry_with(Permission.VIEW, Permission.TRADE)


def headers_for(
    method: str = "GET",
    signed_target: str = "/accounts",
    body: bytes = b"",
    timestamp: str = TS,
    **overrides: str | None,
) -> dict[str, str]:
    headers: dict[str, str | None] = {
        "cb-access-key": KEY,
        "cb-access-sign": sign(SECRET, timestamp, method, signed_target, body),
        "cb-access-timestamp": timestamp,
        "cb-access-passphrase": PASSPHRASE,
        "content-type": "application/json",
    }
    for name, value in overrides.items():
        headers["cb-access-" + name] = value
    return {k: v for k, v in headers.items() if v is not None}


def auth(
    headers: dict[str, str],
    method: str = "GET",
    target: str = "/accounts",
    body: bytes = b"",
    now: float = NOW,
    registry: KeyRegistry = REGISTRY,
) -> ApiKey | AuthFailure:
    return authenticate(headers, method, target, body, registry, now)


def failure(result: ApiKey | AuthFailure) -> Error:
    assert isinstance(result, AuthFailure), result
    return result.error


def accepted(result: ApiKey | AuthFailure) -> bool:
    return isinstance(result, ApiKey) and result.key == KEY


# -- 1. no credentials at all ------------------------------------------------------------------


def test_no_cb_access_headers_is_unauthorized() -> None:
    result = auth({"content-type": "application/json", "user-agent": "ccxt"})
    assert failure(result) is Error.UNAUTHORIZED
    assert isinstance(result, AuthFailure)
    assert (result.status, result.message) == (401, "Unauthorized.")


# -- 2. some headers missing -------------------------------------------------------------------


@pytest.mark.parametrize("part", ["KEY", "SIGN", "TIMESTAMP", "PASSPHRASE"])
def test_one_header_missing(part: str) -> None:
    headers = headers_for()
    del headers["cb-access-" + part.lower()]
    result = auth(headers)
    assert failure(result) is Error.HEADER_REQUIRED
    assert isinstance(result, AuthFailure)
    assert result.args == (part,)
    assert result.status == 400
    assert result.message == f"CB-ACCESS-{part} header is required"


def test_several_missing_names_the_first_in_spec_order() -> None:
    result = auth({"cb-access-passphrase": PASSPHRASE, "cb-access-timestamp": TS})
    assert isinstance(result, AuthFailure)
    assert result.message == "CB-ACCESS-KEY header is required"
    result = auth({"cb-access-key": KEY, "cb-access-passphrase": PASSPHRASE})
    assert isinstance(result, AuthFailure)
    assert result.args == ("SIGN",)


def test_unknown_cb_access_header_alone_is_not_unauthorized() -> None:
    result = auth({"cb-access-window": "5"})
    assert isinstance(result, AuthFailure)
    assert (result.error, result.args) == (Error.HEADER_REQUIRED, ("KEY",))


def test_empty_header_counts_as_present() -> None:
    assert failure(auth(headers_for(key=""))) is Error.INVALID_API_KEY
    assert failure(auth(headers_for(sign=""))) is Error.INVALID_SIGNATURE
    assert failure(auth(headers_for(passphrase=""))) is Error.INVALID_PASSPHRASE


# -- 3. unknown key ----------------------------------------------------------------------------


def test_unknown_key() -> None:
    result = auth(headers_for(key="ffffffffffffffffffffffffffffffff"))
    assert failure(result) is Error.INVALID_API_KEY
    assert isinstance(result, AuthFailure)
    assert (result.status, result.message) == (401, "Invalid API Key")


def test_unknown_key_is_checked_before_the_timestamp() -> None:
    assert failure(auth(headers_for(key="nope", timestamp="NaN"))) is Error.INVALID_API_KEY


def test_revoked_key_is_unknown() -> None:
    registry = registry_with(Permission.VIEW)
    registry.revoke(KEY)
    assert failure(auth(headers_for(), registry=registry)) is Error.INVALID_API_KEY


# -- 4. timestamp ------------------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["NaN", "nan", "inf", "-Infinity", "+inf", "INF"])
def test_non_finite_timestamp_is_expired(timestamp: str) -> None:
    result = auth(headers_for(timestamp=timestamp))
    assert failure(result) is Error.TIMESTAMP_EXPIRED
    assert isinstance(result, AuthFailure)
    assert (result.status, result.message) == (401, "request timestamp expired")


@pytest.mark.parametrize(
    "timestamp",
    [
        "1515261195,2098",  # comma decimal, observed 400 (§2.4)
        "",
        "abc",
        "1700000000.1.2",
        "1e9",
        " 1700000000",
        "1700000000 ",
        "0x10",
        "1_700_000_000",
        ".",
        "-",
        "--1700000000",
        "١٧٠٠٠٠٠٠٠٠",  # Arabic-Indic digits: int() would take them, we do not
        "1700000000." + "0" * TIMESTAMP_CHARS_MAX,
    ],
)
def test_unparsable_timestamp_is_invalid(timestamp: str) -> None:
    result = auth(headers_for(timestamp=timestamp))
    assert failure(result) is Error.INVALID_TIMESTAMP
    assert isinstance(result, AuthFailure)
    assert (result.status, result.message) == (400, "invalid timestamp")


@pytest.mark.parametrize("skew", [31, -31, 30.0001, -30.0001, 3600, -1_700_000_000])
def test_timestamp_outside_window_is_expired(skew: float) -> None:
    timestamp = f"{NOW + skew:.4f}"
    assert failure(auth(headers_for(timestamp=timestamp))) is Error.TIMESTAMP_EXPIRED


def test_expired_plus_and_minus_31_seconds_integer() -> None:
    now = 1_700_000_000
    for timestamp in ("1700000031", "1699999969"):
        assert failure(auth(headers_for(timestamp=timestamp), now=now)) is Error.TIMESTAMP_EXPIRED


def test_window_edges_are_exact() -> None:
    now = 1_700_000_000.0
    assert accepted(auth(headers_for(timestamp="1700000030"), now=now))
    assert accepted(auth(headers_for(timestamp="1699999970"), now=now))
    assert accepted(auth(headers_for(timestamp="1700000030.0000000"), now=now))
    late = "1700000030.0000001"  # as a float this rounds to ...030.0 and would be let in
    assert failure(auth(headers_for(timestamp=late), now=now)) is Error.TIMESTAMP_EXPIRED


@pytest.mark.parametrize(
    "timestamp",
    [
        "1700000000",  # ccxt: integer seconds
        "1700000000.1234567",  # cbpro / copra: str(time.time()), 7 fraction digits
        "1700000000.52",  # JS Date.now()/1000
        "1700000000.",
        "+1700000000",
    ],
)
def test_timestamp_forms_accepted(timestamp: str) -> None:
    assert accepted(auth(headers_for(timestamp=timestamp)))


def test_timestamp_checked_before_signature() -> None:
    assert failure(auth(headers_for(sign="junk", timestamp="NaN"))) is Error.TIMESTAMP_EXPIRED
    assert failure(auth(headers_for(sign="junk", timestamp="1,5"))) is Error.INVALID_TIMESTAMP


# -- 5. signature ------------------------------------------------------------------------------


def test_bad_signature() -> None:
    other = sign(SECRET, TS, "GET", "/orders", b"")
    result = auth(headers_for(sign=other))
    assert failure(result) is Error.INVALID_SIGNATURE
    assert isinstance(result, AuthFailure)
    assert (result.status, result.message) == (401, "invalid signature")


def test_signature_checked_before_passphrase() -> None:
    result = auth(headers_for(sign="AAAA", passphrase="wrong"))
    assert failure(result) is Error.INVALID_SIGNATURE


def test_signature_over_path_and_query_accepted() -> None:
    target = "/fills?product_id=BTC-USD&limit=10"
    assert accepted(auth(headers_for(signed_target=target), target=target))


def test_signature_over_bare_path_of_a_query_is_refused() -> None:
    """§2.3: the signature covers the query string too; Coinbase refuses one over the path."""
    target = "/fills?product_id=BTC-USD&limit=10"
    assert failure(auth(headers_for(signed_target="/fills"), target=target)) is (
        Error.INVALID_SIGNATURE)


def test_signature_over_other_query_rejected() -> None:
    target = "/fills?product_id=BTC-USD"
    headers = headers_for(signed_target="/fills?product_id=ETH-USD")
    assert failure(auth(headers, target=target)) is Error.INVALID_SIGNATURE


@pytest.mark.parametrize(
    "target",
    [
        "/orders/client:abc?product_id=BTC-USD",  # copra: raw ':'
        "/orders?client_oid=client%3Aabc&status=open&status=pending",  # ccxt / cbpro
    ],
)
def test_raw_target_is_not_re_encoded(target: str) -> None:
    assert accepted(auth(headers_for(signed_target=target), target=target))
    other = target.replace("%3A", ":") if "%3A" in target else target.replace(":", "%3A")
    assert failure(auth(headers_for(signed_target=target), target=other)) is (
        Error.INVALID_SIGNATURE
    )


def test_cbpro_post_body_with_spaces() -> None:
    body = json.dumps({"size": "0.01", "price": "100", "side": "buy"}).encode()
    ts = "1700000000.1234567"
    headers = headers_for("POST", "/orders", body, timestamp=ts)
    assert accepted(auth(headers, "POST", "/orders", body))
    assert failure(auth(headers, "POST", "/orders", body.replace(b" ", b""))) is (
        Error.INVALID_SIGNATURE
    )


def test_ccxt_delete_with_body() -> None:
    body = b'{"product_id":"BTC/USD"}'
    headers = headers_for("DELETE", "/orders/abc", body)
    assert accepted(auth(headers, "DELETE", "/orders/abc", body))


# -- 6. passphrase -----------------------------------------------------------------------------


def test_wrong_passphrase() -> None:
    result = auth(headers_for(passphrase="s3cret-phrasE"))
    assert failure(result) is Error.INVALID_PASSPHRASE
    assert isinstance(result, AuthFailure)
    assert (result.status, result.message) == (401, "Invalid Passphrase")


def test_valid_request_returns_the_key() -> None:
    result = auth(headers_for())
    assert isinstance(result, ApiKey)
    assert result is REGISTRY.get(KEY)


# -- permissions (§2.1) ------------------------------------------------------------------------


def key_with(*permissions: Permission) -> ApiKey:
    api_key = registry_with(*permissions).get(KEY)
    assert api_key is not None
    return api_key


def test_view_key_cannot_trade() -> None:
    assert authorize(key_with(Permission.VIEW), TRADE) is Error.FORBIDDEN
    assert Error.FORBIDDEN.status == 403


def test_trade_key_can_trade() -> None:
    assert authorize(key_with(Permission.TRADE), TRADE) is None


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [
        ((Permission.VIEW,), None),
        ((Permission.TRADE,), None),
        ((Permission.VIEW, Permission.TRADE), None),
        ((Permission.TRANSFER,), Error.FORBIDDEN),
        ((Permission.MANAGE, Permission.TRANSFER), Error.FORBIDDEN),
    ],
)
def test_private_get_needs_view_or_trade(
    permissions: tuple[Permission, ...], expected: Error | None
) -> None:
    assert authorize(key_with(*permissions), VIEW_OR_TRADE) is expected


def test_empty_requirement_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        authorize(key_with(Permission.VIEW), frozenset())


# -- is_signed (public routes ignore the signature) --------------------------------------------


def test_is_signed() -> None:
    assert is_signed(headers_for())
    assert is_signed({"cb-access-sign": "x"})
    assert is_signed({"cb-access-other": "x"})
    assert not is_signed({})
    assert not is_signed({"content-type": "application/json", "x-cb-access-key": "k"})


# -- never raises --------------------------------------------------------------------------------

_junk = st.text(max_size=40) | st.text(alphabet=st.characters(codec=None), max_size=10)
_header_values = st.one_of(
    st.none(),
    _junk,
    st.sampled_from([KEY, PASSPHRASE, TS, "NaN", "1515261195,2098", "", "1700000000.5"]),
)


@settings(max_examples=500)
@given(
    key=_header_values,
    signature=_header_values,
    timestamp=_header_values,
    passphrase=_header_values,
    extra=st.dictionaries(st.text(max_size=20), _junk, max_size=3),
    method=st.sampled_from(["GET", "POST", "DELETE", "get", "PÖST", ""]),
    target=_junk,
    body=st.binary(max_size=64),
    now=st.floats(min_value=0, max_value=4e9) | st.integers(0, 4_000_000_000),
)
def test_junk_never_raises_and_always_fails(
    key: str | None,
    signature: str | None,
    timestamp: str | None,
    passphrase: str | None,
    extra: dict[str, str],
    method: str,
    target: str,
    body: bytes,
    now: float,
) -> None:
    headers = dict(extra)
    for name, value in (
        ("cb-access-key", key),
        ("cb-access-sign", signature),
        ("cb-access-timestamp", timestamp),
        ("cb-access-passphrase", passphrase),
    ):
        if value is not None:
            headers[name] = value
    result = authenticate(headers, method, target, body, REGISTRY, now)
    assert isinstance(result, AuthFailure)
    assert result.error in {
        Error.UNAUTHORIZED,
        Error.HEADER_REQUIRED,
        Error.INVALID_API_KEY,
        Error.INVALID_TIMESTAMP,
        Error.TIMESTAMP_EXPIRED,
        Error.INVALID_SIGNATURE,
        Error.INVALID_PASSPHRASE,
    }
    assert result.message
    assert (result.error is Error.UNAUTHORIZED) == (not is_signed(headers))
