"""The market data fan-out (``MarketData.on_batch``), sans-I/O: a group commit's events reach
each session in event order, across products, framed as ``encode`` frames them, with one
SendingTime, in one write per session; snapshots' coverage and modes decide what each gets."""

from __future__ import annotations

from sandex.api.fix.codec import encode
from sandex.api.fix.market_data import L3, MarketData, _entry
from sandex.api.fix.session import Outbound, Session, State
from sandex.core import Done, Event, Matched, Opened, Side
from sandex.core.model import DoneReason

WALL = 1_796_299_263.026194  # 2026-12-03 12:01:03.026194 UTC
STAMP = "20261203-12:01:03.026194"
MAKER, TAKER = "7bc7305f-1043-428c-bbba-beb988fd5ba8", "8bc7305f-1043-428c-bbba-beb988fd5ba8"


class Gateway:
    limits = False

    def wall(self) -> float:
        return WALL


def session(comp: str, next_seq: int) -> tuple[Session, list[bytes], list[bytes]]:
    queued: list[bytes] = []
    at_once: list[bytes] = []
    one = Session(Gateway(), 0.0)  # type: ignore[arg-type]
    one.writer, one.write_now = queued.append, at_once.append
    one.state = State.ACTIVE
    one.out = Outbound(next_seq=next_seq)
    one._client_comp = comp
    one._lead = f"49=Coinbase\x0156={comp}\x0134="
    one.expected = 3
    return one, queued, at_once


def expected(comp: str, first_seq: int, request_id: str, events: list[Event]) -> bytes:
    out = b""
    for n, event in enumerate(events):
        entry = _entry(event)
        assert entry is not None
        out += encode("X", [(49, "Coinbase"), (56, comp), (34, str(first_seq + n)),
                            (52, STAMP), (369, "2")],
                      [(262, request_id), (268, "1"), *entry])
    return out


def test_a_commit_reaches_each_session_in_event_order_in_one_write() -> None:
    market_data = MarketData(None, None, lambda: WALL, True)  # type: ignore[arg-type]
    both, both_queued, both_written = session("both", 5)
    eth, _, eth_written = session("eth", 1)
    trades, _, trades_written = session("trades", 9)
    pending, _, pending_written = session("pending", 1)
    covered, _, covered_written = session("covered", 1)
    market_data.subscribers["BTC-USD"] = {
        both: ["b-btc", 0, L3], trades: ["t-btc", 0, (False, True)],
        pending: ["p-btc", None, L3], covered: ["c-btc", 11, L3]}
    market_data.subscribers["ETH-USD"] = {eth: ["e-eth", 0, L3], both: ["b-eth", 0, L3]}
    opened_btc = Opened(1_796_299_263_026_194, "BTC-USD", 10, MAKER, "p1", Side.BUY,
                        10_000_000_000, 10_000_000)
    opened_eth = Opened(1_796_299_263_026_195, "ETH-USD", 4, MAKER, "p1", Side.SELL,
                        20_000_000_000, 30_000_000)
    matched = Matched(1_796_299_263_026_196, "BTC-USD", 11, 3, MAKER, TAKER, "p1", "p2",
                      Side.BUY, 10_000_000_000, 4_000_000, 0, 600_000_000_000_000, 0, 0, 1,
                      0, 0, 0, 0)
    done = Done(1_796_299_263_026_197, "BTC-USD", 12, MAKER, "p1", Side.BUY,
                DoneReason.CANCELED, 10_000_000_000, 6_000_000, None)
    market_data.on_batch([[opened_btc], [opened_eth], [matched, done]])

    assert both_queued == [] and len(both_written) == 1  # one write, at once
    assert both_written[0] == (expected("both", 5, "b-btc", [opened_btc])
                               + expected("both", 6, "b-eth", [opened_eth])
                               + expected("both", 7, "b-btc", [matched, done]))
    assert eth_written == [expected("eth", 1, "e-eth", [opened_eth])]
    assert trades_written == [expected("trades", 9, "t-btc", [matched])]  # trades only
    assert pending_written == []  # its snapshot is not taken yet
    assert covered_written == [expected("covered", 1, "c-btc", [done])]  # 10, 11 in it
    assert both.out is not None and both.out.next_seq == 9
    assert [m[0] for m in both.out.stored.values()] == ["X", "X", "X", "X"]
