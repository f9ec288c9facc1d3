"""The JetStream journal against real servers: batches as messages, compare-and-append,
deduplicated retries, recovery to the same state hash, ``sandex verify``, and the refusal of
an unsafe configuration (1 replica, lazy fsync, unchecked)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from nats.js.api import StorageType, StreamConfig

from sandex.cluster.journal import NatsJournal, UnsafeJournal
from sandex.cluster.local import LocalCluster
from sandex.cluster.snapshots import fetch_newest, upload
from sandex.core import Duplicate, Rejected
from sandex.journal import JournalFenced
from sandex.node import snapshot
from sandex.node.codec import decode
from sandex.node.node import Node
from sandex.node.storage import open_node, snapshot_now
from tests.support.cluster_kit import _free_base


def _accepted() -> tuple[list[bytes], Node]:
    """The golden records a node accepts (a journal holds no refused command), and that node
    (the writer) after them."""
    records, writer = [], Node()
    for record in (Path(__file__).parent.parent / "journal" / "golden_records.jsonl") \
            .read_bytes().splitlines():
        events = writer.apply(decode(record))  # type: ignore[arg-type]
        if not events or type(events[0]) not in (Rejected, Duplicate):
            records.append(record)
    return records, writer


GOLDEN, WRITER = _accepted()


def journal(cluster: LocalCluster, stream: str, **kw: object) -> NatsJournal:
    return NatsJournal(cluster.url, monitors=cluster.monitors.split(","), stream=stream,
                       **kw)  # type: ignore[arg-type]


def fresh_stream() -> str:
    return f"T{uuid.uuid4().hex[:10]}"


def test_a_batch_is_one_message_and_reads_back_in_order(jetstream: LocalCluster) -> None:
    stream = fresh_stream()
    with journal(jetstream, stream) as log:
        log.epoch = 4
        assert log.append([b"one", b"two"]) == 2
        assert log.append([b"three"]) == 3
        assert list(log.read()) == [(1, b"one"), (2, b"two"), (3, b"three")]
        assert list(log.read(2)) == [(3, b"three")]
        assert list(log.read(1)) == [(2, b"two"), (3, b"three")]
        assert [(b.seq, b.epoch, b.first, b.last) for b in log.batches()] == [
            (1, 4, 1, 2), (2, 4, 3, 3)]
        message = log.run(log.js.get_msg(stream, 2))
        assert message.headers is not None
        assert {k: v for k, v in message.headers.items() if k.startswith(("Sandex", "Nats"))} \
            == {"Sandex-Position": "3", "Sandex-Count": "1", "Sandex-Epoch": "4",
                "Sandex-Format": "2", "Nats-Expected-Last-Sequence": "1",
                "Nats-Msg-Id": "4:3", "Nats-Expected-Stream": stream}
        info = log.run(log.js.stream_info(stream))
        assert info.config.num_replicas == 3
    with journal(jetstream, stream) as again:  # a new writer starts where the stream ends
        assert (again.last_position, again.last_seq, again.last_epoch) == (3, 2, 4)


def test_a_second_writer_is_fenced_and_nothing_of_its_batch_is_kept(
        jetstream: LocalCluster) -> None:
    stream = fresh_stream()
    with journal(jetstream, stream) as first, journal(jetstream, stream) as second:
        first.epoch, second.epoch = 1, 2
        assert first.append([b"a"]) == 1
        with pytest.raises(JournalFenced, match="moved past sequence 0"):
            second.append([b"b"])
        assert second.last_position == 0
        assert list(first.read()) == [(1, b"a")]
        assert first.append([b"c"]) == 2  # the first writer is not disturbed
    with journal(jetstream, stream) as third:
        assert list(third.read()) == [(1, b"a"), (2, b"c")]


def test_a_retried_append_is_answered_from_the_dedup_window(jetstream: LocalCluster) -> None:
    stream = fresh_stream()
    with journal(jetstream, stream) as log:
        log.epoch = 9
        assert log.append([b"x", b"y"]) == 2
        log.last_seq = log.last_position = 0  # as if the acknowledgement had been lost
        assert log.append([b"x", b"y"]) == 2
        assert log.last_seq == 1
        assert log.run(log.js.stream_info(stream)).state.messages == 1


def test_the_nodes_group_commits_are_appended_on_its_own_loop_and_fenced_there(
        jetstream: LocalCluster) -> None:
    """``append_here``: a node's batches go out over a connection of its event loop (no
    writer thread), with the same headers, dedup and compare-and-append as ``append``."""
    import asyncio
    import threading

    stream = fresh_stream()
    commands = [decode(record) for record in GOLDEN[:12]]
    with journal(jetstream, stream) as log, journal(jetstream, stream) as rival:
        log.epoch, rival.epoch = 3, 4
        node = Node(journal=log)
        threads: set[str] = set()
        append = log.append

        def on_a_thread(records: list[bytes]) -> int:  # the writer thread's path: unused
            threads.add(threading.current_thread().name)
            return append(records)

        log.append = on_a_thread  # type: ignore[method-assign]

        async def run() -> tuple[int, int]:
            results = await asyncio.gather(*(node.execute(command)  # type: ignore[arg-type]
                                             for command in commands))
            assert all(events for events in results)
            loop = asyncio.get_running_loop()
            assert log._here is not None and log._here[0] is loop  # its own connection
            assert log._here[1] is not log.client
            batches = node.batches
            assert rival.run(rival._last_seq()) == batches  # every batch is one message
            rival.last_seq, rival.last_position = batches, node.durable_position
            rival.append([GOLDEN[12]])  # another leader extends the stream
            with pytest.raises(Exception) as refused:
                await node.execute(decode(GOLDEN[12]))  # type: ignore[arg-type]
            assert type(refused.value).__name__ == "Deposed"
            assert "moved past sequence" in str(refused.value)
            await log.close_here()
            return node.durable_position, batches

        durable, batches = asyncio.run(run())
        assert threads == set() and durable == 12 and 1 <= batches <= 12
        assert [body for _, body in rival.read()] == GOLDEN[:13]  # nothing of the refused one
        message = rival.run(rival.js.get_msg(stream, 1))
        assert message.headers is not None
        assert message.headers["Nats-Msg-Id"] == "3:1"
        assert message.headers["Nats-Expected-Last-Sequence"] == "0"


def test_replaying_the_stream_gives_the_writers_state_hash(jetstream: LocalCluster,
                                                            tmp_path: Path) -> None:
    stream = fresh_stream()
    writer = WRITER
    commands = [decode(record) for record in GOLDEN]
    with journal(jetstream, stream) as log:
        for start in range(0, len(GOLDEN), 7):  # batches of 7 records: 7 messages and a bit
            log.append(GOLDEN[start:start + 7])
    with journal(jetstream, stream) as log:
        node = open_node(None, journal=log)
        assert node.position == len(GOLDEN)
        assert snapshot.node_hash(node) == snapshot.node_hash(writer)
        tail = Node()
        for command in commands[:20]:
            tail.apply(command)  # type: ignore[arg-type]
        tail.position = 20
        from sandex.node.storage import replay

        replay(tail, log, after=20)  # from the middle of a message
        assert snapshot.node_hash(tail) == snapshot.node_hash(writer)


def test_sandex_verify_replays_the_stream(jetstream: LocalCluster, tmp_path: Path) -> None:
    with NatsJournal(jetstream.url, monitors=jetstream.monitors.split(",")) as log:
        if log.last_position == 0:
            log.append(GOLDEN)
        end = log.last_position
    writer = WRITER
    done = subprocess.run(
        [sys.executable, "-m", "sandex.cli", "verify", "--data-dir", str(tmp_path / "none"),
         "--journal", jetstream.url, "--journal-monitor", jetstream.monitors],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"{jetstream.url}/SANDEX_JOURNAL: journal replays to position "
                           f"{end}, state hash {snapshot.node_hash(writer)}; no snapshot to "
                           "compare with\n")


def test_a_stream_of_one_replica_is_refused(jetstream: LocalCluster) -> None:
    stream = fresh_stream()
    with journal(jetstream, fresh_stream()) as log:
        log.run(log.js.add_stream(StreamConfig(name=stream, subjects=[f"one.{stream}"],
                                               num_replicas=1, storage=StorageType.FILE)))
    with pytest.raises(UnsafeJournal, match="refusing an unsafe journal: the stream has 1 "
                                            r"replica; at least 3 .*--unsafe-journal"):
        journal(jetstream, stream)
    with journal(jetstream, stream, unsafe=True) as log:  # told to: it runs
        assert log.last_position == 0


def test_a_journal_whose_sync_cannot_be_checked_is_refused(jetstream: LocalCluster) -> None:
    with pytest.raises(UnsafeJournal, match="no monitoring URL"):
        NatsJournal(jetstream.url, stream=fresh_stream())


def test_sandex_serve_refuses_a_lazy_fsync_server_with_one_line(tmp_path: Path) -> None:
    lazy = LocalCluster(tmp_path / "lazy", base=_free_base(), size=1, lazy=True)
    with lazy:
        done = subprocess.run(
            [sys.executable, "-m", "sandex.cli", "serve", "--data-dir", str(tmp_path / "d"),
             "--journal", lazy.url, "--journal-monitor", lazy.monitors, "--no-fix"],
            capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"sandex: {lazy.url}/SANDEX_JOURNAL: refusing an unsafe "
                                f"journal: {lazy.monitor(1)}: server n1 syncs lazily "
                                "(sync_interval 120000000000 ns)"), done.stderr
    assert not (tmp_path / "d" / "journal.sqlite3").exists()


def test_a_new_node_starts_from_the_leaders_snapshot_in_the_object_store(
        jetstream: LocalCluster, tmp_path: Path) -> None:
    with NatsJournal(jetstream.url, monitors=jetstream.monitors.split(",")) as log:
        if log.last_position == 0:
            log.append(GOLDEN)
        leader = open_node(None, journal=log)
        path = snapshot_now(leader, tmp_path / "leader")
        assert path is not None
        log.run(upload(log, path))
        fetched = fetch_newest(log, tmp_path / "new" / "snapshots")
        assert fetched is not None and fetched.name == path.name
        assert fetched.read_bytes() == path.read_bytes()
        assert fetch_newest(log, tmp_path / "new" / "snapshots") is None  # it has it now
        node = open_node(tmp_path / "new", journal=log)
        assert node.snapshot_position == leader.position  # loaded, not replayed
        assert (node.position, snapshot.node_hash(node)) == (
            leader.position, snapshot.node_hash(leader))
