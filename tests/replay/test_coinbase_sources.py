"""The Coinbase readers on generated recordings: every line format, gzip and zstd, exact events."""

from __future__ import annotations

import hashlib
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from sandex.replay.events import Change, Done, Level, Match, Open, Received, Snapshot, Trade
from sandex.replay.sources import open_source, sha256_of
from sandex.timefmt import parse_iso
from tests.support import recordings_kit as kit

PREFIXES = ("none", "cryptofeed", "hftbacktest", "field")
COMPRESSIONS = (None, "gzip", "zstd")


def _d(value: Any) -> D | None:
    return None if value is None else D(value)


def expected_full(messages: list[dict[str, Any]], first_line: int) -> list[Any]:
    """What the reader must give for ``messages`` written one a line from ``first_line``."""
    out: list[Any] = []
    for line, m in enumerate(messages, first_line):
        t, pid = parse_iso(m["time"]), m["product_id"]
        kind = m["type"]
        if kind == "received":
            out.append(Received(line, t, pid, m["order_id"], m["side"], m["order_type"],
                                _d(m.get("price")), _d(m.get("size")), _d(m.get("funds"))))
        elif kind == "open":
            out.append(Open(line, t, pid, m["order_id"], m["side"], D(m["price"]),
                            D(m["remaining_size"])))
        elif kind == "done":
            out.append(Done(line, t, pid, m["order_id"], m["side"], m["reason"],
                            _d(m.get("price")), _d(m.get("remaining_size"))))
        elif kind == "change":
            out.append(Change(line, t, pid, m["order_id"], m["side"], _d(m.get("price")),
                              _d(m.get("new_size")), _d(m.get("old_size")),
                              _d(m.get("new_funds")), _d(m.get("old_funds"))))
        else:
            out.append(Match(line, t, pid, m["trade_id"], m["maker_order_id"],
                             m["taker_order_id"], m["side"], D(m["price"]), D(m["size"])))
    return out


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_full_gives_one_event_per_book_message_in_every_line_format(
        tmp_path: Path, prefix: str, compression: str | None) -> None:
    messages = list(kit.full_messages(400))
    path = kit.write(tmp_path / "full.jsonl", kit.framed(messages, prefix), compression)
    with open_source([path], "coinbase-full") as source:
        events = list(source)
        assert source.bytes_read == source.bytes_total == path.stat().st_size
        assert (source.path, source.line) == (path, len(messages) + (
            2 if prefix == "cryptofeed" else 0))
    assert events == expected_full(messages, 3 if prefix == "cryptofeed" else 1)
    assert {type(e).__name__ for e in events} == {"Received", "Open", "Done", "Change", "Match"}


def test_full_values_are_exact_and_non_book_messages_are_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"type":"subscriptions","channels":[{"name":"full","product_ids":["BTC-USD"]}]}\n'
        '{"type":"received","time":"2021-04-17T16:43:37.5Z","product_id":"BTC-USD",'
        '"sequence":7,"order_id":"o1","funds":"100.0000000000000000","side":"buy",'
        '"order_type":"market"}\n'
        '{"type":"heartbeat","sequence":7,"last_trade_id":3,"product_id":"BTC-USD",'
        '"time":"2021-04-17T16:43:37.6Z"}\n'
        '{"type":"activate","product_id":"BTC-USD","timestamp":"1618677817.7","order_id":"o9",'
        '"stop_type":"entry","side":"buy","stop_price":"1","size":"1","private":true}\n'
        '{"type":"change","reason":"STP","time":"2021-04-17T16:43:37.700001Z","sequence":8,'
        '"order_id":"o1","side":"buy","product_id":"BTC-USD","old_funds":"100.00",'
        '"new_funds":"90.00","price":null}\n'
        '{"type":"ticker","product_id":"BTC-USD","price":"1"}\n'
        '{"type":"l2update","product_id":"BTC-USD","changes":[["buy","1","1"]],'
        '"time":"2021-04-17T16:43:38Z"}\n'
        '{"type":"done","time":"2021-04-17T16:43:38Z","product_id":"BTC-USD","sequence":9,'
        '"order_id":"o1","reason":"filled","side":"buy"}\n')
    with open_source([path], "coinbase-full") as source:
        events = list(source)
    t = 1_618_677_817_000_000
    assert events == [
        Received(2, t + 500_000, "BTC-USD", "o1", "buy", "market", None, None, D("100")),
        Change(5, t + 700_001, "BTC-USD", "o1", "buy", None, None, None, D("90"), D("100")),
        Done(8, t + 1_000_000, "BTC-USD", "o1", "buy", "filled", None, None)]


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_level2_gives_a_snapshot_levels_and_taker_side_trades(
        tmp_path: Path, prefix: str, compression: str | None) -> None:
    messages = list(kit.level2_messages(300))
    path = kit.write(tmp_path / "l2.jsonl", kit.framed(messages, prefix), compression)
    with open_source([path], "coinbase-level2") as source:
        events = list(source)
    first = 3 if prefix == "cryptofeed" else 1
    snapshot = events[0]
    assert isinstance(snapshot, Snapshot) and snapshot.line == first
    # no time of its own: the line's receive time if it has one, else 0 (nothing before it)
    assert snapshot.time == (0 if prefix == "none" else kit.START_US + 7)
    assert snapshot.bids[0] == (D("99.99"), D(messages[0]["bids"][0][1]))
    assert [price for price, _ in snapshot.bids] == sorted(
        (D(p) for p, _ in messages[0]["bids"]), reverse=True)
    assert [price for price, _ in snapshot.asks] == sorted(D(p) for p, _ in messages[0]["asks"])
    want: list[Any] = []
    for line, m in enumerate(messages[1:], first + 1):
        t = parse_iso(m["time"])
        if m["type"] == "match":
            taker = "sell" if m["side"] == "buy" else "buy"
            want.append(Trade(line, t, "BTC-USD", taker, D(m["price"]), D(m["size"]),
                              str(m["trade_id"])))
        else:
            want.extend(Level(line, t, "BTC-USD", side, D(price), D(size))
                        for side, price, size in m["changes"])
    assert events[1:] == want
    assert any(isinstance(e, Trade) for e in events)


def test_level2_skips_what_is_not_level2_and_numbers_lines_in_several_files(
        tmp_path: Path) -> None:
    one = tmp_path / "part1.jsonl"
    two = tmp_path / "part2.jsonl.gz"
    one.write_text(
        '{"type":"subscriptions","channels":[]}\n'
        '{"type":"snapshot","product_id":"SKL-USD","bids":[["0.1","5"],["0.2","7"]],'
        '"asks":[["0.4","1"],["0.3","2"]]}\n'
        '{"type":"last_match","trade_id":1,"product_id":"SKL-USD","side":"buy","size":"1",'
        '"price":"0.2","time":"2021-04-17T16:43:37Z","sequence":1,"maker_order_id":"a",'
        '"taker_order_id":"b"}\n')
    kit.write(two, [
        '{"type":"ticker","product_id":"SKL-USD","price":"0.2"}',
        '{"type":"open","product_id":"SKL-USD","order_id":"x","side":"buy","price":"1",'
        '"remaining_size":"1","time":"2021-04-17T16:43:38Z","sequence":3}',
        '{"type":"l2update","product_id":"SKL-USD","changes":[["sell","0.3","0"],'
        '["buy","0.25","3.5"]],"time":"2021-04-17T16:43:38.25Z"}'], "gzip")
    with open_source([one, two], "coinbase-level2") as source:
        events = list(source)
        assert (source.path, source.line) == (two, 3)
        assert source.bytes_total == one.stat().st_size + two.stat().st_size
    t = 1_618_677_818_250_000
    assert events == [
        Snapshot(2, 0, "SKL-USD", ((D("0.2"), D("7")), (D("0.1"), D("5"))),
                 ((D("0.3"), D("2")), (D("0.4"), D("1")))),
        Level(3, t, "SKL-USD", "sell", D("0.3"), D("0")),
        Level(3, t, "SKL-USD", "buy", D("0.25"), D("3.5"))]


def test_a_time_field_and_a_receive_prefix_time_messages_without_their_own(
        tmp_path: Path) -> None:
    path = tmp_path / "l2.jsonl"
    path.write_text(
        '{"type":"snapshot","product_id":"A-B","bids":[],"asks":[],"local_timestamp":5}\n'
        '1618677817.25: {"type":"snapshot","product_id":"A-B","bids":[],"asks":[]}\n'
        '1618677818250000000 {"type":"snapshot","product_id":"A-B","bids":[],"asks":[]}\n'
        '{"type":"snapshot","product_id":"A-B","bids":[],"asks":[],'
        '"receipt_timestamp":1618677819.5}\n'
        '{"type":"snapshot","product_id":"A-B","bids":[],"asks":[]}\n')
    with open_source([path], "coinbase-level2") as source:
        assert [e.time for e in source] == [5, 1_618_677_817_250_000, 1_618_677_818_250_000,
                                            1_618_677_819_500_000, 1_618_677_819_500_000]


def test_sha256_of_streams_the_file(tmp_path: Path) -> None:
    path = kit.write(tmp_path / "f.zst", kit.framed(kit.full_messages(2000)), "zstd")
    assert sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_progress_counts_compressed_bytes_as_it_reads(tmp_path: Path) -> None:
    path = kit.write(tmp_path / "f.gz", kit.framed(kit.full_messages(60_000)), "gzip")
    with open_source([path], "coinbase-full") as source:
        seen = []
        for index, _ in enumerate(source):
            if index % 10_000 == 0:
                seen.append(source.bytes_read)
        assert seen == sorted(seen) and 0 < seen[1] < source.bytes_total
        assert source.bytes_read == source.bytes_total
