"""The compiled framing loop (``sandex.api.fix.framing``) and its pure-Python run are twins:
the same fan-outs and ``send_all`` calls write the same bytes and keep the same histories.

This process runs the compiled module (the test is skipped, saying why, when the extension is
not built); a subprocess runs the same ``.py`` uncompiled (``SANDEX_PURE_PYTHON``). Each side
reduces each session to its written bytes, its history and its next MsgSeqNum.
"""

from __future__ import annotations

import pytest

import sandex.api.fix.framing
from sandex import native
from sandex.api.fix.codec import byte_sum
from sandex.api.fix.framing import HISTORY_MAX, L3, Item, Outbound, Sending, fan_out
from sandex.api.fix.market_data import MarketData
from sandex.api.fix.session import Session, State
from sandex.core import Done, Event, Matched, Opened, Side
from sandex.core.model import DoneReason
from tests.support.twin_kit import pure_python_side

WALL = 1_796_299_263.026194
MAKER, TAKER = "7bc7305f-1043-428c-bbba-beb988fd5ba8", "8bc7305f-1043-428c-bbba-beb988fd5ba8"


class Gateway:
    limits = False

    def wall(self) -> float:
        return WALL


def _session(n: int, written: list[bytes], at_once: bool = True) -> Session:
    session = Session(Gateway(), 0.0)  # type: ignore[arg-type]
    session.writer = written.append
    session.write_now = written.append if at_once else None
    session.state = State.ACTIVE
    session.out = Outbound(next_seq=1 + 97 * n)  # numbers of 1 to 4 digits
    session._client_comp = f"c{n:x}" * (n % 5 + 1)
    session._lead = f"49=Coinbase\x0156={session._client_comp}\x0134="
    session.expected = 1 + 13 * n
    return session


def _events(first: int) -> list[Event]:
    out: list[Event] = []
    for i in range(6):
        seq = first + 3 * i
        out += [Opened(1_796_299_263_026_194 + i, "BTC-USD", seq, MAKER, "p1", Side.BUY,
                       10_000_000_000 + i, 10_000_000 * (i + 1)),
                Matched(1_796_299_263_026_195 + i, "BTC-USD", seq + 1, 5 + i, MAKER, TAKER,
                        "p1", "p2", Side.SELL, 10_000_000_000, 4_000_000 + i, 0,
                        600_000_000_000_000, 0, 0, 1, 0, 0, 0, 0),
                Done(1_796_299_263_026_196 + i, "ETH-USD", seq + 2, MAKER, "p1", Side.BUY,
                     DoneReason.CANCELED, 10_000_000_000, 6_000_000, None)]
    return out


def traces() -> dict[str, list[str]]:
    """Each session's written bytes (latin-1), history and next number, after fan-outs through
    ``MarketData`` (modes, snapshots' coverage, two products, one session at history's end),
    a fan-out of SecurityStatus and level-2 items, and ``send_all`` with admin messages."""
    written: dict[int, list[bytes]] = {n: [] for n in range(12)}
    sessions = [_session(n, written[n], at_once=n != 3) for n in range(12)]
    full = sessions[4].out
    assert full is not None
    full.stored = {seq: ("X", "s", b"262=x\x01", 384, WALL) for seq in range(1, HISTORY_MAX + 1)}
    full.next_seq = HISTORY_MAX + 1
    market_data = MarketData(None, None, lambda: WALL, True)  # type: ignore[arg-type]
    modes: list[object] = [L3, (False, True), L3, L3, L3, (True, True), L3, (False, True)]
    market_data.subscribers["BTC-USD"] = {
        s: [f"md-{n}", None if n == 2 else 9 if n == 6 else 0, modes[n]]
        for n, s in enumerate(sessions[:8])}
    market_data.subscribers["ETH-USD"] = {s: [f"eth-{n}", 0, L3]
                                          for n, s in enumerate(sessions[5:10], 5)}
    events = _events(4)
    market_data.on_events(events[:1])
    market_data.on_batch([events[1:7], events[7:]])
    status = b"55=BTC-USD\x011682=full_trading\x01"
    level = b"268=1\x01279=0\x01269=0\x0183=99\x01"
    items: list[Item] = [
        (market_data.subscribers["BTC-USD"], None, (status, byte_sum(status)), False, ()),
        (market_data.subscribers["BTC-USD"], 99, None, False, ((level, byte_sum(level)),) * 2)]
    fan_out(sessions, items, Sending(WALL + 1.5), {}, State.ACTIVE)
    body = b"11=a\x0139=0\x01"
    for session in sessions[9:]:
        session.send_all([("8", body, byte_sum(body)), ("0", b"", 0), ("X", body, 77)],
                         Sending(WALL + 2))
    out: dict[str, list[str]] = {}
    for n, session in enumerate(sessions):
        assert session.out is not None
        out[str(n)] = [b"".join(written[n]).decode("latin-1"),
                       b"".join(session.outbox).decode("latin-1"),
                       repr(list(session.out.stored.items())[-40:]),
                       str(len(session.out.stored)), str(session.out.next_seq)]
    return out


PURE_SIDE = """
import json
import sandex.api.fix.framing
assert sandex.api.fix.framing.__file__.endswith(".py"), sandex.api.fix.framing.__file__
from tests.fix.test_framing_twin import traces
print(json.dumps(traces()))
"""


def test_compiled_and_pure_python_framing_write_the_same_bytes() -> None:
    if not native.compiled():
        pytest.skip(f"the compiled modules are not built ({native.WHY_PURE})")
    assert not str(sandex.api.fix.framing.__file__).endswith(".py")  # this side is compiled
    pure: dict[str, list[str]] = pure_python_side(PURE_SIDE, timeout=120)
    compiled = traces()
    assert sum(len(trace[0]) + len(trace[1]) for trace in compiled.values()) > 20_000
    for n, trace in compiled.items():
        assert trace == pure[n], f"session {n}"
