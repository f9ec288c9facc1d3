"""The tardis reader: book rows, snapshot runs, trades, and their merge in time order."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from sandex.replay.events import Level, Snapshot, Trade
from sandex.replay.sources import open_source
from tests.support import recordings_kit as kit


def test_book_and_trades_merge_in_time_order_trades_first_on_a_tie(tmp_path: Path) -> None:
    book = tmp_path / "incremental_book_L2.csv"
    trades = tmp_path / "trades.csv.gz"
    book.write_text(
        f"{kit.TARDIS_BOOK_HEADER}\n"
        "coinbase,BTC-USD,1000,1001,true,bid,99.5,2\n"
        "coinbase,BTC-USD,1000,1001,true,ask,100.5,1\n"
        "coinbase,BTC-USD,1000,1001,true,bid,99.75,0\n"   # an empty level: left out
        "coinbase,BTC-USD,1000,1001,true,bid,99.9,3\n"
        "coinbase,BTC-USD,2000,2001,false,ask,100.5,0.4\n"
        "coinbase,BTC-USD,3000,3001,false,bid,99.9,0\n"
        "coinbase,BTC-USD,3000,3001,true,bid,99,1\n"      # a new snapshot after false rows
        "coinbase,BTC-USD,3000,3001,true,ask,101,1\n")
    kit.write(trades, [kit.TARDIS_TRADES_HEADER,
                       "coinbase,BTC-USD,999,1000,t0,sell,99.9,0.1",
                       "coinbase,BTC-USD,2000,2002,t1,buy,100.5,0.6",
                       "coinbase,BTC-USD,3000,3002,,sell,99.9,3",
                       "coinbase,BTC-USD,4000,4002,t3,buy,101,1"], "gzip")
    with open_source([book, trades], "tardis") as source:
        seen = [(source.path.name, source.line, event) for event in source]
    assert seen == [
        ("trades.csv.gz", 2, Trade(2, 999, "BTC-USD", "sell", D("99.9"), D("0.1"), "t0")),
        ("incremental_book_L2.csv", 2, Snapshot(
            2, 1000, "BTC-USD", ((D("99.9"), D("3")), (D("99.5"), D("2"))),
            ((D("100.5"), D("1")),))),
        ("trades.csv.gz", 3, Trade(3, 2000, "BTC-USD", "buy", D("100.5"), D("0.6"), "t1")),
        ("incremental_book_L2.csv", 6, Level(6, 2000, "BTC-USD", "sell", D("100.5"), D("0.4"))),
        ("trades.csv.gz", 4, Trade(4, 3000, "BTC-USD", "sell", D("99.9"), D("3"), None)),
        ("incremental_book_L2.csv", 7, Level(7, 3000, "BTC-USD", "buy", D("99.9"), D("0"))),
        ("incremental_book_L2.csv", 8, Snapshot(
            8, 3000, "BTC-USD", ((D("99"), D("1")),), ((D("101"), D("1")),))),
        ("trades.csv.gz", 5, Trade(5, 4000, "BTC-USD", "buy", D("101"), D("1"), "t3"))]


def test_snapshot_runs_of_two_symbols_are_two_snapshots(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(f"{kit.TARDIS_BOOK_HEADER}\n"
                    "coinbase,BTC-USD,1000,1001,true,bid,1,1\n"
                    "coinbase,ETH-USD,1000,1001,true,ask,2,1\n")
    with open_source([book], "tardis") as source:
        assert list(source) == [Snapshot(2, 1000, "BTC-USD", ((D(1), D(1)),), ()),
                                Snapshot(3, 1000, "ETH-USD", (), ((D(2), D(1)),))]


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_generated_files_in_any_order_and_compression(tmp_path: Path,
                                                      compression: str | None) -> None:
    book = kit.write(tmp_path / "book", kit.tardis_book_rows(3000), compression)
    trades = kit.write(tmp_path / "trades", kit.tardis_trade_rows(300), compression)
    with open_source([trades, book], "tardis") as source:
        events = list(source)
        assert source.bytes_read == source.bytes_total
    assert [type(e).__name__ for e in events].count("Trade") == 300
    assert [type(e).__name__ for e in events].count("Level") == 3000
    assert isinstance(events[0], Snapshot) and len(events[0].bids) == len(events[0].asks) == 10
    keys = [(e.time, 0 if isinstance(e, Trade) else 1) for e in events]
    assert keys == sorted(keys)
    with open_source([book, trades], "tardis") as again:
        assert list(again) == events
    with open_source([book], "tardis") as alone:
        assert [e for e in alone] == [e for e in events if not isinstance(e, Trade)]


def test_two_files_of_one_kind_are_refused(tmp_path: Path) -> None:
    one = kit.write(tmp_path / "a.csv", kit.tardis_trade_rows(3))
    two = kit.write(tmp_path / "b.csv", kit.tardis_trade_rows(3))
    with open_source([one, two], "tardis") as source, pytest.raises(
            ValueError, match=f"{two}:1: a second trades file: give at most one "
                              "incremental_book_L2 and one trades file"):
        list(source)
