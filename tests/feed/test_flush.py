"""The fan-out's write side: ``push_all`` into bounded queues, and the paced flush passes that
write each connection's queue in one ``write``, each run of frames framed and joined once.

Sans-I/O: connections are stand-ins for uvicorn's WebSocket protocol whose transports record
what they are given (the real server paths are covered by the other feed tests)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sandex.admin.races import FeedHolds
from sandex.api.feed.flush import Direct, Flusher
from sandex.api.feed.session import Session, push_all
from sandex.errors import Error


class Transport:
    def __init__(self, stall: float = 0.0) -> None:
        self.writes: list[tuple[float, bytes]] = []
        self.stall = stall  # seconds each write takes (a long pass)

    def write(self, data: bytes) -> None:
        self.writes.append((time.monotonic(), data))
        if self.stall:
            end = time.monotonic() + self.stall
            while time.monotonic() < end:
                pass


class Protocol:
    def __init__(self, stall: float = 0.0) -> None:
        self.transport = Transport(stall)
        self.writable = asyncio.Event()
        self.writable.set()
        self.disconnected = self.close_sent = False

    async def send(self, message: dict[str, Any]) -> None:
        raise AssertionError(message)


def frames(data: bytes) -> list[str]:
    """Decode a run of unmasked server text frames (RFC 6455 §5.2)."""
    out, pos = [], 0
    while pos < len(data):
        assert data[pos] == 0x81
        n, start = data[pos + 1], 2
        if n == 126:
            n, start = int.from_bytes(data[pos + 2:pos + 4], "big"), 4
        out.append(data[pos + start:pos + start + n].decode())
        pos += start + n
    return out


def connect(flusher: Flusher, count: int, stall: float = 0.0,
            queue_max: int = 100) -> list[Session]:
    sessions = []
    for i in range(count):
        s = Session("127.0.0.1", queue_max, i + 1)
        s.direct = Direct(Protocol(stall))
        s.flusher = flusher
        sessions.append(s)
    return sessions


def writes(session: Session) -> list[tuple[float, bytes]]:
    assert session.direct is not None
    return session.direct.transport.writes  # type: ignore[attr-defined, no-any-return]


def test_each_connection_gets_its_frames_in_one_write_framed_once_for_all() -> None:
    loop = asyncio.new_event_loop()
    flusher = Flusher(loop, FeedHolds())
    sessions = connect(flusher, 3)
    long = '{"type":"open","pad":"' + "x" * 200 + '"}'  # a 16-bit length
    push_all(sessions, '{"type":"received"}', "full", "BTC-USD")
    push_all(sessions, long, "full", "BTC-USD", skip={sessions[1]})
    sessions[1].push('{"type":"open","own":true}', "full", "BTC-USD")
    loop.run_until_complete(asyncio.sleep(0))
    assert [len(writes(s)) for s in sessions] == [1, 1, 1]
    assert frames(writes(sessions[0])[0][1]) == ['{"type":"received"}', long]
    assert frames(writes(sessions[1])[0][1]) == ['{"type":"received"}',
                                                  '{"type":"open","own":true}']
    assert writes(sessions[2])[0][1] is writes(sessions[0])[0][1]  # joined once
    assert all(not s.queue and s.queued_bytes == 0 for s in sessions)
    assert sessions[0].written == len('{"type":"received"}') + len(long)
    loop.close()


def test_a_queue_past_its_bound_is_cut_and_the_others_still_get_the_frame() -> None:
    loop = asyncio.new_event_loop()
    flusher = Flusher(loop, FeedHolds())
    small, normal = connect(flusher, 1, queue_max=2) + connect(flusher, 1)
    for i in range(3):
        push_all([small, normal], f'{{"n":{i}}}', "full", "BTC-USD")
    assert small.closing  # cut: in process (no transport to abort) closed with the error
    assert [json.loads(f) for f in small.queue] == [{
        "type": "error", "message": Error.FEED_SLOW_CONSUME.format(),
        "reason": Error.FEED_SLOW_CONSUME_REASON.format()}]
    push_all([small], '{"n":9}', "full", "BTC-USD")  # a closing session takes no more
    assert len(small.queue) == 1
    loop.run_until_complete(asyncio.sleep(0))
    assert frames(writes(normal)[0][1]) == ['{"n":0}', '{"n":1}', '{"n":2}']
    loop.close()


def run_until(loop: asyncio.AbstractEventLoop, done: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        loop.run_until_complete(asyncio.sleep(0.001))


def test_passes_are_spaced_by_their_own_duration_up_to_gap_max() -> None:
    loop = asyncio.new_event_loop()
    flusher = Flusher(loop, FeedHolds(), gap_max=1.0)
    sessions = connect(flusher, 4, stall=0.01)  # a pass of at least 40 ms
    push_all(sessions, '{"n":1}', "full", "BTC-USD")
    loop.run_until_complete(asyncio.sleep(0))  # the first pass: at once
    first_end = time.monotonic()
    push_all(sessions, '{"n":2}', "full", "BTC-USD")
    push_all(sessions, '{"n":3}', "full", "BTC-USD")  # both in the next pass
    run_until(loop, lambda: len(writes(sessions[-1])) == 2)
    second = writes(sessions[0])[1]
    assert second[0] - first_end >= 0.035  # waited about as long as the pass took
    assert [len(writes(s)) for s in sessions] == [2, 2, 2, 2]
    assert frames(second[1]) == ['{"n":2}', '{"n":3}']

    capped = Flusher(loop, FeedHolds(), gap_max=0.001)
    slow = connect(capped, 2, stall=0.25)  # a 500 ms pass, but at most 1 ms between passes
    push_all(slow, '{"n":1}', "full", "BTC-USD")
    loop.run_until_complete(asyncio.sleep(0))
    end = time.monotonic()
    push_all(slow, '{"n":2}', "full", "BTC-USD")
    run_until(loop, lambda: len(writes(slow[0])) == 2)
    assert len(writes(slow[0])) == 2 and writes(slow[0])[1][0] - end < 0.4
    loop.close()


def test_a_quiet_feed_is_written_in_the_next_loop_iteration() -> None:
    loop = asyncio.new_event_loop()
    flusher = Flusher(loop, FeedHolds(), gap_max=0.02)
    sessions = connect(flusher, 2)
    push_all(sessions, '{"n":1}', "full", "BTC-USD")
    loop.run_until_complete(asyncio.sleep(0))
    loop.run_until_complete(asyncio.sleep(0.005))  # longer than that (instant) pass took
    push_all(sessions, '{"n":2}', "full", "BTC-USD")
    loop.run_until_complete(asyncio.sleep(0))
    assert [len(writes(s)) for s in sessions] == [2, 2]
    loop.close()
