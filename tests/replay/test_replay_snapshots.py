"""A replay and the venue's snapshots (the pytest plugin's fixture): restoring a snapshot
taken mid-replay takes the replay back too (events, line, paused), and it goes on from there
to exactly the end state of a run that never went back (same state hash)."""

from __future__ import annotations

from pathlib import Path

from tests.support.recordings_kit import framed, full_messages, write


def test_a_restored_replay_goes_on_to_the_same_end_state(sandex, tmp_path: Path) -> None:
    path = write(tmp_path / "full.jsonl.gz", framed(full_messages(3_000, ("BTC-USD",))),
                 "gzip")
    sandex.clock.freeze()  # every stamp the same in both runs
    loaded = sandex.replay.load(path, format="coinbase-full", speed="max")
    assert (loaded["state"], loaded["events"]) == ("paused", 0)
    sandex.snapshot("loaded")  # both runs go on from this load (its seed, its clock)

    mid = sandex.replay.step(700)
    assert (mid["state"], mid["events"]) == ("paused", 700)
    sandex.snapshot("mid")
    book_mid = sandex.book("BTC-USD", 3)
    later = sandex.replay.step(1_000)
    assert later["events"] == 1_700 and later["line"] > mid["line"]
    assert sandex.book("BTC-USD", 3) != book_mid
    sandex.restore("mid")
    back = sandex.replay.status()
    assert (back["state"], back["events"], back["line"]) == ("paused", 700, mid["line"])
    assert back["source_time"] == mid["source_time"]
    assert sandex.book("BTC-USD", 3) == book_mid
    sandex.replay.start()
    restored_end = sandex.replay.wait(30)
    restored_hash = sandex.state_hash()

    sandex.restore("loaded")  # the same again, straight through
    assert sandex.replay.status()["events"] == 0
    assert sandex.replay.step(700)["events"] == 700
    sandex.replay.start()
    straight_end = sandex.replay.wait(30)
    assert straight_end["state"] == restored_end["state"] == "finished"
    same = ("events", "line", "source_time", "recorded_trades", "reproduced_trades",
            "cancels_noop", "ended_early", "user_fills")
    assert {k: restored_end[k] for k in same} == {k: straight_end[k] for k in same}
    assert straight_end["recorded_trades"] > 0 and straight_end["events"] > 3_000
    assert sandex.state_hash() == restored_hash
