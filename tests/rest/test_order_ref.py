"""``order_ref`` (a cancel's or a lookup's path segment) lowers the text once and checks the
lowered text (the nineteenth REST pass): the same answers and errors as checking the text
with ``is_uuid`` and lowering it after."""

from __future__ import annotations

import pytest

from sandex.api.http import ApiError
from sandex.api.rest.orders import order_ref
from sandex.errors import Error
from sandex.node.ids import is_uuid

UUID = "3f1c2a52-6c1e-4b7a-9d1e-0a1b2c3d4e5f"


def _old(text: str) -> tuple[str | None, str | None] | Error:
    if text.startswith("client:"):
        client_oid = text[len("client:"):]
        return Error.INVALID_ORDER_ID if not client_oid else (None, client_oid.lower())
    if len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text):
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    if not is_uuid(text):
        return Error.INVALID_ORDER_ID
    return text.lower(), None


@pytest.mark.parametrize("text", [
    UUID, UUID.upper(), UUID.replace("-", ""), UUID.replace("-", "").upper(), UUID[:-1],
    UUID + "0", UUID.replace("-", "_"), UUID.replace("f", "g"), "", "-", "client:",
    "client:ABC", "client:" + UUID.upper(), UUID.replace("a", "\u212a"),  # Kelvin sign
    UUID.replace("3", "\u0663"),  # an Arabic-Indic digit
    "İ" + UUID[1:], UUID[:8] + "-" + UUID[9:], " " + UUID, UUID + "\n",
], ids=repr)
def test_order_ref_answers_as_before(text: str) -> None:
    try:
        got: tuple[str | None, str | None] | Error = order_ref(text)
    except ApiError as exc:
        got = exc.error
    assert got == _old(text)


@pytest.mark.parametrize("text", [
    UUID, UUID.upper(), UUID.replace("-", ""), UUID[:-1], "", "client:", "client:ABC",
    "İ" + UUID[1:], UUID + "\n",
], ids=repr)
def test_an_id_the_engine_does_not_hold_is_checked_as_before(text: str) -> None:
    """``held`` (REST's twenty-fifth pass: the engine's orders by id) answers only for the
    text it holds; any other text, a held id's other spellings included, is checked."""
    held = {UUID.replace("3f", "00"): object(), "4" * 36: object()}
    try:
        got: tuple[str | None, str | None] | Error = order_ref(text, held)
    except ApiError as exc:
        got = exc.error
    assert got == _old(text)


def test_an_id_the_engine_holds_is_answered_as_the_check_answers_it() -> None:
    """Every id the engine holds was minted by the node's ``Ids.uuid``: ``order_ref`` answers
    it unchecked, and the answer is the check's (the id itself, no client_oid)."""
    from sandex.node.ids import Ids

    ids = Ids(seed=7)
    held = {ids.uuid(): None for _ in range(200)}
    for order_id in held:
        text = "".join(order_id)  # another object, as a request's path gives it
        assert text is not order_id
        assert order_ref(text, held) == order_ref(text) == _old(text) == (order_id, None)
