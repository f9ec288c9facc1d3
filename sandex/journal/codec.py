"""Commands <-> bytes for the journal: msgpack of the tagged command structs.

Every command type the node accepts is in ``JournalCommand``; a record decodes to exactly
the command that was applied, enums and all, so replay is bit-for-bit.
"""

from __future__ import annotations

import msgspec

from sandex.core.commands import AnyCommand
from sandex.node.commands import CreateApiKey, RevokeApiKey

JournalCommand = AnyCommand | CreateApiKey | RevokeApiKey

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(JournalCommand)


def encode(command: msgspec.Struct) -> bytes:
    return _encoder.encode(command)


def decode(record: bytes) -> msgspec.Struct:
    return _decoder.decode(record)  # type: ignore[no-any-return]
