"""The journal: SqliteJournal/MemoryJournal storage, torn tails, corruption, and the codec."""

from __future__ import annotations

import enum
import logging
import sqlite3
from pathlib import Path

import msgspec
import pytest

from sandex.core.commands import (
    AddCurrency,
    AddProduct,
    AdvanceClock,
    CancelAll,
    CancelOrder,
    CreateProfile,
    Deposit,
    PlaceOrder,
    SetFees,
    SetProductStatus,
    Transfer,
    Withdraw,
)
from sandex.core.model import (
    CancelAfter,
    OrderType,
    ProductStatus,
    Side,
    StopType,
    Stp,
    TimeInForce,
)
from sandex.journal import JournalCorrupt, MemoryJournal, SqliteJournal, StorageError
from sandex.node.codec import decode, decode_many, encode
from sandex.node.commands import CreateApiKey, RevokeApiKey

RECORDS = [b"one", b"two", b"three", b"four", b"five"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


def write(path: Path, records: list[bytes]) -> None:
    journal = SqliteJournal(path)
    for record in records:
        journal.append([record])
    journal.close()


def tamper(path: Path, sql: str, *params: object) -> None:
    """Change the file behind the journal's back, then close so the WAL is checkpointed."""
    con = sqlite3.connect(path)
    with con:
        con.execute(sql, params)
    con.close()


def sidecars(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


# --- storage ------------------------------------------------------------------------------


def test_sqlite_round_trip_and_positions_across_reopen(db: Path) -> None:
    journal = SqliteJournal(db)
    assert journal.last_position == 0
    assert list(journal.read()) == []
    assert journal.append([RECORDS[0]]) == 1
    assert journal.append([RECORDS[1]]) == 2
    journal.close()

    journal = SqliteJournal(db)
    assert journal.last_position == 2
    assert journal.append([RECORDS[2]]) == 3
    assert list(journal.read()) == [(1, b"one"), (2, b"two"), (3, b"three")]
    journal.close()

    journal = SqliteJournal(db)
    assert journal.last_position == 3
    assert list(journal.read()) == [(1, b"one"), (2, b"two"), (3, b"three")]
    journal.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_batches_return_last_position_and_read_after(kind: str, db: Path) -> None:
    journal = MemoryJournal() if kind == "memory" else SqliteJournal(db)
    assert journal.last_position == 0
    assert journal.append(RECORDS[:3]) == 3
    assert journal.last_position == 3
    assert journal.append([]) == 3
    assert journal.append(RECORDS[3:]) == 5
    assert journal.last_position == 5
    assert list(journal.read()) == list(enumerate(RECORDS, start=1))
    assert list(journal.read(after=0)) == list(enumerate(RECORDS, start=1))
    assert list(journal.read(after=3)) == [(4, b"four"), (5, b"five")]
    assert list(journal.read(after=5)) == []
    assert list(journal.read(after=9)) == []
    journal.close()


@pytest.mark.parametrize("sizes", [[1, 63, 64, 65], [128, 129, 1], [200, 2, 64]])
def test_batches_across_the_statement_bound_keep_each_rows_position_crc_and_body(
        db: Path, sizes: list[int]) -> None:
    """``write``'s rows (made by ``zip``/``map`` since REST's twenty-first pass): each batch,
    one statement or several, stores each record at its position with its CRC, in order."""
    from sandex.journal.checksum import crc32
    from sandex.journal.store import INSERT_ROWS

    assert INSERT_ROWS == 64  # the sizes straddle it
    journal = SqliteJournal(db)
    made: list[bytes] = []
    for size in sizes:
        batch = [b"r%d-%s" % (len(made) + i, b"x" * ((len(made) + i) % 7)) for i in range(size)]
        assert journal.append(batch) == len(made) + size
        made += batch
    journal.close()
    con = sqlite3.connect(db)
    rows = con.execute("SELECT position, crc, body FROM journal ORDER BY position").fetchall()
    con.close()
    assert rows == [(i, crc32(body), body) for i, body in enumerate(made, start=1)]
    journal = SqliteJournal(db)
    assert list(journal.read()) == list(enumerate(made, start=1))
    journal.close()


def test_batch_is_one_transaction(db: Path) -> None:
    write(db, [b"a"])
    tamper(db, "CREATE TRIGGER refuse BEFORE INSERT ON journal WHEN NEW.body = X'626164' "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    journal = SqliteJournal(db)
    with pytest.raises(StorageError, match="refused") as caught:
        journal.append([b"b", b"bad"])  # the second INSERT of the batch fails
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    assert journal.last_position == 1
    assert list(journal.read()) == [(1, b"a")]
    assert journal.append([b"c"]) == 2
    journal.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE journal SET body = X'00' WHERE position = ?",
        "UPDATE journal SET crc = crc + 1 WHERE position = ?",
    ],
    ids=["body", "crc"],
)
def test_torn_tail_is_truncated_with_a_warning(
        db: Path, sql: str, caplog: pytest.LogCaptureFixture) -> None:
    write(db, RECORDS[:3])
    tamper(db, sql, 3)

    with caplog.at_level(logging.WARNING, logger="sandex.journal"):
        journal = SqliteJournal(db)
    warnings = [r for r in caplog.records
                if r.name == "sandex.journal" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "torn tail" in message
    assert str(db) in message
    assert "position 3" in message

    assert journal.last_position == 2
    assert list(journal.read()) == [(1, b"one"), (2, b"two")]
    assert journal.append([b"again"]) == 3
    assert journal.append([b"more", b"still"]) == 5
    journal.close()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sandex.journal"):
        journal = SqliteJournal(db)
    assert not caplog.records
    assert list(journal.read()) == [
        (1, b"one"), (2, b"two"), (3, b"again"), (4, b"more"), (5, b"still")]
    journal.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE journal SET body = X'00' WHERE position = ?",
        "UPDATE journal SET crc = crc + 1 WHERE position = ?",
    ],
    ids=["body", "crc"],
)
def test_corrupt_middle_record_refuses_and_changes_nothing(db: Path, sql: str) -> None:
    write(db, RECORDS)
    tamper(db, sql, 3)
    before = db.read_bytes()
    assert sidecars(db) == []  # the WAL was checkpointed when the last connection closed

    with pytest.raises(JournalCorrupt) as caught:
        SqliteJournal(db)
    message = str(caught.value)
    assert str(db) in message
    assert "position 3" in message

    assert db.read_bytes() == before
    assert sidecars(db) == []  # the refused open closed its connection
    with pytest.raises(JournalCorrupt):  # and refuses again: nothing was "repaired"
        SqliteJournal(db)


def test_gap_refuses_naming_the_missing_position(db: Path) -> None:
    write(db, RECORDS)
    tamper(db, "DELETE FROM journal WHERE position = ?", 3)
    before = db.read_bytes()

    with pytest.raises(JournalCorrupt) as caught:
        SqliteJournal(db)
    message = str(caught.value)
    assert str(db) in message
    assert "position 3 is missing" in message

    assert db.read_bytes() == before
    assert sidecars(db) == []


def test_gap_at_the_start_refuses(db: Path) -> None:
    write(db, RECORDS[:3])
    tamper(db, "DELETE FROM journal WHERE position = ?", 1)
    with pytest.raises(JournalCorrupt, match="position 1 is missing"):
        SqliteJournal(db)


# --- codec --------------------------------------------------------------------------------

BIG = 10**30

EVERY_COMMAND: list[msgspec.Struct] = [
    PlaceOrder(time=1, order_id="o1", profile_id="p1", product_id="BTC-USD", side=Side.SELL,
               type=OrderType.LIMIT, price=BIG, size=2 * BIG, funds=None,
               time_in_force=TimeInForce.GTT, cancel_after=CancelAfter.HOUR, post_only=True,
               stp=Stp.CB, stop=StopType.LOSS, stop_price=123, client_oid=None),
    PlaceOrder(time=2, order_id="o2", profile_id="p1", product_id="BTC-USD", side=Side.BUY,
               type=OrderType.MARKET, funds=BIG),
    CancelOrder(time=3, profile_id="p1", order_id="o1"),
    CancelOrder(time=4, profile_id="p1", client_oid="c1", product_id="BTC-USD"),
    CancelAll(time=5, profile_id="p1"),
    AdvanceClock(time=6),
    AddCurrency(time=7, currency="BTC", name="Bitcoin", min_size=BIG),
    AddProduct(time=8, product_id="BTC-USD", base_currency="BTC", quote_currency="USD",
               base_increment=1, quote_increment=100, min_market_funds=BIG,
               status=ProductStatus.POST_ONLY),
    SetProductStatus(time=9, product_id="BTC-USD", status=ProductStatus.CANCEL_ONLY),
    CreateProfile(time=10, profile_id="p1", user_id="u1", name="default",
                  maker_fee_rate=1000, taker_fee_rate=2000),
    SetFees(time=11, profile_id="p1", maker_fee_rate=0, taker_fee_rate=5000),
    Deposit(time=12, profile_id="p1", currency="USD", amount=BIG, transfer_id="t1"),
    Withdraw(time=13, profile_id="p1", currency="USD", amount=BIG + 1, transfer_id="t2"),
    Transfer(time=14, from_profile_id="p1", to_profile_id="p2", currency="BTC",
             amount=-BIG, transfer_id="t3"),
    CreateApiKey(time=15, key="k1", secret="c2VjcmV0", passphrase_hash=b"\x00\xff\x80hash",
                 salt=bytes(range(16)), permissions=("view", "trade"), profile_id="p1"),
    RevokeApiKey(time=16, key="k1"),
]


def test_codec_covers_every_command_type() -> None:
    covered = {type(command) for command in EVERY_COMMAND}
    expected = {PlaceOrder, CancelOrder, CancelAll, AdvanceClock, AddCurrency, AddProduct,
                SetProductStatus, CreateProfile, SetFees, Deposit, Withdraw, Transfer,
                CreateApiKey, RevokeApiKey}
    assert covered == expected


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=lambda c: type(c).__name__)
def test_codec_round_trip(command: msgspec.Struct) -> None:
    record = encode(command)
    assert isinstance(record, bytes)
    decoded = decode(record)
    assert type(decoded) is type(command)
    assert decoded == command
    for field in command.__struct_fields__:
        value, got = getattr(command, field), getattr(decoded, field)
        assert type(got) is type(value), field
        if isinstance(value, enum.Enum):
            assert got is value, field
    assert encode(decoded) == record  # deterministic: replay re-encodes identically


def test_codec_big_amounts_survive() -> None:
    for amount in (2**64, 2**64 - 1, -(2**63) - 1, BIG, -BIG, 10**60):
        command = Deposit(time=1, profile_id="p", currency="USD", amount=amount,
                          transfer_id="t")
        assert decode(encode(command)) == command


def test_codec_through_the_journal(db: Path) -> None:
    journal = SqliteJournal(db)
    journal.append([encode(command) for command in EVERY_COMMAND])
    journal.close()
    journal = SqliteJournal(db)
    assert [decode(body) for _, body in journal.read()] == EVERY_COMMAND
    journal.close()


def test_codec_rejects_unknown_and_bad_records() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode(b'{"command":"Nope","time":1}')
    with pytest.raises(msgspec.DecodeError):
        decode(b"\x00not a record")


# --- the deferred open (start-up's replay checks what it reads) and chunked reads ------------


def test_a_deferred_open_checks_only_the_last_record_and_read_chunks_the_rest(
        db: Path) -> None:
    write(db, RECORDS)
    tamper(db, "UPDATE journal SET crc = crc + 1 WHERE position = ?", 3)

    journal = SqliteJournal(db, deferred=True)  # the last record is good: opens
    assert journal.last_position == 5
    chunks = journal.read_chunks(0, size=2)
    assert next(chunks) == (1, [b"one", b"two"])
    with pytest.raises(JournalCorrupt) as caught:  # the same words as a full check's
        next(chunks)
    assert str(caught.value) == (f"{db}: record at position 3 is corrupt (checksum mismatch) "
                                 "and is not the last")
    journal.close()


def test_read_chunks_are_contiguous_checked_and_stop_at_until(db: Path) -> None:
    write(db, RECORDS)
    journal = SqliteJournal(db, deferred=True)
    assert list(journal.read_chunks(0, size=2)) == [
        (1, [b"one", b"two"]), (3, [b"three", b"four"]), (5, [b"five"])]
    assert list(journal.read_chunks(1, 4, size=10)) == [(2, [b"two", b"three", b"four"])]
    assert list(journal.read_chunks(5)) == []
    assert list(journal.read_chunks(3, 99)) == [(4, [b"four", b"five"])]  # to the end
    journal.close()


@pytest.mark.parametrize("deferred", [False, True])
def test_two_bad_records_at_the_end_refuse_and_change_nothing(db: Path, deferred: bool) -> None:
    write(db, RECORDS)
    tamper(db, "UPDATE journal SET crc = crc + 1 WHERE position >= ?", 4)
    before = db.read_bytes()

    with pytest.raises(JournalCorrupt) as caught:  # the last is not taken for a torn tail
        SqliteJournal(db, deferred=deferred)
    assert str(caught.value) == (f"{db}: record at position 4 is corrupt (checksum mismatch) "
                                 "and is not the last")
    assert db.read_bytes() == before
    assert sidecars(db) == []


def test_a_deferred_open_truncates_a_torn_tail(db: Path, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    write(db, RECORDS)
    tamper(db, "UPDATE journal SET body = X'00' WHERE position = ?", 5)
    with caplog.at_level(logging.WARNING, logger="sandex.journal"):
        journal = SqliteJournal(db, deferred=True)
    assert f"{db}: torn tail: record at position 5 was never acknowledged; truncated" in [
        r.getMessage() for r in caplog.records]
    assert journal.last_position == 4
    assert list(journal.read_chunks(0)) == [(1, RECORDS[:4])]
    journal.close()


def test_a_deferred_open_still_refuses_a_gap(db: Path) -> None:
    write(db, RECORDS)
    tamper(db, "DELETE FROM journal WHERE position = ?", 2)
    with pytest.raises(JournalCorrupt, match="position 2 is missing"):
        SqliteJournal(db, deferred=True)


def test_decode_many_is_decode_of_each(db: Path) -> None:
    records = [encode(command) for command in EVERY_COMMAND]
    assert decode_many(records) == [decode(record) for record in records] == EVERY_COMMAND
    assert decode_many([]) == []
    with pytest.raises(msgspec.DecodeError):
        decode_many([records[0], b"\x00not a record", records[1]])
    two_in_one = records[0] + b"," + records[1]  # one record holding two values is not one
    with pytest.raises(msgspec.DecodeError):
        decode_many([two_in_one])
    with pytest.raises(msgspec.DecodeError):
        decode_many([two_in_one, records[2]])
    two_lines = records[0] + b"\n" + records[1]  # nor one holding two lines
    with pytest.raises(msgspec.DecodeError):
        decode_many([two_lines, records[2]])
    spread = records[0].replace(b",", b",\n", 1)  # JSON with a newline as its whitespace
    assert decode_many([spread, records[1]]) == EVERY_COMMAND[:2]
