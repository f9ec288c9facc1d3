"""Snapshots: the node's whole state at a journal position, written atomically.

A snapshot file is ``snapshot-<position>.bin``: a header line of JSON (format, position,
state hash, document schema, payload length and CRC-32) then the state document
(``sandex.node.image``: msgspec JSON of plain structs, never a pickle). It is written to a
temporary name, fsynced, renamed into place and the directory fsynced, so a crash leaves
either the old set of snapshots or the new one, never half a file under a snapshot's name.
A snapshot is taken only once its position is durable in the journal, so start-up can always
replay the journal's tail after it. The newest ``KEEP`` are kept. A snapshot is only a shortcut:
one that is damaged, of another format or schema (format 1 was a pickle), or whose state
does not hash to the recorded hash is skipped, and the journal rebuilds the state.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sandex.node import digest
from sandex.node.image import SCHEMA

if TYPE_CHECKING:
    from sandex.node.node import Node

log = logging.getLogger("sandex.snapshot")

FORMAT = 2  # 1: a pickle of live objects (not read any more)
KEEP = 2
# a background snapshot's bytes per synced write (``write_temporary``): in a 40 s bench/fix.py
# run whose paced phase met a snapshot of ~400,000 orders, its p99 was 34 ms written at once,
# 4.6-13 ms by 1 MiB chunks and 4.8-5.1 ms by 256 KiB (the journal's write p99 0.6 ms again)
PACED_CHUNK = 1 << 18
PACED_PAUSE_MAX_S = 0.05
_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync
_PREFIX, _SUFFIX = "snapshot-", ".bin"


@dataclass(frozen=True)
class Snapshot:
    position: int
    state_hash: str
    state: bytes
    path: Path


def node_hash(node: Node) -> str:
    """The node's state hash (``sandex.node.digest``): what replay must reproduce."""
    return digest.node_hash(node.engine, node.keys, node.clock.mode)


def write(directory: Path, position: int, state: bytes, hash_: str) -> Path:
    """Write a snapshot atomically and prune old ones; return its path."""
    temporary = temporary_path(directory, position)
    write_temporary(temporary, position, state, hash_)
    return publish(temporary)


def temporary_path(directory: Path, position: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{_PREFIX}{position:012d}.tmp"


def write_temporary(temporary: Path, position: int, state: bytes, hash_: str,
                    paced: bool = False) -> None:
    """The file's whole content, fsynced, under its temporary name. ``paced`` (a server's
    background snapshot): ``PACED_CHUNK`` bytes at a time, each synced, then a pause twice
    as long as that took, so the disk is never handed more than one chunk of it and the
    journal's own fsyncs, which wait behind whatever is queued, keep their latency."""
    header = json.dumps({"format": FORMAT, "position": position, "state_hash": hash_,
                         "schema": SCHEMA, "length": len(state),
                         "crc32": zlib.crc32(state)}).encode() + b"\n"
    with open(temporary, "wb") as file:
        file.write(header)
        if paced:
            view = memoryview(state)
            for start in range(0, len(view), PACED_CHUNK):
                began = time.monotonic()
                file.write(view[start:start + PACED_CHUNK])
                file.flush()
                _datasync(file.fileno())
                time.sleep(min(2 * (time.monotonic() - began), PACED_PAUSE_MAX_S))
        else:
            file.write(state)
        file.flush()
        os.fsync(file.fileno())


def publish(temporary: Path) -> Path:
    """Rename a written temporary into place (atomic), fsync the directory, prune."""
    path = temporary.with_suffix(_SUFFIX)
    os.replace(temporary, path)
    _fsync_directory(path.parent)
    for old in sorted(path.parent.glob(f"{_PREFIX}*{_SUFFIX}"))[:-KEEP]:
        old.unlink()
    for stale in path.parent.glob(f"{_PREFIX}*.tmp"):  # left by a crash mid-write
        stale.unlink()
    return path


def read(path: Path) -> Snapshot:
    """Read and check one snapshot file; ``ValueError`` says what is wrong with it."""
    with open(path, "rb") as file:
        try:
            header = json.loads(file.readline())
            position, hash_ = int(header["position"]), str(header["state_hash"])
            length, crc = int(header["length"]), int(header["crc32"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: unreadable header ({exc})") from None
        if header.get("format") != FORMAT:
            raise ValueError(f"{path}: format {header.get('format')!r}, this sandex reads "
                             f"format {FORMAT}")
        if header.get("schema") != SCHEMA:
            raise ValueError(f"{path}: written under state schema {header.get('schema')!r}, "
                             f"this sandex has {SCHEMA}")
        state = file.read()
    if len(state) != length or zlib.crc32(state) != crc:
        raise ValueError(f"{path}: checksum mismatch (damaged or truncated)")
    return Snapshot(position, hash_, state, path)


def paths(directory: Path) -> list[Path]:
    """Every snapshot file in ``directory``, newest first."""
    return sorted(directory.glob(f"{_PREFIX}*{_SUFFIX}"), reverse=True)


def position_of(path: Path) -> int:
    """The position in a snapshot's file name (``-1`` if the name is not a snapshot's)."""
    digits = path.name.removeprefix(_PREFIX).removesuffix(_SUFFIX)
    return int(digits) if digits.isdigit() else -1


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
