"""FIX tag=value framing, sans-I/O: bytes in, ``Message``/``Garbled`` out; messages to bytes.

``Decoder.feed`` takes whatever the socket gave; ``Decoder.next`` returns the next complete
message, a ``Garbled`` (the framing is lost: the caller drops the connection, nothing after it
can be trusted), or ``None`` (wait for more bytes). A message whose frame is sound but whose
fields are not (a bad tag, an empty value, a bad checksum) still comes out as a ``Message``
with its ``problem`` set, so the session can answer it the FIX way (a Reject, or ignoring it).

Values are decoded as latin-1: every byte maps to one character and back, so signatures are
checked over the bytes exactly as received. ``RawData(96)`` is read by the length in
``RawDataLength(95)`` and may hold SOH. Never raises on input (the fuzz test holds it to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from zlib import adler32

import cython

SOH = b"\x01"
BEGIN_STRING = "FIXT.1.1"
_PREFIX = b"8=FIXT.1.1\x019="
MAX_BODY = 65_536  # bytes: a longer BodyLength is taken as garbage (GUESS; Coinbase: none)
LENGTH_TAGS = {95: 96}  # a data field's length tag -> the data tag
HEADER_TAGS = frozenset({8, 9, 35, 49, 56, 34, 43, 52, 122, 50, 57, 115, 128, 97, 369, 1128})
_CHUNK = 256  # bytes per adler32 call in ``byte_sum``
_TAGS: dict[str, int] = {}  # tag texts seen well-formed -> their number (``parse_body``)
_TAGS_MAX = 4096
_SEPARATOR = itemgetter(1)  # a ``str.partition`` result's separator ("" if none)
_ASCII_CHUNK = 515  # bytes below 128 summed by one adler32 call: 515 * 127 + 1 < 65521


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with a decoded message: the SessionRejectReason(373), the tag, a text."""

    reason: int
    tag: int | None
    text: str


@dataclass(slots=True)
class Message:
    """One decoded message: its fields in wire order (tag, value) and the first problem."""

    fields: list[tuple[int, str]]
    problem: Problem | None = None
    checksum_ok: bool = True
    _index: dict[int, str] = field(default_factory=dict)  # given if already built

    def __post_init__(self) -> None:
        # The first occurrence of each tag (groups repeat theirs): built from the end.
        if not self._index:
            self._index = dict(reversed(self.fields))

    @property
    def index(self) -> dict[int, str]:
        """Each tag's first value (read-only by convention: it is the message's own)."""
        return self._index

    @property
    def msg_type(self) -> str:
        return self._index.get(35, "")

    def get(self, tag: int, default: str | None = None) -> str | None:
        return self._index.get(tag, default)

    def __contains__(self, tag: int) -> bool:
        return tag in self._index

    def group(self, count_tag: int, tags: frozenset[int]) -> list[dict[int, str]] | None:
        """The repeating group counted by ``count_tag``: one dict per entry, an entry starting
        at each repeat of its first tag (the delimiter). ``None`` if the count is not a number
        or does not match the entries found."""
        count_text = self._index.get(count_tag)
        if count_text is None:
            return []
        if not count_text.isdigit():
            return None
        entries: list[dict[int, str]] = []
        inside = False
        delimiter: int | None = None
        for tag, value in self.fields:
            if tag == count_tag:
                inside = True
                continue
            if not inside:
                continue
            if tag not in tags:
                if entries and tag not in HEADER_TAGS:
                    inside = False  # the group ended: a body field after it
                continue
            if delimiter is None:
                delimiter = tag
            if tag == delimiter or tag in entries[-1]:
                entries.append({})
            entries[-1][tag] = value
        return entries if len(entries) == int(count_text) else None


_NEW_MESSAGE = object.__new__  # a ``Message`` with no field set yet (``parse_body``)


@dataclass(frozen=True, slots=True)
class Garbled:
    """The stream cannot be framed any more (``text`` says where)."""

    text: str


def byte_sum(data: bytes | memoryview) -> int:
    """The sum of ``data``'s bytes, by ``zlib.adler32`` 256 bytes at a time: its low half is 1
    plus the bytes' sum modulo 65521, exact while 256 * 255 + 1 < 65521 (a C loop, where
    ``sum(data)`` makes an int object per byte); ASCII bytes (most reports) 515 at a time.
    Compiled, bytes are summed by ``_sum``'s C loop instead."""
    size = len(data)
    if cython.compiled and type(data) is bytes:
        return _sum(data, 0, size)  # type: ignore[arg-type]
    if size <= _CHUNK or (size <= _ASCII_CHUNK and type(data) is bytes and data.isascii()):
        return (adler32(data) & 0xFFFF) - 1
    if size <= 2 * _CHUNK:  # most reports: two calls, no view
        return (adler32(data[:_CHUNK]) & 0xFFFF) + (adler32(data[_CHUNK:]) & 0xFFFF) - 2
    view = memoryview(data)
    return sum([(adler32(view[start:start + _CHUNK]) & 0xFFFF) - 1
                for start in range(0, len(data), _CHUNK)])


def checksum(data: bytes) -> int:
    return byte_sum(data) % 256


class Decoder:
    """Frames FIXT.1.1 messages out of a byte stream."""

    __slots__ = ("_at", "_data")

    def __init__(self) -> None:
        self._data = b""  # what has not been framed yet starts at ``_at``
        self._at = 0

    def feed(self, data: bytes) -> None:
        if self._at >= len(self._data):
            self._data, self._at = bytes(data), 0
        else:
            self._data, self._at = self._data[self._at:] + data, 0

    @property
    def pending(self) -> int:
        return len(self._data) - self._at

    def next(self) -> Message | Garbled | None:
        data, at = self._data, self._at
        size = len(data)
        if at >= size:
            return None
        if not data.startswith(_PREFIX, at):
            if not _PREFIX.startswith(data[at:at + len(_PREFIX)]):
                return Garbled("BeginString(8) must be FIXT.1.1, then BodyLength(9)")
            return None  # a prefix of the prefix: wait for more
        length_at = at + len(_PREFIX)
        end_of_length = data.find(SOH, length_at, length_at + 8)
        if end_of_length < 0:
            if size - length_at > 6:
                return Garbled("BodyLength(9) is not a number")
            return None
        length_text = data[length_at:end_of_length]
        if not length_text.isdigit() or len(length_text) > 6 or (
                len(length_text) > 1 and length_text[:1] == b"0"):
            return Garbled("BodyLength(9) is not a number")
        length = int(length_text)
        if length > MAX_BODY:
            return Garbled(f"BodyLength(9) {length} is over {MAX_BODY}")
        body_start = end_of_length + 1
        body_end = body_start + length
        total = body_end + 7  # "10=ddd" SOH
        if size < total:
            return None
        if data[body_end:body_end + 3] != b"10=" or data[body_end + 6] != 1 \
                or not data[body_end + 3:body_end + 6].isdigit():
            return Garbled("CheckSum(10) is not where BodyLength(9) says the body ends")
        self._at = total
        if total == size:  # all framed: drop the buffer (the usual case)
            self._data, self._at = b"", 0
        message = parse_body(data[body_start:body_end])
        if cython.compiled:  # summed in C, no view
            total_sum = _sum(data, at, body_end)
        else:
            total_sum = byte_sum(memoryview(data)[at:body_end])
        message.checksum_ok = total_sum % 256 == int(data[body_end + 3:body_end + 6])
        return message


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.locals(data=bytes, start=cython.Py_ssize_t, end=cython.Py_ssize_t,
               i=cython.Py_ssize_t, total=cython.Py_ssize_t)
def _sum(data: bytes, start: int, end: int) -> int:
    """The sum of ``data[start:end]``'s bytes, ``0 <= start <= end <= len(data)`` (compiled:
    a C loop, less than half an ``adler32`` call's instructions)."""
    total = 0
    for i in range(start, end):
        total += data[i]
    return total


def parse_body(body: bytes) -> Message:
    """The fields of a message body (after BodyLength, before CheckSum).

    Well-formed bodies (every field ``tag=value`` SOH, tags seen before, no data field, no
    repeated header tag, 35 first) are split in one pass; anything else takes the careful
    field-by-field reading that says what is wrong (``parse_fields``). Compiled, the one
    pass is ``_scan``'s C loop, with the same fields."""
    if cython.compiled:
        scanned = _scan(body)
        if scanned is not None:
            fields, index = scanned
            if fields[0][0] == 35 and (len(index) == len(fields) or _header_unique(fields)):
                message = _NEW_MESSAGE(Message)  # ``Message(fields, _index=index)`` without
                message.fields = fields  # the dataclass's Python __init__: 3,400 instructions
                message.problem = None
                message.checksum_ok = True
                message._index = index
                return message
    if body[-1:] == SOH and not (body.startswith(b"95=") or b"\x0195=" in body):
        text = body[:-1].decode("latin-1")
        items = text.split("\x01")
        tags = _TAGS
        if "=\x01" not in text and text[-1:] != "=":  # no value looks empty
            parts = [item.partition("=") for item in items]
            try:  # every tag seen before (the usual case): one comprehension
                fields = [(tags[tag], value) for tag, _, value in parts]
            except KeyError:
                pass
            else:  # a value can only be empty now where an item has no "=" at all
                if fields[0][0] == 35 and all(map(_SEPARATOR, parts)):
                    index = dict(reversed(fields))
                    if len(index) == len(fields) or _header_unique(fields):
                        return Message(fields, _index=index)
                return parse_fields(body)
        fields = []
        append = fields.append
        for item in items:
            tag_text, _, value = item.partition("=")
            tag = tags.get(tag_text)
            if tag is None:
                if not (tag_text.isascii() and tag_text.isdigit()) or tag_text[0] == "0" \
                        or len(tag_text) > 9:
                    return parse_fields(body)
                tag = int(tag_text)
                if len(tags) < _TAGS_MAX:
                    tags[tag_text] = tag
            if not value:
                return parse_fields(body)
            append((tag, value))
        if fields[0][0] == 35 and _header_unique(fields):
            return Message(fields)
    return parse_fields(body)


@cython.locals(body=bytes, size=cython.Py_ssize_t, at=cython.Py_ssize_t,
               start=cython.Py_ssize_t, tag=cython.Py_ssize_t, digits=cython.Py_ssize_t,
               c=cython.Py_ssize_t, index=dict)
def _scan(body: bytes) -> tuple[list[tuple[int, str]], dict[int, str]] | None:
    """``parse_body``'s one pass in C (compiled only: a byte loop is slow in Python): the
    fields and each tag's first value, if every field is ``tag=value`` SOH with a tag of one
    to nine digits not starting with 0, a value not empty (it may hold ``=``) and no data
    field (95); ``None`` otherwise (the careful path decides). The fields are those of
    ``parse_body``'s own pass: each item split at its first ``=``, values latin-1."""
    fields: list[tuple[int, str]] = []
    index = {}
    size = len(body)
    at = 0
    while at < size:
        c = body[at]
        if c < 49 or c > 57:  # a tag starts with 1-9
            return None
        tag = c - 48
        digits = 1
        at += 1
        while True:
            if at >= size:
                return None
            c = body[at]
            if c == 61:  # "="
                break
            if c < 48 or c > 57 or digits == 9:
                return None
            tag = tag * 10 + (c - 48)
            digits += 1
            at += 1
        if tag == 95:  # RawDataLength: RawData may hold SOH
            return None
        at += 1
        start = at
        while at < size and body[at] != 1:
            at += 1
        if at in (start, size):  # an empty value, or no SOH after the last
            return None
        value = body[start:at].decode("latin-1")
        fields.append((tag, value))
        if tag not in index:
            index[tag] = value
        at += 1
    if not fields:
        return None
    return fields, index


def _header_unique(fields: list[tuple[int, str]]) -> bool:
    """Whether no header tag repeats."""
    header = [tag for tag, _ in fields if tag in HEADER_TAGS]
    return len(header) == len(set(header))


def parse_fields(body: bytes) -> Message:
    """``parse_body`` field by field, noting the first problem."""
    fields: list[tuple[int, str]] = []
    problem: Problem | None = None
    position, size = 0, len(body)
    data_length: tuple[int, int] | None = None  # (data tag, its byte count)
    seen: set[int] = set()
    while position < size:
        equals = body.find(b"=", position)
        if equals < 0:
            problem = problem or Problem(0, None, "Invalid tag number")
            break
        tag_text = body[position:equals]
        if data_length is not None and tag_text == str(data_length[0]).encode():
            end = equals + 1 + data_length[1]
            if end >= size or body[end:end + 1] != SOH:
                problem = problem or Problem(
                    5, data_length[0], "Incorrect data length for RawData(96)")
                end = body.find(SOH, equals + 1)
                end = size if end < 0 else end
        else:
            end = body.find(SOH, equals + 1)
            if end < 0:
                end = size
                problem = problem or Problem(99, None, "Field not terminated by SOH")
        data_length = None
        value = body[equals + 1:end].decode("latin-1")
        position = end + 1
        if not tag_text.isdigit() or tag_text[:1] == b"0" or len(tag_text) > 9:
            problem = problem or Problem(0, None, "Invalid tag number")
            continue
        tag = int(tag_text)
        if not value:
            problem = problem or Problem(4, tag, "Tag specified without a value")
        if tag in LENGTH_TAGS:
            if value.isdigit() and len(value) < 7:
                data_length = (LENGTH_TAGS[tag], int(value))
            else:
                problem = problem or Problem(6, tag, "Incorrect data format for value")
        if tag in seen and tag in HEADER_TAGS:
            problem = problem or Problem(13, tag, "Tag appears more than once")
        seen.add(tag)
        fields.append((tag, value))
    if not fields or fields[0][0] != 35:
        problem = problem or Problem(14, 35, "MsgType(35) must be the third field")
    return Message(fields, problem)


def render(fields: list[tuple[int, str]]) -> str:
    """Fields as ``tag=value`` SOH text (values latin-1 and never empty)."""
    return "".join([f"{tag}={value}\x01" for tag, value in fields])


@dataclass(frozen=True, slots=True)
class Rendered:
    """A body encoded once, to be framed in many messages (one update to many sessions, a
    resend): its bytes and their byte sum."""

    data: bytes
    total: int

    @classmethod
    def of(cls, fields: list[tuple[int, str]]) -> Rendered:
        data = render(fields).encode("latin-1")
        return cls(data, byte_sum(data))

    def after(self, lead: str) -> Rendered:
        """This body behind ``lead`` (tag=value SOH text: a session's own fields)."""
        data = lead.encode("latin-1")
        return Rendered(data + self.data, byte_sum(data) + self.total)


def frame(msg_type: str, header: str, body: Rendered | bytes) -> bytes:
    """A whole message: ``8``, ``9``, ``35``, the ``header`` text (``render``), ``body``."""
    head = f"35={msg_type}\x01{header}".encode("latin-1")
    if isinstance(body, Rendered):
        data, total = body.data, body.total
    else:
        data, total = body, byte_sum(body)
    start = b"8=FIXT.1.1\x019=%d\x01" % (len(head) + len(data))
    return b"".join((start, head, data, b"10=%03d\x01" % (
        (byte_sum(start) + byte_sum(head) + total) % 256)))


def encode(msg_type: str, header: list[tuple[int, str]], body: list[tuple[int, str]]) -> bytes:
    """A whole message: ``8``, ``9``, ``35``, then ``header`` and ``body`` as given, ``10``.
    Values are latin-1 text and never empty (the caller leaves out what it has not)."""
    return frame(msg_type, render(header), render(body).encode("latin-1"))
