"""Bad recordings: one ``SourceError`` naming the file and line, nothing yielded past it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sandex.replay.sources import SourceError, open_source
from tests.support import recordings_kit as kit

R1 = ('{"type":"received","time":"2021-04-17T16:43:37Z","product_id":"BTC-USD","sequence":1,'
      '"order_id":"o1","size":"1","price":"10","side":"buy","order_type":"limit"}')
O2 = ('{"type":"open","time":"2021-04-17T16:43:37Z","product_id":"BTC-USD","sequence":2,'
      '"order_id":"o1","price":"10","remaining_size":"1","side":"buy"}')


def read(path: Path, format: str) -> tuple[int, str]:
    """How many events came out before the error, and the error's text."""
    count = 0
    with open_source([path], format) as source, pytest.raises(SourceError) as caught:
        for _ in source:
            count += 1
    return count, str(caught.value)


@pytest.mark.parametrize(("third", "problem"), [
    (O2[:50], "invalid or truncated JSON: '" + O2[:50] + "'"),
    ('{"type":"snapshotty","product_id":"BTC-USD"}', "unknown message type 'snapshotty'"),
    ('{"product_id":"BTC-USD"}', 'message without a "type"'),
    ('1618677817.5: [1, 2]', "a message must be a JSON object"),
    (O2.replace('"order_id":"o1",', "").replace('"sequence":2', '"sequence":3'),
     'open message without "order_id"'),
    (O2.replace('"sequence":2', '"sequence":3').replace('"price":"10"', '"price":"ten"'),
     "bad decimal price: 'ten'"),
    (O2.replace('"sequence":2', '"sequence":4').replace('"price":"10"', '"price":"-10"'),
     "bad decimal price: -10"),
    (O2.replace('"sequence":2', '"sequence":3').replace('"side":"buy"', '"side":"up"'),
     "bad open message: Invalid enum value 'up' - at `$.side`"),
    (O2.replace('"sequence":2', '"sequence":3').replace("16:43:37Z", "16:43:36.999999Z"),
     "time goes backwards: 2021-04-17T16:43:36.999999Z is before the previous message's time"),
    (O2.replace('"sequence":2', '"sequence":4').replace("2021-04-17T16:43:37Z", "yesterday"),
     "bad time 'yesterday'"),
    (O2.replace('"sequence":2', '"sequence":5'), "sequence gap on BTC-USD: 5 after 3"),
    (O2.replace('"sequence":2', '"sequence":2'), "sequence 2 on BTC-USD is not after 3"),
    ("12ab: " + O2.replace('"time":"2021-04-17T16:43:37Z",', ""),
     "bad receive-time prefix '12ab:'"),
    ("hello", "not a JSON message nor a receive-time prefix: 'hello'"),
    ('{"type":"error","message":"Failed to subscribe","reason":"full requires auth"}',
     "the recording holds an error message: 'Failed to subscribe' ('full requires auth')"),
])
def test_each_kind_of_bad_line_names_file_and_line(tmp_path: Path, third: str,
                                                   problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    second = O2.replace('"sequence":2', '"sequence":3')
    path.write_text(f"{R1.replace('1,', '2,', 1)}\n{second}\n{third}\n{R1}\n")
    # a received of sequence 2, an open of 3, then the bad line (3), then more
    assert read(path, "coinbase-full") == (2, f"{path}:3: {problem}")


def test_a_line_cut_off_at_the_end_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text(f"{R1}\n{O2[:-10]}")
    assert read(path, "coinbase-full") == (
        1, f"{path}:2: invalid or truncated JSON: '{O2[:-10][:60]}...'")


def test_a_truncated_gzip_stream(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress("".join(line + "\n" for line in kit.framed(
        kit.full_messages(20_000))).encode())
    path.write_bytes(data[: len(data) // 2])
    count, text = read(path, "coinbase-full")
    assert 0 < count < 20_000
    assert text.startswith(f"{path}:") and "cannot decompress: Compressed file ended" in text


def test_level2_errors(tmp_path: Path) -> None:
    path = tmp_path / "l2.jsonl"
    path.write_text(
        '{"type":"snapshot","product_id":"A-B","bids":[["1","1"]],"asks":[]}\n'
        '{"type":"l2update","product_id":"A-B","changes":[["buy","1","2"]],'
        '"time":"2021-04-17T16:43:37Z"}\n'
        '{"type":"l2update","product_id":"A-B","changes":[["buy","1","NaN"]],'
        '"time":"2021-04-17T16:43:37Z"}\n')
    assert read(path, "coinbase-level2") == (2, f"{path}:3: bad decimal size: NaN")
    path.write_text('{"type":"snapshot","product_id":"A-B","asks":[]}\n')
    assert read(path, "coinbase-level2") == (0, f'{path}:1: snapshot message without "bids"')


BOOK = kit.TARDIS_BOOK_HEADER
TRADES = kit.TARDIS_TRADES_HEADER


@pytest.mark.parametrize(("header", "row", "problem"), [
    (BOOK, "coinbase,BTC-USD,1000,1050,false,bid,1.5", "7 columns where the header has 8 "
                                                       "(truncated row?)"),
    (BOOK, "coinbase,BTC-USD,1000,1050,false,bid,1.5,2,9", "9 columns where the header has 8"),
    (BOOK, "coinbase,BTC-USD,999,1050,false,bid,1.5,2",
     "time goes backwards: 999 is before the previous row's 1000"),
    (BOOK, "coinbase,BTC-USD,soon,1050,false,bid,1.5,2", "bad timestamp 'soon'"),
    (BOOK, "coinbase,BTC-USD,1000,1050,maybe,bid,1.5,2", "bad is_snapshot 'maybe'"),
    (BOOK, "coinbase,BTC-USD,1000,1050,false,buy,1.5,2", "bad side 'buy' (bid or ask)"),
    (BOOK, "coinbase,BTC-USD,1000,1050,false,bid,1.5,lots", "bad decimal amount: 'lots'"),
    (TRADES, "coinbase,BTC-USD,1000,1050,7,unknown,1.5,2",
     "bad side 'unknown' (buy or sell: the aggressor's side must be known)"),
    (TRADES, "coinbase,BTC-USD,1000,1050,7,buy,-1.5,2", "bad decimal price: -1.5"),
])
def test_tardis_bad_rows(tmp_path: Path, header: str, row: str, problem: str) -> None:
    path = tmp_path / "t.csv"
    good = ("coinbase,BTC-USD,1000,1050,false,bid,1.5,2" if header == BOOK
            else "coinbase,BTC-USD,1000,1050,6,sell,1.5,2")
    path.write_text(f"{header}\n{good}\n{row}\n{good}\n")
    assert read(path, "tardis") == (1, f"{path}:3: {problem}")


def test_tardis_needs_a_known_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n")
    assert read(path, "tardis") == (0, (
        f"{path}:1: not a tardis incremental_book_L2 or trades CSV header (needs "
        "symbol,timestamp,is_snapshot,side,price,amount or symbol,timestamp,id,side,price,amount)"))


def test_an_unknown_format_or_no_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown recording format 'lobster': one of "
                                         "coinbase-full, coinbase-level2, tardis"):
        open_source([tmp_path / "x"], "lobster")
    with pytest.raises(FileNotFoundError):
        open_source([tmp_path / "missing.jsonl"], "coinbase-full")
