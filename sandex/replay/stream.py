"""A recording's events already mapped to the replay's actions, one at a time, read here or
in a reader process.

``MappedStream`` is what the controller consumes: ``peek()`` gives the next ``Mapped`` event
(its actions, whether it was a recorded trade, its line and source time) without taking it,
``pop()`` takes it, ``take(limit, until)`` takes the next ones at once (a batch), and a
recording that cannot go on raises ``StreamError`` whose text names the file and line (from
``take`` only when it took nothing: the events before the bad line come first). Two kinds:

* ``InlineStream`` reads and maps in this process (small files: nothing to start);
* ``ProcessStream`` runs the reader and the mapper in a child process
  (``python -m sandex.replay.reader_process``) that stays a few thousand events ahead, so on
  a machine with two cores the engine and the journal never wait for gzip, JSON and decimals.
  The child gets the products' increments as they are when it starts, maps exactly as
  ``InlineStream`` would (same ``Mapper``), and hands over chunks of msgpack-encoded events
  through a pipe; a reader thread here keeps at most ``QUEUED_CHUNKS`` of them, so memory
  stays bounded however far ahead the child could read.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Mapping as MappingABC
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec

from sandex.core import Product, ReplayAction
from sandex.replay.mapping import Mapper, MappingError, Scale
from sandex.replay.sources import Source, SourceError, open_source

Mapped = tuple[tuple[ReplayAction, ...], bool, int, int]  # actions, trade, line, source time
CHUNK_EVENTS = 1_000  # events per chunk sent by the reader process
QUEUED_CHUNKS = 8  # chunks received but not yet taken, at most
PROCESS_MIN_BYTES = 8 << 20  # recordings this big (on disk) are read in a reader process
FRAME = struct.Struct("<I")  # each chunk's length, before it on the pipe


class StreamError(ValueError):
    """The recording cannot go on: ``str()`` names the file and line."""


class MappedStream(Protocol):
    path: Path
    bytes_total: int

    @property
    def bytes_read(self) -> int: ...

    def peek(self) -> Mapped | None: ...

    def pop(self) -> None: ...

    def take(self, limit: int, until: int | None) -> list[Mapped]: ...

    def close(self) -> None: ...


class Chunk(msgspec.Struct, array_like=True, gc=False):
    """What the reader process sends: mapped events, the bytes read so far, and at the end
    either ``end`` or the ``error`` that stopped it (after the events before it)."""

    events: list[Mapped]
    bytes_read: int
    end: bool = False
    error: str | None = None


class InlineStream:
    """Read and map in this process."""

    def __init__(self, source: Source, mapper: Mapper) -> None:
        self._source, self._mapper = source, mapper
        self._next: Mapped | None = None
        self._error: StreamError | None = None  # met by ``take`` after some events
        self.path, self.bytes_total = source.path, source.bytes_total

    @property
    def bytes_read(self) -> int:
        return self._source.bytes_read

    def peek(self) -> Mapped | None:
        if self._next is None:
            if self._error is not None:
                raise self._error
            self._next = _map_next(self._source, self._mapper)
        return self._next

    def pop(self) -> None:
        self._next = None

    def take(self, limit: int, until: int | None) -> list[Mapped]:
        """The next ``limit`` events at most, those at or before source time ``until``
        (``None``: any); fewer at the end."""
        taken: list[Mapped] = []
        try:
            while len(taken) < limit:
                event = self.peek()
                if event is None or (until is not None and event[3] > until):
                    break
                self._next = None
                taken.append(event)
        except StreamError as exc:
            if not taken:
                raise
            self._error = exc  # the next ``peek`` raises it
        return taken

    def skip(self, count: int) -> None:
        """Take ``count`` events (mapped: the mapper's level sums come back too)."""
        for _ in range(count):
            if self.peek() is None:
                return
            self.pop()

    def close(self) -> None:
        self._source.close()


def _map_next(source: Source, mapper: Mapper) -> Mapped | None:
    try:
        event = next(source, None)
    except SourceError as exc:
        raise StreamError(str(exc)) from None
    if event is None:
        return None
    try:
        actions, trade = mapper.actions(event)
    except MappingError as exc:
        raise StreamError(f"{source.path}:{event.line}: {exc}") from None
    return actions, trade, event.line, event.time


class _Increments:
    """What the mapper reads of a product, for the reader process."""

    __slots__ = ("base_increment", "id", "quote_increment")

    def __init__(self, id: str, quote_increment: int, base_increment: int) -> None:
        self.id, self.quote_increment, self.base_increment = id, quote_increment, base_increment


def spec_of(paths: tuple[Path, ...], fmt: str, products: MappingABC[str, Product],
            symbols: dict[str, Scale] | None, skip: int) -> dict[str, Any]:
    """The reader process's instructions (JSON): files, format, mapping, events to skip."""
    return {
        "paths": [str(p) for p in paths], "format": fmt, "skip": skip,
        "products": {p.id: [p.quote_increment, p.base_increment] for p in products.values()},
        "symbols": None if symbols is None else {
            k: [s.product, str(s.price_scale), str(s.size_scale)] for k, s in symbols.items()},
    }


def mapper_of(spec: dict[str, Any]) -> Mapper:
    products = {pid: _Increments(pid, q, b) for pid, (q, b) in spec["products"].items()}
    symbols = spec["symbols"]
    return Mapper(products, None if symbols is None else {  # type: ignore[arg-type]
        k: Scale(p, Decimal(price), Decimal(size)) for k, (p, price, size) in symbols.items()})


def serve(spec: dict[str, Any], out: IO[bytes]) -> None:
    """The reader process's work: map the recording and write it to ``out`` in chunks."""
    encode = msgspec.msgpack.Encoder().encode
    try:
        source = open_source([Path(p) for p in spec["paths"]], spec["format"])
    except (OSError, SourceError) as exc:
        _write(out, encode(Chunk([], 0, error=str(exc))))
        return
    with source:
        stream = InlineStream(source, mapper_of(spec))
        events: list[Mapped] = []
        try:
            stream.skip(spec["skip"])
            while (mapped := stream.peek()) is not None:
                stream.pop()
                events.append(mapped)
                if len(events) == CHUNK_EVENTS:
                    _write(out, encode(Chunk(events, stream.bytes_read)))
                    events = []
        except StreamError as exc:
            _write(out, encode(Chunk(events, stream.bytes_read, error=str(exc))))
            return
        _write(out, encode(Chunk(events, stream.bytes_read, end=True)))


def _write(out: IO[bytes], payload: bytes) -> None:
    out.write(FRAME.pack(len(payload)))
    out.write(payload)
    out.flush()


class ProcessStream:
    """Read and map in a child process (``serve``), a few chunks ahead."""

    def __init__(self, spec: dict[str, Any], bytes_total: int) -> None:
        self.path, self.bytes_total = Path(spec["paths"][0]), bytes_total
        self._bytes_read = 0
        self._events: list[Mapped] = []  # the chunk being taken, from ``_at`` on
        self._at = 0
        self._chunks: queue.Queue[bytes | None] = queue.Queue(QUEUED_CHUNKS)
        self._ended = False
        self._error: str | None = None
        self._decode = msgspec.msgpack.Decoder(Chunk).decode
        self._child = subprocess.Popen(
            [sys.executable, "-m", "sandex.replay.reader_process", json.dumps(spec)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, close_fds=True,
            env={**os.environ, "PYTHONPATH": _package_root()})
        assert self._child.stdout is not None
        self._pipe = self._child.stdout
        self._thread = threading.Thread(target=self._receive, name="replay-reader",
                                        daemon=True)
        self._thread.start()

    @property
    def bytes_read(self) -> int:
        return self._bytes_read

    def ready(self) -> bool:
        """Whether ``peek`` can answer without waiting for the reader process."""
        return self._at < len(self._events) or self._ended or not self._chunks.empty()

    def peek(self) -> Mapped | None:
        while self._at >= len(self._events):
            if self._ended:
                if self._error is not None:
                    raise StreamError(self._error)
                return None
            payload = self._chunks.get()
            if payload is None:
                self._ended = True
                try:
                    code: int | None = self._child.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    code = None
                self._error = self._error or (
                    f"{self.path}: the replay's reader process stopped"
                    + ("" if code is None else f" (exit status {code})"))
                continue
            chunk = self._decode(payload)
            self._events, self._at = chunk.events, 0
            self._bytes_read = chunk.bytes_read
            if chunk.end or chunk.error is not None:
                self._ended, self._error = True, chunk.error
        return self._events[self._at]

    def pop(self) -> None:
        self._at += 1

    def take(self, limit: int, until: int | None) -> list[Mapped]:
        """As ``InlineStream.take``; whole runs of a chunk at once."""
        taken: list[Mapped] = []
        while len(taken) < limit:
            if self._at >= len(self._events):
                try:
                    if self.peek() is None:
                        break
                except StreamError:
                    if not taken:
                        raise
                    break  # the next ``peek`` raises it again
            events, at = self._events, self._at
            end = min(len(events), at + limit - len(taken))
            if until is not None:  # up to the first event after ``until``
                stop = at
                while stop < end and events[stop][3] <= until:
                    stop += 1
                taken.extend(events[at:stop])
                self._at = stop
                if stop < end:
                    break
                continue
            taken.extend(events[at:end])
            self._at = end
        return taken

    def close(self) -> None:
        if self._child.poll() is None:
            self._child.kill()
        with contextlib.suppress(OSError):
            self._pipe.close()
        self._child.wait()
        with contextlib.suppress(queue.Empty):  # let the thread put its last item and end
            while True:
                self._chunks.get_nowait()
        self._thread.join(timeout=5)

    def _receive(self) -> None:
        """The reader thread: frames from the pipe onto the queue; ``None`` at the end."""
        pipe = self._pipe
        try:
            while True:
                head = pipe.read(FRAME.size)
                if len(head) < FRAME.size:
                    break
                (size,) = FRAME.unpack(head)
                payload = pipe.read(size)
                if len(payload) < size:
                    break
                self._chunks.put(payload)
        except (OSError, ValueError):  # closed under us
            pass
        with contextlib.suppress(queue.Full):
            self._chunks.put(None, timeout=5)


def _package_root() -> str:
    """The directory holding the ``sandex`` package (so the child imports this one)."""
    root = str(Path(__file__).resolve().parent.parent.parent)
    rest = os.environ.get("PYTHONPATH")
    return root if not rest else f"{root}{os.pathsep}{rest}"


def open_stream(paths: tuple[Path, ...], fmt: str, products: MappingABC[str, Product],
                symbols: dict[str, Scale] | None, skip: int = 0) -> MappedStream:
    """The mapped events of a recording from its ``skip``-th on: read in a reader process
    when the files hold ``PROCESS_MIN_BYTES`` or more, else here."""
    total = sum(p.stat().st_size for p in paths)
    if total >= PROCESS_MIN_BYTES:
        return ProcessStream(spec_of(paths, fmt, products, symbols, skip), total)
    try:
        source = open_source(paths, fmt)
    except SourceError as exc:
        raise StreamError(str(exc)) from None
    stream = InlineStream(source, Mapper(products, symbols))
    try:
        stream.skip(skip)
    except StreamError:
        stream.close()
        raise
    return stream
