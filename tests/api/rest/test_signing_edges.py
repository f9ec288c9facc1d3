"""Request signing, byte for byte (spec §2.2-§2.5, §1.2, §3.1), in-process (``harness.py``).

Each test writes down what a real client sends: ccxt (integer timestamp, compact JSON,
``client%3A`` in the path, DELETE parameters in a signed JSON body), cbpro (``str(time.time())``,
``json.dumps`` with spaces, signs public calls too), copra (raw ``:`` in the path). The server
must verify the signature over the raw request target and the raw body, never a re-encoding.
Where the target's raw bytes come from the HTTP server itself (percent-encoding, query order),
the tests run over a socket: ``tests/rest/test_raw_target.py``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.support.rest_kit import (
    ALICE,
    ALICE_PROFILE,
    BOB,
    VIEWER,
    Reply,
    SignedClient,
    auth_headers,
    place,
)

KEY, SIGN, TIMESTAMP, PASSPHRASE = ("CB-ACCESS-KEY", "CB-ACCESS-SIGN", "CB-ACCESS-TIMESTAMP",
                                    "CB-ACCESS-PASSPHRASE")


def now_ts(client: SignedClient, offset: float = 0.0, digits: int = 3) -> str:
    return f"{client.clock() + offset:.{digits}f}"


def headers_for(client: SignedClient, creds: tuple[str, str, str], method: str, target: str,
                body: bytes = b"", *, timestamp: str | None = None, **kw: Any) -> dict[str, str]:
    """The four §2.2 headers, at ``client``'s time unless ``timestamp`` is given."""
    ts = timestamp if timestamp is not None else str(int(client.clock()))
    return auth_headers(creds, method, target, body, timestamp=ts, **kw)


def send(client: SignedClient, method: str, target: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> Reply:
    return client.request(method, target, raw_body=body, headers=headers or {})


def signed(client: SignedClient, method: str, target: str, body: bytes = b"",
           creds: tuple[str, str, str] = ALICE, **kw: Any) -> Reply:
    headers = headers_for(client, creds, method, target, body, **kw)
    return send(client, method, target, body, headers)


def assert_error(reply: Reply, status: int, message: str) -> None:
    assert (reply.status, reply.json()) == (status, {"message": message}), reply.body


# -- timestamps (§2.3, §2.4) ----------------------------------------------------------------------


def test_integer_timestamp_ccxt(anon: SignedClient) -> None:
    reply = signed(anon, "GET", "/accounts", timestamp=str(int(anon.clock())))
    assert reply.status == 200, reply.body


def test_decimal_timestamp_with_seven_fraction_digits_cbpro(anon: SignedClient) -> None:
    timestamp = now_ts(anon, digits=7)
    assert len(timestamp.split(".")[1]) == 7
    reply = signed(anon, "GET", "/accounts", timestamp=timestamp)
    assert reply.status == 200, reply.body


def test_two_fraction_digits_js(anon: SignedClient) -> None:
    reply = signed(anon, "GET", "/accounts", timestamp=now_ts(anon, digits=2))
    assert reply.status == 200, reply.body


@pytest.mark.parametrize("timestamp", ["NaN", "nan", "Infinity", "-inf"])
def test_non_finite_timestamp_is_expired(anon: SignedClient, timestamp: str) -> None:
    assert_error(signed(anon, "GET", "/accounts", timestamp=timestamp), 401,
                 "request timestamp expired")


@pytest.mark.parametrize("timestamp", ["1515261195,2098", "", "1.7e9", "abc", "17000000OO",
                                       "1700000000.1.2", "0x6553f100"])
def test_unparsable_timestamp(anon: SignedClient, timestamp: str) -> None:
    assert_error(signed(anon, "GET", "/accounts", timestamp=timestamp), 400, "invalid timestamp")


@pytest.mark.parametrize("offset", [31.0, -31.0, 3600.0, -86400.0])
def test_timestamp_outside_30_seconds_is_expired(anon: SignedClient, offset: float) -> None:
    assert_error(signed(anon, "GET", "/accounts", timestamp=now_ts(anon, offset)), 401,
                 "request timestamp expired")


@pytest.mark.parametrize("offset", [25.0, -25.0])
def test_timestamp_inside_30_seconds_is_accepted(anon: SignedClient, offset: float) -> None:
    reply = signed(anon, "GET", "/accounts", timestamp=now_ts(anon, offset))
    assert reply.status == 200, reply.body


def test_no_nonce_check_the_same_request_twice(anon: SignedClient) -> None:
    headers = headers_for(anon, ALICE, "GET", "/accounts")
    assert send(anon, "GET", "/accounts", headers=headers).status == 200
    assert send(anon, "GET", "/accounts", headers=headers).status == 200


# -- what the signature covers (§2.3) -------------------------------------------------------------


def test_query_string_is_part_of_the_signature(anon: SignedClient) -> None:
    target = "/fills?product_id=BTC-USD&limit=10"
    reply = signed(anon, "GET", target)
    assert reply.status == 200, reply.body
    assert isinstance(reply.json(), list)


def test_signature_over_another_query_is_refused(anon: SignedClient) -> None:
    reply = signed(anon, "GET", "/fills?product_id=BTC-USD&limit=10",
                   sign_target="/fills?product_id=BTC-USD&limit=11")
    assert_error(reply, 401, "invalid signature")


def test_signature_over_bare_path_of_a_query_is_refused(anon: SignedClient) -> None:
    """§2.3: the query string is part of what is signed; Coinbase answers 401 exactly so."""
    reply = signed(anon, "GET", "/fills?product_id=BTC-USD&limit=10", sign_target="/fills")
    assert reply.status == 401
    assert reply.body == b'{"message":"invalid signature"}'


def test_body_with_spaces_cbpro_and_compact_ccxt(anon: SignedClient) -> None:
    order = {"product_id": "BTC-USD", "side": "buy", "price": "10.00", "size": "0.5"}
    for body in (json.dumps(order).encode(), json.dumps(order, separators=(",", ":")).encode()):
        reply = signed(anon, "POST", "/orders", body)
        assert reply.status == 200, (body, reply.body)
        assert reply.json()["status"] == "pending"


def test_body_is_verified_raw_not_reserialized(anon: SignedClient) -> None:
    order = {"product_id": "BTC-USD", "side": "buy", "price": "10.00", "size": "0.5"}
    spaced, compact = json.dumps(order).encode(), json.dumps(order, separators=(",", ":")).encode()
    assert_error(signed(anon, "POST", "/orders", spaced, sign_body=compact), 401,
                 "invalid signature")


def test_delete_with_signed_json_body_ccxt(anon: SignedClient, alice: SignedClient) -> None:
    order = place(alice)
    body = json.dumps({"product_id": "BTC/USD"}, separators=(",", ":")).encode()
    reply = signed(anon, "DELETE", f"/orders/{order['id']}", body)
    assert reply.status == 200, reply.body
    assert reply.json() == order["id"]


def test_delete_body_scopes_the_cancel(anon: SignedClient, alice: SignedClient) -> None:
    order = place(alice)
    body = json.dumps({"product_id": "ETH-USD"}).encode()
    assert_error(signed(anon, "DELETE", f"/orders/{order['id']}", body), 404, "order not found")
    assert alice.delete(f"/orders/{order['id']}").status == 200


def test_delete_body_not_signed_is_refused(anon: SignedClient, alice: SignedClient) -> None:
    order = place(alice)
    body = json.dumps({"product_id": "BTC-USD"}).encode()
    assert_error(signed(anon, "DELETE", f"/orders/{order['id']}", body, sign_body=b""), 401,
                 "invalid signature")


def test_method_is_part_of_the_signature(anon: SignedClient) -> None:
    headers = headers_for(anon, ALICE, "POST", "/accounts")
    assert_error(send(anon, "GET", "/accounts", headers=headers), 401, "invalid signature")


# -- refusals, in the §2.5 check order ------------------------------------------------------------


def test_no_credentials_on_a_private_route(anon: SignedClient) -> None:
    assert_error(send(anon, "GET", "/accounts"), 401, "Unauthorized.")


@pytest.mark.parametrize("missing", [KEY, SIGN, TIMESTAMP, PASSPHRASE])
def test_one_header_missing(anon: SignedClient, missing: str) -> None:
    headers = headers_for(anon, ALICE, "GET", "/accounts")
    del headers[missing]
    assert_error(send(anon, "GET", "/accounts", headers=headers), 400,
                 f"{missing} header is required")


def test_several_headers_missing_names_the_first(anon: SignedClient) -> None:
    headers = headers_for(anon, ALICE, "GET", "/accounts")
    del headers[SIGN], headers[PASSPHRASE]
    assert_error(send(anon, "GET", "/accounts", headers=headers), 400,
                 "CB-ACCESS-SIGN header is required")
    assert_error(send(anon, "GET", "/accounts", headers={PASSPHRASE: "x"}), 400,
                 "CB-ACCESS-KEY header is required")


def test_unknown_key(anon: SignedClient) -> None:
    stranger = ("0" * 32, ALICE[1], ALICE[2])
    assert_error(signed(anon, "GET", "/accounts", creds=stranger), 401, "Invalid API Key")


def test_empty_key(anon: SignedClient) -> None:
    assert_error(signed(anon, "GET", "/accounts", creds=("", ALICE[1], ALICE[2])), 401,
                 "Invalid API Key")


def test_wrong_passphrase(anon: SignedClient) -> None:
    assert_error(signed(anon, "GET", "/accounts", creds=(ALICE[0], ALICE[1], "alicepas")), 401,
                 "Invalid Passphrase")


def test_another_keys_secret(anon: SignedClient) -> None:
    assert_error(signed(anon, "GET", "/accounts", creds=(ALICE[0], BOB[1], ALICE[2])), 401,
                 "invalid signature")


@pytest.mark.parametrize("signature", ["", "not base64!", "A" * 44])
def test_garbage_signature(anon: SignedClient, signature: str) -> None:
    headers = {**headers_for(anon, ALICE, "GET", "/accounts"), SIGN: signature}
    assert_error(send(anon, "GET", "/accounts", headers=headers), 401, "invalid signature")


def test_check_order_key_before_timestamp(anon: SignedClient) -> None:
    stranger = ("f" * 32, ALICE[1], ALICE[2])
    assert_error(signed(anon, "GET", "/accounts", creds=stranger, timestamp="NaN"), 401,
                 "Invalid API Key")


def test_check_order_timestamp_before_signature(anon: SignedClient) -> None:
    expired = now_ts(anon, -60)
    headers = {**headers_for(anon, ALICE, "GET", "/accounts", timestamp=expired), SIGN: "x"}
    assert_error(send(anon, "GET", "/accounts", headers=headers), 401,
                 "request timestamp expired")


def test_check_order_signature_before_passphrase(anon: SignedClient) -> None:
    headers = {**headers_for(anon, ALICE, "GET", "/accounts"), SIGN: "x", PASSPHRASE: "wrong"}
    assert_error(send(anon, "GET", "/accounts", headers=headers), 401, "invalid signature")


def test_check_order_authentication_before_permission(anon: SignedClient) -> None:
    body = json.dumps({"product_id": "BTC-USD", "side": "buy", "price": "10", "size": "1"})
    viewer_bad_pass = (VIEWER[0], VIEWER[1], "nope")
    assert_error(signed(anon, "POST", "/orders", body.encode(), creds=viewer_bad_pass), 401,
                 "Invalid Passphrase")
    assert_error(signed(anon, "POST", "/orders", body.encode(), creds=VIEWER), 403, "Forbidden")


def test_header_names_in_odd_case(anon: SignedClient) -> None:
    headers = headers_for(anon, ALICE, "GET", "/accounts")
    odd = {"Cb-Access-Key": headers[KEY], "cb-access-sign": headers[SIGN],
           "CB-Access-Timestamp": headers[TIMESTAMP], "cB-aCcEsS-pAsSpHrAsE": headers[PASSPHRASE]}
    reply = send(anon, "GET", "/accounts", headers=odd)
    assert reply.status == 200, reply.body
    assert {a["profile_id"] for a in reply.json()} == {ALICE_PROFILE}


def test_each_key_sees_its_own_profile(anon: SignedClient) -> None:
    for creds in (ALICE, BOB):
        reply = signed(anon, "GET", "/users/self/verify", creds=creds)
        assert reply.status == 200, reply.body
    assert signed(anon, "GET", "/users/self/verify").json() != \
        signed(anon, "GET", "/users/self/verify", creds=BOB).json()


# -- public routes (client-compatibility: cbpro signs everything) ---------------------------------

PUBLIC = ["/time", "/products", "/products/BTC-USD", "/products/BTC-USD/book?level=2",
          "/currencies", "/products/BTC-USD/trades?limit=5"]


@pytest.mark.parametrize("target", PUBLIC)
def test_public_route_unsigned(anon: SignedClient, target: str) -> None:
    reply = send(anon, "GET", target)
    assert reply.status == 200, reply.body


@pytest.mark.parametrize("target", PUBLIC)
def test_public_route_signed_cbpro(anon: SignedClient, target: str) -> None:
    reply = signed(anon, "GET", target, timestamp=now_ts(anon, digits=7))
    assert reply.status == 200, reply.body


@pytest.mark.parametrize("target", PUBLIC[:2])
def test_public_route_ignores_a_bad_signature(anon: SignedClient, target: str) -> None:
    headers = {**headers_for(anon, ALICE, "GET", target, timestamp="NaN"), SIGN: "x"}
    reply = send(anon, "GET", target, headers=headers)
    assert reply.status == 200, reply.body


# -- every answer is JSON; success objects never carry "message" (§1.2, §3.1) ---------------------


def _all_kinds(anon: SignedClient, alice: SignedClient) -> list[tuple[str, Reply]]:
    order = place(alice)
    order_body = json.dumps({"product_id": "BTC-USD", "side": "buy", "price": "10",
                             "size": "0.5"}).encode()
    return [
        ("public 200", send(anon, "GET", "/time")),
        ("public 404 product", send(anon, "GET", "/products/NOPE-USD")),
        ("public 400", send(anon, "GET", "/products/BTC-USD/candles?granularity=61")),
        ("unknown route", send(anon, "GET", "/no/such/route")),
        ("wrong method", send(anon, "PUT", "/orders")),
        ("private 200 list", signed(anon, "GET", "/accounts")),
        ("private 200 object", signed(anon, "GET", f"/orders/{order['id']}")),
        ("private 200 post", signed(anon, "POST", "/orders", order_body)),
        ("private 200 string", signed(anon, "DELETE", f"/orders/{order['id']}")),
        ("private 200 cancel all", signed(anon, "DELETE", "/orders?product_id=ETH-BTC")),
        ("401 unauthorized", send(anon, "GET", "/accounts")),
        ("400 header", send(anon, "GET", "/accounts", headers={KEY: ALICE[0]})),
        ("401 signature", signed(anon, "GET", "/accounts", sign_target="/x")),
        ("403", signed(anon, "POST", "/orders", order_body, creds=VIEWER)),
        ("400 json", signed(anon, "POST", "/orders", b"{nope")),
        ("400 reject", signed(anon, "POST", "/orders", b'{"product_id":"BTC-USD"}')),
        ("404 order", signed(anon, "GET", f"/orders/{uuid.uuid4()}")),
        ("openapi", send(anon, "GET", "/openapi.json")),
    ]


def test_every_answer_is_json(anon: SignedClient, alice: SignedClient) -> None:
    for name, reply in _all_kinds(anon, alice):
        assert reply.headers["content-type"].startswith("application/json"), name
        body = reply.json()  # parses
        if reply.status >= 400:
            assert isinstance(body, dict) and list(body) == ["message"], (name, body)
            assert isinstance(body["message"], str), name
        assert reply.status < 500, (name, reply.body)


def test_error_answers_are_never_cached(anon: SignedClient) -> None:
    reply = send(anon, "GET", "/accounts")
    assert reply.headers.get("cache-control") == "no-store"


def _object_endpoints(alice: SignedClient) -> list[Any]:
    return [
        "/time", "/products/BTC-USD", "/products/BTC-USD/book", "/products/BTC-USD/ticker",
        "/products/BTC-USD/stats", "/fees", "/users/self/verify", f"/profiles/{ALICE_PROFILE}",
        "/openapi.json",
        "/currencies/USD",
    ]


@pytest.mark.parametrize("target", _object_endpoints(None))  # type: ignore[arg-type]
def test_success_objects_have_no_message_key(alice: SignedClient, target: str) -> None:
    reply = alice.get(target)
    assert reply.status == 200, reply.body
    body = reply.json()
    assert isinstance(body, dict)
    assert "message" not in body, body


def test_private_success_objects_have_no_message_key(alice: SignedClient) -> None:
    order = place(alice)
    account = alice.get("/accounts").json()[0]
    replies = [order, alice.get(f"/orders/{order['id']}").json(),
               alice.get(f"/accounts/{account['id']}").json(),
               alice.post("/profiles/transfer", {"from": ALICE_PROFILE,
                                                 "to": "a11ce000-0000-4000-8000-0000000000a2",
                                                 "currency": "USD", "amount": "1"}).json()]
    for body in replies:
        assert isinstance(body, dict) and "message" not in body, body
    alice.delete(f"/orders/{order['id']}")
