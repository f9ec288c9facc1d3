"""Signing over the raw request target as the HTTP server parses it (§2.3), over a socket.

What the signature covers is the path and query exactly as sent: percent-encoding kept, the
query not reordered. Those bytes come from the HTTP server (uvicorn's httptools parser), so
these tests talk to a real ``sandex serve``; every other signing edge runs in-process
(``tests/api/rest/test_signing_edges.py``).
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.rest_kit import RawClient, place

INVALID_SIGNATURE = (401, {"message": "invalid signature"})


def test_query_is_verified_raw_not_reordered(alice: RawClient) -> None:
    reply = alice.get("/fills?limit=10&product_id=BTC-USD",
                      sign_target="/fills?product_id=BTC-USD&limit=10")
    assert (reply.status, reply.json()) == INVALID_SIGNATURE, reply.body


def test_percent_encoded_query_signed_as_sent(alice: RawClient) -> None:
    target = "/orders?status=open&status=done&start_date=2020-01-01T00%3A00%3A00Z"
    assert alice.get(target).status == 200
    decoded = "/orders?status=open&status=done&start_date=2020-01-01T00:00:00Z"
    reply = alice.get(target, sign_target=decoded)
    assert (reply.status, reply.json()) == INVALID_SIGNATURE, reply.body


def test_client_oid_path_percent_encoded_ccxt_and_raw_copra(alice: RawClient) -> None:
    client_oid = str(uuid.uuid4())
    order = place(alice, client_oid=client_oid)
    for target in (f"/orders/client%3A{client_oid}", f"/orders/client:{client_oid}"):
        reply = alice.get(target)
        assert reply.status == 200, (target, reply.body)
        assert reply.json()["id"] == order["id"]
        assert reply.json()["client_oid"] == client_oid


def test_percent_encoded_path_signed_decoded_is_refused(alice: RawClient) -> None:
    client_oid = str(uuid.uuid4())
    place(alice, client_oid=client_oid)
    reply = alice.get(f"/orders/client%3A{client_oid}", sign_target=f"/orders/client:{client_oid}")
    assert (reply.status, reply.json()) == INVALID_SIGNATURE, reply.body


@pytest.mark.parametrize("separator", ["%3A", ":"])
def test_cancel_by_client_oid_both_spellings(alice: RawClient, separator: str) -> None:
    client_oid = str(uuid.uuid4())
    place(alice, client_oid=client_oid)
    reply = alice.delete(f"/orders/client{separator}{client_oid}")
    assert reply.status == 200, reply.body
    assert reply.json() == client_oid  # a bare JSON string (§4.6)
