"""A limit order's ``POST /orders`` reply from a template (REST's eighteenth pass): the same
bytes as the ``Struct`` it replaced and as ``new_order``'s dict encoded, for every enum's
value, both ``post_only``s, and texts that need escaping (which take the ``Struct``)."""

from __future__ import annotations

import itertools

import msgspec
import pytest

from sandex.api.rest import wire
from sandex.core import OrderType, PlaceOrder, Side, Stp, TimeInForce

ORDER_ID = "0b9f4f7e-3c1a-4d2e-9f00-1234567890ab"
TEXTS = ["BTC-USD", "default", "10.5", "0.00000001", "1e-3", "caf\u00e9", "\u20ac-USD",
         'a"b', "a\\b", "tab\there", "line\nbreak", "nul\x00", "del\x7f", "slash/",
         "emoji\U0001f600", "<script>", "\u2028", ""]


def struct_bytes(cmd: PlaceOrder, echo: dict[str, str]) -> bytes:
    return msgspec.json.encode(wire._NewLimitOrder(
        cmd.order_id, echo["price"], echo["size"], cmd.product_id, cmd.profile_id,
        cmd.side, cmd.stp, cmd.type, cmd.time_in_force, cmd.post_only, wire.iso(cmd.time)))


def dict_bytes(cmd: PlaceOrder, echo: dict[str, str]) -> bytes:
    general = wire.new_order(cmd, {**echo, "funds": "1"}, None)
    del general["funds"]
    return msgspec.json.encode(general)


@pytest.mark.parametrize(("side", "stp", "tif", "post_only"), list(itertools.product(
    list(Side), list(Stp), list(TimeInForce), [False, True])))
def test_every_enum_and_flag(side: Side, stp: Stp, tif: TimeInForce, post_only: bool) -> None:
    cmd = PlaceOrder(time=1_700_000_000_000_001, order_id=ORDER_ID, profile_id="default",
                     product_id="BTC-USD", side=side, type=OrderType.LIMIT, price=1, size=1,
                     time_in_force=tif, stp=stp, post_only=post_only)
    echo = {"price": "10.5", "size": "0.25"}
    body = wire.new_order_body(cmd, echo, None)
    assert body == struct_bytes(cmd, echo) == dict_bytes(cmd, echo)


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("where", ["price", "size", "product_id", "profile_id"])
def test_texts_plain_or_escaped(text: str, where: str) -> None:
    fields = {"product_id": "BTC-USD", "profile_id": "default"}
    echo = {"price": "10.5", "size": "0.25"}
    if where in echo:
        echo[where] = text
    else:
        fields[where] = text
    cmd = PlaceOrder(time=1_700_000_000_999_999, order_id=ORDER_ID, side=Side.BUY,
                     type=OrderType.LIMIT, price=1, size=1,
                     product_id=fields["product_id"], profile_id=fields["profile_id"])
    for _ in range(2):  # the first time checked and remembered, the second from memory
        body = wire.new_order_body(cmd, echo, None)
        assert body == struct_bytes(cmd, echo) == dict_bytes(cmd, echo)
    plain = msgspec.json.encode(text) == b'"' + text.encode() + b'"'
    assert (text in wire._PLAIN) is plain


def test_the_memo_is_bounded() -> None:
    for n in range(wire._PLAIN_MAX + 10):
        assert wire._plain(f"{n}.5")
    assert len(wire._PLAIN) <= wire._PLAIN_MAX
