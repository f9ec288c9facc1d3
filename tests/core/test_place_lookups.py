"""``Engine._place``'s first rules: compiled, it probes the products and the profiles both
(a cast, no type test) before it rejects, so their order must still be the product's first:
an unknown product is refused as such whether or not the profile is known, and an unknown
profile only in a known product; and neither reject creates anything (no order, tally or
account)."""

from __future__ import annotations

from sandex.core import state_hash
from sandex.core.engine import reject
from sandex.errors import Error
from tests.support.venue_kit import rejected, two_traders


def _message(error: Error) -> str | None:
    return rejected([reject(error)])


def test_unknown_product_first_then_unknown_profile() -> None:
    v = two_traders()
    before = state_hash(v.engine)
    for profile_id in ("alice", "nobody"):
        _, events = v.buy(profile_id, "100", "1", product_id="ETH-EUR")
        assert rejected(events) == _message(Error.PRODUCT_NOT_FOUND)
    _, events = v.buy("nobody", "100", "1")
    assert rejected(events) == _message(Error.PROFILE_NOT_FOUND)
    _, events = v.sell("nobody", "100", "1", client_oid="c-1")
    assert rejected(events) == _message(Error.PROFILE_NOT_FOUND)
    assert "nobody" not in v.engine.profiles
    assert not v.engine.profiles["alice"]._tallies
    assert not v.engine._live
    assert state_hash(v.engine) == before


def test_known_product_and_profile_place() -> None:
    v = two_traders()
    order_id, events = v.buy("alice", "100", "1")
    assert rejected(events) is None
    assert v.engine._live[order_id].profile_id == "alice"
    assert v.engine.profiles["alice"]._tallies["BTC-USD"].count == 1
