"""A standby applies the messages its tail delivered while it was busy in one ``follow``: each
checked as one is, their events handed to the listeners at once (no servers: the messages as
the tail delivers them)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from sandex.cluster.journal import Batch, NatsJournal
from sandex.cluster.role import Cluster
from sandex.journal import JournalCorrupt
from sandex.node import Batched, Takeover
from sandex.node.codec import encode
from sandex.node.node import Deposed, Node


def messages(*sizes: int, first_seq: int = 1, first_position: int = 1) -> list[Batch]:
    """Consecutive stream messages of ``sizes`` records each (``Takeover`` records)."""
    out, seq, position = [], first_seq, first_position
    for size in sizes:
        records = [encode(Takeover(time=1_000 + position + i, epoch=7, node="a"))
                   for i in range(size)]
        out.append(Batch(seq, 7, position, records))
        seq, position = seq + 1, position + size
    return out


def standby() -> tuple[Cluster, Node, Any, list[list[list[Any]]]]:
    journal = SimpleNamespace(path="nats://127.0.0.1:4222/SANDEX_JOURNAL", last_seq=0,
                              last_position=0, last_epoch=0)
    cluster = Cluster(cast(NatsJournal, journal), "b", "http://127.0.0.1:8001")
    node = Node()
    node.follower_of = "a at http://127.0.0.1:8000"
    handed: list[list[list[Any]]] = []
    node.listeners.append(Batched(handed.append))
    return cluster, node, journal, handed


def test_a_run_of_messages_is_applied_in_one_follow() -> None:
    cluster, node, journal, handed = standby()

    cluster._apply_run(node, messages(2, 3, 1))

    assert node.position == 6 and node.epoch == 7
    assert len(handed) == 1 and len(handed[0]) == 6  # one hand-over, one list per command
    assert (journal.last_seq, journal.last_position, journal.last_epoch) == (3, 6, 7)


def test_a_run_skips_what_the_node_has_and_applies_the_rest() -> None:
    cluster, node, journal, handed = standby()
    run = messages(2, 3, 2)
    cluster._apply_run(node, run[:1])  # positions 1-2 applied before
    node_commands = node.position

    cluster._apply_run(node, run)  # delivered again (a resubscription) with what follows

    assert (node_commands, node.position) == (2, 7)
    assert [len(batch) for batch in handed] == [2, 5]
    assert (journal.last_seq, journal.last_position) == (3, 7)


def test_a_gap_in_a_run_applies_what_precedes_it_then_deposes() -> None:
    cluster, node, journal, handed = standby()
    good = messages(2, 2)
    gap = messages(1, first_seq=3, first_position=6)  # positions 5 missing

    with pytest.raises(JournalCorrupt, match="gap in the journal: message 3 starts at "
                                             "position 6, the node is at 4"):
        cluster._apply_run(node, [*good, *gap])

    assert node.position == 4 and [len(batch) for batch in handed] == [4]
    assert (journal.last_seq, journal.last_position) == (2, 4)
    with pytest.raises(Deposed):  # the node stopped: the server restarts from the stream
        node.follow(5, [Takeover(time=9_999, epoch=7, node="a")])
