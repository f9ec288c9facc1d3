"""Outgoing messages framed many sessions at a time: the market data fan-out's loop.

A fan-out encodes each event's entry once (``MarketData._item``); then, session by session,
``fan_out`` puts the session's MDReqID in front of each entry it subscribes to and
``Sending`` frames the session's messages: BodyLength, MsgType, the CompIDs, MsgSeqNum, one
SendingTime for the whole fan-out, LastMsgSeqNumProcessed, the body, CheckSum (the sum of the
cached pieces' byte sums: no message is scanned twice), keeps each for resends in the key's
``Outbound`` and returns them as one ``bytes`` for one write. ``Session.send_all`` frames
with ``frame_all`` too, so the bytes are those ``Session.send_bytes`` makes, message by message.

Compiled with Cython when the extension is built (``framing.pxd`` gives the types;
``sandex.native`` lists it); uncompiled, the same code runs as Python and writes the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cython

from sandex.api.fix.codec import byte_sum

if cython.compiled:  # a message's pieces copied in C (``_message``)
    from cython.cimports.cpython.bytes import PyBytes_AS_STRING, PyBytes_FromStringAndSize
    from cython.cimports.libc.string import memcpy

HISTORY_MAX = 10_000  # the last numbers whose messages a key keeps for resends (GUESS)
_KEPT = HISTORY_MAX  # the same, a C integer when compiled
ADMIN_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})
L3 = "L3"  # a market data subscription's mode: order by order; else (book levels, trades)
_L3 = L3  # the same, a C global when compiled
LEADS_MAX = 10_000  # MDReqID fields kept; more are of sessions long gone: forgotten at once

# A sent application message kept for resends: (MsgType, SendingTime, body bytes, their byte
# sum, wall seconds). A plain tuple of atoms on purpose: the garbage collector does not track
# it, nor the plain dict holding only such tuples (``keep``), so the thousands kept per key
# never lengthen a collection (the p99 of order entry and market data).
Stored = tuple[str, str, bytes, int, float]
# What an event sends to its product's market data subscribers (``MarketData._item``): the
# subscribers (session -> [MDReqID, the RptSeq its snapshot covered, mode]), the RptSeq
# (``None``: a SecurityStatus), its level-3 or trade entry (bytes and byte sum), whether it is
# a trade, its level-2 entries.
Item = tuple[dict[Any, list[Any]], int | None, tuple[bytes, int] | None, bool,
             tuple[tuple[bytes, int], ...]]

_second: list[Any] = [None, ""]  # the last whole second formatted, and its text
_TRAILERS = [b"10=%03d\x01" % n for n in range(256)]  # CheckSum(10) by its value
_STARTS_MAX = 4096  # BodyLengths below it are kept
# BodyLength n -> 8=FIXT.1.1 SOH 9=n SOH and its byte sum (made on first use)
_STARTS: list[tuple[bytes, int] | None] = [None] * _STARTS_MAX
_NUMBERS: dict[int, tuple[bytes, int]] = {}  # n -> b"n SOH" and its byte sum


def sending_time(wall: float) -> str:
    """UTCTimestamp with microseconds, as Coinbase sends (``20250408-03:34:32.789012``)."""
    us = int(wall * 1_000_000)
    second, micros = divmod(us, 1_000_000)
    if _second[0] != second:
        _second[0] = second
        _second[1] = datetime.fromtimestamp(second, UTC).strftime("%Y%m%d-%H:%M:%S.")
    return f"{_second[1]}{micros:06d}"


def _number(n: int) -> tuple[bytes, int]:
    """A MsgSeqNum or LastMsgSeqNumProcessed value and its SOH, with its byte sum: kept, as
    a fan-out's sessions number their messages alike (cleared when it grows large)."""
    data = b"%d\x01" % n
    number = (data, byte_sum(data))
    if len(_NUMBERS) >= 4096:  # a few hundred kilobytes at most
        _NUMBERS.clear()
    _NUMBERS[n] = number
    return number


def _start(length: int) -> tuple[bytes, int]:
    """``8=FIXT.1.1 SOH 9=length SOH`` and its byte sum, kept for the next message as long."""
    data = b"8=FIXT.1.1\x019=%d\x01" % length
    start = (data, byte_sum(data))
    if length < _STARTS_MAX:  # the usual lengths are far fewer
        _STARTS[length] = start
    return start


@cython.final
@cython.cclass
class Outbound:
    """The server's side of a key's sequence: what survives a reconnect for resume."""

    __slots__ = ("last_active", "next_seq", "stored")
    next_seq: int
    stored: dict[int, Stored]  # MsgSeqNum -> the application message sent with it (``keep``)
    last_active: float  # wall seconds of the last logon or message

    def __init__(self, next_seq: int = 1, stored: dict[int, Stored] | None = None,
                 last_active: float = 0.0) -> None:
        self.next_seq = next_seq
        self.stored = {} if stored is None else stored
        self.last_active = last_active

    def reset(self) -> None:
        self.next_seq = 1
        self.stored.clear()


@cython.final
@cython.cclass
class Sending:
    """One SendingTime for a whole fan-out, and the framing of its sessions' messages, one
    session after the other (``begin``, ``add`` per message, ``end``: ``frame_all``).
    ``middle`` is the header from SendingTime to LastMsgSeqNumProcessed's value
    (``52=... SOH 369=``), ``middle_sum`` its byte sum."""

    __slots__ = ("around", "first", "fixed", "heads", "middle", "middle_sum", "more", "number",
                 "numbered", "out", "seq", "session", "stamp", "tail", "tailed", "wall")
    wall: float
    stamp: str
    middle: bytes
    middle_sum: int
    # the session being framed: its header pieces, its next MsgSeqNum, its messages so far
    session: Any
    heads: dict[str, tuple[bytes, int, int, bool]]  # MsgType -> 35 to 34=, sum, length, kept
    out: Outbound | None
    seq: int
    tailed: int  # the client's next MsgSeqNum ``tail`` is for (one less)
    tail: bytes  # LastMsgSeqNumProcessed's value and SOH
    fixed: int  # the length of 52 and 369, the same in each of its messages
    around: int  # their byte sum
    numbered: int  # the MsgSeqNum ``number`` is for
    number: tuple[bytes, int]  # its text and SOH, their byte sum
    first: bytes | None  # its first message
    more: list[bytes]  # and those after it

    def __init__(self, wall: float) -> None:
        self.wall = wall
        self.stamp = sending_time(wall)
        self.middle = f"52={self.stamp}\x01369=".encode("latin-1")
        self.middle_sum = byte_sum(self.middle)
        self.session, self.heads, self.out, self.seq = None, {}, None, 0
        self.tailed, self.tail, self.fixed, self.around = -1, b"", 0, 0
        self.numbered, self.number, self.first, self.more = -1, (b"", 0), None, []

    @cython.locals(tail=tuple, expected=cython.longlong)
    def begin(self, session: Any, out: Outbound) -> None:
        """Start the messages of ``session`` (a ``Session``: its header cache ``_heads``, the
        client's next MsgSeqNum ``expected``), numbered and kept in ``out``."""
        self.heads = session._heads
        expected = session.expected
        if expected != self.tailed:  # as often alike
            tail = _NUMBERS.get(expected - 1) or _number(expected - 1)
            self.tail = tail[0]
            self.fixed = len(self.middle) + len(self.tail)
            self.around = self.middle_sum + tail[1]
            self.tailed = expected
        self.session, self.out, self.seq = session, out, out.next_seq

    @cython.locals(head=tuple, number=tuple, start=tuple, seq=cython.longlong,
                   length=cython.Py_ssize_t,
                   check=cython.longlong, head_sum=cython.longlong, number_sum=cython.longlong,
                   body_sum=cython.longlong)
    def add(self, msg_type: str, data: bytes, total: int) -> None:
        """Frame one message (MsgType, body bytes, their byte sum), next in number, and keep it
        for resends unless it is an admin message."""
        head = self.heads.get(msg_type)
        if head is None:  # ``_lead``: the session's header from 49 to MsgSeqNum's value
            text = f"35={msg_type}\x01{self.session._lead}".encode("latin-1")
            head = self.heads[msg_type] = (text, byte_sum(text), len(text),
                                           msg_type not in ADMIN_TYPES)
        seq = self.seq
        if seq != self.numbered:  # the sessions of a fan-out are often numbered alike
            self.number = _NUMBERS.get(seq) or _number(seq)
            self.numbered = seq
        number = self.number
        length = head[2]
        length += len(number[0]) + self.fixed + len(data)
        start = _STARTS[length] if length < len(_STARTS) else None
        if start is None:
            start = _start(length)
        head_sum = head[1]  # each sum to a C integer on its own: no int object made
        number_sum = number[1]
        body_sum = total
        check = start[1]
        check += head_sum + number_sum + body_sum + self.around
        message = _message(start[0], head[0], number[0], self.middle, self.tail, data,
                           _TRAILERS[check & 255])
        if self.first is None:
            self.first = message
        else:
            self.more.append(message)
        keep(self.out, seq,  # type: ignore[arg-type]
             (msg_type, self.stamp, data, total, self.wall) if head[3] else None)
        self.seq = seq + 1

    def end(self) -> bytes:
        """The session's messages as one ``bytes``; its next MsgSeqNum and last activity
        recorded."""
        out = self.out
        assert out is not None
        out.next_seq = self.seq
        out.last_active = self.wall
        self.session = self.out = None
        first = self.first
        assert first is not None
        self.first = None
        if not self.more:
            return first
        data = b"".join([first, *self.more])
        self.more.clear()
        return data


@cython.locals(size=cython.Py_ssize_t, at=cython.p_char)
def _message(start: bytes, head: bytes, number: bytes, middle: bytes, tail: bytes, data: bytes,
             trailer: bytes) -> bytes:
    """A message of its seven pieces: compiled, copied into one new ``bytes`` (no sequence of
    them made, no buffer taken per piece as ``bytes.join`` does)."""
    if cython.compiled:
        size = (len(start) + len(head) + len(number) + len(middle) + len(tail) + len(data)
                + len(trailer))
        message = PyBytes_FromStringAndSize(cython.NULL, size)
        at = PyBytes_AS_STRING(message)
        memcpy(at, PyBytes_AS_STRING(start), len(start))
        at += len(start)
        memcpy(at, PyBytes_AS_STRING(head), len(head))
        at += len(head)
        memcpy(at, PyBytes_AS_STRING(number), len(number))
        at += len(number)
        memcpy(at, PyBytes_AS_STRING(middle), len(middle))
        at += len(middle)
        memcpy(at, PyBytes_AS_STRING(tail), len(tail))
        at += len(tail)
        memcpy(at, PyBytes_AS_STRING(data), len(data))
        at += len(data)
        memcpy(at, PyBytes_AS_STRING(trailer), len(trailer))
    else:
        message = b"".join((start, head, number, middle, tail, data, trailer))
    return message


@cython.locals(size=cython.Py_ssize_t, at=cython.p_char)
def _joined(lead: bytes, entry: bytes) -> bytes:
    """``lead + entry``: compiled, copied in C (no buffer taken per piece as ``+`` does)."""
    if cython.compiled:
        size = len(lead)
        joined = PyBytes_FromStringAndSize(cython.NULL, size + len(entry))
        at = PyBytes_AS_STRING(joined)
        memcpy(at, PyBytes_AS_STRING(lead), size)
        memcpy(at + size, PyBytes_AS_STRING(entry), len(entry))
    else:
        joined = lead + entry
    return joined


@cython.locals(a=cython.longlong, b=cython.longlong)
def _sum(a: int, b: int) -> int:
    """``a + b`` (byte sums), in C when compiled."""
    return a + b


def keep(out: Outbound, seq: int, stored: Stored | None) -> None:
    """Number ``seq`` sent: ``stored``, its application message, kept for resends (``None``:
    an admin message, never kept). A key keeps the messages of its last ``HISTORY_MAX``
    numbers: each number sent drops the one that falls out (and the oldest ones while more
    are kept, if the numbers jumped). ``out.stored`` is a plain dict of untracked tuples,
    which the garbage collector stops tracking as a whole (a ``collections.OrderedDict`` is
    always tracked: a full collection walked every kept message of every session)."""
    kept = out.stored
    if seq > _KEPT:
        kept.pop(seq - _KEPT, None)
    if stored is not None:
        kept[seq] = _untracked(stored)
        while len(kept) > _KEPT:
            del kept[next(iter(kept))]


def _untracked(stored: Stored) -> Stored:
    """``stored``, no longer tracked by the garbage collector (compiled; uncompiled, its next
    young collection does it, as for any tuple of atoms): a fan-out's history makes no work
    for the collector."""
    if cython.compiled:
        PyObject_GC_UnTrack(stored)  # noqa: F821 (framing.pxd: from Python.h)
    return stored


def frame_all(session: Any, out: Outbound, messages: list[tuple[str, bytes, int]],
              sending: Sending) -> bytes:
    """``messages`` (MsgType, body bytes, their byte sum) of ``session`` numbered from
    ``out.next_seq``, with ``sending``'s SendingTime and LastMsgSeqNumProcessed
    ``session.expected - 1``, application ones kept in ``out.stored``: one ``bytes``."""
    sending.begin(session, out)
    for msg_type, data, total in messages:
        sending.add(msg_type, data, total)
    return sending.end()


@cython.locals(subscribed=dict, last=dict, subscription=list, lead=tuple, shared=tuple,
               body=tuple, framing=cython.bint)
def fan_out(sessions: list[Any], items: list[Item], sending: Sending,
            leads: dict[str, tuple[bytes, int]], active: object) -> None:
    """Each of ``sessions`` in state ``active``: its messages of ``items`` (its MDReqID in
    front of each entry it subscribes to, ``X``, or ``f`` for a SecurityStatus) framed
    (``sending``) and written at once (``write_now``, else as ``Session._emit``). ``leads``
    caches each MDReqID's field and its byte sum."""
    for session in sessions:
        if session.state is not active:
            continue
        framing = False
        last = None
        subscription = None
        lead = None
        for subscribed, sequence, shared, trade, level_bodies in items:
            if subscribed is not last:  # the items of one product share its subscription
                last = subscribed
                subscription = subscribed.get(session)
                lead = None
            if subscription is None:
                continue
            request_id, covered, mode = subscription
            if covered is None:
                continue  # its snapshot is not taken yet
            if sequence is not None and sequence <= covered:
                continue  # already in its snapshot
            wanted = sequence is None or (shared is not None and (
                mode == _L3 or (trade and mode[1])))  # a SecurityStatus, or its entry
            levels = mode != _L3 and mode[0] and level_bodies
            if not wanted and not levels:
                continue
            if not framing:
                out = session.out
                if out is None:
                    break
                sending.begin(session, out)
                framing = True
            if lead is None:  # the session's own field, then the entry
                lead = leads.get(request_id) or _lead(leads, request_id)
            if wanted:
                assert shared is not None
                sending.add("f" if sequence is None else "X", _joined(lead[0], shared[0]),
                            _sum(lead[1], shared[1]))
            if levels:
                for body in level_bodies:
                    sending.add("X", _joined(lead[0], body[0]), _sum(lead[1], body[1]))
        if framing:
            data = sending.end()
            write = session.write_now
            if write is not None:
                write(data)
            else:
                session._emit(data)

def _lead(leads: dict[str, tuple[bytes, int]], request_id: str) -> tuple[bytes, int]:
    """``262=request_id SOH`` and its byte sum, kept in ``leads``."""
    if len(leads) > LEADS_MAX:  # MDReqIDs of sessions long gone
        leads.clear()
    data = f"262={request_id}\x01".encode("latin-1")
    lead = leads[request_id] = (data, byte_sum(data))
    return lead
