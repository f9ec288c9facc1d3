"""A replay's chunk decoded by ``applying.decode_lines``: compiled, a ``PlaceOrder``'s and a
``CancelOrder``'s records in the shape msgspec writes them are built in C from their slots
(``sandex/node/fastlines.pxd``), every other line by msgspec. Whatever the line, the answer
must be msgspec's: an equal command of the same type, field by field (the enums the same
members), or a ``msgspec.DecodeError``."""

from __future__ import annotations

import gc
import random
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sandex import native
from sandex.core import CancelOrder, PlaceOrder
from sandex.core.model import CancelAfter, OrderType, Side, StopType, Stp, TimeInForce
from sandex.node import applying, codec
from sandex.node.codec import decode, encode

GOLDEN = Path(__file__).parent.parent / "journal" / "golden_records.jsonl"


def msgspecs(lines: bytes) -> list[Any] | type[msgspec.DecodeError]:
    """What msgspec makes of ``lines``, one record a line: the commands, or the error (no
    lines at all: none, as msgspec's ``decode_lines``). Uncompiled, ``decode_lines`` is
    msgspec's own, which also skips a blank line (a replay's count check catches that)."""
    if not lines:
        return []
    try:
        if not applying.COMMANDS_DECODED_IN_C:
            return codec.decode_lines(lines)
        return [decode(line) for line in lines.split(b"\n")]
    except msgspec.DecodeError:
        return msgspec.DecodeError


def ours(lines: bytes) -> list[Any] | type[msgspec.DecodeError]:
    """``decode_lines``' answer, checked to be the same from the lines' scan as the journal
    reader's thread makes it (``applying.SCANNER``), and from scans that cannot be theirs
    (cut, grown, of one line more, empty, garbage: the lines decoded as without one)."""
    try:
        got: list[Any] | type[msgspec.DecodeError] = applying.decode_lines(lines)
    except msgspec.DecodeError:
        got = msgspec.DecodeError
    scan = applying.scan_lines(lines)
    for table in ([scan, scan[:-1], scan + b"\0" * 8, applying.scan_lines(lines + b"\n"),
                   b"", b"\xff" * 64]
                  if scan is not None else []):
        try:
            again: list[Any] | type[msgspec.DecodeError] = applying.decode_lines(lines, table)
        except msgspec.DecodeError:
            again = msgspec.DecodeError
        if isinstance(got, list):
            assert isinstance(again, list) and again == got, lines
            assert [type(a) for a in again] == [type(b) for b in got]
        else:
            assert again is got, lines
    return got


def same(lines: bytes) -> None:
    expected, got = msgspecs(lines), ours(lines)
    if isinstance(expected, list):
        assert isinstance(got, list), lines
        assert got == expected, lines
        for a, b in zip(got, expected, strict=True):
            assert type(a) is type(b)
            for name in a.__struct_fields__:
                x, y = getattr(a, name), getattr(b, name)
                assert type(x) is type(y) and x == y, (name, lines)
                if isinstance(y, (Side, OrderType, TimeInForce, CancelAfter, Stp, StopType,
                                  bool)) or y is None:
                    assert x is y, name
    else:
        assert got is expected, lines


def _commands(rng: random.Random, n: int) -> list[Any]:
    def text() -> str:
        return "".join(rng.choice("0123456789abcdef-") for _ in range(rng.choice([1, 32, 36])))

    def amount() -> int:
        return rng.choice([0, 1, 10**8, rng.randrange(10**18), rng.randrange(10**30), -5])

    out: list[Any] = []
    for _ in range(n):
        if rng.random() < 0.6:
            fields: dict[str, Any] = {"time": rng.randrange(1, 10**17), "order_id": text(),
                                      "profile_id": text(), "product_id": text(),
                                      "side": rng.choice(list(Side))}
            for name, values in [("type", list(OrderType)), ("price", [None, amount()]),
                                 ("size", [None, amount()]), ("funds", [None, amount()]),
                                 ("time_in_force", list(TimeInForce)),
                                 ("cancel_after", [None, *CancelAfter]),
                                 ("post_only", [False, True]), ("stp", list(Stp)),
                                 ("stop", [None, *StopType]),
                                 ("stop_price", [None, amount()]),
                                 ("client_oid", [None, text()]),
                                 ("expire_time", [None, amount()])]:
                if rng.random() < 0.3:
                    fields[name] = rng.choice(values)
            out.append(PlaceOrder(**fields))
        else:
            fields = {"time": rng.randrange(1, 10**17), "profile_id": text()}
            for name in ("order_id", "client_oid", "product_id"):
                if rng.random() < 0.5:
                    fields[name] = text()
            out.append(CancelOrder(**fields))
    return out


def test_commands_of_every_shape_decode_as_msgspec_decodes_them() -> None:
    commands = _commands(random.Random(18), 3000)
    lines = b"\n".join(encode(command) for command in commands)
    assert applying.decode_lines(lines) == commands
    same(lines)


def test_the_golden_records_decode_as_msgspec_decodes_them() -> None:
    lines = GOLDEN.read_bytes().rstrip(b"\n")
    same(lines)
    for line in lines.split(b"\n"):
        same(line)


PLACE = (b'{"command":"place_order","time":1700000000000026,"order_id":"025b","profile_id":'
         b'"cd44","product_id":"BTC-USD","side":"buy","price":2999955000000,"size":3900000}')
CANCEL = b'{"command":"cancel_order","time":17,"profile_id":"9b81","order_id":"f0df"}'


@pytest.mark.parametrize("line", [
    PLACE, CANCEL,
    PLACE.replace(b'"buy"', b'"BUY"'),  # not a member's value
    PLACE.replace(b'"buy"', b'"sell"'),
    PLACE.replace(b'"price":2999955000000', b'"price":null'),
    PLACE.replace(b'"side":"buy"', b'"side":null'),  # None where it is not allowed
    PLACE.replace(b'"price":2999955000000', b'"price":2999955000000.0'),
    PLACE.replace(b'"price":2999955000000', b'"price":3e12'),
    PLACE.replace(b'"price":2999955000000', b'"price":02999955000000'),
    PLACE.replace(b'"price":2999955000000', b'"price":-0'),
    PLACE.replace(b'"price":2999955000000', b'"price":-12'),
    PLACE.replace(b'"price":2999955000000', b'"price":999999999999999999'),
    PLACE.replace(b'"price":2999955000000', b'"price":9999999999999999999'),
    PLACE.replace(b'"price":2999955000000', b'"price":123456789012345678901234567890'),
    PLACE.replace(b'"price":2999955000000', b'"price":-9223372036854775809'),
    PLACE.replace(b'"price":2999955000000', b'"price":"1"'),
    PLACE.replace(b'"price":2999955000000', b'"price":true'),
    PLACE.replace(b'"size":3900000}', b'"size":3900000,"post_only":true}'),
    PLACE.replace(b'"size":3900000}', b'"size":3900000,"post_only":1}'),
    PLACE.replace(b'"size":3900000}', b'"size":3900000,"cancel_after":"day"}'),
    PLACE.replace(b'"size":3900000}', b'"size":3900000,"client_oid":null}'),
    PLACE.replace(b'"size":3900000}', b'"size":3900000,"unknown":1}'),
    PLACE.replace(b'"size":3900000}', b'"size":3900000,"size":1}'),  # repeated
    PLACE.replace(b'"size":3900000}', b'"size":3900000} '),
    PLACE.replace(b'"size":3900000}', b'"size":3900000}x'),
    PLACE.replace(b'"size":3900000}', b'"size":3900000'),
    PLACE.replace(b',"price"', b', "price"'),
    PLACE.replace(b'"price":2999955000000,"size":3900000', b'"size":3900000,"price":1'),
    PLACE.replace(b'"order_id":"025b",', b''),  # a required field left out
    PLACE.replace(b'"025b"', b'"02\\u0035b"'),  # an escape
    PLACE.replace(b'"025b"', b'"02\\"5b"'),
    PLACE.replace(b'"025b"', "\"02\u00e95b\"".encode()),  # not ASCII
    PLACE.replace(b'"025b"', b'"02\x015b"'),  # a control character
    PLACE.replace(b'"025b"', b'""'),
    PLACE.replace(b'"time":1700000000000026,', b''),
    PLACE.replace(b'{"command":"place_order",', b'{') + b'',
    b'{"time":1,"command":"cancel_order","profile_id":"p"}',  # the tag not first
    b'{"command":"cancel_all","time":1,"profile_id":"p"}',
    b'{"command":"nothing","time":1}',
    b'{"command":"cancel_order"}',
    b'{"command":"cancel_order","time":1,"profile_id":"p"',
    b'{"command":"cancel_order","time":1,"profile_id":"p}',
    b'{"command":"cancel_order","time":1,"profile_id":',
    b'{"command":"cancel_order","time":-,"profile_id":"p"}',
    b'{"command":"cancel_order","time":1,"profile_id":"p",}',
    b'{"command":"cancel_order","time":1,"profile_id":"p","order_id":nul}',
    b'{"command":"cancel_order","time":1,"profile_id":"p","order_id":null}',
    b'{"command":"place_order",', b'{"command":"', b"{", b"", b"[]", b"null", b" ",
])
def test_a_line_decodes_as_msgspec_decodes_it(line: bytes) -> None:
    same(line)
    same(CANCEL + b"\n" + line + b"\n" + PLACE)


def test_a_chunk_decodes_from_its_scan_as_from_its_lines() -> None:
    """The commands built from the records the reader's thread writes (``SCANNER``) are
    those ``decode_lines`` builds from the lines, field by field."""
    commands = _commands(random.Random(23), 2000)
    lines = b"\n".join(encode(command) for command in commands)
    scan = applying.scan_lines(lines)
    if scan is None:
        pytest.skip("uncompiled: no scanner")
    got = applying.decode_lines(lines, scan)
    assert got == commands
    for a, b in zip(got, commands, strict=True):
        assert type(a) is type(b)
        for name in a.__struct_fields__:
            x, y = getattr(a, name), getattr(b, name)
            assert type(x) is type(y) and x == y
            if y is None or isinstance(y, (bool, Side, OrderType)):
                assert x is y


def test_decoded_from_a_scan_commands_give_back_every_reference_when_freed() -> None:
    lines = b"\n".join([PLACE, CANCEL] * 50)
    scan = applying.scan_lines(lines)
    if scan is None:
        pytest.skip("uncompiled: no scanner")
    applying.decode_lines(lines, scan)
    gc.collect()
    before = (sys.getrefcount(PlaceOrder), sys.getrefcount(CancelOrder),
              sys.getrefcount(Side.BUY), sys.getrefcount(None))
    for _ in range(20):
        commands = applying.decode_lines(lines, scan)
        assert commands[0].side is Side.BUY
        del commands
    gc.collect()
    after = (sys.getrefcount(PlaceOrder), sys.getrefcount(CancelOrder),
             sys.getrefcount(Side.BUY), sys.getrefcount(None))
    assert after[:3] == before[:3]
    assert abs(after[3] - before[3]) < 50  # None's count moves with everything else


def test_a_string_field_s_same_text_is_one_object_compiled() -> None:
    """Compiled, a string field written with the text of its last value is that object again
    (a product's id, a profile's: equal either way); other text a new one."""
    other = PLACE.replace(b'"025b"', b'"025c"').replace(b'"cd44"', b'"cd45"')
    for scanned in (False, True):
        applying.texts_again()  # earlier tests' random ids may have ended a trial
        lines = b"\n".join([PLACE, CANCEL, PLACE, other, PLACE])
        commands = applying.decode_lines(lines, applying.scan_lines(lines) if scanned else None)
        assert [c.product_id for c in commands[::2]] == ["BTC-USD"] * 3
        if applying.COMMANDS_DECODED_IN_C:
            assert commands[0].product_id is commands[2].product_id is commands[3].product_id
            assert commands[0].profile_id is commands[2].profile_id
            assert commands[3].profile_id is not commands[4].profile_id
            assert commands[3].profile_id == "cd45" and commands[4].profile_id == "cd44"
    # a text built before, not the last, is that object too (``sx_texts``; texts no other
    # test writes, so the first is built and kept)
    first = PLACE.replace(b'"cd44"', b'"texts-a"').replace(b'"025b"', b'"texts-c"')
    second = first.replace(b'"texts-a"', b'"texts-b"').replace(b'"texts-c"', b'"texts-d"')
    for scanned in (False, True):
        applying.texts_again()
        lines = b"\n".join([first, second, first])
        commands = applying.decode_lines(lines, applying.scan_lines(lines) if scanned else None)
        assert [c.profile_id for c in commands] == ["texts-a", "texts-b", "texts-a"]
        if applying.COMMANDS_DECODED_IN_C:
            assert commands[2].profile_id is commands[0].profile_id
            assert commands[2].order_id is commands[0].order_id


def test_a_string_field_s_texts_over_trials_compiled() -> None:
    """Over more lines than a trial of the texts table (4,096 strings a field), with every
    order id new and the profile ids a few in turn: every command equal to msgspec's; once
    the order ids' fields have ended their trial (they stop looking texts up, so stop
    putting them in the table), a profile's id one object (its field keeps looking up)."""
    profiles = [f"{n:032x}" for n in range(1, 9)]
    records = []
    for n in range(20_000):
        if n % 3 == 2:
            records.append(CancelOrder(time=n + 1, order_id=f"{n - 1:032x}",
                                       profile_id=profiles[n % 7]))
        else:
            records.append(PlaceOrder(time=n + 1, order_id=f"{n:032x}",
                                      profile_id=profiles[n * 5 % 8], product_id="BTC-USD",
                                      side=Side.BUY if n % 2 else Side.SELL,
                                      price=3_000_000_000_000 + n, size=1_000_000))
    lines = b"\n".join(encode(r) for r in records)
    for scanned in (False, True):
        applying.texts_again()
        commands = applying.decode_lines(lines,
                                         applying.scan_lines(lines) if scanned else None)
        assert commands == records
        if applying.COMMANDS_DECODED_IN_C:
            by_text: dict[str, set[int]] = {}
            for c in commands[-5000:]:
                by_text.setdefault(c.profile_id, set()).add(id(c.profile_id))
            assert sorted(by_text) == profiles
            assert all(len(ids) == 1 for ids in by_text.values())
            assert len({c.order_id for c in commands}) == 20_000 - 20_000 // 3


def test_the_c_decoder_runs_compiled() -> None:
    """Compiled, the two commands are decoded in C; uncompiled, by msgspec alone."""
    assert applying.COMMANDS_DECODED_IN_C is (native.WHY_PURE is None)


def test_decoded_commands_give_back_every_reference_when_freed() -> None:
    """Built from their slots, each holds one reference to each field and to its type."""
    lines = b"\n".join([PLACE, CANCEL] * 50)
    applying.decode_lines(lines)  # caches made
    gc.collect()
    before = (sys.getrefcount(PlaceOrder), sys.getrefcount(CancelOrder),
              sys.getrefcount(Side.BUY), sys.getrefcount(OrderType.LIMIT))
    for _ in range(20):
        commands = applying.decode_lines(lines)
        assert commands[0].side is Side.BUY and commands[0].type is OrderType.LIMIT
        assert sys.getrefcount(PlaceOrder) >= before[0] + 50
        del commands
    gc.collect()
    after = (sys.getrefcount(PlaceOrder), sys.getrefcount(CancelOrder),
             sys.getrefcount(Side.BUY), sys.getrefcount(OrderType.LIMIT))
    assert after == before


@pytest.mark.parametrize("odd", [b"\\\\", b"\\n", b"\x01", b"\x1f", b"\x7f", b"\x80",
                                 "\u00e9".encode(), b"\xff", b" ", b"~", b"a"])
def test_a_long_string_decodes_as_msgspec_decodes_it_wherever_it_holds_odd_bytes(
        odd: bytes) -> None:
    """The strings are scanned sixteen bytes at a time: an escape, a control byte, DEL or a
    byte beyond ASCII at every place of a string longer than that, and near the line's
    end (no read past it)."""
    for length in (15, 16, 17, 33, 48):
        for at in range(length):
            text = b"x" * at + odd + b"y" * (length - at - 1)
            same(PLACE.replace(b'"025b"', b'"' + text + b'"'))
            same(CANCEL.replace(b'"f0df"', b'"' + text + b'"'))
            same(CANCEL.replace(b'"f0df"}', b'"' + text))  # no closing quote: ends there


def test_chunks_read_ahead_decode_from_their_scans_as_from_their_lines(
        tmp_path: Path) -> None:
    """The journal reader's thread scans each chunk it reads ahead (``SCANNER``, set by
    ``sandex.node.storage``): at every ring length and call size (a chunk split by a call
    asking for fewer rows), each call's scan holds a record a line and decodes to the
    commands its lines decode to, good lines and refused ones alike; reading inline, or with
    no scanner, none."""
    from sandex.journal import SqliteJournal, reader
    from sandex.node import storage

    if reader.OPEN is None or "checked in C" not in reader.describe():
        pytest.skip(f"the C reader does not check here: {reader.describe()}")
    from sandex.journal import rows as c_rows

    assert storage.SCANNING is (applying.SCANNER is not None)
    records = [encode(command) for command in _commands(random.Random(6), 1500)]
    records[700:700] = [b"not json", b"", PLACE.replace(b'"buy"', b'"BUY"'),
                        CANCEL.replace(b'"f0df"', b'"f0\\u0064f"')]
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    journal.append(records)
    journal.close()

    def decoded(lines: bytes, scan: bytes | None) -> object:
        try:
            return applying.decode_lines(lines, scan)
        except msgspec.DecodeError:
            return msgspec.DecodeError

    previous = c_rows.read_ahead(8)
    try:
        for slots in (2, 3, 8, 0):
            c_rows.read_ahead(slots)
            rows = reader.OPEN(path, 0, len(records))
            sizes = iter([100, 37, 250, 1, 100, 3] * 100)
            found: list[bytes] = []
            while True:
                count, joined = rows.lines(next(sizes))
                if not count:
                    break
                found += joined.split(b"\n")
                scan = rows.scanned()
                if not slots or applying.SCANNER is None:
                    assert scan is None
                    continue
                assert scan is not None
                at = lines = 0
                while at < len(scan):
                    at += int.from_bytes(scan[at:at + 4], sys.byteorder)
                    lines += 1
                assert (at, lines) == (len(scan), count)
                expected = decoded(joined, None)
                got = decoded(joined, scan)
                assert got == expected
                if isinstance(got, list):
                    assert [type(a) for a in got] == [type(b) for b in expected]  # type: ignore[union-attr]
            assert found == records
            rows.close()
        c_rows.use_scanner(None)
        try:
            c_rows.read_ahead(8)
            rows = reader.OPEN(path, 0, len(records))
            assert rows.lines(100)[0] == 100 and rows.scanned() is None
            rows.close()
        finally:
            c_rows.use_scanner(applying.SCANNER)
    finally:
        c_rows.read_ahead(previous)


@pytest.mark.parametrize("digits", range(1, 21))
def test_an_int_of_any_length_decodes_as_msgspec_decodes_it_whatever_byte_breaks_it(
        digits: int) -> None:
    """Digits are read eight at a time where eight can be: an int of 1 to 20 digits, with a
    byte that is not a digit (or a leading zero) at every place, at a line's end or not."""
    number = b"".join(b"%d" % ((i * 7 + 3) % 10) for i in range(digits))
    number = b"1" + number[1:]
    for line in (PLACE.replace(b"2999955000000", number),
                 CANCEL.replace(b'"time":17', b'"time":' + number),
                 PLACE.replace(b'"size":3900000}', b'"size":' + number + b"}")):
        same(line)
        for at in range(digits):
            for odd in (b"a", b"/", b":", b".", b"\xfa", b"\xff", b"0", b"-", b" "):
                same(line.replace(number, number[:at] + odd + number[at + 1:]))


def test_a_key_decodes_as_msgspec_decodes_it_whatever_byte_is_changed() -> None:
    """Keys are compared eight bytes at a time where sixteen can be read: every byte of
    every key changed, near the line's end too."""
    for line in (PLACE, CANCEL, PLACE.replace(b'"size":3900000}', b'"size":1,"client_oid":"c"}')):
        at = 0
        while (start := line.find(b'"', at)) >= 0:
            stop = line.find(b'"', start + 1)
            for i in range(start + 1, stop):
                for odd in (b"_", b"x", b"\x00"):
                    same(line[:i] + odd + line[i + 1:])
            at = stop + 1


def test_a_spent_chunk_s_commands_refilled() -> None:
    """``spare`` (a replay's last chunk, applied): compiled with a scan, a command of a kind
    only the list holds is taken out (its place None) and refilled as one of the new chunk
    (the same object, msgspec's fields); one held elsewhere, or of another kind, stays;
    the answer is msgspec's either way, and uncompiled ``spare`` changes nothing."""
    records: list[Any] = []
    for n in range(300):
        if n % 3 == 2:
            records.append(CancelOrder(time=n + 1, order_id=f"{n - 1:032x}",
                                       profile_id=f"{n % 5:032x}"))
        else:
            records.append(PlaceOrder(time=n + 1, order_id=f"{n:032x}",
                                      profile_id=f"{n % 7:032x}", product_id="BTC-USD",
                                      side=Side.BUY if n % 2 else Side.SELL,
                                      price=3_000_000_000_000 + n, size=1_000_000 + n,
                                      client_oid=f"{n:08x}" if n % 4 else None))
    old_lines = b"\n".join(encode(r) for r in records[:150])
    new_lines = b"\n".join(encode(r) for r in records[150:])
    for scanned in (False, True):
        spare = applying.decode_lines(old_lines)
        held = spare[0]  # held elsewhere too: never refilled
        others = {id(c) for c in spare}
        before = [id(c) for c in spare]  # (not the objects: a reference is a holder)
        commands = applying.decode_lines(
            new_lines, applying.scan_lines(new_lines) if scanned else None, spare)
        assert commands == records[150:]
        assert [type(c) for c in commands] == [type(r) for r in records[150:]]
        assert held is spare[0] and held == records[0]
        refilled = [c for c in commands if id(c) in others]
        if scanned and applying.COMMANDS_DECODED_IN_C:
            assert len(refilled) == 149  # every one but the held
            assert spare.count(None) == 149
        else:
            assert refilled == [] and [id(c) for c in spare] == before
        # a place's record refilled as a cancel (or the other way) never: the kinds' counts
        taken = sum(1 for c in spare if c is None)
        assert taken == len(refilled)
        # the refilled commands live on as the new chunk's: unchanged by freeing the old
        del spare, held
        gc.collect()
        assert commands == records[150:]


def test_a_spent_command_s_values_rewritten_where_only_it_holds_them() -> None:
    """Refilling a spent command (compiled, from a scan), an int of its (not a small int's
    value) or a string of a field the texts table does not give (an order's id, once its
    trial has ended) that only the command holds is rewritten in place as the new value;
    one held elsewhere is never changed; the commands are msgspec's either way."""
    def places(start: int, count: int) -> list[Any]:
        return [PlaceOrder(time=10**15 + n, order_id=f"{n:032x}", profile_id=f"{n % 7:032x}",
                           product_id="BTC-USD", side=Side.BUY if n % 2 else Side.SELL,
                           price=3_000_000_000_000 + n, size=1_000_000 + n,
                           client_oid=None) for n in range(start, start + count)]

    def lines_of(records: list[Any]) -> bytes:
        return b"\n".join(encode(r) for r in records)

    applying.texts_again()
    warm = lines_of(places(0, 4_200))  # the order ids' field ends its trial: never found
    applying.decode_lines(warm, applying.scan_lines(warm))
    old_records, new_records = places(10_000, 100), places(20_000, 100)
    old_lines, new_lines = lines_of(old_records), lines_of(new_records)
    spare = applying.decode_lines(old_lines, applying.scan_lines(old_lines))
    held_price, held_id = spare[1].price, spare[1].order_id  # held here too: never rewritten
    old_values = {id(v) for c in spare for v in (c.time, c.price, c.size, c.order_id)}
    commands = applying.decode_lines(new_lines, applying.scan_lines(new_lines), spare)
    assert commands == new_records
    assert held_price == old_records[1].price and held_id == old_records[1].order_id
    assert held_price is not commands[1].price and held_id is not commands[1].order_id
    rewritten = sum(1 for c in commands for v in (c.time, c.price, c.size, c.order_id)
                    if id(v) in old_values)
    if applying.COMMANDS_DECODED_IN_C and applying.SCANNER is not None:
        assert rewritten >= 300  # the times, prices and sizes at least
        assert sum(1 for c in commands if id(c.order_id) in old_values) >= 90
    assert [hash(c.order_id) for c in commands] == [hash(r.order_id) for r in new_records]
    del spare
    gc.collect()
    assert commands == new_records


def _cached_hash(text: str) -> int:
    """The hash CPython keeps in a string (-1: not computed yet), read from its object
    (CPython 3.11's ``PyASCIIObject``: the reference count, type, length, then the hash)."""
    import ctypes

    return ctypes.c_ssize_t.from_address(id(text) + 3 * ctypes.sizeof(ctypes.c_ssize_t)).value


def test_an_order_id_s_hash_comes_from_the_scan() -> None:
    """Compiled, the reader's thread hashes a place's and a cancel's order id as it scans
    (``sx_head``'s ``hash``), and the string built from the scan holds that hash, made new or
    rewritten in a spent command alike: the hash ``hash`` computes of a copy of its text
    (under this process's hash secret), never another string's."""
    rng = random.Random(29)
    first, second = _commands(rng, 1500), _commands(rng, 1500)
    for chunk in (first, second):  # a few of the same text, and empty ones
        chunk[7] = PlaceOrder(time=5, order_id="", profile_id="p", product_id="x",
                              side=Side.BUY)
        chunk[8] = CancelOrder(time=6, profile_id="p", order_id=chunk[9].profile_id)
    spare: list[Any] | None = None
    for commands in (first, second):
        lines = b"\n".join(encode(command) for command in commands)
        got = applying.decode_lines(lines, applying.scan_lines(lines), spare)
        assert got == commands
        ids = [c.order_id for c in got if c.order_id is not None]
        assert len(ids) > 1000
        kept = [_cached_hash(text) for text in ids]
        assert [hash(text) for text in ids] == [hash("".join(list(text))) for text in ids]
        if (applying.SCANNER is not None and sys.implementation.name == "cpython"
                and sys.version_info[:2] == (3, 11)):
            assert sum(1 for value in kept if value != -1) >= 0.9 * len(ids)
            assert all(value in (-1, hash(text)) for value, text in zip(kept, ids, strict=True))
        spare = got


def test_a_text_against_the_last_one_at_every_length_and_place() -> None:
    """A string field's text compared with its last value's (``fastlines``' ``sx_same``:
    blocks of 16, 8 and 4 bytes, the last overlapping) at every length up to 40 and a
    difference at every byte: the same text the same object (compiled), any other a string
    of its own text."""
    for length in range(41):
        base = "".join("0123456789abcdef"[(7 * i + length) % 16] for i in range(length))
        places = [PlaceOrder(time=1 + 2 * i, order_id=f"o{length}-{i}", profile_id=base,
                             product_id="BTC-USD", side=Side.BUY)
                  for i in range(2)]
        for at in range(length):
            changed = base[:at] + ("x" if base[at] != "x" else "y") + base[at + 1:]
            places.append(PlaceOrder(time=10 + at, order_id=f"p{length}-{at}",
                                     profile_id=changed, product_id="BTC-USD", side=Side.SELL))
            places.append(PlaceOrder(time=100 + at, order_id=f"q{length}-{at}",
                                     profile_id=base, product_id="BTC-USD", side=Side.SELL))
        lines = b"\n".join(encode(place) for place in places)
        for scan in (None, applying.scan_lines(lines)):
            got = applying.decode_lines(lines, scan)
            assert got == places
            assert [c.profile_id for c in got] == [p.profile_id for p in places]
            if applying.COMMANDS_DECODED_IN_C:
                assert got[1].profile_id is got[0].profile_id


def test_refilled_commands_of_every_shape_decode_as_msgspec_decodes_them() -> None:
    """Chunks of commands of every shape, each decoded with the last one as ``spare``: a
    refilled command's fields left out where the spent one wrote them (its defaults put
    back) and written where it left them out, in every mix; each chunk is msgspec's, and
    the defaults' references are all given back when the commands are freed."""
    rng = random.Random(2712)
    defaults = (OrderType.LIMIT, TimeInForce.GTC, Stp.DC)
    counts = [sys.getrefcount(d) for d in defaults]
    spare: list[Any] | None = None
    refilled = 0
    for _ in range(12):
        commands = _commands(rng, 400)
        lines = b"\n".join(encode(command) for command in commands)
        before = set() if spare is None else {id(c) for c in spare if c is not None}
        got = applying.decode_lines(lines, applying.scan_lines(lines), spare)
        assert got == commands
        assert [type(c) for c in got] == [type(c) for c in commands]
        for ours_, theirs in zip(got, commands, strict=True):
            for name in theirs.__struct_fields__:
                assert getattr(ours_, name) == getattr(theirs, name), name
                assert type(getattr(ours_, name)) is type(getattr(theirs, name)), name
        refilled += sum(1 for c in got if id(c) in before)
        del commands
        spare = got
    if applying.COMMANDS_DECODED_IN_C and applying.SCANNER is not None:
        assert refilled > 1000
    del spare, got, ours_, theirs
    gc.collect()
    assert [sys.getrefcount(d) for d in defaults] == counts


def test_a_forged_scan_s_record_half_built_gives_back_what_it_took() -> None:
    """A table a reader's thread cannot write (an enum's member out of range, after four
    fields and every default were put in their slots; a required field's bit cleared):
    the command is msgspec's, with and without ``spare``, and the half-built command's
    references are all given back."""
    import struct

    lines = b"\n".join([PLACE] * 4)
    scan = applying.scan_lines(lines)
    if scan is None:
        pytest.skip("uncompiled: no scanner")
    size, kind, length, present, nulls, hashed = struct.unpack_from("<IiQIIq", scan)
    head = struct.calcsize("<IiQIIq")
    values = list(struct.unpack_from(f"<{(size - head) // 8}q", scan, head))
    side = bin(present & 0b11111).count("1") - 1  # field 4 (``side``): its value's place
    assert present & 0b11111 == 0b11111
    forged_side = bytearray(scan)
    struct.pack_into("<q", forged_side, size + head + 8 * side, 7)  # the second record's
    required = bytearray(scan[:size])
    cut = present & ~(1 << 2)  # ``profile_id`` left out: the record one value shorter
    required[:head] = struct.pack("<IiQIIq", size - 8, kind, length, cut, nulls, hashed)
    del required[head + 8 * 2:head + 8 * 3]
    required += scan[size:]
    defaults = (OrderType.LIMIT, TimeInForce.GTC, Stp.DC, Side.BUY, Side.SELL)
    counts = [sys.getrefcount(d) for d in defaults]
    expected = [decode(PLACE)] * 4
    for table in (bytes(forged_side), bytes(required)):
        for _ in range(3):
            assert applying.decode_lines(lines, table) == expected
            spare = applying.decode_lines(lines, scan)
            assert applying.decode_lines(lines, table, spare) == expected
            del spare
    del values, expected
    gc.collect()
    assert [sys.getrefcount(d) for d in defaults] == counts
