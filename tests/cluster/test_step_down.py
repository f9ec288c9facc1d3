"""How a node answers when the replicated journal deposes it, and as a follower: the node's
refusals and their 503 texts (no servers: a journal that refuses like JetStream does)."""

from __future__ import annotations

import asyncio
import json

import pytest

from sandex.api.http import Request, Response, answer
from sandex.journal import JournalFenced, JournalUncertain, MemoryJournal
from sandex.node import Takeover
from sandex.node.node import Deposed, Node, NotLeader


class RefusingJournal(MemoryJournal):
    """Appends on a writer thread (as JetStream's does) and refuses them with ``error``."""

    blocking = True

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def append(self, records: list[bytes]) -> int:
        raise self.error


def reply(error: Exception) -> tuple[int, object]:
    async def handle(request: Request) -> Response:
        raise error

    request = Request("POST", "/orders", "/orders", "", {}, b"{}", "127.0.0.1")
    response = asyncio.run(answer(handle, request))
    return response.status, json.loads(response.body)


@pytest.mark.parametrize("refusal", [JournalFenced("the stream moved past sequence 7"),
                                     JournalUncertain("no acknowledgement for 15.0 s")])
def test_a_refused_or_unanswered_append_deposes_the_node_and_answers_503(
        refusal: Exception) -> None:
    stopped: list[BaseException] = []
    node = Node(journal=RefusingJournal(refusal))
    node.on_failure = stopped.append

    async def place() -> None:
        await node.execute(Takeover(time=node.stamp(), epoch=3, node="a"))

    with pytest.raises(Deposed) as caught:
        asyncio.run(place())
    assert stopped == [refusal]  # the server restarts as a follower on this
    assert reply(caught.value) == (503, {
        "message": "sandex cluster: the leader changed while this request was in flight, its "
                   "outcome is unknown; retry it (with the same client_oid)"})
    with pytest.raises(Deposed):  # and it accepts nothing more
        asyncio.run(place())


def test_a_follower_refuses_commands_and_names_the_leader() -> None:
    node = Node()
    node.follower_of = "b at http://127.0.0.1:8001"

    with pytest.raises(NotLeader) as caught:
        asyncio.run(node.execute(Takeover(time=node.stamp(), epoch=3, node="a")))
    assert node.position == 0  # nothing applied
    assert reply(caught.value) == (503, {
        "message": "sandex cluster: this node is a read-only follower; send writes to the "
                   "leader (b at http://127.0.0.1:8001)"})
    node.follow(1, [Takeover(time=node.stamp(), epoch=4, node="b")])  # the leader's records
    assert (node.position, node.epoch) == (1, 4)
