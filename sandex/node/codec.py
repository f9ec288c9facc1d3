"""Commands <-> bytes for the journal: msgspec JSON of the tagged command structs.

Every command type the node accepts is in ``JournalCommand``; a record decodes to exactly
the command that was applied, enums and all, so replay is bit-for-bit. The command classes
are the schema (see the rules in ``sandex.core.commands``): a record names its command by a
stable snake_case ``tag`` and leaves out fields equal to their default.

Two record formats exist (the journal's metadata says which positions hold which):

* format 1 (before tags were explicit): the tag was the Python class name, and every field
  was written. ``LEGACY_TAGS`` maps those names, frozen forever, to today's tags;
* format 2: today's tags, defaults omitted.

JSON rather than msgpack: msgpack integers stop at 64 bits, and amounts (1e-16 units) can
go beyond that; msgspec's JSON encodes and decodes integers of any size exactly, and
``bytes`` fields as base64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias

import msgspec

from sandex.core.commands import AnyCommand
from sandex.node.commands import (
    CreateApiKey,
    DeleteSnapshot,
    RestoreSnapshot,
    RevokeApiKey,
    SaveSnapshot,
    SetClock,
    Takeover,
)

JournalCommand: TypeAlias = (AnyCommand | CreateApiKey | RevokeApiKey | SetClock | SaveSnapshot
                             | RestoreSnapshot | DeleteSnapshot | Takeover)

FORMAT: Final = 2  # what ``encode`` writes

LEGACY_TAGS: Final[dict[str, str]] = {  # format 1 -> 2; never edit
    "PlaceOrder": "place_order",
    "CancelOrder": "cancel_order",
    "CancelAll": "cancel_all",
    "AdvanceClock": "advance_clock",
    "AddCurrency": "add_currency",
    "AddProduct": "add_product",
    "SetProductStatus": "set_product_status",
    "CreateProfile": "create_profile",
    "SetFees": "set_fees",
    "Deposit": "deposit",
    "Withdraw": "withdraw",
    "Transfer": "transfer",
    "CreateApiKey": "create_api_key",
    "RevokeApiKey": "revoke_api_key",
}
_LEGACY_PREFIX: Final = b'{"command":"'

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(JournalCommand)


encode: Callable[[msgspec.Struct], bytes] = _encoder.encode
"""A command as one record (the encoder's own method: no Python call on the order path)."""


def decode(record: bytes, format: int = FORMAT) -> JournalCommand:
    """The command in ``record``, written in record ``format``; ``msgspec.DecodeError`` if
    it is not one."""
    if format == 1:
        record = _upgrade(record)
    return _decoder.decode(record)


def decode_many(records: list[bytes], format: int = FORMAT) -> list[JournalCommand]:
    """``decode`` of each of ``records`` (replay), in one decoder call for a chunk in format
    2; ``msgspec.DecodeError`` if one is not a command (``decode`` of each then says which)."""
    if format == 1 or not records:
        return [decode(record, format) for record in records]
    try:  # one value a line (a record's JSON has no raw newline): no copy to bracket it
        commands = _decoder.decode_lines(b"\n".join(records))
    except msgspec.DecodeError:
        commands = []
    if len(commands) != len(records):  # a bad record (or one that held two values)
        return [_decoder.decode(record) for record in records]
    return commands


def decode_lines(lines: bytes) -> list[JournalCommand]:
    """The commands of format 2 records joined by newlines (replay: ``decode_many`` of the
    joined bodies, none of which holds a newline); ``msgspec.DecodeError`` if a line is not
    one. The caller compares the count with its records' (a blank line gives none)."""
    return _decoder.decode_lines(lines)


def _upgrade(record: bytes) -> bytes:
    """A format-1 record with its tag renamed (format 1 always wrote the tag first)."""
    start = len(_LEGACY_PREFIX)
    end = record.find(b'"', start)
    if not record.startswith(_LEGACY_PREFIX) or end < 0:
        raise msgspec.DecodeError("format 1 record without a leading command tag")
    tag = LEGACY_TAGS.get(record[start:end].decode("ascii", "replace"))
    if tag is None:
        raise msgspec.DecodeError(f"unknown format 1 command {record[start:end]!r}")
    return _LEGACY_PREFIX + tag.encode() + record[end:]
