"""Request traces (``POST /admin/trace``): every REST request is kept with what it got, found by
its id, by the order it named or placed, or after another request; the ``X-Sandex-Request-Id``
header only in test mode; memory bounded by a ring."""

from __future__ import annotations

from pathlib import Path

from sandex.api.http import Request, Response
from sandex.api.rest.trace import TRACES_MAX, Traces
from sandex.api.tracer import EVENTS_MAX, Tracer
from sandex.node import Node
from sandex.node.kinds import profile_kinds
from tests.api.rest.harness import InProcessVenue
from tests.support.rest_kit import ALICE, SCENARIO, place

OID = "7ace0000-0000-4000-8000-000000000001"


def traces(venue: InProcessVenue, **args: object) -> list[dict[str, object]]:
    reply = venue.admin("trace", **args)
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


def test_an_order_s_requests_are_traced_with_what_they_got(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f"{SCENARIO.read_text()}\n[testing]\nrequest_ids = true\n")
    venue = InProcessVenue(scenario)
    try:
        alice = venue.client(ALICE)
        before = traces(venue, newest=True)["request_id"]  # type: ignore[call-overload]
        placed = place(alice, client_oid=OID)
        assert alice.get(f"/orders/client:{OID}").status == 200
        cancel = alice.delete(f"/orders/{placed['id']}")
        refused = alice.post("/orders", {"product_id": "BTC-USD", "side": "buy",
                                         "price": "10.00", "size": "999999"})
        by_order = traces(venue, order_id=placed["id"])
        assert [(t["method"], t["status"]) for t in by_order] == [
            ("POST", 200), ("GET", 200), ("DELETE", 200)]  # by id or by client_oid: one order
        assert by_order[0]["client_oid"] == OID and by_order[0]["key"] == ALICE[0]
        assert int(by_order[2]["position"]) > int(by_order[0]["position"])  # type: ignore[call-overload]
        assert [t["target"] for t in traces(venue, client_oid=f"client:{OID}")] == [
            "/orders", f"/orders/client:{OID}", f"/orders/{placed['id']}"]
        request_id = cancel.headers["x-sandex-request-id"]
        assert [t["target"] for t in traces(venue, request_id=request_id)] == [
            f"/orders/{placed['id']}"]
        failed = traces(venue, after=before, refused=True)
        assert [(t["request_id"], t["status"], t["message"], t["rule"]) for t in failed] == [
            (refused.headers["x-sandex-request-id"], 400, "Insufficient funds",
             "INSUFFICIENT_FUNDS")]
        assert failed[0]["detail"] == {  # the figures at the moment it was refused
            "available": "1000000 USD", "required": "10059989.94 USD",  # 10 x 999999 x 1.006
            "formula": "price * size * (1 + max(maker_fee_rate, taker_fee_rate))"}
        bad = venue.admin("trace", order_id=placed["id"], after=before)
        assert (bad.status, bad.json()["message"]) == (
            400, "give one of request_id, order_id, client_oid, after (a text)")
        assert venue.admin("trace", after="yesterday").json() == {
            "message": "'yesterday' is not a request id (r-000123)"}
    finally:
        venue.close()


def test_outside_test_mode_the_wire_stays_coinbase_s_and_nothing_is_kept() -> None:
    venue = InProcessVenue()
    try:
        reply = venue.client(ALICE).get("/accounts")
        assert "x-sandex-request-id" not in reply.headers
        refused = venue.admin("trace", request_id="r-000001")
        assert (refused.status, refused.json()) == (400, {"message": (
            "this venue keeps no traces: start it from a scenario with [testing] "
            "request_ids = true (the plugin's does)")})
    finally:
        venue.close()


def test_the_ring_keeps_the_last_requests_only() -> None:
    ring = Traces(Tracer(Node()))
    request = Request("GET", "/time", "/time", "", {}, b"", "127.0.0.1")
    for _ in range(TRACES_MAX + 5):
        ring.record(ring.next_id(), request, Response(b"{}"), 0, 0, 0.0)
    kept = ring.find(after="r-000000")
    assert len(kept) == TRACES_MAX and kept[0]["request_id"] == "r-000006"


def test_an_answer_served_again_carries_one_request_id() -> None:
    ring = Traces(Tracer(Node()))
    request = Request("GET", "/orders", "/orders", "", {}, b"", "127.0.0.1")
    answer = Response(b"[]", headers=[(b"cb-after", b"1")])
    ring.record(ring.next_id(), request, answer, 0, 0, 0.0)
    ring.record(ring.next_id(), request, answer, 0, 0, 0.0)  # a stale_read serves it again
    assert answer.headers == [(b"cb-after", b"1"), (b"x-sandex-request-id", b"r-000002")]


def test_one_command_keeps_its_first_events_and_counts_the_rest(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f"{SCENARIO.read_text()}\n[testing]\nrequest_ids = true\n")
    venue = InProcessVenue(scenario, rate_limits=False)
    try:
        alice = venue.client(ALICE)
        for _ in range(EVENTS_MAX + 2):
            place(alice)
        canceled = alice.delete("/orders")
        assert canceled.status == 200 and len(canceled.json()) == EVENTS_MAX + 2
        [trace] = traces(venue, request_id=canceled.headers["x-sandex-request-id"])
        [command] = trace["commands"]  # type: ignore[index]
        assert command["command"] == "CancelAll"
        assert (len(command["events"]), command["events_more"]) == (EVENTS_MAX, 2)
        assert {e["type"] for e in command["events"]} == {"done"}
    finally:
        venue.close()


def test_a_profile_s_kind_is_user_unless_registered() -> None:
    kinds = profile_kinds(Node())
    kinds.register("d3a10000-0000-4000-8000-00000000a001", "demo")
    kinds.register("4e91a700-0000-4000-8000-000000000001", "replay")
    assert [kinds.kind(p) for p in ("d3a10000-0000-4000-8000-00000000a001",
                                     "4e91a700-0000-4000-8000-000000000001",
                                     "a11ce000-0000-4000-8000-000000000001")] == [
        "demo", "replay", "user"]
    try:
        kinds.register("a11ce000-0000-4000-8000-000000000001", "bot")
    except ValueError as exc:
        assert str(exc) == "kind must be one of user, demo, replay, not 'bot'"
    else:
        raise AssertionError("an unknown kind was registered")
