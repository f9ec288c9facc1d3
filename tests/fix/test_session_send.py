"""A session's outgoing path (``Session.send``/``send_bytes``): the exact bytes, and a resend
history the garbage collector does not have to walk."""

from __future__ import annotations

import gc

from sandex import native
from sandex.api.fix.codec import Decoder, Message, Rendered, byte_sum, encode
from sandex.api.fix.framing import HISTORY_MAX, keep
from sandex.api.fix.logon import Identity
from sandex.api.fix.session import Outbound, Sending, Session, State

WALL = 1_796_299_263.026194  # 2026-12-03 12:01:03.026194 UTC
STAMP = "20261203-12:01:03.026194"


class Gateway:
    limits = False

    def wall(self) -> float:
        return WALL


def active_session() -> tuple[Session, list[bytes]]:
    written: list[bytes] = []
    session = Session(Gateway(), 0.0)  # type: ignore[arg-type]
    session.writer = written.append
    session.state = State.ACTIVE
    session.identity = Identity("key1", "p1", 30, True, False, "", "")
    session.out = Outbound(next_seq=7)
    session._client_comp = "key1"
    session._lead = "49=Coinbase\x0156=key1\x0134="
    session.expected = 5
    return session, written


def test_send_frames_exactly_as_encode_with_the_session_header() -> None:
    session, written = active_session()
    body = [(11, "24f19a06-d902-44c2-9de2-e7d5fea7cc6a"), (39, "0"), (150, "0")]
    session.send("8", body)
    entry = Rendered.of([(268, "1"), (279, "0"), (270, "100.5")])
    lead = b"262=md-1\x01"
    session.send_bytes("X", lead + entry.data, byte_sum(lead) + entry.total)
    header = [(49, "Coinbase"), (56, "key1"), (52, STAMP), (369, "4")]
    assert written == [
        encode("8", [*header[:2], (34, "7"), *header[2:]], body),
        encode("X", [*header[:2], (34, "8"), *header[2:]],
               [(262, "md-1"), (268, "1"), (279, "0"), (270, "100.5")])]
    assert session.out is not None and session.out.next_seq == 9


def test_the_history_is_untracked_by_the_gc_and_resends_the_same_body() -> None:
    session, written = active_session()
    session.send("8", [(11, "a"), (39, "0")])
    session.send("0", [])  # a Heartbeat: never kept
    assert session.out is not None
    assert list(session.out.stored) == [7]
    gc.collect()  # a collection stops tracking a tuple of atoms, and a dict of only those
    assert not gc.is_tracked(session.out.stored[7])
    assert not gc.is_tracked(session.out.stored)
    session.send("8", [(11, "b"), (39, "0")])  # compiled, kept untracked at once
    assert not gc.is_tracked(session.out.stored) or not native.compiled()
    assert session.out.stored[7] == ("8", STAMP, b"11=a\x0139=0\x01", byte_sum(b"11=a\x0139=0\x01"),
                                     WALL)
    written.clear()
    session.data_received(encode("2", [(49, "key1"), (56, "Coinbase"), (34, "5"),
                                       (52, "20261203-06:41:03.026")],
                                 [(7, "7"), (16, "0")]), 1.0)
    decoder = Decoder()
    decoder.feed(b"".join(written))
    resent = decoder.next()
    assert isinstance(resent, Message) and resent.checksum_ok
    assert resent.fields[:9] == [(35, "8"), (49, "Coinbase"), (56, "key1"), (34, "7"), (43, "Y"),
                                 (122, STAMP), (52, STAMP), (369, "5"), (11, "a")]
    assert resent.get(39) == "0"
    gap = decoder.next()  # the Heartbeat (8) is gap-filled
    assert isinstance(gap, Message) and gap.msg_type == "4" and gap.get(36) == "9"


def test_the_history_keeps_the_last_numbers_messages() -> None:
    out = Outbound()
    for seq in range(1, HISTORY_MAX + 6):  # every third number an admin message: not kept
        keep(out, seq, ("8", STAMP, b"11=%d\x01" % seq, 0, WALL) if seq % 3 else None)
    assert min(out.stored) == 7 and max(out.stored) == HISTORY_MAX + 4  # 1-5 fell out
    assert sorted(out.stored) == [seq for seq in range(6, HISTORY_MAX + 6) if seq % 3]
    jump = 10 * HISTORY_MAX  # the numbers jumped (a resume at a higher number)
    for seq in range(jump, jump + HISTORY_MAX):
        keep(out, seq, ("8", STAMP, b"", 0, WALL))
        assert len(out.stored) <= HISTORY_MAX  # the oldest dropped while more are kept
    assert sorted(out.stored) == list(range(jump, jump + HISTORY_MAX))


def test_send_all_writes_at_once_the_bytes_send_bytes_makes_and_keeps_the_same_history() -> None:
    one, written = active_session()
    entries = [(b"262=md-1\x01268=1\x01279=0\x0183=%d\x01" % n) for n in (9, 10, 11)]
    messages = [("X", entries[0], byte_sum(entries[0])), ("f", entries[1], byte_sum(entries[1])),
                ("X", entries[2], byte_sum(entries[2]))]
    for msg_type, data, total in messages:
        one.send_bytes(msg_type, data, total)
    other, queued = active_session()
    at_once: list[bytes] = []
    other.write_now = at_once.append
    other.send_all(messages, Sending(WALL))
    assert queued == [] and at_once == [b"".join(written)]  # one write, not queued
    assert one.out is not None and other.out is not None
    assert other.out.next_seq == one.out.next_seq == 10
    assert other.out.stored == one.out.stored
    decoder = Decoder()
    decoder.feed(at_once[0])
    decoded = [decoder.next() for _ in messages]
    assert all(isinstance(m, Message) and m.checksum_ok for m in decoded)
    assert [(m.msg_type, m.get(34), m.get(52), m.get(369), m.get(83))  # type: ignore[union-attr]
            for m in decoded] == [("X", "7", STAMP, "4", "9"), ("f", "8", STAMP, "4", "10"),
                                  ("X", "9", STAMP, "4", "11")]
    other.state = State.CLOSED  # a closed session sends nothing
    other.send_all(messages, Sending(WALL))
    assert len(at_once) == 1 and other.out.next_seq == 10
