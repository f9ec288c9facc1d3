"""The journal's record format, pinned by records written once.

``golden_records.jsonl`` holds one record per command type with every field away from its
default (plus records that exercise the rest of the order lifecycle), as this code writes
them; ``golden_records_format1.jsonl`` holds the same commands as sandex wrote them before
tags were explicit (format 1: class-name tags, every field written), for the records that
existed then. ``golden_state_hashes.txt`` has one line ``N hash`` per stage: the node's state
hash after applying the first N golden records. THESE FILES ARE NEVER EDITED: a test failing
here means a change would misread journals that users already have. Add a new command or
field with new lines at the end (and a new hash), never by rewriting old ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandex.node import snapshot
from sandex.node.codec import JournalCommand, decode, encode
from sandex.node.node import Node

HERE = Path(__file__).parent
GOLDEN = (HERE / "golden_records.jsonl").read_bytes().splitlines()
FORMAT1 = (HERE / "golden_records_format1.jsonl").read_bytes().splitlines()
STATE_HASHES = {int(n): h for n, h in (
    line.split() for line in (HERE / "golden_state_hashes.txt").read_text().splitlines())}


@pytest.mark.parametrize("record", GOLDEN, ids=lambda r: r[12:40].decode())
def test_a_golden_record_re_encodes_to_the_same_bytes(record: bytes) -> None:
    assert encode(decode(record)) == record


def test_every_command_type_has_a_golden_record_with_every_field_set() -> None:
    seen: dict[type, set[str]] = {}
    for record in GOLDEN:
        command = decode(record)
        names = command.__struct_fields__
        defaults = dict(zip(names[len(names) - len(command.__struct_defaults__):],
                            command.__struct_defaults__, strict=True))
        seen.setdefault(type(command), set()).update(
            name for name in names
            if name not in defaults or getattr(command, name) != defaults[name])
    assert set(seen) == set(JournalCommand.__args__)
    for kind, fields in seen.items():
        assert fields == set(kind.__struct_fields__), kind.__name__


def test_format1_records_decode_to_the_same_commands() -> None:
    for old, new in zip(FORMAT1, GOLDEN[:len(FORMAT1)], strict=True):
        assert decode(old, 1) == decode(new)


@pytest.mark.parametrize("stage", sorted(STATE_HASHES))
def test_replaying_the_golden_journal_gives_the_stored_state_hash(stage: int) -> None:
    node = Node()
    for record in GOLDEN[:stage]:
        node.apply(decode(record))  # type: ignore[arg-type]
    assert snapshot.node_hash(node) == STATE_HASHES[stage]


def test_replaying_the_format1_journal_gives_the_same_state_hash() -> None:
    node = Node()
    for record in FORMAT1:
        node.apply(decode(record, 1))  # type: ignore[arg-type]
    assert snapshot.node_hash(node) == STATE_HASHES[len(FORMAT1)]


def test_every_golden_record_is_covered_by_a_stored_hash() -> None:
    assert max(STATE_HASHES) == len(GOLDEN)
