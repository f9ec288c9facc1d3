"""One FIX session as Coinbase runs it, sans-I/O: bytes and ticks in, bytes (``outbox``) out.

Lifecycle: the first message must be a Logon (``sandex.api.fix.logon`` checks it); every
refusal is a Logout with the reason in Text(58), then the connection closes. Once logged on:
client numbers start at 1 and must follow on (a gap or a repeat without PossDupFlag logs the
session out: GUESS); the server's numbers start over on ``141=Y`` (or no 141) and otherwise
resume, announced by a SequenceReset-GapFill right after the Logon. ResendRequest (``16=0``
meaning "up to the last sent") replays stored application messages with ``43=Y``/``122``,
at most 1000 a request, and gap-fills admin messages, unknown ones and those over an hour
old. Heartbeats at HeartBtInt; a TestRequest after 1.5 intervals of client silence and a
Logout after 2. Rate limits (when on): over 200 messages in one second the session is
logged out; application messages over 100 a second are handed back for rejection.

The gateway (``Gateway``) owns what outlives a connection: the key registry, the live session
of each key, the server's numbers per key, and the application that handles orders.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Protocol

from sandex import native  # noqa: F401  (first: it decides whether ``framing`` runs compiled)
from sandex.api.fix.codec import Decoder, Garbled, Message, Rendered, byte_sum, frame
from sandex.api.fix.framing import (
    ADMIN_TYPES,
    Outbound,
    Sending,
    frame_all,
    keep,
    sending_time,
)
from sandex.api.fix.logon import COMP_ID, Identity, Refusal
from sandex.errors import Error

LOGON_TIMEOUT_S = 10.0  # no Logon within it: the connection closes (QuickFIX's default)
LOGOUT_TIMEOUT_S = 2.0  # after our Logout, the client's reply is awaited this long
RESEND_PAGE = 1000  # messages at most per ResendRequest (Coinbase)
HISTORY_S = 3600.0  # older application messages are gap-filled (Coinbase: "1 hour")
RESUME_WITHIN_S = 86_400.0  # 141=N resumes if the key logged on within a day (Coinbase)
FLOOD_PER_S = 200  # messages a second over which the session is logged out (Coinbase)
APP_PER_S = 100  # application messages a second over which they are rejected (Coinbase)


class State(Enum):
    AWAIT_LOGON = "await_logon"
    ACTIVE = "active"
    LOGGING_OUT = "logging_out"
    CLOSED = "closed"


# the states the per-message path tests, as globals: ``State.X`` is an attribute lookup on the
# enum class, several times a global's cost on Python 3.11
_AWAIT_LOGON, _LOGGING_OUT, _CLOSED = State.AWAIT_LOGON, State.LOGGING_OUT, State.CLOSED


class Gateway(Protocol):
    """What a session needs from its gateway."""

    limits: bool

    def wall(self) -> float: ...
    def authenticate(self, message: Message) -> Identity | Refusal: ...
    def admit(self, session: Session, identity: Identity) -> Refusal | None: ...
    def outbound(self, key: str) -> Outbound: ...
    def on_logon(self, session: Session) -> None: ...
    def on_message(self, session: Session, message: Message) -> None: ...
    def on_rate_limited(self, session: Session, message: Message) -> None: ...
    def on_close(self, session: Session) -> None: ...


class Session:
    def __init__(self, gateway: Gateway, now: float, peer: str = "") -> None:
        self.gateway = gateway
        self.peer = peer
        self.decoder = Decoder()
        self.outbox: list[bytes] = []  # what to write, unless ``writer`` writes it at once
        self.writer: Callable[[bytes], None] | None = None
        # what ``send_all`` writes with: at once, not at the end of the step (else ``writer``)
        self.write_now: Callable[[bytes], None] | None = None
        self.state = State.AWAIT_LOGON
        self.identity: Identity | None = None
        self.out: Outbound | None = None
        self.expected = 1  # the client's next MsgSeqNum
        self.created = self.last_received = self.last_sent = now
        self.test_request: str | None = None
        self.logout_deadline: float | None = None
        self.logout_text: str | None = None  # why we logged the session out (for logs)
        self._window = (0, 0, 0)  # (second, messages, application messages)
        self._tests = 0
        self._client_comp = ""
        self._lead = f"49={COMP_ID}\x0156=\x0134="  # the header up to MsgSeqNum's value
        # MsgType -> the header from 35 up to MsgSeqNum's value: its bytes, byte sum, length
        self._heads: dict[str, tuple[bytes, int, int]] = {}

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def active(self) -> bool:
        return self.state is State.ACTIVE

    # -- input ----------------------------------------------------------------------------
    def data_received(self, data: bytes, now: float) -> None:
        if self.state is _CLOSED:
            return
        decoder = self.decoder
        decoder.feed(data)
        while self.state is not _CLOSED:
            item = decoder.next()
            if item is None:
                return
            if type(item) is Garbled:
                self._garbled(item.text)
                return
            self.last_received = now
            self._receive(item, now)  # type: ignore[arg-type]

    def tick(self, now: float) -> None:
        """Timers: logon and logout timeouts, heartbeats, TestRequest, silence."""
        if self.state is State.AWAIT_LOGON:
            if now - self.created > LOGON_TIMEOUT_S:
                self.close()
            return
        if self.state is State.LOGGING_OUT:
            if self.logout_deadline is not None and now >= self.logout_deadline:
                self.close()
            return
        if not self.active or self.identity is None:
            return
        interval = self.identity.heartbeat
        silent = now - self.last_received
        if silent > 2 * interval and self.test_request is not None:
            self.logout(now, Error.FIX_HEARTBEAT_TIMEOUT)
            return
        if silent > 1.5 * interval and self.test_request is None:
            self._tests += 1
            self.test_request = f"TEST{self._tests}"
            self.send("1", [(112, self.test_request)], now)
        elif now - self.last_sent >= interval:
            self.send("0", [], now)

    def connection_lost(self) -> None:
        if self.state is not State.CLOSED:
            self.close()

    # -- output ---------------------------------------------------------------------------
    def _emit(self, data: bytes) -> None:
        if self.writer is not None:
            self.writer(data)
        else:
            self.outbox.append(data)

    def send(self, msg_type: str, body: list[tuple[int, str]] | Rendered,
             now: float | None = None) -> None:
        """Number and queue a message; application messages are kept for resends. A
        ``Rendered`` body (``codec.Rendered.of``) is encoded once for many sessions."""
        if type(body) is not Rendered:
            body = Rendered.of(body)  # type: ignore[arg-type]
        self.send_bytes(msg_type, body.data, body.total, now)

    def send_bytes(self, msg_type: str, data: bytes, total: int,
                   now: float | None = None) -> None:
        """``send`` of a body already encoded: ``data`` and its byte sum ``total`` (one
        market data increment to many sessions: each adds its own MDReqID in front)."""
        state = self.state
        out = self.out
        if (state is not State.ACTIVE and state is not State.LOGGING_OUT) or out is None:
            return
        seq = out.next_seq
        out.next_seq = seq + 1
        wall = self.gateway.wall()
        stamp = sending_time(wall)
        # as ``codec.frame`` with this session's header, in one pass
        head = (f"35={msg_type}\x01{self._lead}{seq}\x0152={stamp}\x01369={self.expected - 1}"
                "\x01").encode("latin-1")
        start = b"8=FIXT.1.1\x019=%d\x01" % (len(head) + len(data))
        self._emit(b"".join((start, head, data, b"10=%03d\x01" % (
            (byte_sum(start + head) + total) % 256))))
        if now is not None:
            self.last_sent = now
        keep(out, seq, (msg_type, stamp, data, total, wall)
             if msg_type not in ADMIN_TYPES else None)
        out.last_active = wall

    def send_all(self, messages: list[tuple[str, bytes, int]], sending: Sending) -> None:
        """Number, frame and keep ``messages`` (MsgType, body bytes, their byte sum; each body
        kept for resends as ``send_bytes`` keeps it), all with ``sending``'s SendingTime, and
        write them in one write at once (``write_now``): a fan-out's session is written as soon
        as its bytes are ready, not after every other session's. The bytes are those
        ``send_bytes`` would make, one message after the other."""
        state = self.state
        out = self.out
        if (state is not State.ACTIVE and state is not State.LOGGING_OUT) or out is None \
                or not messages:
            return
        data = frame_all(self, out, messages, sending)
        if self.write_now is not None:
            self.write_now(data)
        else:
            self._emit(data)

    def _frame(self, msg_type: str, seq: int, stamp: str,
               body: list[tuple[int, str]] | Rendered, resent: str | None = None) -> bytes:
        if not isinstance(body, Rendered):
            body = Rendered.of(body)
        if resent is None:
            header = f"{self._lead}{seq}\x0152={stamp}\x01369={self.expected - 1}\x01"
        else:
            header = (f"{self._lead}{seq}\x0143=Y\x01"
                      f"122={resent}\x0152={stamp}\x01369={self.expected - 1}\x01")
        return frame(msg_type, header, body)

    def logout(self, now: float, error: Error, *args: object) -> None:
        """Log the session out with ``error``'s text and close once the client answers."""
        text = error.format(*args)
        self.logout_text = text
        if self.state is State.ACTIVE:
            self.send("5", [(58, text)], now)
        elif self.state is State.AWAIT_LOGON:  # no session: a Logout numbered 1
            self._emit(self._frame("5", 1, sending_time(self.gateway.wall()),
                                           [(58, text)]))
        else:
            return
        self.state = State.LOGGING_OUT
        self.logout_deadline = now + LOGOUT_TIMEOUT_S

    def close(self) -> None:
        was = self.state
        self.state = State.CLOSED
        if was in (State.ACTIVE, State.LOGGING_OUT) and self.identity is not None:
            self.gateway.on_close(self)

    def _garbled(self, text: str) -> None:
        self.logout_text = Error.FIX_GARBLED.format(text)
        if self.state is State.ACTIVE:
            self.send("5", [(58, self.logout_text)])
        self.close()

    # -- dispatch -------------------------------------------------------------------------
    def _receive(self, message: Message, now: float) -> None:
        if not message.checksum_ok:
            if self.state is State.AWAIT_LOGON:
                self._garbled("CheckSum(10) is wrong")
            return  # a garbled message is ignored (FIX): its number is not consumed
        state = self.state
        if state is _AWAIT_LOGON:
            self._logon(message, now)
            return
        if state is _LOGGING_OUT:
            if message.msg_type == "5":
                self.close()
            return
        if self.gateway.limits and self._over_limit(message, now):
            return
        identity = self.identity
        assert identity is not None
        index = message.index
        if index.get(56) != COMP_ID or index.get(49) != identity.key:
            self._reject(message, 9, 56 if message.get(56) != COMP_ID else 49,
                         "CompID problem")
            self.logout(now, Error.FIX_TARGET_COMP_ID if message.get(56) != COMP_ID
                        else Error.FIX_USERNAME)
            return
        seq_text = index.get(34) or ""
        if not seq_text.isdigit() or len(seq_text) > 10:
            self.logout(now, Error.FIX_MISSING_TAG, "MsgSeqNum(34)")
            return
        seq = int(seq_text)
        msg_type = index.get(35, "")
        if msg_type == "4" and index.get(123) != "Y":  # Reset mode: numbers regardless
            self._sequence_reset(message, now)
            return
        if seq > self.expected:
            self.logout(now, Error.FIX_SEQ_TOO_HIGH, self.expected, seq)
            return
        if seq < self.expected:
            if message.get(43) == "Y":
                return  # a possible duplicate we have seen: ignored
            self.logout(now, Error.FIX_SEQ_TOO_LOW, self.expected, seq)
            return
        self.expected += 1
        if message.problem is not None:
            self._reject(message, message.problem.reason, message.problem.tag,
                         message.problem.text)
            return
        if msg_type not in ADMIN_TYPES:  # an order, a cancel, ...: the gateway's
            self.gateway.on_message(self, message)
            return
        if msg_type == "0":
            if self.test_request is not None and message.get(112) == self.test_request:
                self.test_request = None
        elif msg_type == "1":
            self.send("0", [(112, message.get(112) or "")], now)
        elif msg_type == "2":
            self._resend(message, now)
        elif msg_type == "4":
            self._sequence_reset(message, now)
        elif msg_type == "5":
            self.send("5", [], now)  # the answer to a Logout: no text
            self.state = State.LOGGING_OUT
            self.close()
        elif msg_type == "3":
            return
        else:  # "A"
            self._reject(message, 99, 35, "Already logged on")

    def _over_limit(self, message: Message, now: float) -> bool:
        second, count, app = self._window
        if int(now) != second:
            second, count, app = int(now), 0, 0
        count += 1
        is_app = message.msg_type not in ADMIN_TYPES
        app += is_app
        self._window = (second, count, app)
        if count > FLOOD_PER_S:
            self.logout(now, Error.FIX_FLOOD, FLOOD_PER_S)
            self.close()
            return True
        if is_app and app > APP_PER_S:
            seq_text = message.get(34) or ""
            if seq_text.isdigit() and int(seq_text) == self.expected:
                self.expected += 1
            self.gateway.on_rate_limited(self, message)
            return True
        return False

    def _reject(self, message: Message, reason: int, tag: int | None, text: str) -> None:
        body = [(45, message.get(34) or "0")]
        if tag is not None:
            body.append((371, str(tag)))
        if message.msg_type:
            body.append((372, message.msg_type))
        body += [(373, str(reason)), (58, text)]
        self.send("3", body)

    def _logon(self, message: Message, now: float) -> None:
        self._client_comp = (message.get(49) or "")[:64] or "UNKNOWN"
        self._lead = f"49={COMP_ID}\x0156={self._client_comp}\x0134="
        self._heads = {}
        if message.msg_type != "A":
            self.logout(now, Error.FIX_FIRST_NOT_LOGON)
            return
        result = self.gateway.authenticate(message)
        if isinstance(result, Identity):
            refusal = self.gateway.admit(self, result)
            if refusal is not None:
                result = refusal
        if isinstance(result, Refusal):
            self.logout(now, result.error, *result.args)
            return
        self.identity = result
        out = self.out = self.gateway.outbound(result.key)
        wall = self.gateway.wall()
        resume = (not result.reset and out.next_seq > 1
                  and wall - out.last_active <= RESUME_WITHIN_S)
        saved = out.next_seq
        if not resume:
            out.reset()
        self.expected = 2
        self.state = State.ACTIVE
        body = [(98, "0"), (108, str(result.heartbeat))]
        if result.reset_sent:
            body.append((141, "Y"))
        body.append((1137, "9"))
        out.next_seq = 1  # the Logon answer is always 1
        self.send("A", body, now)
        if resume and saved > out.next_seq:  # Coinbase: the stored number, no PossDupFlag
            self.send("4", [(123, "Y"), (36, str(saved))], now)
            out.next_seq = saved
        self.gateway.on_logon(self)

    def _sequence_reset(self, message: Message, now: float) -> None:
        text = message.get(36) or ""
        if not text.isdigit() or int(text) < self.expected:
            self._reject(message, 5, 36, "Value is incorrect (out of range) for this tag")
            return
        self.expected = int(text)

    def _resend(self, message: Message, now: float) -> None:
        out = self.out
        assert out is not None
        begin_text, end_text = message.get(7) or "", message.get(16) or ""
        if not begin_text.isdigit() or not end_text.isdigit() or int(begin_text) < 1:
            self._reject(message, 5, 7, "Value is incorrect (out of range) for this tag")
            return
        begin, end = int(begin_text), int(end_text)
        last = out.next_seq - 1
        if end == 0 or end > last:
            end = last
        end = min(end, begin + RESEND_PAGE - 1)
        if begin > end:
            return
        wall = self.gateway.wall()
        stamp = sending_time(wall)
        gap_from: int | None = None
        for seq in range(begin, end + 1):
            stored = out.stored.get(seq)
            if stored is None or wall - stored[4] > HISTORY_S:
                if gap_from is None:
                    gap_from = seq
                continue
            if gap_from is not None:
                self._emit(self._frame("4", gap_from, stamp, [(123, "Y"), (36, str(seq))],
                                               resent=stamp))
                gap_from = None
            self._emit(self._frame(stored[0], seq, stamp, Rendered(stored[2], stored[3]),
                                   resent=stored[1]))
        if gap_from is not None:
            self._emit(self._frame("4", gap_from, stamp,
                                           [(123, "Y"), (36, str(end + 1))], resent=stamp))
        self.last_sent = now
