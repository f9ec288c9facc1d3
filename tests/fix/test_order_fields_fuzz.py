"""Order-entry fields a FIX client may send, fuzzed through the whole refusal chain: FIX's own
rules (``order_body``, ``expire_time``), the REST parser and the core. Any input is either an
order or a refusal with a text from the error table; nothing raises anything else, and the
core's invariants hold after every command (``Venue`` checks them)."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sandex.api.fix.requests import ORDER_TAGS, expire_time, order_body
from sandex.api.http import ApiError
from sandex.api.order_request import parse_order
from sandex.errors import Error
from tests.support.venue_kit import Venue

T0 = 1_764_892_800_000_000  # 2025-12-05 00:00:00 UTC, in microseconds
TEXTS = {error.template.split("{}")[0] for error in Error}  # each text up to its first blank

PLAUSIBLE: dict[int, list[str]] = {
    11: ["24f19a06-d902-44c2-9de2-e7d5fea7cc6a", "NOT-A-UUID", ""],
    18: ["A", "B"],
    38: ["1", "0.5", "0", "00.5", "1e3", "0.000000001", "-1", "99999999999999999999"],
    40: ["1", "2", "4", "O", "3"],
    44: ["100", "100.01", "100.001", "0", "012", "1" * 30],
    54: ["1", "2", "3"],
    55: ["BTC-USD", "btc-usd", "NOPE-USD", ""],
    59: ["1", "3", "4", "6", "0", "P"],
    99: ["90", "110", "0"],
    126: ["20251205-00:01:00", "20251205-00:00:00.000", "20251205-00:00:00.000001",
          "20260305-00:00:00.123", "20260306-00:00:00.000000001", "20251130-12:00:00",
          "20250230-00:00:00", "20251205-24:00:00", "2025-12-05T00:01:00Z", "20251205"],
    152: ["10", "0.01", "0"],
    1109: ["U", "D", "X"],
    7928: ["D", "O", "N", "B", "Q", "Z"],
}
value = st.one_of(st.text(max_size=12), st.text("0123456789.-:", max_size=30))
field = st.sampled_from(sorted(ORDER_TAGS)).flatmap(
    lambda tag: st.tuples(st.just(tag), st.one_of(  # mostly plausible values
        *[st.sampled_from(PLAUSIBLE[tag])] * 4, value)))


def venue() -> Venue:
    v = Venue()
    v.time = T0
    v.product("BTC-USD", min_market_funds="1")
    v.profile("alice", usd="100000", btc="10")
    return v


BASE = {11: "24f19a06-d902-44c2-9de2-e7d5fea7cc6a", 55: "BTC-USD", 54: "1", 40: "2",
        44: "100", 38: "1", 59: "1"}


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(field, max_size=4), st.sets(st.sampled_from(sorted(BASE)), max_size=1),
       st.sampled_from([False] * 9 + [True]))
def test_any_order_fields_are_an_order_or_a_refusal_with_its_text(
        changes: list[tuple[int, str]], dropped: set[int], from_scratch: bool) -> None:
    """A valid order with a few fields changed, added or dropped (or fields alone)."""
    v = venue()
    sent = {} if from_scratch else dict(BASE)
    for tag in dropped:
        sent.pop(tag, None)
    sent.update(changes)
    try:
        body = order_body(sent)
        command, _ = parse_order(body, v.engine, "alice", "o-1", v.stamp(), oid_checked=True,
                                 expire_time=expire_time(sent))
    except ApiError as refused:
        assert refused.message.startswith(tuple(TEXTS)), refused.message
        event("refused before the core")
        return
    events = v.apply(command)  # the core decides the rest; invariants checked
    assert events
    rejected = [e for e in events if type(e).__name__ == "Rejected"]
    event("refused by the core" if rejected else "accepted")
    assert all(e.message.startswith(tuple(TEXTS)) for e in rejected)  # type: ignore[attr-defined]


def test_a_gtd_order_through_the_chain_rests_with_its_expiry() -> None:
    v = venue()
    sent = {11: "24f19a06-d902-44c2-9de2-e7d5fea7cc6a", 55: "BTC-USD", 54: "1", 40: "2",
            44: "100", 38: "1", 59: "6", 126: "20251205-00:01:00.250"}
    command, _ = parse_order(order_body(sent), v.engine, "alice", "o-1", v.stamp(),
                             oid_checked=True, expire_time=expire_time(sent))
    assert (command.time_in_force, command.expire_time) == ("GTT", T0 + 60_250_000)
    assert [type(e).__name__ for e in v.apply(command)] == ["Received", "Opened"]
    assert v.engine.next_expiry() == T0 + 60_250_000
