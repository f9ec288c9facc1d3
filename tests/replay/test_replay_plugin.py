"""``venue.replay`` through the pytest plugin: a level-2 recording at ``speed = "clock"``
follows the venue clock (each event at its recorded offset from the first), and the fixture's
reset takes the venue back to before the load."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from sandex.testing import VenueError
from sandex.testing.replay import ReplayFailed

START = "2024-01-01T00:00:{:02d}.000000Z"


def recording(tmp_path: Path) -> Path:
    lines = [
        {"type": "snapshot", "product_id": "BTC-USD", "bids": [["49990.00", "1.5"]],
         "asks": [["50010.00", "2.0"]]},
        {"type": "l2update", "product_id": "BTC-USD", "time": START.format(0),
         "changes": [["buy", "49995.00", "0.5"]]},
        {"type": "l2update", "product_id": "BTC-USD", "time": START.format(3),
         "changes": [["sell", "50010.00", "0.5"]]},
        {"type": "l2update", "product_id": "BTC-USD", "time": START.format(10),
         "changes": [["buy", "49990.00", "0"]]},
    ]
    path = tmp_path / "btc-l2.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def top(sandex, side: str) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(s)) for p, s, _n in sandex.book("BTC-USD", 2)[side]]


def test_a_clock_replay_follows_the_venue_clock(sandex, tmp_path: Path) -> None:
    loaded = sandex.replay.load(recording(tmp_path), format="coinbase-level2", start=True)
    assert loaded["state"] == "running" and loaded["speed"] == "clock"
    sandex.clock.advance("1ms")  # the first events are due now (the clock anchors on them)
    assert top(sandex, "bids") == [(Decimal("49995"), Decimal("0.5")),
                                   (Decimal("49990"), Decimal("1.5"))]
    assert top(sandex, "asks")[0] == (Decimal("50010"), Decimal("2"))
    sandex.clock.advance("2.5s")  # the 3 s update is not due yet
    assert top(sandex, "asks")[0] == (Decimal("50010"), Decimal("2"))
    sandex.clock.advance("1s")
    assert top(sandex, "asks")[0] == (Decimal("50010"), Decimal("0.5"))
    assert sandex.replay.status()["events"] == 3
    sandex.clock.advance("10s")
    done = sandex.replay.wait(5)
    assert done["state"] == "finished" and done["events"] == 4
    assert top(sandex, "bids") == [(Decimal("49995"), Decimal("0.5"))]


def test_the_reset_before_this_test_unloaded_it(sandex) -> None:
    assert sandex.replay.status() == {"state": "idle"}
    assert sandex.book("BTC-USD", 2)["asks"] == []


def test_a_bad_event_fails_the_replay_with_its_file_and_line(sandex, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"type": "snapshot", "product_id": "BTC-USD", "bids": [],
                                "asks": []}) + "\n" + '{"type": "l2update", "product_id"\n')
    sandex.replay.load(path, format="coinbase-level2", speed="max", start=True)
    with pytest.raises(ReplayFailed, match=f"^{path}:2: "):
        sandex.replay.wait(10)


def test_seek_applies_what_came_before_a_time_and_unload_clears(sandex, tmp_path: Path) -> None:
    sandex.replay.load(recording(tmp_path), format="coinbase-level2")
    status = sandex.replay.seek("2024-01-01T00:00:05Z")
    assert (status["state"], status["events"]) == ("paused", 3)
    assert status["source_time"] == "2024-01-01T00:00:03.000000Z"
    assert top(sandex, "asks") == [(Decimal("50010"), Decimal("0.5"))]
    with pytest.raises(VenueError, match="seek goes forward only"):
        sandex.replay.seek("2024-01-01T00:00:01Z")
    unloaded = sandex.replay.unload(clear=True)  # the last replay's figures stay readable
    assert (unloaded["state"], unloaded["events"]) == ("idle", 3)
    assert sandex.book("BTC-USD", 2)["bids"] == [] and top(sandex, "asks") == []


def test_stepping_or_seeking_into_a_bad_line_fails_the_replay(sandex, tmp_path: Path) -> None:
    path = tmp_path / "bad-later.jsonl"
    good = {"type": "l2update", "product_id": "BTC-USD", "changes": [["buy", "100.00", "1"]]}
    path.write_text("".join(json.dumps({**good, "time": START.format(i)}) + "\n"
                            for i in range(3)) + '{"type": "l2update", "product_id"\n')
    for move in (lambda: sandex.replay.step(1), lambda: sandex.replay.seek(START.format(9))):
        sandex.replay.load(path, format="coinbase-level2")
        assert sandex.replay.step(3)["events"] == 3
        failed = move()
        assert (failed["state"], failed["events"]) == ("failed", 3), failed
        assert failed["error"].startswith(f"{path}:4: ")
        with pytest.raises(ReplayFailed, match=f"^{path}:4: "):
            sandex.replay.wait(5)
        assert sandex.replay.unload()["state"] == "idle"


def test_a_max_speed_run_that_meets_a_bad_line_first_is_failed_not_finished(
        sandex, tmp_path: Path) -> None:
    path = tmp_path / "bad-later.jsonl"
    good = {"type": "l2update", "product_id": "BTC-USD", "changes": [["buy", "100.00", "1"]]}
    path.write_text("".join(json.dumps({**good, "time": START.format(i)}) + "\n"
                            for i in range(3)) + '{"type": "l2update", "product_id"\n')
    sandex.replay.load(path, format="coinbase-level2", speed="max")
    sandex.replay.step(3)
    sandex.replay.start()  # its first batch meets the bad line at once
    with pytest.raises(ReplayFailed, match=f"^{path}:4: "):
        sandex.replay.wait(5)
    assert sandex.replay.status()["state"] == "failed"
