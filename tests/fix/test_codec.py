"""The FIX codec: framing, BodyLength/CheckSum, data fields, groups; a fuzzed decoder."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sandex.api.fix.codec import (
    Decoder,
    Garbled,
    Message,
    Rendered,
    byte_sum,
    encode,
    parse_body,
    parse_fields,
)
from sandex.api.fix.codec import (
    frame as frame_rendered,
)
from tests.support.fix_kit import frame

NOS = [(35, "D"), (34, "2"), (49, "key"), (52, "20261203-06:14:30.271"), (56, "Coinbase"),
       (11, "24f19a06-d902-44c2-9de2-e7d5fea7cc6a"), (55, "BTC-USD"), (54, "1"), (40, "2"),
       (44, "10"), (38, "0.5")]


def decode_all(data: bytes, chunk: int | None = None) -> list[Message | Garbled]:
    decoder = Decoder()
    out: list[Message | Garbled] = []
    pieces = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        decoder.feed(piece)
        while (item := decoder.next()) is not None:
            out.append(item)
            if isinstance(item, Garbled):
                return out
    return out


def test_a_message_round_trips_byte_for_byte_in_any_chunking() -> None:
    data = frame(NOS) + frame(NOS)
    for chunk in (None, 1, 7):
        items = decode_all(data, chunk)
        assert len(items) == 2
        message = items[0]
        assert isinstance(message, Message)
        assert message.checksum_ok and message.problem is None
        assert message.fields == NOS
        assert message.get(55) == "BTC-USD"


def test_encode_computes_body_length_and_checksum_as_fix_defines() -> None:
    data = encode("0", [(49, "Coinbase"), (56, "k"), (34, "7")], [(112, "T")])
    assert data == frame([(35, "0"), (49, "Coinbase"), (56, "k"), (34, "7"), (112, "T")])
    assert data.startswith(b"8=FIXT.1.1\x019=33\x0135=0\x01")
    body = data.split(b"\x01", 2)[2].rsplit(b"10=", 1)[0]
    assert len(body) == 33
    assert data.endswith(b"10=%03d\x01" % (sum(data[:-7]) % 256))


def test_a_wrong_checksum_is_flagged_not_dropped_silently() -> None:
    (message,) = decode_all(frame(NOS, checksum_delta=1))
    assert isinstance(message, Message) and not message.checksum_ok


def test_a_wrong_body_length_loses_the_framing() -> None:
    (item,) = decode_all(frame(NOS, length_delta=-3))
    assert item == Garbled("CheckSum(10) is not where BodyLength(9) says the body ends")
    (item,) = decode_all(frame(NOS, begin="FIX.4.2"))
    assert item == Garbled("BeginString(8) must be FIXT.1.1, then BodyLength(9)")
    (item,) = decode_all(b"8=FIXT.1.1\x019=0012\x0135=0\x0110=000\x01")
    assert item == Garbled("BodyLength(9) is not a number")


def test_raw_data_may_hold_soh_and_bad_tags_are_problems() -> None:
    message = parse_body(b"35=A\x0195=5\x0196=a\x01b=c\x01554=p\x01")
    assert message.get(96) == "a\x01b=c" and message.get(554) == "p"
    assert message.problem is None
    assert parse_body(b"35=D\x0111=\x01").problem.reason == 4  # type: ignore[union-attr]
    assert parse_body(b"35=D\x01x1=2\x01").problem.reason == 0  # type: ignore[union-attr]
    assert parse_body(b"35=D\x0134=2\x0134=3\x01").problem.reason == 13  # type: ignore[union-attr]


def test_groups_split_on_their_first_tag_and_check_the_count() -> None:
    message = parse_body(b"35=U6\x018014=b\x0173=2\x0111=a\x0155=X\x0111=c\x0155=X\x0110000=z\x01")
    assert message.group(73, frozenset({11, 55})) == [{11: "a", 55: "X"}, {11: "c", 55: "X"}]
    wrong = parse_body(b"35=U6\x0173=3\x0111=a\x0111=c\x01")
    assert wrong.group(73, frozenset({11})) is None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
def test_fuzz_random_bytes_never_raise_or_stall(data: bytes, chunk: int) -> None:
    items = decode_all(data, chunk)
    assert all(isinstance(i, Message | Garbled) for i in items)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_fuzz_mutated_messages_never_raise_or_stall(data: st.DataObject) -> None:
    raw = bytearray(frame(NOS) + frame(NOS))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.sampled_from([0, 1, 48, 57, 61, 255, raw[at] ^ 1]))
    items = decode_all(bytes(raw), data.draw(st.integers(1, 64)))
    for item in items:
        if isinstance(item, Message):
            item.group(73, frozenset({11}))  # group parsing of any field list holds too
            assert item.msg_type == (item.get(35) or "")


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_the_one_pass_split_reads_every_body_as_the_careful_reader_does(
        data: st.DataObject) -> None:
    body = bytearray(b"".join(b"%d=%s\x01" % (tag, value.encode()) for tag, value in NOS))
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] = data.draw(st.sampled_from([1, 48, 49, 51, 57, 61, 178, body[at] ^ 1]))
    if data.draw(st.booleans()):
        body += data.draw(st.sampled_from([b"95=2\x0196=\x01\x01\x01", b"34=9\x01", b"0", b""]))
    fast, careful = parse_body(bytes(body)), parse_fields(bytes(body))
    assert (fast.fields, fast.problem) == (careful.fields, careful.problem)
    assert fast.index == {tag: value for tag, value in reversed(careful.fields)}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_byte_sum_is_the_sum_of_the_bytes_at_any_length(data: bytes) -> None:
    assert byte_sum(data) == sum(data)


def test_a_body_rendered_once_frames_as_encode_does() -> None:
    body = [(262, "req"), (268, "1"), (279, "0"), (270, "100.5")]
    once = Rendered.of(body)
    assert frame_rendered("X", "49=Coinbase\x0156=k\x0134=7\x01", once) == encode(
        "X", [(49, "Coinbase"), (56, "k"), (34, "7")], body)
