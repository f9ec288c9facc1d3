"""Commands <-> bytes for the journal: msgspec JSON of the tagged command structs.

Every command type the node accepts is in ``JournalCommand``; a record decodes to exactly
the command that was applied, enums and all, so replay is bit-for-bit.

JSON rather than msgpack: msgpack integers stop at 64 bits, and amounts (1e-16 units) can
go beyond that; msgspec's JSON encodes and decodes integers of any size exactly, and
``bytes`` fields as base64.
"""

from __future__ import annotations

import msgspec

from sandex.core.commands import AnyCommand
from sandex.node.commands import CreateApiKey, RevokeApiKey

JournalCommand = AnyCommand | CreateApiKey | RevokeApiKey

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(JournalCommand)


def encode(command: msgspec.Struct) -> bytes:
    return _encoder.encode(command)


def decode(record: bytes) -> msgspec.Struct:
    return _decoder.decode(record)  # type: ignore[no-any-return]
