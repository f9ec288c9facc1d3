"""A data directory: recovery from snapshot + journal tail, damaged snapshots, verify, and
the server refusing a corrupt journal (or truncating a torn tail) at start-up."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from sandex.core import CancelOrder, OrderType, PlaceOrder, Side
from sandex.journal import JournalCorrupt
from sandex.node import snapshot
from sandex.node.node import Node
from sandex.node.storage import (
    CHILD_NICENESS,
    JOURNAL_FILE,
    SNAPSHOT_DIR,
    open_node,
    snapshot_now,
    take_snapshot,
    verify,
)
from sandex.server import build
from tests.support.rest_kit import SCENARIO, start_server

ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "b0b00000-0000-4000-8000-000000000002"


def trade(node: Node, count: int) -> list[str]:
    """``count`` rounds of a resting bid, a crossing ask and a cancel; the bids' ids."""

    async def run() -> list[str]:
        ids = []
        for i in range(count):
            bid = PlaceOrder(time=node.stamp(), order_id=node.ids.uuid(), profile_id=ALICE,
                             product_id="BTC-USD", side=Side.BUY, type=OrderType.LIMIT,
                             price=(100 + i) * 10**8, size=2 * 10**8)
            await node.execute(bid)
            await node.execute(PlaceOrder(
                time=node.stamp(), order_id=node.ids.uuid(), profile_id=BOB,
                product_id="BTC-USD", side=Side.SELL, type=OrderType.LIMIT,
                price=(100 + i) * 10**8, size=10**8))
            if i % 2:
                await node.execute(CancelOrder(time=node.stamp(), profile_id=ALICE,
                                               order_id=bid.order_id))
            ids.append(bid.order_id)
        return ids

    return asyncio.run(run())


def close(node: Node) -> None:
    asyncio.run(node.close())


def test_restart_without_a_snapshot_replays_the_whole_journal(tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    ids = trade(node, 3)
    expected, position = snapshot.node_hash(node), node.position
    close(node)  # as after kill -9: no snapshot

    again = open_node(tmp_path)
    assert (again.position, again.snapshot_position) == (position, 0)
    assert snapshot.node_hash(again) == expected
    statuses = [again.engine.orders[i].status.value for i in ids]
    assert statuses == ["open", "done", "open"]  # the second was half filled, then canceled
    close(again)


def test_the_snapshot_child_runs_behind_the_server(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 2)
    seen = tmp_path / "niceness"
    write = snapshot.write_temporary

    def noted(*args: object, **kwargs: object) -> None:  # in the forked child
        seen.write_text(f"{os.nice(0)} {kwargs}")
        write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot, "write_temporary", noted)
    assert asyncio.run(take_snapshot(node, tmp_path)) is not None
    assert seen.read_text() == f"{min(os.nice(0) + CHILD_NICENESS, 19)} {{'paced': True}}"
    assert min(os.nice(0) + CHILD_NICENESS, 19) == 19
    close(node)


def test_a_paced_snapshot_file_is_the_same_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    state = bytes(range(256)) * 41  # 10,496 bytes: ten whole chunks and a part
    monkeypatch.setattr(snapshot, "PACED_CHUNK", 1024)
    monkeypatch.setattr(snapshot, "PACED_PAUSE_MAX_S", 0.001)
    snapshot.write_temporary(tmp_path / "a.tmp", 7, state, "h")
    snapshot.write_temporary(tmp_path / "b.tmp", 7, state, "h", paced=True)
    assert (tmp_path / "a.tmp").read_bytes() == (tmp_path / "b.tmp").read_bytes()
    assert (tmp_path / "b.tmp").read_bytes().endswith(state)


def test_restart_from_snapshot_plus_tail_rebuilds_the_same_state(tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 4)
    asyncio.run(take_snapshot(node, tmp_path))
    at_snapshot = node.position
    ids = trade(node, 3)  # the tail after the snapshot
    expected, position = snapshot.node_hash(node), node.position
    fills = [f.trade_id for f in node.fills.for_order(ids[-1])]
    close(node)

    again = open_node(tmp_path)
    assert again.snapshot_position == at_snapshot < position == again.position
    assert snapshot.node_hash(again) == expected
    assert [f.trade_id for f in again.fills.for_order(ids[-1])] == fills
    assert again.stamp() > node._last_time  # time never goes backwards across a restart
    close(again)


def test_a_damaged_newest_snapshot_falls_back_to_an_older_one(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture
                                                              ) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 2)
    older = snapshot_now(node, tmp_path)
    trade(node, 2)
    newest = snapshot_now(node, tmp_path)
    expected = snapshot.node_hash(node)
    close(node)
    assert older is not None and newest is not None
    data = bytearray(newest.read_bytes())
    data[-10] ^= 0xFF
    newest.write_bytes(bytes(data))

    with caplog.at_level(logging.WARNING, "sandex.snapshot"):
        again = open_node(tmp_path)
    assert f"skipping snapshot: {newest}: checksum mismatch" in caplog.text
    assert again.snapshot_position == int(older.stem.split("-")[1])
    assert snapshot.node_hash(again) == expected
    close(again)


def test_only_the_newest_snapshots_are_kept(tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    for _ in range(4):
        trade(node, 1)
        snapshot_now(node, tmp_path)
    close(node)
    kept = sorted(p.name for p in (tmp_path / SNAPSHOT_DIR).iterdir())
    assert kept == [f"snapshot-{node.position - 2:012d}.bin", f"snapshot-{node.position:012d}.bin"]


def test_a_snapshot_beyond_the_journal_refuses_to_start(tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 2)
    snapshot.write(tmp_path / SNAPSHOT_DIR, node.position + 5, node.dump_state(), "x")
    close(node)
    with pytest.raises(JournalCorrupt, match=r"ends at position \d+, but snapshot .* is at "
                                             r"position \d+: records are missing"):
        open_node(tmp_path)


def test_seeded_ids_after_a_restart_are_new(tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path, seed=9).node
    before = [node.ids.uuid() for _ in range(50)]
    close(node)
    node = open_node(tmp_path, seed=9)
    after = [node.ids.uuid() for _ in range(50)]
    close(node)
    assert not set(before) & set(after)


# --- sandex verify ---------------------------------------------------------------------------


def sandex(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandex.cli", *args], capture_output=True,
                          text=True, timeout=60)


def test_verify_replays_from_zero_and_matches_the_snapshot(tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 5)
    snapshot_now(node, tmp_path)
    expected, position = snapshot.node_hash(node), node.position
    trade(node, 1)  # a tail after the snapshot (a bid and an ask) is replayed too
    close(node)

    result = verify(tmp_path)
    assert (result.ok, result.position, result.replayed, result.journal_end) == (
        True, position, expected, position + 2)
    done = sandex("verify", "--data-dir", str(tmp_path))
    assert done.returncode == 0
    assert done.stdout == (f"{tmp_path}: OK: replay from zero to position {position} gives "
                           f"{expected}; the snapshot says {expected} (journal ends at "
                           f"{position + 2})\n  snapshot-{position:012d}.bin: usable\n")


def test_verify_reports_a_snapshot_that_replay_does_not_reproduce(tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 2)
    path = snapshot_now(node, tmp_path)
    close(node)
    assert path is not None
    header, state = path.read_bytes().split(b"\n", 1)
    fields = json.loads(header)
    fields["state_hash"] = "0" * 64
    path.write_bytes(json.dumps(fields).encode() + b"\n" + state)

    done = sandex("verify", "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert f"MISMATCH: replay from zero to position {node.position} gives " in done.stdout
    assert f"the snapshot says {'0' * 64}" in done.stdout


def test_verify_without_a_journal_is_an_error(tmp_path: Path) -> None:
    done = sandex("verify", "--data-dir", str(tmp_path / "nothing"))
    assert done.returncode == 2
    assert done.stderr == f"sandex: {tmp_path / 'nothing' / JOURNAL_FILE}: no journal here\n"


# --- start-up on a damaged journal -----------------------------------------------------------


def journal_with_trades(tmp_path: Path) -> Path:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 3)
    close(node)
    return tmp_path / JOURNAL_FILE


def damage(path: Path, position: int) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE journal SET crc = crc + 1 WHERE position = ?", (position,))
    con.close()


def last_position(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT max(position) FROM journal").fetchone()[0])
    finally:
        con.close()


def test_the_server_truncates_a_torn_tail_and_says_so(tmp_path: Path) -> None:
    path = journal_with_trades(tmp_path)
    end = last_position(path)
    damage(path, end)
    server = start_server(data_dir=tmp_path)
    try:
        assert last_position(path) == end - 1
    finally:
        server.stop()
    log = server.log()
    assert (f"{path}: torn tail: record at position {end} was never acknowledged; truncated"
            in log)
    assert server.process.returncode == 0


def test_the_server_refuses_a_corrupt_middle_record_and_changes_nothing(tmp_path: Path) -> None:
    path = journal_with_trades(tmp_path)
    damage(path, 5)
    before = path.read_bytes()
    done = sandex("serve", "--port", "1", "--scenario", str(SCENARIO), "--data-dir",
                  str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.endswith(f"sandex: {path}: record at position 5 is corrupt "
                                "(checksum mismatch) and is not the last\n")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [JOURNAL_FILE, "lock"]  # no snapshot


def test_a_long_replay_logs_its_progress(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import sandex.node.storage as storage

    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 2)
    end = node.position
    close(node)
    monkeypatch.setattr(storage, "PROGRESS_EVERY_S", 0.0)  # a line per chunk,
    monkeypatch.setattr(storage, "CHUNK", 1)  # of one record
    with caplog.at_level(logging.INFO, "sandex.storage"):
        close(open_node(tmp_path))
    assert f"replaying journal positions 1..{end}" in caplog.text
    assert f"replaying journal: {end // 2} of {end}" in caplog.text
    assert f"replayed to position {end} in " in caplog.text


# --- compaction ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["archive", "remove"])
def test_verify_compact_takes_out_what_the_snapshot_covers(tmp_path: Path, how: str) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 3)
    at = snapshot_now(node, tmp_path)
    position = node.position
    trade(node, 2)
    expected = snapshot.node_hash(node)
    close(node)
    assert at is not None

    done = sandex("verify", "--data-dir", str(tmp_path), "--compact", how)
    assert done.returncode == 0, done.stderr
    archive = tmp_path / f"journal-archive-{1:012d}-{position:012d}.sqlite3"
    assert done.stdout.endswith(f"{tmp_path}: compacted: {position} records up to position "
                                f"{position} " + (f"moved to {archive}\n" if how == "archive"
                                                  else "removed\n"))
    con = sqlite3.connect(tmp_path / JOURNAL_FILE)
    assert con.execute("SELECT min(position) FROM journal").fetchone()[0] == position + 1
    con.close()
    if how == "archive":
        con = sqlite3.connect(archive)
        assert con.execute("SELECT count(*), max(position) FROM journal").fetchone() == (
            position, position)
        con.close()
    else:
        assert not archive.exists()

    again = open_node(tmp_path)  # from the snapshot, then the tail
    assert snapshot.node_hash(again) == expected and again.snapshot_position == position
    close(again)
    assert sandex("verify", "--data-dir", str(tmp_path)).returncode == 0

    at.write_bytes(b"damaged")  # no usable snapshot covers the records taken out any more
    done = sandex("serve", "--port", "1", "--scenario", str(SCENARIO), "--data-dir",
                  str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.endswith(f"sandex: {tmp_path / JOURNAL_FILE}: records up to position "
                                f"{position} were compacted away and no usable snapshot "
                                "covers them\n")


def test_start_up_checks_only_the_tail_after_the_snapshot_and_verify_checks_all(
        tmp_path: Path) -> None:
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 3)
    snapshot_now(node, tmp_path)
    trade(node, 1)
    expected = snapshot.node_hash(node)
    close(node)
    damage(tmp_path / JOURNAL_FILE, 5)  # before the snapshot: start-up does not read it

    again = open_node(tmp_path)
    assert snapshot.node_hash(again) == expected
    close(again)
    done = sandex("verify", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == (f"sandex: {tmp_path / JOURNAL_FILE}: record at position 5 is corrupt "
                           "(checksum mismatch) and is not the last\n")


@pytest.mark.parametrize("chunk", [4096, 1, 4])
def test_start_up_reads_each_record_once_and_refuses_a_corrupt_one_by_position(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    import sandex.node.storage as storage

    monkeypatch.setattr(storage, "CHUNK", chunk)
    node = build(SCENARIO, data_dir=tmp_path).node
    trade(node, 3)
    expected, end = snapshot.node_hash(node), node.position
    close(node)
    again = open_node(tmp_path)  # chunked replay: the same state as applied live
    assert (again.position, snapshot.node_hash(again)) == (end, expected)
    close(again)

    path = tmp_path / JOURNAL_FILE
    damage(path, 6)  # found by the replay's read, not the open, in the same words
    before = path.read_bytes()
    with pytest.raises(JournalCorrupt) as caught:
        open_node(tmp_path)
    assert str(caught.value) == (f"{path}: record at position 6 is corrupt (checksum "
                                 "mismatch) and is not the last")
    assert path.read_bytes() == before

    con = sqlite3.connect(path)  # a record with a good checksum that is not a command
    with con:
        con.execute("UPDATE journal SET body = ?, crc = ? WHERE position = 6",
                    (b'{"tag":"nope"}', zlib.crc32(b'{"tag":"nope"}')))
    con.close()
    with pytest.raises(JournalCorrupt) as caught:
        open_node(tmp_path)
    assert str(caught.value).startswith(f"{path}: record at position 6 does not decode: ")
