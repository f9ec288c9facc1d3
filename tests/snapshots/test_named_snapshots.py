"""Named snapshots and reset through the admin endpoint of an in-process venue: what a restore
puts back, what it refuses, how the clock and ids go back, and what a restart keeps."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from sandex.node.storage import snapshot_now, verify
from sandex.timefmt import parse_iso
from tests.api.rest.harness import InProcessClient, InProcessVenue
from tests.support.rest_kit import ALICE, ALICE_PROFILE, BOB, SCENARIO, place

START = "2024-01-01T00:00:00Z"


def view(venue: InProcessVenue) -> dict[str, Any]:
    """What clients see: Alice's and Bob's orders and balances, the book with its sequence."""
    alice, bob = venue.client(ALICE), venue.client(BOB)
    return {"alice_orders": alice.get("/orders").json(), "bob_orders": bob.get("/orders").json(),
            "alice_accounts": alice.get("/accounts").json(),
            "bob_accounts": bob.get("/accounts").json(),
            "fills": alice.get("/fills?product_id=BTC-USD").json(),
            "book": {k: v for k, v in venue.client().get(
                "/products/BTC-USD/book?level=3").json().items() if k != "time"}}


def _us(text: str) -> int:
    parsed = parse_iso(text)
    assert parsed is not None
    return parsed


def state(venue: InProcessVenue) -> dict[str, Any]:
    reply = venue.admin("state", method="GET")
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


def ok(venue: InProcessVenue, command: str, **args: Any) -> Any:
    reply = venue.admin(command, **args)
    assert reply.status == 200, (command, reply.body)
    return reply.json()


def trade(alice: InProcessClient, bob: InProcessClient) -> None:
    """Resting orders on both sides and one fill."""
    place(alice, price="1000.00", size="0.5")
    place(alice, price="990.00", size="1")
    place(bob, side="sell", price="1000.00", size="0.2")
    place(bob, side="sell", price="1100.00", size="0.3")


@pytest.fixture
def venue() -> Any:
    running = InProcessVenue(SCENARIO, seed=7)
    yield running
    running.close()


def test_restore_puts_back_what_clients_saw_and_reset_goes_back_to_the_scenario(
        venue: InProcessVenue) -> None:
    baseline, at_start = state(venue), view(venue)
    alice, bob = venue.client(ALICE), venue.client(BOB)
    trade(alice, bob)
    saved = ok(venue, "snapshot.save", name="mid")
    mid, at_mid = state(venue), view(venue)
    assert saved["state_hash"] == mid["state_hash"] and saved["position"] == mid["position"]
    assert len(at_mid["fills"]) == 1 and len(at_mid["alice_orders"]) == 2
    assert at_mid["book"]["sequence"] > at_start["book"]["sequence"]

    assert alice.delete("/orders").status == 200
    place(bob, side="sell", price="990.00", size="1")
    ok(venue, "deposit", profile=ALICE_PROFILE, currency="USD", amount="5")
    assert view(venue) != at_mid

    restored = ok(venue, "snapshot.restore", name="mid")
    assert restored["name"] == "mid" and restored["state_hash"] == mid["state_hash"]
    assert view(venue) == at_mid and state(venue)["state_hash"] == mid["state_hash"]

    reset = ok(venue, "reset")
    assert reset["state_hash"] == baseline["state_hash"]
    assert view(venue) == at_start
    listed = venue.admin("snapshot.list", method="GET").json()
    assert [s["name"] for s in listed] == ["baseline", "mid"]
    assert listed[0]["state_hash"] == baseline["state_hash"]


def test_a_seeded_venue_issues_the_same_ids_after_every_restore(venue: InProcessVenue) -> None:
    alice = venue.client(ALICE)
    ok(venue, "snapshot.save", name="empty")
    place(alice)
    ok(venue, "snapshot.restore", name="empty")
    first = [place(alice)["id"], place(alice, price="11.00")["id"]]
    ok(venue, "snapshot.restore", name="empty")
    assert [place(alice)["id"], place(alice, price="11.00")["id"]] == first
    ok(venue, "snapshot.restore", name="empty")
    assert place(alice)["id"] == first[0]


def test_bad_snapshot_input_is_a_400_message_and_changes_nothing(venue: InProcessVenue) -> None:
    before = state(venue)
    bad: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("snapshot.restore", "POST", {"name": "nope"}, 400, "Snapshot nope not found"),
        ("snapshot.delete", "POST", {"name": "nope"}, 400, "Snapshot nope not found"),
        ("snapshot.delete", "POST", {"name": "baseline"}, 400,
         "the baseline cannot be deleted (reset restores it); save over it to move it"),
        ("snapshot.save", "POST", {"name": "../etc"}, 400, "is not a snapshot name"),
        ("snapshot.save", "POST", {"name": "x" * 65}, 400, "is not a snapshot name"),
        ("snapshot.save", "POST", {"name": 5}, 400, "is not a snapshot name"),
        ("snapshot.save", "POST", {}, 400, "is not a snapshot name"),
        ("snapshot.save", "GET", {}, 400, "snapshot.save changes the venue: send it with POST"),
        ("reset", "GET", {}, 400, "reset changes the venue: send it with POST"),
        ("snapshot.rename", "POST", {"name": "a"}, 404, "Unknown admin command snapshot.rename")]
    for command, method, args, status, message in bad:
        reply = venue.admin(command, method=method, **args)
        assert reply.status == status and set(reply.json()) == {"message"}, (command, reply.body)
        assert message in reply.json()["message"], (command, reply.body)
    assert state(venue) == {**before, "time": state(venue)["time"]}


def test_at_most_32_snapshots_are_kept_and_a_name_is_replaced(venue: InProcessVenue) -> None:
    for n in range(31):  # and the baseline
        ok(venue, "snapshot.save", name=f"s{n}")
    before = state(venue)
    refused = venue.admin("snapshot.save", name="one-more")
    assert (refused.status, refused.json()) == (
        400, {"message": "At most 32 snapshots are kept: delete one first"})
    assert state(venue)["position"] == before["position"]
    place(venue.client(ALICE))
    replaced = ok(venue, "snapshot.save", name="s0")
    assert replaced["state_hash"] == state(venue)["state_hash"] != before["state_hash"]
    assert ok(venue, "snapshot.delete", name="s1") == {"name": "s1", "deleted": True}
    ok(venue, "snapshot.save", name="one-more")
    assert len(venue.admin("snapshot.list", method="GET").json()) == 32


def test_a_restore_takes_a_virtual_clock_back_to_the_snapshot_time(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f'{SCENARIO.read_text()}\n[clock]\nmode = "virtual"\nstart = "{START}"\n'
                        'rate = 0\n')
    venue = InProcessVenue(scenario, seed=3)
    try:
        baseline = venue.admin("snapshot.list", method="GET").json()[0]
        assert baseline["time"].startswith("2024-01-01T00:00:00.")
        alice = venue.client(ALICE)
        first = place(alice)
        assert ok(venue, "clock.advance", by="1d")["now"].startswith("2024-01-02T00:00:00.")
        reset = ok(venue, "reset")
        assert reset["clock"]["now"] == baseline["time"]
        assert (reset["clock"]["mode"], reset["clock"]["frozen"]) == ("virtual", True)
        assert venue.client().get("/time").json()["iso"] == baseline["time"]
        again = place(alice)  # stamped just after the baseline, as the first order was
        assert again["created_at"] == first["created_at"]
        created = parse_iso(again["created_at"])
        assert created is not None and created == _us(baseline["time"]) + 1
    finally:
        venue.close()


def test_restores_are_journaled_and_a_restart_keeps_the_snapshots(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    venue = InProcessVenue(SCENARIO, seed=11, data_dir=data_dir)
    try:
        alice, bob = venue.client(ALICE), venue.client(BOB)
        trade(alice, bob)
        ok(venue, "snapshot.save", name="traded")
        snapshot_now(venue.venue.node, data_dir)  # a periodic snapshot holding "traded"
        place(bob, side="sell", price="990.00", size="1")
        ok(venue, "snapshot.restore", name="traded")
        place(alice, price="20.00")
        live, listed, seen = state(venue), venue.admin("snapshot.list", method="GET").json(), \
            view(venue)
    finally:
        venue.close()
    assert verify(data_dir).ok
    for start in ("from the periodic snapshot", "from the journal alone"):
        if start == "from the journal alone":
            shutil.rmtree(data_dir / "snapshots")
        again = InProcessVenue(SCENARIO, seed=11, data_dir=data_dir)
        try:
            assert state(again)["state_hash"] == live["state_hash"], start
            assert again.admin("snapshot.list", method="GET").json() == listed, start
            assert view(again) == seen, start
        finally:
            again.close()
    again = InProcessVenue(SCENARIO, seed=11, data_dir=data_dir)
    try:
        assert ok(again, "reset")["state_hash"] == listed[0]["state_hash"]
    finally:
        again.close()


def test_a_data_dir_from_before_baselines_says_how_to_get_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(Path(__file__).parent.parent / "journal" / "format1_data_dir", data_dir)
    venue = InProcessVenue(SCENARIO, data_dir=data_dir)
    try:
        before = state(venue)
        refused = venue.admin("reset")
        assert (refused.status, refused.json()) == (400, {"message": (
            "this venue has no baseline snapshot (its data dir was created before sandex kept "
            "one): save one with `sandex snapshot save baseline`")})
        assert state(venue)["position"] == before["position"]
        ok(venue, "snapshot.save", name="baseline")
        place(venue.client(ALICE))
        assert ok(venue, "reset")["state_hash"] == before["state_hash"]
    finally:
        venue.close()
