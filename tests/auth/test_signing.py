"""§2.3 request signing: the spec's test vectors and what real clients send."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandex.auth.signing import sign, signature_matches

SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
SECRET_BYTES = bytes(range(64))


def test_secret_is_bytes_0_to_63() -> None:
    assert base64.b64decode(SECRET) == SECRET_BYTES


@pytest.mark.parametrize(
    ("timestamp", "method", "path", "body", "expected"),
    [
        (
            "1700000000",
            "POST",
            "/orders",
            b'{"price":"1.0","size":"1.0","side":"buy","product_id":"BTC-USD"}',
            "9BFKo+O+iyq1orpEz9FK6MtOYrhEc4O2o7Bq4XtL5pE=",
        ),
        (
            "1700000000.123",
            "GET",
            "/fills?product_id=BTC-USD&limit=10",
            b"",
            "E5T0WloJL5MTCQ2ep8YH6Fw6HvyQC1KcZT5OhJt9DzU=",
        ),
        (
            "1700000000.123",
            "GET",
            "/users/self/verify",
            b"",
            "maXKiSsLPYaOmwbHMYPOnAk9dnfBM1tLuI8FmCJJfqM=",
        ),
    ],
)
def test_spec_vectors(timestamp: str, method: str, path: str, body: bytes, expected: str) -> None:
    assert sign(SECRET, timestamp, method, path, body) == expected
    assert signature_matches(SECRET_BYTES, timestamp, method, path, body, expected)


def test_method_is_upper_cased() -> None:
    upper = sign(SECRET, "1700000000", "GET", "/accounts", b"")
    assert sign(SECRET, "1700000000", "get", "/accounts", b"") == upper
    assert signature_matches(SECRET_BYTES, "1700000000", "get", "/accounts", b"", upper)


def test_cbpro_body_with_spaces_is_signed_as_sent() -> None:
    order = {"size": "0.01", "price": "100.00", "side": "buy", "product_id": "BTC-USD"}
    spaced = json.dumps(order).encode()  # cbpro: '{"size": "0.01", ...}'
    compact = json.dumps(order, separators=(",", ":")).encode()  # ccxt
    assert b": " in spaced
    ts = "1700000000.1234567"
    signature = sign(SECRET, ts, "POST", "/orders", spaced)
    assert signature_matches(SECRET_BYTES, ts, "POST", "/orders", spaced, signature)
    # Re-serialising the JSON would break it: the server must use the raw bytes.
    assert not signature_matches(SECRET_BYTES, ts, "POST", "/orders", compact, signature)


def test_query_percent_encoded_colon_like_ccxt() -> None:
    target = "/orders?client_oid=client%3Aabc&status=open"
    signature = sign(SECRET, "1700000000", "GET", target, b"")
    assert signature_matches(SECRET_BYTES, "1700000000", "GET", target, b"", signature)
    decoded = "/orders?client_oid=client:abc&status=open"
    assert not signature_matches(SECRET_BYTES, "1700000000", "GET", decoded, b"", signature)


def test_query_raw_colon_like_copra() -> None:
    target = "/orders?client_oid=client:abc&no-cache=1700000000.5"
    signature = sign(SECRET, "1700000000.5", "GET", target, b"")
    assert signature_matches(SECRET_BYTES, "1700000000.5", "GET", target, b"", signature)
    encoded = "/orders?client_oid=client%3Aabc&no-cache=1700000000.5"
    assert not signature_matches(SECRET_BYTES, "1700000000.5", "GET", encoded, b"", signature)


def test_timestamp_is_used_verbatim() -> None:
    signature = sign(SECRET, "1700000000.0", "GET", "/accounts", b"")
    assert not signature_matches(SECRET_BYTES, "1700000000", "GET", "/accounts", b"", signature)


@pytest.mark.parametrize(
    "signature",
    ["", "not base64", "é", "\udcff", "9BFKo+O+iyq1orpEz9FK6MtOYrhEc4O2o7Bq4XtL5pE"],
)
def test_junk_signature_does_not_match_nor_raise(signature: str) -> None:
    assert not signature_matches(SECRET_BYTES, "1", "GET", "/", b"", signature)


def test_unencodable_text_does_not_raise() -> None:
    signature = sign(SECRET, "1", "GET", "/", b"")
    assert not signature_matches(SECRET_BYTES, "1", "GET", "/\ud800", b"", signature)


def test_sign_rejects_invalid_secret() -> None:
    with pytest.raises(ValueError):
        sign("not base64!", "1", "GET", "/", b"")


@given(
    secret=st.binary(min_size=1, max_size=96),
    timestamp=st.text(max_size=24),
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    path=st.text(min_size=1, max_size=80),
    body=st.binary(max_size=200),
)
def test_sign_and_verify_round_trip(
    secret: bytes, timestamp: str, method: str, path: str, body: bytes
) -> None:
    secret_b64 = base64.b64encode(secret).decode()
    try:
        signature = sign(secret_b64, timestamp, method, path, body)
    except UnicodeEncodeError:  # lone surrogates outside the surrogateescape range
        return
    assert signature_matches(secret, timestamp, method, path, body, signature)
    assert not signature_matches(secret, timestamp, method, path, body + b"x", signature)


def test_raw_bytes_kept_as_surrogates_and_a_lower_case_method_sign_as_sent() -> None:
    path = b"/orders/caf\xe9".decode("utf-8", "surrogateescape")  # as read_request keeps it
    signature = sign(SECRET, "1", "POST", path, b"{}")
    assert signature_matches(SECRET_BYTES, "1", "POST", path, b"{}", signature)
    assert signature_matches(SECRET_BYTES, "1", "post", path, b"{}", signature)
    assert not signature_matches(SECRET_BYTES, "1", "POST", path, b"{}", signature + "\u00e9")
