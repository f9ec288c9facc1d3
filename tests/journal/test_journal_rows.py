"""The journal's rows read in C (``sandex.journal.rows``) give what ``sqlite3`` gives: the
same chunks, and the same refusal of a bad record whatever kind of value it holds; and a
replay's ``read_lines`` (checked in C, joined by newlines) the same records as ``read_chunks``."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandex.journal import JournalCorrupt, SqliteJournal, reader

RECORDS = [b"one", b"two", b"", b"four" * 1000, b"five", b"six\x00", b"seven"] * 30
READERS = ["sqlite3", "C", "C inline"]  # C: reading ahead on a thread
READS = ["read_chunks", "read_lines"]


def bodies_of(journal: SqliteJournal, read: str, after: int = 0, until: int | None = None,
              size: int = 512) -> list[bytes]:
    """The records ``read`` gives, in order; ``read_lines``' chunks checked to be contiguous,
    of at most ``size``, and their lines the bodies."""
    if read == "read_chunks":
        return [body for _, bodies in journal.read_chunks(after, until, size)
                for body in bodies]
    found: list[bytes] = []
    for first, count, joined, bodies, scan in journal.read_lines(after, until, size):
        assert first == after + 1 + len(found) and 0 < count <= size
        if scan is not None:  # the scanner's records (a size first): one a line
            assert bodies is None and scanned_lines(scan) == count
        if bodies is None:
            bodies = joined.split(b"\n")
        assert len(bodies) == count and joined == b"\n".join(bodies)
        found += bodies
    return found


def scanned_lines(scan: bytes) -> int:
    """How many lines ``scan`` (``Rows.scanned``) holds records of: each begins with its
    size."""
    at = lines = 0
    while at < len(scan):
        at += int.from_bytes(scan[at:at + 4], sys.byteorder)
        lines += 1
    assert at == len(scan)
    return lines


@pytest.fixture(params=READERS)
def which(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test with the Python reader and with the C one (skipped where it is not built)."""
    if request.param != "sqlite3":
        if reader.OPEN is None:
            pytest.skip(f"the C reader does not run here: {reader.describe()}")
        from sandex.journal import rows

        # "C": 32 chunks read ahead on a thread; "C inline": each ``lines`` call its own
        previous = rows.read_ahead(32 if request.param == "C" else 0)
        yield "C"
        rows.read_ahead(previous)
        return
    else:
        monkeypatch.setattr(reader, "OPEN", None)
    yield str(request.param)


def journal_of(path: Path, records: list[bytes]) -> Path:
    journal = SqliteJournal(path)
    journal.append(records)
    journal.close()
    return path


def tamper(path: Path, sql: str, *params: object) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute(sql, params)
    con.close()


@pytest.mark.parametrize("size", [1, 7, 512])
def test_chunks_are_the_records_in_order(tmp_path: Path, which: str, size: int) -> None:
    journal = SqliteJournal(journal_of(tmp_path / "j.sqlite3", RECORDS), deferred=True)
    chunks = list(journal.read_chunks(0, size=size))
    assert [first for first, _ in chunks] == list(range(1, len(RECORDS) + 1, size))
    assert [body for _, bodies in chunks for body in bodies] == RECORDS
    assert all(type(body) is bytes for _, bodies in chunks for body in bodies)
    assert list(journal.read_chunks(10, 12, size)) == (
        [(11, RECORDS[10:12])] if size > 1 else [(11, [RECORDS[10]]), (12, [RECORDS[11]])])
    assert list(journal.read_chunks(len(RECORDS))) == []
    journal.close()


@pytest.mark.parametrize("size", [1, 7, 512])
def test_lines_are_the_records_in_order(tmp_path: Path, which: str, size: int) -> None:
    """Also records holding a newline (``Rows.lines`` leaves them to ``chunk``)."""
    records = RECORDS + [b"eight\nlines", b"nine", b"\n", b"ten\n"] * 5 + RECORDS[:40]
    journal = SqliteJournal(journal_of(tmp_path / "j.sqlite3", records), deferred=True)
    assert bodies_of(journal, "read_lines", size=size) == records
    assert bodies_of(journal, "read_lines", 10, 12, size) == records[10:12]
    assert bodies_of(journal, "read_lines", 209, 215, size) == records[209:215]
    assert list(journal.read_lines(len(records))) == []
    journal.close()


def test_lines_are_checked_in_c_when_it_reads(tmp_path: Path, which: str) -> None:
    """The C reader checks the checksums itself (zlib-ng's ``zng_crc32``): the values the
    journal wrote, random bodies and all."""
    records = [os.urandom(n).replace(b"\n", b"") for n in range(0, 700, 7)]
    journal = SqliteJournal(journal_of(tmp_path / "j.sqlite3", records), deferred=True)
    chunks = list(journal.read_lines(0, size=64))
    assert bodies_of(journal, "read_lines", size=64) == records
    if which == "C":
        assert [(first, count, bodies) for first, count, _, bodies, _ in chunks] == [
            (1, 64, None), (65, 36, None)]
    journal.close()


def test_the_c_reader_finds_zlib_ngs_crc32() -> None:
    if reader.OPEN is None:
        pytest.skip(f"the C reader does not run here: {reader.describe()}")
    from zlib_ng import zlib_ng

    from sandex.journal import rows

    assert rows.use_crc32(zlib_ng.__file__ or "")
    assert not rows.use_crc32("/nonexistent/zlib_ng.so")
    assert rows.use_crc32(zlib_ng.__file__ or "")  # (the one found stays)
    assert "checked in C" in reader.describe()


@pytest.mark.parametrize("change", [
    "UPDATE journal SET crc = crc + 1 WHERE position = ?",
    "UPDATE journal SET body = 'text' WHERE position = ?",
    "UPDATE journal SET body = NULL WHERE position = ?",
    "UPDATE journal SET body = 1.5 WHERE position = ?",
    "UPDATE journal SET crc = 'x' WHERE position = ?",
    "UPDATE journal SET crc = NULL WHERE position = ?",
])
def test_a_bad_record_is_refused_in_the_same_words(tmp_path: Path, which: str,
                                                   change: str) -> None:
    path = journal_of(tmp_path / "j.sqlite3", RECORDS)
    con = sqlite3.connect(path)
    con.execute("PRAGMA ignore_check_constraints=ON")
    con.execute("PRAGMA writable_schema=ON")  # NOT NULL is enforced on UPDATE: drop it
    con.execute("UPDATE sqlite_schema SET sql = 'CREATE TABLE journal (position INTEGER "
                "PRIMARY KEY, crc, body)' WHERE name = 'journal'")
    con.commit()
    con.close()
    tamper(path, change, 100)
    journal = SqliteJournal(path, deferred=True)
    chunks = journal.read_chunks(0, size=64)
    assert next(chunks) == (1, RECORDS[:64])
    with pytest.raises(JournalCorrupt) as caught:
        next(chunks)
    assert str(caught.value) == (f"{path}: record at position 100 is corrupt (checksum "
                                 "mismatch) and is not the last")
    read: list[bytes] = []
    with pytest.raises(JournalCorrupt) as caught_too:
        for chunk in journal.read_lines(0, size=64):
            read += bodies_of_lines(chunk)
    assert str(caught_too.value) == str(caught.value)
    assert read == RECORDS[:99 if which == "C" else 64]  # C: up to the bad record
    journal.close()


def bodies_of_lines(chunk: tuple[int, int, bytes, list[bytes] | None, bytes | None]
                    ) -> list[bytes]:
    _, _, joined, bodies, _ = chunk
    return joined.split(b"\n") if bodies is None else bodies


def test_a_checksum_stored_as_a_real_of_the_same_value_passes(tmp_path: Path,
                                                              which: str) -> None:
    """``sqlite3`` gives a REAL as a ``float``, equal to the ``int`` checksum: accepted, as
    it always was."""
    path = journal_of(tmp_path / "j.sqlite3", RECORDS)
    con = sqlite3.connect(path)
    con.execute("PRAGMA writable_schema=ON")
    con.execute("UPDATE sqlite_schema SET sql = 'CREATE TABLE journal (position INTEGER "
                "PRIMARY KEY, crc, body)' WHERE name = 'journal'")
    con.commit()
    con.close()
    tamper(path, "UPDATE journal SET crc = CAST(crc AS REAL) WHERE position = ?", 5)
    journal = SqliteJournal(path, deferred=True)
    assert [body for _, bodies in journal.read_chunks(0, size=3) for body in bodies] == RECORDS
    assert bodies_of(journal, "read_lines", size=3) == RECORDS
    journal.close()


def test_a_missing_record_is_a_gap(tmp_path: Path, which: str) -> None:
    path = journal_of(tmp_path / "j.sqlite3", RECORDS)
    journal = SqliteJournal(path, deferred=True)
    tamper(path, "DELETE FROM journal WHERE position = ?", 50)  # behind the journal's back
    for read in READS:
        with pytest.raises(JournalCorrupt, match="gap in the journal: position 50 is missing"):
            bodies_of(journal, read)
    journal.close()


def test_the_c_reader_uses_the_sqlite_that_sqlite3_uses() -> None:
    if reader.OPEN is None:
        pytest.skip(f"the C reader does not run here: {reader.describe()}")
    import _sqlite3

    from sandex.journal import rows

    assert rows.same_library(_sqlite3.__file__ or "")
    assert not rows.same_library("/nonexistent/_sqlite3.so")


def test_a_read_error_is_sqlite3s(tmp_path: Path) -> None:
    """A file that is not a database: the C reader raises what ``sqlite3`` would."""
    if reader.OPEN is None:
        pytest.skip(f"the C reader does not run here: {reader.describe()}")
    path = tmp_path / "not.sqlite3"
    path.write_bytes(b"not a database" * 1000)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        reader.OPEN(path, 0, 10)
    assert caught.value.sqlite_errorcode == sqlite3.SQLITE_NOTADB


def test_the_c_reader_reads_chunks_ahead(tmp_path: Path) -> None:
    """``lines`` has a thread of the reader's own fill a ring of chunks ahead (``chunk`` may
    not step the statement meanwhile); the chunks are the same as read one call at a time,
    whatever the ring's length and each call's size; a reader closed or dropped while it
    reads ahead stops its thread."""
    if reader.OPEN is None or "checked in C" not in reader.describe():
        pytest.skip(f"the C reader does not check here: {reader.describe()}")
    from sandex.journal import rows as c_rows

    records = [b"r%d" % i * (i % 50) for i in range(3000)]
    path = journal_of(tmp_path / "j.sqlite3", records)
    previous = c_rows.read_ahead(8)
    try:
        for slots in (2, 3, 8, 0):
            c_rows.read_ahead(slots)
            rows = reader.OPEN(path, 0, len(records))
            count, joined = rows.lines(100)
            assert (count, joined) == (100, b"\n".join(records[:100]))
            if slots:
                with pytest.raises(RuntimeError):
                    rows.chunk(100)  # the next chunks are being read
            found = records[:100]
            sizes = iter([100, 37, 250, 1, 100] * 100)  # fewer, and more, than the ring's
            while count:
                size = next(sizes)
                count, joined = rows.lines(size)
                assert count <= size
                found += joined.split(b"\n") if count else []
            assert found == records
            assert rows.lines(100) == (0, b"")
            if slots:  # the caller waits only on an empty ring (about once a chunk at most,
                # a spurious wake-up aside), the thread on a full one
                reader_slept, caller_slept = rows.waits()
                assert reader_slept <= 3000 // 100 and caller_slept <= 3000 // 100 + 4
            else:
                assert rows.waits() == (0, 0)
            rows.close()
        c_rows.read_ahead(4)
        for _ in range(20):  # closed, and dropped, while reading ahead
            rows = reader.OPEN(path, 0, len(records))
            assert rows.lines(7)[0] == 7
            rows.close()
            rows = reader.OPEN(path, 0, len(records))
            assert rows.lines(7)[0] == 7
            del rows
        journal = SqliteJournal(path, deferred=True)
        for _ in journal.read_lines(0, size=64):
            break  # a replay's generator dropped after its first chunk
        assert bodies_of(journal, "read_lines", size=64) == records
        journal.close()
    finally:
        c_rows.read_ahead(previous)


def test_the_read_ahead_ends_where_a_call_at_a_time_ends(tmp_path: Path) -> None:
    """A run of good rows that ends exactly on a chunk's end, the end of the journal within
    the ring, and a bad row as the first of a chunk: the same answers with the ring as
    without."""
    if reader.OPEN is None or "checked in C" not in reader.describe():
        pytest.skip(f"the C reader does not check here: {reader.describe()}")
    from sandex.journal import rows as c_rows

    records = [b"x%d" % i for i in range(64)] + [b"bad\nline"] + [b"y%d" % i for i in range(10)]
    path = journal_of(tmp_path / "j.sqlite3", records)

    def answers(slots: int, size: int) -> list[object]:
        assert reader.OPEN is not None
        previous = c_rows.read_ahead(slots)
        try:
            rows = reader.OPEN(path, 0, len(records))
            got: list[object] = []
            while True:
                count, joined = rows.lines(size)
                got.append((count, joined))
                if not count:
                    _, bodies = rows.chunk(size)
                    got.append(bodies)
                    if not bodies:
                        break
            rows.close()
            return got
        finally:
            c_rows.read_ahead(previous)

    for size in (8, 16, 32, 64, 5, 100):
        assert answers(8, size) == answers(0, size)


def test_the_read_ahead_is_32_chunks_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """``SANDEX_READ_AHEAD`` sets the chunks read ahead (32 by default, or if unreadable; 0:
    none)."""
    monkeypatch.delenv(reader.READ_AHEAD_ENV, raising=False)
    assert reader._read_ahead() == 32
    monkeypatch.setenv(reader.READ_AHEAD_ENV, "0")
    assert reader._read_ahead() == 0
    monkeypatch.setenv(reader.READ_AHEAD_ENV, "many")
    assert reader._read_ahead() == 32
