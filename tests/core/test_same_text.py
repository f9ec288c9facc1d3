"""Ids compared by ``text.pxd``'s ``same``/``same_id`` (compiled; ``==`` uncompiled): a
command's id equal to the stored one but another object (as production's decoders give
them: REST, FIX and the journal's replay decode fresh strings) must still match, by its text
alone: ASCII or not, hashed or not; a different id of the same length must not, and a field
that is not a ``str`` at all is refused as ``==`` would, not raised on. The cancel's owner
check and the taker's self-trade test (with the replay profile's exception) use them."""

from __future__ import annotations

import msgspec
import pytest

from sandex.core import CancelOrder, Done, Engine
from sandex.core.commands import AnyCommand
from sandex.core.engine import reject
from sandex.errors import Error
from tests.support.venue_kit import Venue, kinds, rejected, two_traders

NOT_FOUND = rejected([reject(Error.ORDER_NOT_FOUND)])


def _fresh(text: str) -> str:
    """An equal string that is another object, its hash not computed (as decoded)."""
    copy = "".join([text[:1], text[1:]])
    assert copy == text and copy is not text
    return copy


def _cancel(v: Venue, profile_id: object, order_id: str) -> list:
    return v.apply(CancelOrder(time=v.stamp(), profile_id=profile_id,  # type: ignore[arg-type]
                               order_id=order_id))


@pytest.mark.parametrize("owner", ["alice", "a" * 32, "élise", "交易者-1", "x🙂y"])
def test_cancel_by_an_equal_fresh_owner_id(owner: str) -> None:
    v = two_traders()
    v.profile(owner, usd="1000000")
    for hashed in (False, True):  # unhashed (as decoded), then hashed: the text decides
        order_id, _ = v.buy(owner, "100", "1")
        profile_id = _fresh(owner)
        if hashed:
            hash(profile_id)
        assert v.engine._live[order_id].profile_id is not profile_id
        events = _cancel(v, profile_id, order_id)
        assert kinds(events) == ["Done"] and isinstance(events[0], Done)
        assert order_id not in v.engine._live


@pytest.mark.parametrize("other", ["alicf", "Alice", "alic", "alicee", "alicé"])
def test_cancel_by_another_id_is_refused(other: str) -> None:
    v = two_traders()
    order_id, _ = v.buy("alice", "100", "1")
    for profile_id in (other, _fresh(other)):
        assert rejected(_cancel(v, profile_id, order_id)) == NOT_FOUND
    assert order_id in v.engine._live


@pytest.mark.parametrize("profile_id", [None, 5, b"alice", ("alice",)])
def test_cancel_by_an_id_not_a_str_is_refused(profile_id: object) -> None:
    v = two_traders()
    order_id, _ = v.buy("alice", "100", "1")
    assert rejected(_cancel(v, profile_id, order_id)) == NOT_FOUND
    assert order_id in v.engine._live


def test_decoded_commands_match_as_shared_ones() -> None:
    """The same commands, each decoded from its JSON (every id a fresh string), give the
    same events as the originals: places, cancels and a self-trade's STP."""
    decode = msgspec.json.Decoder(AnyCommand).decode
    encode = msgspec.json.Encoder().encode

    def run(decoded: bool) -> list[object]:
        v = two_traders()
        log = v.log
        for step in range(3):
            price = str(100 + step)
            a, _ = v.sell("alice", price, "1")
            b, _ = v.sell("bob", price, "2")
            v.buy("alice", price, "2")  # meets its own ask first: STP (dc), then bob's
            v.cancel("bob", b)
            v.cancel("alice", a)  # done already: refused
        if not decoded:
            return [msgspec.to_builtins(events) for _, events in log]
        w = Engine()
        return [msgspec.to_builtins(w.apply(decode(encode(cmd)))) for cmd, _ in log]

    assert run(True) == run(False)
